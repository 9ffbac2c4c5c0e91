#!/usr/bin/env bash
# make deb: a Debian binary package of the project, staged with
# `make install DESTDIR=... PREFIX=/usr` and built with dpkg-deb (no source
# package machinery: the project builds with its own Makefile). Depends is
# computed from the ELF files' NEEDED entries through dpkg -S, so a library
# the project starts to link is never forgotten. libcurl is loaded with dlopen
# by the etcd backend only, so it is Recommended (packaging/deb/control.in).
#   usage: ci/deb.sh OUTDIR       prints the path of the .deb last
set -euo pipefail
out=$1
root=$out/root
rm -rf "$out"
mkdir -p "$root"
make --no-print-directory install DESTDIR="$root" PREFIX=/usr > "$out/install.log"
version=$(sed -n 's/^#define LEASE_VERSION_STRING "\(.*\)"/\1/p' src/lease.h)
arch=$(dpkg --print-architecture)

# owner_of PATH: the package that owns a library file. On a merged-/usr
# system dpkg knows each file under one spelling only (/lib/... or
# /usr/lib/..., the link or its target), so try each.
owner_of() {
    local path=$1 real candidate
    real=$(readlink -f "$path")
    for candidate in "$path" "$real" "/usr${path#/usr}" "${path#/usr}" "/usr${real#/usr}" "${real#/usr}"; do
        dpkg -S "$candidate" 2>/dev/null | head -n 1 | cut -d: -f1 && return 0
    done
    echo "deb: no package owns $path" >&2
    return 1
}

# The packages that own the shared libraries our ELF files need (not ours).
needed=$(find "$root" -type f \( -perm -u+x -o -name '*.so*' \) -exec objdump -p {} \; 2>/dev/null \
    | awk '/NEEDED/ {print $2}' | sort -u | grep -v '^liblease\.so')
depends=$(for soname in $needed; do
    path=$(ldconfig -p | awk -v name="$soname" '$1 == name {print $NF; exit}')
    [[ -n "$path" ]] || { echo "deb: cannot find $soname" >&2; exit 1; }
    owner_of "$path"
done | sort -u | paste -sd, | sed 's/,/, /g')
[[ -n "$depends" ]] || { echo "deb: no dependencies found (objdump missing?)" >&2; exit 1; }

size=$(du -sk "$root" | cut -f1)
mkdir -p "$root/DEBIAN"
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@DEPENDS@|$depends|" -e "s|@SIZE@|$size|" \
    packaging/deb/control.in > "$root/DEBIAN/control"
deb=$out/lease_${version}_${arch}.deb
dpkg-deb --root-owner-group --build "$root" "$deb" > /dev/null
echo "$deb"
