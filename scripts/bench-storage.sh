#!/usr/bin/env bash
# Storage benchmark, side by side in one run: the same signed UKI setup (OVMF with Secure Boot,
# a swtpm kept across boots, TCG) booting the default OS from a plain root and from a LUKS2 root
# opened by a TPM-sealed key ([[crypt]] keys = ["tpm2", "passphrase"], enrolled at build time
# with `initos build enroll-tpm` for this machine's PCR 7 and the UKI's PCR 11). Reported: the
# guest's uptime when the OS is up (medians), the crypt phase and the unseal in it, and what
# crypt support adds to the initramfs (cryptsetup, dmsetup and their libraries, dm modules).
set -euo pipefail
cd "$(dirname "$0")/.."
initos=out/cli/initos
out=out/bench/storage
runs=${BENCH_RUNS:-3}
rm -rf "$out"
mkdir -p "$out/tpm"
passphrase=$out/passphrase
printf 'bench passphrase' > "$passphrase"

# The two roots: the default OS as it is, and inside LUKS2 (cryptsetup's offline encryption; PBKDF2 for the passphrase slot).
cp out/rootfs.img "$out/plain-root.img"
cp out/rootfs.img "$out/crypt-root.img"
truncate -s +16M "$out/crypt-root.img"
cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 16M --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
  --key-file "$passphrase" --batch-mode "$out/crypt-root.img" >/dev/null
uuid=$(cryptsetup luksUUID "$out/crypt-root.img")

cp image-build/defaults/initos.toml "$out/plain.toml"
{ cat image-build/defaults/initos.toml
  printf '\n[[crypt]]\ndevice = "UUID=%s"\nname = "root"\nkeys = ["tpm2", "passphrase"]\n' "$uuid"
} > "$out/crypt.toml"
"$initos" keys snakeoil --output "$out/keys" >/dev/null
for kind in plain crypt; do
  "$initos" build initramfs --config "$out/$kind.toml" --output "$out/initrd-$kind.img" >/dev/null
  "$initos" build uki --initrd "$out/initrd-$kind.img" --cmdline "console=ttyS0 panic=-1" --keys "$out/keys" --output "$out/$kind.efi" >/dev/null
  "$initos" build disk --uki "$out/$kind.efi" --output "$out/esp-$kind.img" >/dev/null
done

boot() { # KIND SERIAL: one boot until the OS is up (with --until, the console goes to stdout)
  local kind=$1 serial=$2
  "$initos" run --uefi --secure-boot --tpm --tpm-state "$out/tpm" --disk "$out/esp-$kind.img" --disk "$out/$kind-root.img" \
    --until 'INITOS-OS-UP' --timeout 400 > "$serial" 2>&1
}

# This machine's PCR 7 (its Secure Boot state), as its boot log prints it; then the key sealed for it and the crypt UKI.
"$initos" run --uefi --secure-boot --tpm --tpm-state "$out/tpm" --disk "$out/esp-crypt.img" --disk "$out/crypt-root.img" \
  --until 'tpm: PCR 7 \(sha256\) = [0-9a-f]{64}' --timeout 400 > "$out/first.log" 2>&1
pcr7=$(sed -nE 's/.*tpm: PCR 7 \(sha256\) = ([0-9a-f]{64}).*/\1/p' "$out/first.log" | head -1)
swtpm socket --tpm2 --tpmstate dir="$out/tpm" --server type=unixio,path="$out/tpm/cmd.sock" --ctrl type=unixio,path="$out/tpm/ctrl.sock" \
  --flags not-need-init,startup-clear &
swtpm_pid=$!
for _ in $(seq 50); do [[ -S $out/tpm/cmd.sock ]] && break; sleep 0.1; done
"$initos" build enroll-tpm --volume "$out/crypt-root.img" --passphrase-file "$passphrase" --tpm-socket "$out/tpm/cmd.sock" \
  --pcr7 "$pcr7" --uki "$out/crypt.efi" --release bench >/dev/null
kill "$swtpm_pid"; wait "$swtpm_pid" 2>/dev/null || true

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
declare -A up
crypt_ms=() unseal_ms=()
for ((i = 1; i <= runs; i++)); do
  for kind in plain crypt; do
    serial=$out/$kind-$i.log
    boot "$kind" "$serial" || { echo "bench-storage: the $kind boot did not reach the OS (console: $serial)" >&2; exit 1; }
    up[$kind]+="$(sed -nE 's/.*INITOS-OS-UP uptime=([0-9.]+).*/\1/p' "$serial" | head -1) "
    if [[ $kind == crypt ]]; then
      grep -q 'opened by tpm' "$serial" || { echo "bench-storage: the TPM did not open the root (console: $serial)" >&2; exit 1; }
      crypt_ms+=("$(sed -nE 's/.*phase crypt: done in ([0-9.]+) ms.*/\1/p' "$serial" | head -1)")
      unseal_ms+=("$(sed -nE 's/.*the TPM unsealed its key in ([0-9]+) ms.*/\1/p' "$serial" | head -1)")
    fi
  done
done
plain_up=$(tr ' ' '\n' <<<"${up[plain]}" | grep . | median)
crypt_up=$(tr ' ' '\n' <<<"${up[crypt]}" | grep . | median)
plain_size=$(stat -c %s "$out/initrd-plain.img")
crypt_size=$(stat -c %s "$out/initrd-crypt.img")
echo "storage bench: OVMF + Secure Boot + swtpm, TCG, $runs runs each, medians (guest uptime when the OS is up)"
printf '  %-36s %8s s\n' "plain root" "$plain_up"
printf '  %-36s %8s s   (x%s)  crypt phase %s ms, unseal %s ms\n' "LUKS2 root, key unsealed by the TPM" "$crypt_up" \
  "$(awk -v a="$crypt_up" -v b="$plain_up" 'BEGIN { printf "%.2f", a / b }')" \
  "$(printf '%s\n' "${crypt_ms[@]}" | median)" "$(printf '%s\n' "${unseal_ms[@]}" | median)"
printf '  initramfs: %s bytes plain, %s with [[crypt]] (+%s: cryptsetup, dmsetup, their libraries, dm modules)\n' \
  "$plain_size" "$crypt_size" "$((crypt_size - plain_size))"
