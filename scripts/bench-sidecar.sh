#!/usr/bin/env bash
# Sidecar benchmark: power-on (QEMU started) to the first successful ssh command (`status`), in
# QEMU with user networking and a host port forward, for InitOS with [sidecar] ssh (DHCP by its
# own client, dropbear supervised by PID 1), kept in its initramfs so the login is the only
# event timed; and InitOS's initramfs size with and without the sidecar.
# Debian's initramfs-tools with dropbear-initramfs was tried as the peer row and did not answer
# ssh within 160 s here (it stops after "Loading essential drivers" under TCG): see docs/bench.md.
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

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ssh_opts=(-p "$port" -i "$out/admin" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=2 -o LogLevel=ERROR)

# One boot: seconds from starting QEMU to the first ssh command that succeeds, and the guest's
# uptime that command printed. Until sshd listens, QEMU's forward accepts and stalls: a short
# ConnectTimeout keeps the polling fine-grained.
first_ssh_once() {
  local initrd=$1 append=$2 command=$3 serial=$4 start qemu took output
  start=$(date +%s.%N)
  "$initos" run --kernel "$vmlinuz" --initrd "$initrd" --disk out/rootfs.img --net --forward "$port:22" \
      --append "$append" --serial-file "$serial" >/dev/null 2>&1 &
  qemu=$!
  until output=$(ssh "${ssh_opts[@]}" root@127.0.0.1 "$command" 2>/dev/null); do
    kill -0 "$qemu" 2>/dev/null || return 1
    sleep 0.2
  done
  took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
  kill "$qemu" 2>/dev/null; wait "$qemu" 2>/dev/null || true
  pkill -f "hostfwd=tcp:127.0.0.1:$port-" 2>/dev/null || true
  echo "$took $(sed -nE 's/^uptime: +([0-9.]+) s/\1/p' <<<"$output")"
}

# A boot that fails is retried once, saying so; each attempt keeps its console.
first_ssh() {
  local serial=$out/serial-$(date +%s%N).log
  first_ssh_once "$@" "$serial" && return 0
  echo "bench: the guest ended before ssh answered ($1; its console: $serial); retrying once" >&2
  local again=$out/serial-$(date +%s%N).log
  first_ssh_once "$@" "$again" && return 0
  echo "bench: $1 failed twice; its consoles: $serial $again" >&2
  return 1
}

declare -A med up size
rows=(initos)
declare -A append=([initos]="quiet")
declare -A command=([initos]=status)
for name in "${rows[@]}"; do
  times=() uptimes=()
  for ((i = 1; i <= runs; i++)); do
    result=$(first_ssh "$out/initrd-$name.img" "${append[$name]}" "${command[$name]}") || exit 1
    read -r took uptime <<<"$result"
    times+=("$took") uptimes+=("$uptime")
  done
  med[$name]=$(printf '%s\n' "${times[@]}" | median)
  up[$name]=$(printf '%s\n' "${uptimes[@]}" | median)
  size[$name]=$(stat -c %s "$out/initrd-$name.img")
  echo "$name: seconds to first ssh ${times[*]}; guest uptime then ${uptimes[*]}" >&2
done
size[initos-nosidecar]=$(stat -c %s "$out/initrd-initos-nosidecar.img")

printf '%-24s %20s %18s %11s\n' initramfs "power-on to ssh (s)" "guest uptime (s)" "size (KiB)"
for name in "${rows[@]}"; do
  printf '%-24s %20s %18s %11d\n' "$name" "${med[$name]}" "${up[$name]}" $((size[$name] / 1024))
done
printf '%-24s %20s %18s %11d\n' "initos without sidecar" "-" "-" $((size[initos-nosidecar] / 1024))
awk -v sa="${size[initos]}" -v sn="${size[initos-nosidecar]}" 'BEGIN {
  printf "the sidecar adds %d KiB to InitOS'"'"'s initramfs (ratio %.2f)\n", (sa - sn) / 1024, sa / sn
}'
