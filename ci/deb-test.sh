#!/usr/bin/env bash
# make test-deb: builds the .deb (ci/deb.sh), installs it with dpkg -i on this
# system, smoke-tests what it installed (the wrapper, the simulator, the man
# pages, the library through pkg-config with the README's example), removes it
# with dpkg -r and checks that nothing it installed is left. Root only: says
# why in one line and passes otherwise.
#
# What it does not spend CPU on (docs/ci.md, test-deb): dpkg-deb compresses at
# xz level 1 (DPKG_DEB_COMPRESSOR_LEVEL; make deb keeps dpkg-deb's default),
# and man-db's trigger does not index the two pages the package brings and
# takes away (mandb re-reads every page of /usr/share/man/man1: 18,000 on the
# test machine, about 2.7 CPU seconds per dpkg run). Each dpkg run sees
# man-db's own switch off, the one package builders use (debconf
# man-db/auto-update, cached as /var/lib/man-db/auto-update): it runs in a
# mount namespace of its own with an empty directory over /var/lib/man-db.
# Nothing on the machine changes, nothing stays behind if the test is killed,
# and the trigger is still processed (none is left pending). The index never
# lists lease's pages (the trigger's `mandb -p` at dpkg -r did not purge them:
# whatis lease went on answering after the package was gone). Without unshare
# or mount namespaces, dpkg runs as before, trigger and all.
#   usage: ci/deb-test.sh OUTDIR
set -euo pipefail
out=$1
if [[ $(id -u) -ne 0 ]]; then
    echo "test-deb: skipped: dpkg -i needs root"
    echo "test-deb: 0 passed, 0 failed, 1 skipped"
    exit 0
fi
if dpkg-query -W -f='${Status}' lease 2>/dev/null | grep -q 'install ok installed'; then
    echo "test-deb: a package named lease is already installed; not touching it"
    exit 1
fi
deb=$(DPKG_DEB_COMPRESSOR_LEVEL=1 bash ci/deb.sh "$out" | tail -n 1)
files=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print substr($6, 2)}')
fail() { echo "test-deb: FAIL: $*"; exit 1; }
work=$(mktemp -d)
mkdir "$work/no-man-db"
# pkg_dpkg ARG...: dpkg ARG... with man-db's auto-update off for this run only
# (see the top).
pkg_dpkg() {
    if [[ -d /var/lib/man-db ]] && unshare --mount --propagation private true 2>/dev/null; then
        # shellcheck disable=SC2016 # expanded by the inner sh
        unshare --mount --propagation private -- sh -c \
            'mount --bind "$0" /var/lib/man-db 2>/dev/null; exec dpkg "$@"' "$work/no-man-db" "$@"
    else
        dpkg "$@"
    fi
}
trap 'pkg_dpkg -r lease > /dev/null 2>&1 || true; rm -rf "$work"' EXIT
pkg_dpkg -i "$deb" > "$out/dpkg-install.log" 2>&1 || { cat "$out/dpkg-install.log"; fail "dpkg -i $deb"; }
/usr/bin/lease --version > /dev/null || fail "lease --version"
text=$(cd "$work" && /usr/bin/lease run --owner deb-smoke --lease "$work/l.json" -- echo body) || fail "lease run"
[[ "$text" == "body" && ! -e "$work/l.json" ]] || fail "lease run printed '$text'"
/usr/bin/leasesim --impl lease --seeds 1..50 --quiet > "$work/sim.log" || fail "leasesim (see $work/sim.log)"
for page in /usr/share/man/man1/lease.1.gz /usr/share/man/man1/leasesim.1.gz /usr/share/man/man1/lease.1 \
    /usr/share/man/man1/leasesim.1; do
    [[ -e "$page" ]] && { man -l "$page" > /dev/null 2>&1 || fail "man -l $page"; }
done
sed -n '/^## The library/,/^## /p' README.md | sed -n '/^```c$/,/^```$/p' | sed '1d;$d' > "$work/example.c"
# shellcheck disable=SC2046 # pkg-config output is a list of words
cc -o "$work/example" "$work/example.c" $(pkg-config --cflags --libs lease) || fail "README example against /usr"
text=$(HEAVY_MAINTENANCE_LEASE_PATH=$work/e.json "$work/example") || fail "README example exited $?"
[[ "$text" == "acquired; working" ]] || fail "README example printed '$text'"

pkg_dpkg -r lease > "$out/dpkg-remove.log" 2>&1 || { cat "$out/dpkg-remove.log"; fail "dpkg -r lease"; }
left=()
while read -r file; do
    [[ -e "/$file" || -L "/$file" ]] && left+=("/$file")
done <<< "$files"
[[ ${#left[@]} -eq 0 ]] || fail "left after dpkg -r: ${left[*]}"
echo "test-deb: $(basename "$deb") installed, smoke-tested (lease run, leasesim, README example) and removed: 1 passed, 0 failed"
