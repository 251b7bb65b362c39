#!/usr/bin/env bash
# Downloads Debian 12's CPU microcode (intel-microcode, amd64-microcode) and Realtek NIC
# firmware (firmware-realtek), all in non-free-firmware, without installing them or touching
# the machine's apt sources: a private apt state in the cache, apt-get download, dpkg -x.
# The hardware tests build initramfs images with --firmware-dir CACHE_DIR/firmware/lib/firmware.
# Usage: scripts/fetch-firmware.sh CACHE_DIR
set -euo pipefail
cache=${1:?usage: fetch-firmware.sh CACHE_DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
root=$cache/firmware
packages=(intel-microcode amd64-microcode firmware-realtek)

if [[ -f $root/.packages ]]; then
  exit 0
fi

apt=$cache/firmware-apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/deb"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat > "$apt/sources.list" <<EOF
deb [signed-by=$keyring] http://deb.debian.org/debian bookworm non-free-firmware
deb [signed-by=$keyring] http://deb.debian.org/debian bookworm-updates non-free-firmware
deb [signed-by=$keyring] http://deb.debian.org/debian-security bookworm-security non-free-firmware
EOF
options=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "APT::Sandbox::User=root")
apt-get "${options[@]}" update -q >/dev/null
(cd "$apt/deb" && rm -f ./*.deb && apt-get "${options[@]}" download "${packages[@]}" >/dev/null)

rm -rf "$root.tmp"
mkdir -p "$root.tmp"
for deb in "$apt"/deb/*.deb; do
  dpkg -x "$deb" "$root.tmp"
done
ls "$apt"/deb/*.deb | xargs -n1 basename > "$root.tmp/.packages"
rm -rf "$root"
mv "$root.tmp" "$root"
echo "firmware and microcode ($(tr '\n' ' ' < "$root/.packages")) unpacked in $root"
