#!/usr/bin/env bash
# make demo-upgrade: signed upgrades end to end, under OVMF with Secure Boot and systemd-boot.
#   build OUT         versions 1.0 and 2.0 of the default machine (switch_root into the busybox OS,
#                     DHCP, the admin door, upgrades on) and 3.0, whose root's init does not exist
#                     (its boot fails); signed bundles of 2.0 and 3.0; a disk booting 1.0, whose
#                     128 MiB ESP holds the running UKI, the kept previous one and the one on trial.
#   drive PORT OUT    (run by `initos run --then` once 1.0 is up) applies 2.0 over ssh, waits until
#                     it is blessed, applies 3.0, waits until the machine is back on 2.0 by itself,
#                     and writes what it saw, with the times, to OUT/demo.txt.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
initos=${INITOS:-$root/out/cli/initos}

build() {
  local out=$1
  mkdir -p "$out"
  [[ -f $out/admin ]] || ssh-keygen -q -t ed25519 -N "" -C initos-demo-admin -f "$out/admin"
  [[ -f $out/release ]] || ssh-keygen -q -t ed25519 -N "" -C initos-demo-release -f "$out/release"
  "$initos" keys snakeoil --output "$out/snakeoil" >/dev/null
  for version in 1.0 2.0 3.0; do
    {
      grep -v '^init = ' "$root/image-build/defaults/initos.toml" | sed '/^\[root\]/a init = "'"$([[ $version == 3.0 ]] && echo /sbin/no-such-init || echo /sbin/init)"'"'
      printf '\n[network]\nmode = "dhcp"\n\n[sidecar]\nssh = true\nauthorized_keys = ["%s"]\n' "$(cat "$out/admin.pub")"
      printf '\n[upgrade]\nkeys = ["%s"]\ncompatible = "demo"\nmin_version = "1.0"\nversion = "%s"\nsettle_seconds = 5\n' "$(cat "$out/release.pub")" "$version"
    } > "$out/initos-$version.toml"
    "$initos" build initramfs --config "$out/initos-$version.toml" --output "$out/initramfs-$version.img" >/dev/null
    "$initos" build uki --keys "$out/snakeoil" --initrd "$out/initramfs-$version.img" --cmdline "panic=-1 quiet" --output "$out/initos-$version.efi" >/dev/null
    if [[ $version != 1.0 ]]; then
      "$initos" build bundle --version "$version" --compatible demo --min-version 1.0 --uki "$out/initos-$version.efi" --key "$out/release" --output "$out/bundle-$version.tar" >/dev/null
    fi
  done
  "$initos" build disk --systemd-boot --esp-size 128 --keys "$out/snakeoil" --uki "$out/initos-1.0.efi" --rootfs "$root/out/rootfs.img" --output "$out/disk.img"
}

# One admin command; a fresh pin each time (no data volume: a new host key every boot).
admin() {
  local port=$1; shift
  rm -f "$out/known_hosts"
  "$initos" ssh "127.0.0.1:$port" --key "$out/admin" --known-hosts "$out/known_hosts" -- "$@"
}

# Waits (bounded) until `upgrade status` says $2, across the reboots in between.
wait_for() {
  local port=$1 want=$2 deadline=$((SECONDS + 600))
  until admin "$port" upgrade status 2>/dev/null | grep -q -- "$want"; do
    ((SECONDS < deadline)) || { echo "demo-upgrade: no '$want' within 600 s" >&2; return 1; }
    sleep 2
  done
}

drive() {
  local port=$1
  exec > >(tee "$out/demo.txt") 2>&1
  # The marker comes before switch_root, which restarts the admin door in the sidecar: wait for it.
  wait_for "$port" "running 1.0 (good)"
  echo "== 1.0 is up"
  admin "$port" upgrade status
  local start=$SECONDS
  echo "== applying 2.0 over ssh (initos ssh HOST -- upgrade apply --reboot < bundle-2.0.tar)"
  admin "$port" upgrade apply --reboot < "$out/bundle-2.0.tar"
  wait_for "$port" "running 2.0 (good)"
  echo "== 2.0 tried and blessed by the sidecar: $((SECONDS - start)) s from apply"
  admin "$port" upgrade status
  start=$SECONDS
  echo "== applying 3.0, whose root has no init"
  admin "$port" upgrade apply --reboot < "$out/bundle-3.0.tar"
  wait_for "$port" "initos-3.0+0-"
  echo "== 3.0's boot failed, it was marked bad, and the machine is back on 2.0 by itself: $((SECONDS - start)) s from apply"
  admin "$port" upgrade status
}

case ${1:-} in
  build) build "$2" ;;
  drive) out=$3; drive "$2" ;;
  *) echo "usage: demo-upgrade.sh build OUT | drive PORT OUT" >&2; exit 2 ;;
esac
