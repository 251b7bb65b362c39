#!/usr/bin/env bash
# Fleet benchmark, side by side in one run:
# 1. pull: `initos pull` of a bundle (one OS image of BENCH_PULL_MIB random MiB, 256 by default)
#    from Debian's docker-registry on 127.0.0.1 into a fresh cache and FILE.tar, verified as a
#    machine verifies it, against `skopeo copy` of the same manifest to an OCI layout (skopeo
#    checks each blob's digest as it copies). Ratio: skopeo's time / ours.
# 2. rootfs: `initos build rootfs --from-oci` of a Debian bookworm image (the tests' debootstrap
#    tree, made an OCI image by umoci) to ext4, against `umoci unpack` + `mkfs.ext4 -d` of the
#    same image to the same size. Ratio: theirs / ours.
# Median of BENCH_RUNS (3) each; run as root (owners, devices).
set -euo pipefail
cd "$(dirname "$0")/.."
initos=$PWD/out/cli/initos
runs=${BENCH_RUNS:-3}
mib=${BENCH_PULL_MIB:-256}
for tool in skopeo umoci docker-registry; do
  command -v "$tool" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$tool" >/dev/null
done
work=$(mktemp -d /tmp/initos-bench-fleet.XXXXXX)
registry_pid="" mounted=""
cleanup() {
  [[ -n $registry_pid ]] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null || true
  [[ -n $mounted ]] && umount "$mounted" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

seconds_of() {
  local start
  start=$(date +%s.%N)
  "$@" > /dev/null 2>&1 || { echo "bench-fleet: failed: $*" >&2; return 1; }
  awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# --- pull --------------------------------------------------------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s/registry\nhttp:\n  addr: 127.0.0.1:%s\n' "$work" "$port" > "$work/registry.yml"
docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
ssh-keygen -q -t ed25519 -N "" -C initos-bench -f "$work/release"
head -c $((mib << 20)) /dev/urandom > "$work/os.img"
"$initos" build bundle --version 2.0 --compatible initos-bench --os-image "os=$work/os.img" --key "$work/release" --output "$work/bundle.tar" > /dev/null
rm -f "$work/os.img"
"$initos" push "$work/bundle.tar" "127.0.0.1:$port/initos/bench" --plain-http > /dev/null
bytes=$(stat -c %s "$work/bundle.tar")
ours=() theirs=()
for ((i = 0; i < runs; i++)); do
  rm -rf "$work/cache" "$work/pulled.tar" "$work/skopeo"
  ours+=("$(seconds_of "$initos" pull "127.0.0.1:$port/initos/bench:2.0" --output "$work/pulled.tar" --cache "$work/cache" --plain-http --key "$work/release.pub")")
  theirs+=("$(seconds_of skopeo copy --quiet --src-tls-verify=false "docker://127.0.0.1:$port/initos/bench:2.0" "oci:$work/skopeo:2.0")")
done
cmp -s "$work/bundle.tar" "$work/pulled.tar" || { echo "bench-fleet: the pulled bundle differs from the pushed one" >&2; exit 1; }
ours_s=$(printf '%s\n' "${ours[@]}" | median)
theirs_s=$(printf '%s\n' "${theirs[@]}" | median)
rate() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.0f", b / s / 1048576 }'; }
echo "fleet bench: pull of a $((bytes >> 20)) MiB bundle from docker-registry on 127.0.0.1, median of $runs runs"
printf '  %-40s %8s s %6s MiB/s\n' "skopeo copy (to an OCI layout)" "$theirs_s" "$(rate "$theirs_s")"
printf '  %-40s %8s s %6s MiB/s\n' "initos pull (verified, to bundle.tar)" "$ours_s" "$(rate "$ours_s")"
awk -v a="$theirs_s" -v b="$ours_s" 'BEGIN { printf "  ratio (skopeo time / initos time): %.2f\n", a / b }'
kill "$registry_pid"; wait "$registry_pid" 2>/dev/null || true; registry_pid=""
rm -rf "$work/registry" "$work/cache" "$work/pulled.tar" "$work/skopeo" "$work/bundle.tar"

# --- rootfs ------------------------------------------------------------------------------------
debian=$(ls .cache/debian-bookworm-*.img 2>/dev/null | head -1 || true)
if [[ -z $debian ]]; then
  "$initos" build rootfs --debootstrap --output "$work/debian.img" > /dev/null
  debian=$work/debian.img
fi
mkdir -p "$work/tree"
mount -o loop,ro "$debian" "$work/tree"; mounted=$work/tree
umoci init --layout "$work/layout"
umoci new --image "$work/layout:deb"
umoci unpack --image "$work/layout:deb" "$work/bundle" > /dev/null
cp -a "$work/tree/." "$work/bundle/rootfs/"
umoci repack --image "$work/layout:deb" "$work/bundle" > /dev/null
umount "$work/tree"; mounted=""
rm -rf "$work/bundle"
size=1024
ours=() theirs=()
theirs_build() {
  rm -rf "$work/unpacked" "$work/theirs.img"
  umoci unpack --image "$work/layout:deb" "$work/unpacked" &&
    truncate -s ${size}M "$work/theirs.img" &&
    mkfs.ext4 -q -F -L initos-bench -d "$work/unpacked/rootfs" -E root_owner=0:0 "$work/theirs.img"
}
for ((i = 0; i < runs; i++)); do
  rm -f "$work/ours.img"
  ours+=("$(seconds_of "$initos" build rootfs --from-oci "$work/layout" --tag deb --format ext4 --size $size --label initos-bench --output "$work/ours.img")")
  theirs+=("$(seconds_of theirs_build)")
done
ours_s=$(printf '%s\n' "${ours[@]}" | median)
theirs_s=$(printf '%s\n' "${theirs[@]}" | median)
echo "fleet bench: a Debian bookworm image (umoci-made OCI layout, one gzip layer) to a ${size} MiB ext4, median of $runs runs"
printf '  %-40s %8s s\n' "umoci unpack + mkfs.ext4 -d" "$theirs_s"
printf '  %-40s %8s s\n' "initos build rootfs --from-oci" "$ours_s"
awk -v a="$theirs_s" -v b="$ours_s" 'BEGIN { printf "  ratio (umoci+mkfs time / initos time): %.2f\n", a / b }'
