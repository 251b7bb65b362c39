#!/usr/bin/env bash
# Downloads the current Debian 12 kernel package with apt-get download (no install),
# unpacks it with dpkg -x into a git-ignored cache and runs depmod there.
# Usage: scripts/fetch-kernel.sh CACHE_DIR   (CACHE_DIR/kernel is the unpacked tree)
set -euo pipefail
cache=${1:?usage: fetch-kernel.sh CACHE_DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

if [[ -f $cache/kernel/.package ]]; then
  exit 0
fi

package=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
if [[ -z $package ]]; then
  [[ $(id -u) -eq 0 ]] && apt-get update -q >/dev/null || sudo apt-get update -q >/dev/null
  package=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
fi
echo "kernel package: $package"

mkdir -p "$cache/deb"
(cd "$cache/deb" && rm -f ./*.deb && apt-get download "$package" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
deb=$(ls "$cache"/deb/*.deb)

rm -rf "$cache/kernel.tmp"
dpkg -x "$deb" "$cache/kernel.tmp"
version=${package#linux-image-}
depmod -b "$cache/kernel.tmp" "$version"
rm -rf "$cache/kernel"
mv "$cache/kernel.tmp" "$cache/kernel"
echo "$package" > "$cache/kernel/.package"
echo "kernel $version unpacked in $cache/kernel"
