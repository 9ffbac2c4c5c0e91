#!/usr/bin/env bash
# make test-install: `make install` into two prefixes and one DESTDIR staging
# tree, then build the README's library example (extracted from README.md, so
# the documented code is the tested code) against each through pkg-config,
# shared and static, and run it. Proves that lease.pc names the prefix of the
# install it came with (not the first prefix ever used) and that DESTDIR only
# moves where files land.
#   usage: ci/install-test.sh SCRATCH_DIR
set -euo pipefail
scratch=$1
rm -rf "$scratch"
mkdir -p "$scratch"
example=$scratch/example.c
# The first ```c block of the README's "The library" section.
sed -n '/^## The library/,/^## /p' README.md | sed -n '/^```c$/,/^```$/p' | sed '1d;$d' > "$example"
grep -q 'int main' "$example" || { echo "test-install: no complete C example in README.md"; exit 1; }

passed=0
failed=0
fail() { echo "test-install: FAIL: $*"; failed=$((failed + 1)); }

# check_install LABEL PREFIX ROOT: ROOT is where PREFIX's files are on disk
# (PREFIX itself, or DESTDIR + PREFIX).
check_install() {
    local label=$1 prefix=$2 root=$3
    local pc=$root/lib/pkgconfig/lease.pc
    if ! grep -qx "prefix=$prefix" "$pc"; then
        fail "$label: $pc says '$(grep '^prefix=' "$pc")', expected prefix=$prefix"
        return
    fi
    local cflags libs static_libs
    if [[ "$root" == "$prefix" ]]; then
        cflags=$(PKG_CONFIG_PATH=$root/lib/pkgconfig pkg-config --cflags lease)
        libs=$(PKG_CONFIG_PATH=$root/lib/pkgconfig pkg-config --libs lease)
        static_libs=$(PKG_CONFIG_PATH=$root/lib/pkgconfig pkg-config --libs-only-l --static lease)
    else
        # A staged tree: the sysroot maps the .pc's paths into DESTDIR.
        local sysroot=${root%"$prefix"}
        cflags=$(PKG_CONFIG_SYSROOT_DIR=$sysroot PKG_CONFIG_PATH=$root/lib/pkgconfig pkg-config --cflags lease)
        libs=$(PKG_CONFIG_SYSROOT_DIR=$sysroot PKG_CONFIG_PATH=$root/lib/pkgconfig pkg-config --libs lease)
        static_libs=$(PKG_CONFIG_SYSROOT_DIR=$sysroot PKG_CONFIG_PATH=$root/lib/pkgconfig \
            pkg-config --libs-only-l --static lease)
    fi
    local out=$scratch/$label
    mkdir -p "$out"
    # shellcheck disable=SC2086 # pkg-config output is a list of words
    cc -o "$out/example-shared" "$example" $cflags $libs -Wl,-rpath,"$root/lib" || { fail "$label: shared build"; return; }
    # shellcheck disable=SC2086
    cc -o "$out/example-static" "$example" $cflags "$root/lib/liblease.a" ${static_libs//-llease/} \
        || { fail "$label: static build"; return; }
    # Captured first: grep -q closing the pipe early would SIGPIPE ldd, and
    # pipefail would then call a match a failure (a flake seen under load).
    local linked
    linked=$(ldd "$out/example-shared")
    grep -q "liblease.so.1 => $root/lib/" <<< "$linked" || { fail "$label: not linked to $root/lib"; return; }
    local variant
    for variant in shared static; do
        local lease_file=$out/lease-$variant.json text
        text=$(HEAVY_MAINTENANCE_LEASE_PATH=$lease_file "$out/example-$variant") || { fail "$label: $variant exited $?"; return; }
        [[ "$text" == "acquired; working" && ! -e "$lease_file" ]] || { fail "$label: $variant printed '$text'"; return; }
    done
    "$root/bin/lease" --version > /dev/null || { fail "$label: $root/bin/lease --version"; return; }
    passed=$((passed + 1))
}

for label in prefix-a prefix-b; do
    prefix=$scratch/$label
    make --no-print-directory install PREFIX="$prefix" > /dev/null
    check_install "$label" "$prefix" "$prefix"
done
staging=$scratch/destdir
make --no-print-directory install PREFIX=/usr DESTDIR="$staging" > /dev/null
check_install destdir /usr "$staging/usr"

echo "test-install: two prefixes and a DESTDIR, README example shared and static: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
