#!/usr/bin/env bash
# Hand-off benchmark: the same kernel, InitOS initramfs (the default config) and default root
# disk booted in each mode: switch_root, privileged and unprivileged (the OS in a jail; no data
# volume, so its upper layer is a tmpfs). Prints the median guest uptime when the OS's init
# prints its marker, and each jail mode's cost over switch_root.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${BENCH_RUNS:-3}
initos=out/cli/initos
out=out/bench/modes
mkdir -p "$out"
cp out/rootfs.img "$out/rootfs.img"

source scripts/bench/boot.sh
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
boot() {
  local line
  line=$(bench_boot "mode-$1" 'INITOS-OS-UP uptime=[0-9.]+ pid=1 ' --initrd out/initramfs.img --disk "$out/rootfs.img" \
      --append "root=LABEL=initos-root quiet initos.mode=$1") || exit 1
  sed -nE 's/.*INITOS-OS-UP uptime=([0-9.]+) pid=1 .*/\1/p' <<<"$line"
}

declare -A med
modes=(switch_root privileged unprivileged)
for mode in "${modes[@]}"; do
  times=()
  for ((i = 1; i <= runs; i++)); do times+=("$(boot "$mode")"); done
  med[$mode]=$(printf '%s\n' "${times[@]}" | median)
  echo "$mode: uptimes ${times[*]}" >&2
done

printf '%-14s %26s\n' mode "OS init reached at (s)"
for mode in "${modes[@]}"; do printf '%-14s %26s\n' "$mode" "${med[$mode]}"; done
awk -v s="${med[switch_root]}" -v p="${med[privileged]}" -v u="${med[unprivileged]}" 'BEGIN {
  printf "privileged / switch_root: %.2f (+%.2f s); unprivileged / switch_root: %.2f (+%.2f s)\n", p / s, p - s, u / s, u - s
}'
