#!/usr/bin/env bash
# Installs the Debian packages this project needs, when they are missing.
# Quiet and fast (one dpkg-query) when everything is already there.
# Exit status: 0 ready; 69 (EX_UNAVAILABLE) when packages are missing and
# cannot be installed here (not root, no apt-get), with what to run instead.
set -euo pipefail

packages=(
    build-essential    # cc, make, ar
    pkg-config         # the install test links through lease.pc
    libjansson-dev     # JSON reader/writer for the lease file
    libcmocka-dev      # C test suites
    python3-pytest     # program integration suite (Debian's python3)
    lcov gcovr         # coverage reports
    clang libclang-rt-14-dev  # libFuzzer and sanitizer runtimes
    clang-format              # make format, make format-check (the house style)
    util-linux         # flock(1), the benchmark's yardstick
    valgrind
    libseccomp-dev     # leasesim --exec: seccomp user notification for real processes
    libfaketime        # leasesim --exec: a virtual wall clock per real process
    libcurl4-openssl-dev  # the etcd backend talks to etcd's JSON gateway through libcurl
    etcd-server etcd-client  # the etcd backend's suites start a real etcd on loopback
    python3-hypothesis # property-based cases in the pytest suites
    iproute2           # network namespaces for the multi-host test
    chromium           # renders the simulator's HTML timeline and SVG pictures in a test
)



# One dpkg-query for them all (one per package cost half a CPU second at every
# make test): a package it does not list, or lists not fully installed, is missing.
declare -A installed=()
while read -r name state; do
    [[ $state == "install ok installed" ]] && installed[${name%%:*}]=1
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null || true)
missing=()
for p in "${packages[@]}"; do
    [[ -n ${installed[$p]:-} ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
    echo "deps: all ${#packages[@]} Debian packages present"
    exit 0
fi

echo "deps: installing missing Debian packages: ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
    echo "deps: not root; run as root: apt-get install -y ${missing[*]}" >&2
    exit 69
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: apt-get not found; install these packages by hand: ${missing[*]}" >&2
    exit 69
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || echo "deps: apt-get update failed; trying the cached package lists" >&2
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
    echo "deps: apt-get install failed for: ${missing[*]}" >&2
    exit 69
fi
