#!/usr/bin/env bash
# Module profiles side by side (issue 13), on the same kernel and root disk as scripts/bench.sh:
# the size and boot time (median uptime at the OS's init, QEMU pc, TCG) of InitOS's initramfs
# with profile explicit (the default config's lists only: the size before profiles), generic
# (the default), and host for the QEMU machine itself (its inventory taken by booting the
# generic image and running `initos admin hardware --json` there), next to initramfs-tools'
# MODULES=most built by scripts/bench.sh; then the modules of the generic image that cost the
# most (each compressed alone with zstd -19).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${BENCH_RUNS:-3}
out=out/bench
mkdir -p "$out"
initos=out/cli/initos
kernel_dir=$(pwd)/.cache/kernel
vmlinuz=$(ls "$kernel_dir"/boot/vmlinuz-*)
peer=$out/initrd-initramfs-tools.img
[[ -f $peer ]] || { echo "bench-profiles: $peer is missing: run scripts/bench.sh first (make bench does)" >&2; exit 1; }
source scripts/bench/boot.sh
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

"$initos" build initramfs --profile explicit --output "$out/initrd-explicit.img" >/dev/null
"$initos" build initramfs --profile generic --output "$out/initrd-generic.img" >/dev/null

# The QEMU machine's inventory, from the machine itself.
cat > "$out/inventory.toml" <<'EOF'
mode = "initramfs"
on_failure = "poweroff"

[modules]
profile = "generic"

[[service]]
name = "inventory"
command = ["/bin/sh", "-c", "/bin/initos admin hardware --json | sed 's/^/INVENTORY: /'; echo INVENTORY-END"]
console = true
restart = "never"
EOF
"$initos" build initramfs --config "$out/inventory.toml" --zstd-level 3 --output "$out/initrd-inventory.img" >/dev/null
"$initos" run --kernel "$vmlinuz" --initrd "$out/initrd-inventory.img" --disk out/rootfs.img --append "quiet" \
  --until 'INVENTORY-END' --timeout 180 > "$out/inventory.log" 2>&1
# Each line of it marked: PID 1's own log shares the console and comes between the lines.
tr -d '\r' < "$out/inventory.log" | sed -n 's/^INVENTORY: //p' > "$out/qemu-pc.json"
"$initos" build initramfs --profile host --hardware "$out/qemu-pc.json" --output "$out/initrd-host.img" >/dev/null

boot() {
  local line
  line=$(bench_boot "$(basename "$1" .img)" 'INITOS-OS-UP uptime=[0-9.]+ ' --kernel "$vmlinuz" --initrd "$1" \
      --disk out/rootfs.img --append "root=LABEL=initos-root quiet") || exit 1
  sed -nE 's/.*INITOS-OS-UP uptime=([0-9.]+) .*/\1/p' <<<"$line"
}
# The profiles take turns, run after run, so a slow spell of the host falls on all of them alike.
declare -A med size times
for ((i = 1; i <= runs; i++)); do
  for name in explicit generic host; do times[$name]+="$(boot "$out/initrd-$name.img") "; done
done
for name in explicit generic host; do
  med[$name]=$(printf '%s\n' ${times[$name]} | median)
  size[$name]=$(stat -c %s "$out/initrd-$name.img")
  echo "$name: uptimes ${times[$name]}" >&2
done
size[initramfs-tools]=$(stat -c %s "$peer")

printf '%-24s %12s %12s\n' "initramfs" "median (s)" "size (KiB)"
for name in explicit generic host; do
  printf '%-24s %12s %12d\n' "initos --profile $name" "${med[$name]}" $((size[$name] / 1024))
done
printf '%-24s %12s %12d\n' "initramfs-tools (most)" "-" $((size[initramfs-tools] / 1024))
awk -v g="${size[generic]}" -v p="${size[initramfs-tools]}" -v h="${size[host]}" -v e="${size[explicit]}" \
    -v tg="${med[generic]}" -v te="${med[explicit]}" -v th="${med[host]}" 'BEGIN {
  printf "generic / initramfs-tools: size %.2f\n", g / p
  printf "host / explicit: size %.2f, time %.2f; generic / explicit: time %.2f\n", h / e, th / te, tg / te
}'

# What the generic image's modules cost, each compressed alone (an upper bound of its share).
rm -rf "$out/generic-tree" && mkdir -p "$out/generic-tree"
(cd "$out/generic-tree" && zstd -dc ../initrd-generic.img | cpio -id --quiet 2>/dev/null)
# The modules in the store (a squashfs the kernel does not unpack) count as much as the others.
for store in "$out"/generic-tree/lib/modules/*/modules.sqfs; do
  unsquashfs -q -n -d "$(dirname "$store")/store-tree" "$store" >/dev/null
done
echo "the generic image's costliest modules (zstd -19 alone, KiB):"
find "$out/generic-tree/lib/modules" -name '*.ko' | while read -r ko; do
  printf '%d %s\n' "$(zstd -19 -q -c "$ko" | wc -c)" "${ko#*/kernel/}"
done | sort -rn > "$out/generic-costs.txt"
head -15 "$out/generic-costs.txt" | awk '{ printf "  %6d  %s\n", $1 / 1024, $2 }'
echo "by directory (KiB):"
awk '{ n = split($2, p, "/"); d = p[1] "/" p[2] (p[1] == "drivers" ? "/" p[3] : ""); s[d] += $1 } END { for (d in s) printf "%d %s\n", s[d] / 1024, d }' "$out/generic-costs.txt" \
  | sort -rn | head -12 | awk '{ printf "  %6d  %s\n", $1, $2 }'
rm -rf "$out/generic-tree"
