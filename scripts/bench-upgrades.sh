#!/usr/bin/env bash
# Upgrade benchmark, side by side in one run, on a bundle with one OS image of random bytes
# (BENCH_BUNDLE_MIB, 512 by default), read from the page cache by all:
# 1. verify: `initos bundle verify` (the sidecar's own reader, BundleReader, run by the
#    workstation CLI, which hashes with OpenSSL as the sidecar does with the kernel's AF_ALG)
#    against `sha256sum` of the same bytes; the issue's bar: a ratio of at least 0.8.
# 2. install: Debian's RAUC 1.8 installing a signed (CMS, plain format) bundle of the same
#    payload into a raw loop-device slot (its service on a private D-Bus, a custom boot-loader
#    backend script, the booted slot given), against `initos bundle stage` putting ours into
#    images/ on an ext4 loop device (verify, write through the numbered durable steps, proof,
#    pointer); the issue's bar: ours no slower. Both write the payload once and sync it.
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
"$initos" build bundle --version 2.0 --compatible initos-bench --os-image "os=$out/os.img" --key "$out/release" --output "$out/bundle.tar" >/dev/null
bytes=$(stat -c %s "$out/bundle.tar")
cat "$out/bundle.tar" > /dev/null

seconds_of() {
  local start
  start=$(date +%s.%N)
  "$@" > /dev/null || { echo "bench-upgrades: failed: $*" >&2; return 1; }
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

# --- install: RAUC 1.8 against initos bundle stage -------------------------------------------
command -v rauc >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends rauc >/dev/null
rauc_dir=$(mktemp -d /tmp/initos-bench-rauc.XXXXXX)
loops=() mounted=""
cleanup() {
  [[ -n $mounted ]] && umount "$mounted" 2>/dev/null || true
  for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
  rm -rf "$rauc_dir"
}
trap cleanup EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$rauc_dir/key.pem" -out "$rauc_dir/cert.pem" -days 30 -subj "/CN=initos-bench" 2>/dev/null
mkdir -p "$rauc_dir/content"
mv "$out/os.img" "$rauc_dir/content/rootfs.img"
printf '[update]\ncompatible=initos-bench\nversion=2.0\n\n[bundle]\nformat=plain\n\n[image.rootfs]\nfilename=rootfs.img\n' > "$rauc_dir/content/manifest.raucm"
rauc bundle --cert="$rauc_dir/cert.pem" --key="$rauc_dir/key.pem" "$rauc_dir/content" "$rauc_dir/bundle.raucb" >/dev/null 2>&1 \
  || { echo "bench-upgrades: rauc bundle failed" >&2; exit 1; }
rm -rf "$rauc_dir/content"
for slot in A B; do
  truncate -s $(((mib + 16) << 20)) "$rauc_dir/slot$slot.img"
  loops+=("$(losetup -f --show "$rauc_dir/slot$slot.img")")
done
cat > "$rauc_dir/backend.sh" <<BACKEND
#!/bin/sh
# RAUC's custom boot-loader backend: the primary slot and each slot's state in files.
case "\$1" in
  get-primary) cat $rauc_dir/primary 2>/dev/null || echo A ;;
  set-primary) echo "\$2" > $rauc_dir/primary ;;
  get-state) cat $rauc_dir/state-\$2 2>/dev/null || echo good ;;
  set-state) echo "\$3" > $rauc_dir/state-\$2 ;;
  get-current) echo A ;;
  *) exit 1 ;;
esac
BACKEND
chmod +x "$rauc_dir/backend.sh"
printf '[system]\ncompatible=initos-bench\nbootloader=custom\n\n[handlers]\nbootloader-custom-backend=%s\n\n[keyring]\npath=%s\n\n[slot.rootfs.0]\ndevice=%s\ntype=raw\nbootname=A\n\n[slot.rootfs.1]\ndevice=%s\ntype=raw\nbootname=B\n' \
  "$rauc_dir/backend.sh" "$rauc_dir/cert.pem" "${loops[0]}" "${loops[1]}" > "$rauc_dir/system.conf"
cat > "$rauc_dir/install.sh" <<INSTALL
#!/bin/sh
# The service on this private bus, then one install, timed; the slot synced as ours is.
export DBUS_STARTER_BUS_TYPE=session
rauc --conf=$rauc_dir/system.conf service --override-boot-slot=A >$rauc_dir/service.log 2>&1 &
svc=\$!
for i in \$(seq 100); do rauc --conf=$rauc_dir/system.conf status >/dev/null 2>&1 && break; sleep 0.1; done
start=\$(date +%s.%N)
rauc --conf=$rauc_dir/system.conf install $rauc_dir/bundle.raucb >/dev/null && sync
end=\$(date +%s.%N)
kill \$svc; wait \$svc 2>/dev/null
awk -v s="\$start" -v e="\$end" 'BEGIN { printf "%.3f", e - s }'
INSTALL
chmod +x "$rauc_dir/install.sh"
truncate -s $(((mib + 160) << 20)) "$rauc_dir/data.img"
mkfs.ext4 -q "$rauc_dir/data.img"
loops+=("$(losetup -f --show "$rauc_dir/data.img")")
mkdir -p "$rauc_dir/data"
mount "${loops[2]}" "$rauc_dir/data" && mounted="$rauc_dir/data"
printf '[os]\nimage = "os"\n\n[upgrade]\nkeys = ["%s"]\ncompatible = "initos-bench"\nversion = "1.0"\n' "$(cat "$out/release.pub")" > "$rauc_dir/initos.toml"
cat "$rauc_dir/bundle.raucb" "$out/bundle.tar" > /dev/null

rauc_t=() stage_t=()
for ((i = 0; i < ${BENCH_INSTALL_RUNS:-3}; i++)); do
  rm -f "$rauc_dir/primary" "$rauc_dir"/state-*
  rauc_t+=("$(timeout 300 dbus-run-session -- "$rauc_dir/install.sh" 2>/dev/null)")
  rm -rf "$rauc_dir/data/images"
  stage_t+=("$(seconds_of sh -c "'$initos' bundle stage '$out/bundle.tar' --images '$rauc_dir/data/images' --config '$rauc_dir/initos.toml' && sync")")
done
rauc_s=$(printf '%s\n' "${rauc_t[@]}" | median)
stage_s=$(printf '%s\n' "${stage_t[@]}" | median)
written=$(du -sb "$rauc_dir/data/images" | cut -f1)
echo "upgrade install: the same ${mib} MiB payload into a slot on a loop device, median of ${#rauc_t[@]} runs"
printf '  %-34s %8s s %6s MiB/s\n' "rauc install (RAUC 1.8, plain)" "$rauc_s" "$(rate "$rauc_s")"
printf '  %-34s %8s s %6s MiB/s\n' "initos bundle stage" "$stage_s" "$(rate "$stage_s")"
awk -v a="$rauc_s" -v b="$stage_s" 'BEGIN { printf "  ratio (rauc time / initos time): %.2f (the bar: 1.0, ours no slower)\n", a / b }'
echo "  bytes written per upgrade: initos $written (image, proof, pointer); rauc: the payload to a raw slot"
rm -f "$out/bundle.tar"
