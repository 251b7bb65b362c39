#!/usr/bin/env bash
# Sidecar benchmark: power-on to the first successful ssh command, in QEMU with user networking
# and a host port forward, for
#  (a) InitOS with [sidecar] ssh (DHCP by its own client, dropbear supervised by PID 1), and
#  (b) Debian's initramfs-tools with dropbear-initramfs (ip=dhcp; the usual way to reach a
#      machine before its root is mounted, e.g. to unlock a disk).
# Both are kept in their initramfs (no root device) so that the ssh login is the only event
# timed. Also prints InitOS's initramfs size with and without the sidecar.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${BENCH_RUNS:-3}
kernel_dir=$(pwd)/.cache/kernel
version=$(ls "$kernel_dir/lib/modules")
vmlinuz=$kernel_dir/boot/vmlinuz-$version
out=out/bench/sidecar
mkdir -p "$out"
initos=out/cli/initos
port=${BENCH_SSH_PORT:-2299}

rm -f "$out/admin" "$out/admin.pub"
ssh-keygen -q -t ed25519 -N "" -C bench -f "$out/admin"

# (a) InitOS: the default config, no root wanted (initramfs mode), DHCP, with and without the sidecar.
{ sed 's/^mode = "switch_root"/mode = "initramfs"/' image-build/defaults/initos.toml
  printf '\n[network]\nmode = "dhcp"\n'
} > "$out/initos-nosidecar.toml"
{ cat "$out/initos-nosidecar.toml"
  printf '\n[sidecar]\nssh = true\nauthorized_keys = ["%s"]\n' "$(cat "$out/admin.pub")"
} > "$out/initos.toml"
"$initos" build initramfs --config "$out/initos.toml" --output "$out/initrd-initos.img" >/dev/null
"$initos" build initramfs --config "$out/initos-nosidecar.toml" --output "$out/initrd-initos-nosidecar.img" >/dev/null

# (b) initramfs-tools + dropbear-initramfs, built with the key above; the host's own config
# (if any) is set aside for the build and put back.
command -v mkinitramfs >/dev/null && dpkg -s dropbear-initramfs >/dev/null 2>&1 || {
  [[ $(id -u) -eq 0 ]] || { echo "bench: needs root for apt-get" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends initramfs-tools dropbear-initramfs >/dev/null
}
lent=() saved=()
restore() {
  ((${#lent[@]})) && rm -rf "${lent[@]}"
  for f in "${saved[@]}"; do mv "$f.bench-saved" "$f"; done
  lent=() saved=()
}
trap restore EXIT
keys=/etc/dropbear/initramfs/authorized_keys
[[ -e $keys ]] && { mv "$keys" "$keys.bench-saved"; saved+=("$keys"); }
cp "$out/admin.pub" "$keys"; lent+=("$keys")
if [[ ! -e /lib/modules/$version ]]; then
  mkdir -p /lib/modules && cp -a "$kernel_dir/lib/modules/$version" "/lib/modules/$version"
  lent+=("/lib/modules/$version")
fi
if [[ ! -e /boot/config-$version ]]; then
  mkdir -p /boot && cp "$kernel_dir/boot/config-$version" "/boot/config-$version"
  lent+=("/boot/config-$version")
fi
mkinitramfs -o "$out/initrd-initramfs-tools-dropbear.img" "$version" 2>/dev/null
restore

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ssh_opts=(-p "$port" -i "$out/admin" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 -o LogLevel=ERROR)

# One boot: seconds from starting QEMU to the first ssh command that succeeds.
first_ssh() {
  local initrd=$1 append=$2 command=$3 start qemu took
  start=$(date +%s.%N)
  "$initos" run --kernel "$vmlinuz" --initrd "$initrd" --disk out/rootfs.img --net --forward "$port:22" \
      --append "$append" --serial-file "$out/serial.log" >/dev/null 2>&1 &
  qemu=$!
  until ssh "${ssh_opts[@]}" root@127.0.0.1 "$command" >/dev/null 2>&1; do
    kill -0 "$qemu" 2>/dev/null || { echo "bench: the guest ended before ssh answered ($initrd); see $out/serial.log" >&2; exit 1; }
    sleep 0.2
  done
  took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
  kill "$qemu" 2>/dev/null; wait "$qemu" 2>/dev/null || true
  pkill -f "hostfwd=tcp:127.0.0.1:$port-" 2>/dev/null || true
  echo "$took"
}

declare -A med size
rows=(initos initramfs-tools-dropbear)
declare -A append=(
  [initos]="quiet"
  [initramfs-tools-dropbear]="quiet ip=dhcp root=LABEL=nowhere rootdelay=600"
)
declare -A command=([initos]=status [initramfs-tools-dropbear]=true)
for name in "${rows[@]}"; do
  times=()
  for ((i = 1; i <= runs; i++)); do times+=("$(first_ssh "$out/initrd-$name.img" "${append[$name]}" "${command[$name]}")"); done
  med[$name]=$(printf '%s\n' "${times[@]}" | median)
  size[$name]=$(stat -c %s "$out/initrd-$name.img")
  echo "$name: seconds to first ssh ${times[*]}" >&2
done
size[initos-nosidecar]=$(stat -c %s "$out/initrd-initos-nosidecar.img")

printf '%-28s %22s %12s\n' initramfs "power-on to ssh (s)" "size (KiB)"
for name in "${rows[@]}"; do
  printf '%-28s %22s %12d\n' "$name" "${med[$name]}" $((size[$name] / 1024))
done
printf '%-28s %22s %12d\n' "initos without sidecar" "-" $((size[initos-nosidecar] / 1024))
awk -v a="${med[initos]}" -v b="${med[initramfs-tools-dropbear]}" -v sa="${size[initos]}" -v sb="${size[initramfs-tools-dropbear]}" \
    -v sn="${size[initos-nosidecar]}" 'BEGIN {
  printf "initos / initramfs-tools+dropbear: time to ssh %.2f, size %.2f\n", a / b, sa / sb
  printf "the sidecar adds %d KiB to InitOS'"'"'s initramfs\n", (sa - sn) / 1024
}'
