#!/usr/bin/env bash
# Boot-time and size benchmark: the same kernel and root disk booted 5 times each with
#  (a) InitOS's initramfs, (b) Debian's initramfs-tools initrd for that kernel, and
#  (c) a minimal busybox-script initramfs (insmod the needed modules, findfs LABEL=, switch_root).
# Prints the median guest uptime when the real OS's init starts, sizes, and InitOS's ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${BENCH_RUNS:-5}
kernel_dir=$(pwd)/.cache/kernel
version=$(ls "$kernel_dir/lib/modules")
vmlinuz=$kernel_dir/boot/vmlinuz-$version
out=out/bench
mkdir -p "$out"
initos=out/cli/initos

command -v mkinitramfs >/dev/null || {
  [[ $(id -u) -eq 0 ]] || { echo "bench: needs root for apt-get" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends initramfs-tools >/dev/null
}

# (b) initramfs-tools reads /lib/modules/VERSION and /boot/config-VERSION; lend it the unpacked
# package's copies for the build only.
lent=()
cleanup() { ((${#lent[@]})) && rm -rf "${lent[@]}"; lent=(); }
trap cleanup EXIT
if [[ ! -e /lib/modules/$version ]]; then
  mkdir -p /lib/modules && cp -a "$kernel_dir/lib/modules/$version" "/lib/modules/$version"
  lent+=("/lib/modules/$version")
fi
if [[ ! -e /boot/config-$version ]]; then
  mkdir -p /boot && cp "$kernel_dir/boot/config-$version" "/boot/config-$version"
  lent+=("/boot/config-$version")
fi
mkinitramfs -o "$out/initrd-initramfs-tools.img" "$version"
cleanup

# (c) the classic hand-written busybox initramfs: the floor.
script=$out/script-root
rm -rf "$script" && mkdir -p "$script"/{bin,dev,proc,sys,newroot,lib/modules}
cp /bin/busybox "$script/bin/busybox"
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk crc16 mbcache jbd2 crc32c_generic ext4; do
  cp "$(find "$kernel_dir/lib/modules/$version" -name "$m.ko")" "$script/lib/modules/"
  echo "$m" >> "$script/lib/modules/order"
done
cat > "$script/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
for m in $(/bin/busybox cat /lib/modules/order); do /bin/busybox insmod /lib/modules/$m.ko; done
while ! dev=$(/bin/busybox findfs LABEL=initos-root 2>/dev/null); do /bin/busybox usleep 10000; done
/bin/busybox mount -o ro "$dev" /newroot
/bin/busybox mount --move /dev /newroot/dev
/bin/busybox mount --move /proc /newroot/proc
/bin/busybox mount --move /sys /newroot/sys
exec /bin/busybox switch_root /newroot /sbin/init
INIT
chmod +x "$script/init"
(cd "$script" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | zstd -q -19 > ../initrd-busybox-script.img)
# /dev/console must exist for the script's output: append a tiny archive with the node.
mkdir -p "$out/console/dev" && rm -f "$out/console/dev/console" && mknod "$out/console/dev/console" c 5 1
(cd "$out/console" && echo ./dev/console | cpio -o -H newc --quiet -R 0:0 | zstd -q -19 >> ../initrd-busybox-script.img)

cp out/initramfs.img "$out/initrd-initos.img"
cp out/rootfs.img "$out/rootfs.img"

source scripts/bench/boot.sh
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
boot() {
  local line
  line=$(bench_boot "$(basename "$1" .img)" 'INITOS-OS-UP uptime=[0-9.]+ ' --kernel "$vmlinuz" --initrd "$1" \
      --disk "$out/rootfs.img" --append "root=LABEL=initos-root quiet") || exit 1
  sed -nE 's/.*INITOS-OS-UP uptime=([0-9.]+) .*/\1/p' <<<"$line"
}

declare -A med size
for name in initos initramfs-tools busybox-script; do
  img=$out/initrd-$name.img
  times=()
  for ((i = 1; i <= runs; i++)); do times+=("$(boot "$img")"); done
  med[$name]=$(printf '%s\n' "${times[@]}" | median)
  size[$name]=$(stat -c %s "$img")
  echo "$name: uptimes ${times[*]}" >&2
done

printf '%-18s %12s %12s\n' initramfs "median (s)" "size (KiB)"
for name in initos initramfs-tools busybox-script; do
  printf '%-18s %12s %12d\n' "$name" "${med[$name]}" $((size[$name] / 1024))
done
awk -v a="${med[initos]}" -v b="${med[initramfs-tools]}" -v c="${med[busybox-script]}" \
    -v sa="${size[initos]}" -v sb="${size[initramfs-tools]}" -v sc="${size[busybox-script]}" 'BEGIN {
  printf "initos / initramfs-tools: time %.2f, size %.2f\n", a / b, sa / sb
  printf "initos / busybox-script:  time %.2f, size %.2f\n", a / c, sa / sc
}'
