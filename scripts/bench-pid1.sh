#!/usr/bin/env bash
# PID 1 benchmark rows, side by side in one run (issue 3):
#  1. reaping throughput: orphans reaped per second by InitOS's tini mode and Debian's tini,
#     each PID 1 of a fresh PID namespace, clearing bursts of orphans (scripts/bench/orphan-burst.c);
#  2. resident memory of the tini mode and of Debian's tini supervising `sleep`;
#  3. resident memory of InitOS as PID 1 after a QEMU boot (initramfs mode, default modules),
#     next to busybox init in the same kind of initramfs.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${BENCH_ROUNDS:-9}
orphans=${BENCH_ORPHANS:-5000}
out=out/bench
mkdir -p "$out"
box=$(pwd)/out/box/initos
initos=out/cli/initos
kernel_dir=$(pwd)/.cache/kernel
vmlinuz=$(ls "$kernel_dir"/boot/vmlinuz-*)

command -v tini >/dev/null || {
  [[ $(id -u) -eq 0 ]] || { echo "bench: needs root for apt-get" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends tini >/dev/null
}
gcc -O2 -Wall -Wextra -Werror -o "$out/orphan-burst" scripts/bench/orphan-burst.c

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
as_pid1() { unshare --pid --fork --mount-proc "$@"; }

# 1. Reaping: alternate the two inits round by round, so machine noise hits both alike.
initos_rates=() tini_rates=()
for ((i = 1; i <= rounds; i++)); do
  initos_rates+=("$(as_pid1 "$box" tini -- "$out/orphan-burst" "$orphans" | sed -nE 's/.*: ([0-9]+)\/s$/\1/p')")
  tini_rates+=("$(as_pid1 tini -- "$out/orphan-burst" "$orphans" | sed -nE 's/.*: ([0-9]+)\/s$/\1/p')")
done
echo "reaping (orphans/s, $orphans per burst) initos tini: ${initos_rates[*]}" >&2
echo "reaping (orphans/s, $orphans per burst) debian tini: ${tini_rates[*]}" >&2
reap_initos=$(printf '%s\n' "${initos_rates[@]}" | median)
reap_tini=$(printf '%s\n' "${tini_rates[@]}" | median)

# 2. RSS of each init supervising sleep, read from inside the namespace (PID 1 is the init).
rss_of_pid1() { as_pid1 "$@" -- sh -c 'sleep 1; sed -nE "s/^VmRSS:[[:space:]]*([0-9]+) kB/\1/p" /proc/1/status'; }
rss_tini_initos=$(rss_of_pid1 "$box" tini)
rss_tini_debian=$(rss_of_pid1 tini)

# 3. PID 1 after boot: InitOS in initramfs mode, and busybox init, each printing PID 1's RSS 5 s after boot.
field() { echo "\$(sed -nE \"s/^$1:[[:space:]]*([0-9]+) kB/\\1/p\" /proc/1/status)"; }
report="sleep 5; echo PID1-RSS kb=$(field VmRSS) anon=$(field RssAnon) file=$(field RssFile)"
cat > "$out/pid1-rss.toml" <<TOML
mode = "initramfs"

[[service]]
name = "rss"
command = ["/bin/sh", "-c", '$report']
restart = "never"
TOML
"$initos" build initramfs --config "$out/pid1-rss.toml" --output "$out/initrd-pid1-rss.img" >/dev/null
bb=$out/busybox-init-root
rm -rf "$bb" && mkdir -p "$bb"/{bin,dev,proc,sys,etc}
cp /bin/busybox "$bb/bin/busybox"
ln -s busybox "$bb/bin/sh" && ln -s bin/busybox "$bb/init"
cat > "$bb/etc/inittab" <<TAB
::sysinit:/bin/busybox mount -t proc proc /proc
::once:/bin/sh -c '$report'
TAB
(cd "$bb" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 > ../initrd-busybox-init.cpio)
mkdir -p "$out/console/dev" && rm -f "$out/console/dev/console" && mknod "$out/console/dev/console" c 5 1
(cd "$out/console" && echo ./dev/console | cpio -o -H newc --quiet -R 0:0 >> ../initrd-busybox-init.cpio)
source scripts/bench/boot.sh
boot_rss() {
  local line
  line=$(bench_boot "pid1-rss-$(basename "$1")" 'PID1-RSS kb=[0-9]+' --kernel "$vmlinuz" --initrd "$1" --append "quiet") || exit 1
  sed -nE 's/.*(PID1-RSS kb=[0-9]+.*)/\1/p' <<<"$line" | tee -a "$out/pid1-rss.log" | sed -nE 's/PID1-RSS kb=([0-9]+).*/\1/p'
}
: > "$out/pid1-rss.log"
rss_boot_initos=$(boot_rss "$out/initrd-pid1-rss.img")
rss_boot_busybox=$(boot_rss "$out/initrd-busybox-init.cpio")
[[ -n $rss_boot_initos && -n $rss_boot_busybox ]] || { echo "bench: a PID 1 boot did not report its RSS" >&2; exit 1; }
# VmRSS counts no file pages for a binary on the initramfs (ramfs): busybox's is only its anon memory.
sed 's/^/after boot (initos, busybox init): /' "$out/pid1-rss.log" >&2

printf '%-44s %12s %12s %8s\n' "PID 1" "InitOS" "peer" "ratio"
awk -v a="$reap_initos" -v b="$reap_tini" -v c="$rss_tini_initos" -v d="$rss_tini_debian" \
    -v e="$rss_boot_initos" -v f="$rss_boot_busybox" 'BEGIN {
  printf "%-44s %12d %12d %8.2f\n", "reaping, orphans/s (peer: Debian tini)", a, b, a / b
  printf "%-44s %12d %12d %8.2f\n", "tini mode RSS over sleep, KiB (Debian tini)", c, d, c / d
  printf "%-44s %12d %12d %8.2f\n", "PID 1 RSS after boot, KiB (busybox init)", e, f, e / f
  printf "targets: reaping ratio >= 1.00 (%s), PID 1 RSS <= 8192 KiB (%s)\n", (a >= b) ? "met" : "not met", (e <= 8192) ? "met" : "not met"
}'
