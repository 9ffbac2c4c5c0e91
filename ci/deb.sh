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

# The packages that own the shared libraries our ELF files need (not ours).
# On a merged-/usr system dpkg knows each file under one spelling only
# (/lib/... or /usr/lib/..., the link or its target), so every spelling of
# every library is asked in one dpkg -S (each call reads dpkg's whole file
# database: 0.2 s here) and each library takes the owner of its first
# spelling that dpkg knows.
needed=$(find "$root" -type f \( -perm -u+x -o -name '*.so*' \) -exec objdump -p {} \; 2>/dev/null \
    | awk '/NEEDED/ {print $2}' | sort -u | grep -v '^liblease\.so')
declare -A spellings
libraries=$(ldconfig -p)
for soname in $needed; do
    path=$(awk -v name="$soname" '$1 == name {print $NF; exit}' <<<"$libraries")
    [[ -n "$path" ]] || { echo "deb: cannot find $soname" >&2; exit 1; }
    real=$(readlink -f "$path")
    spellings[$soname]="$path $real /usr${path#/usr} ${path#/usr} /usr${real#/usr} ${real#/usr}"
done
# shellcheck disable=SC2046,SC2086 # the spellings are paths without spaces, one word each
owners=$(dpkg -S $(printf '%s\n' "${spellings[@]}" | tr ' ' '\n' | sort -u) 2>/dev/null || true)
depends=$(for soname in $needed; do
    owner=""
    for candidate in ${spellings[$soname]}; do
        owner=$(awk -v path="$candidate" '!/^diversion by / && substr($0, index($0, ": ") + 2) == path {
            split($0, words, ":"); print words[1]; exit }' <<<"$owners")
        [[ -n "$owner" ]] && break
    done
    [[ -n "$owner" ]] || { echo "deb: no package owns $soname (${spellings[$soname]%% *})" >&2; exit 1; }
    echo "$owner"
done | sort -u | paste -sd, | sed 's/,/, /g')
[[ -n "$depends" ]] || { echo "deb: no dependencies found (objdump missing?)" >&2; exit 1; }

size=$(du -sk "$root" | cut -f1)
mkdir -p "$root/DEBIAN"
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@DEPENDS@|$depends|" -e "s|@SIZE@|$size|" \
    packaging/deb/control.in > "$root/DEBIAN/control"
deb=$out/lease_${version}_${arch}.deb
dpkg-deb --root-owner-group --build "$root" "$deb" > /dev/null
echo "$deb"
