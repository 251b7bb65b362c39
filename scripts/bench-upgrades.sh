#!/usr/bin/env bash
# Upgrade benchmark: how fast a bundle is verified (the signature, then the SHA-256 of every
# blob), against `sha256sum` of the same bytes, side by side in one run. The bundle carries one
# OS image of random bytes (BENCH_BUNDLE_MIB, 512 by default), read from the page cache by both.
# `initos bundle verify` is the workstation CLI running the sidecar's own reader (BundleReader,
# InitOs.Sys.Sha256) under the JIT; the sidecar runs the same code compiled ahead of time.
# The issue's bar: a ratio (sha256sum's time / ours) of at least 0.8.
set -euo pipefail
cd "$(dirname "$0")/.."
initos=out/cli/initos
out=out/bench/upgrades
mib=${BENCH_BUNDLE_MIB:-512}
runs=${BENCH_RUNS:-5}
mkdir -p "$out"
[[ -f $out/release ]] || ssh-keygen -q -t ed25519 -N "" -C initos-bench-release -f "$out/release"
head -c $((mib << 20)) /dev/urandom > "$out/os.img"
rm -f "$out/bundle.tar"
"$initos" build bundle --version 2.0 --os-image "os=$out/os.img" --key "$out/release" --output "$out/bundle.tar" >/dev/null
rm -f "$out/os.img"
bytes=$(stat -c %s "$out/bundle.tar")
cat "$out/bundle.tar" > /dev/null

seconds_of() {
  local start
  start=$(date +%s.%N)
  "$@" > /dev/null
  awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

sha=() ours=()
for ((i = 0; i < runs; i++)); do
  sha+=("$(seconds_of sha256sum "$out/bundle.tar")")
  ours+=("$(seconds_of "$initos" bundle verify "$out/bundle.tar" --key "$out/release.pub")")
done
sha_s=$(printf '%s\n' "${sha[@]}" | median)
ours_s=$(printf '%s\n' "${ours[@]}" | median)
rate() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.0f", b / s / 1048576 }'; }
echo "upgrade bench: a bundle of $((bytes >> 20)) MiB, median of $runs runs, page cache warm"
printf '  %-34s %8s s %6s MiB/s\n' "sha256sum" "$sha_s" "$(rate "$sha_s")"
printf '  %-34s %8s s %6s MiB/s\n' "initos bundle verify" "$ours_s" "$(rate "$ours_s")"
awk -v a="$sha_s" -v b="$ours_s" 'BEGIN { printf "  ratio (sha256sum time / initos time): %.2f (the bar: 0.8)\n", a / b }'
rm -f "$out/bundle.tar"
