#!/usr/bin/env bash
# Rollout benchmark: the wall time of `initos fleet upgrade` over BENCH_FLEET_HOSTS (20)
# simulated machines (tests/fleet-sim: network namespaces running the real sidecar after a
# stand-in OS init, a stand-in firmware counting boots as systemd-boot does). Each machine fetches
# a real 2.0 UKI (kernel + initramfs) from Debian's docker-registry, stages it, reboots into its
# trial and is blessed by its own judge; the rollout waits for each verdict. Side by side in one
# run: --max-parallel 1, 4 and 20, each on a fresh fleet; ratios against one at a time.
# Run as root (namespaces, bridges).
set -euo pipefail
cd "$(dirname "$0")/.."
initos=$PWD/out/cli/initos
sim=$PWD/tests/fleet-sim/fleet-sim.sh
count=${BENCH_FLEET_HOSTS:-20}
command -v docker-registry >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker-registry >/dev/null
work=$(mktemp -d /tmp/initos-bench-rollout.XXXXXX)
registries=()
cleanup() {
  "$sim" stop "$work/fleet" > /dev/null 2>&1 || true
  for pid in "${registries[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# docker-registry on ADDRESS:PORT over the one storage directory (a second one serves the fleet's bridge).
registry() {
  local address=$1 port=$2
  printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s/registry\nhttp:\n  addr: %s:%s\n' "$work" "$address" "$port" > "$work/registry-$address.yml"
  docker-registry serve "$work/registry-$address.yml" > "$work/registry-$address.log" 2>&1 &
  registries+=($!)
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/$address/$port") 2>/dev/null && return; sleep 0.1; done
  echo "bench-rollout: docker-registry did not listen on $address:$port" >&2
  exit 1
}

ssh-keygen -q -t ed25519 -N "" -C bench-release -f "$work/release"
ssh-keygen -q -t ed25519 -N "" -C bench-admin -f "$work/admin"
fingerprint=$(ssh-keygen -lf "$work/admin.pub" | awk '{ print $2 }')
gateway=10.214.0.1

# The config each version's UKI carries; the simulated firmware gives it to the machine it boots.
config() {
  cat <<TOML
mode = "switch_root"

[sidecar]
ssh = true
listen = ["eth0"]
authorized_keys = ["$(cat "$work/admin.pub")"]

[upgrade]
keys = ["$(cat "$work/release.pub")"]
compatible = "fleet-sim"
min_version = "1.0"
version = "$1"
tries = 2
settle_seconds = 1
deadline_seconds = 30
registry_plain_http = ["$gateway"]

[[upgrade.probe]]
http = "http://127.0.0.1:8080/"
TOML
}
for version in 1.0 2.0; do
  config "$version" > "$work/config-$version.toml"
  "$initos" build initramfs --config "$work/config-$version.toml" --zstd-level 3 --output "$work/initrd-$version" > /dev/null
  "$initos" build uki --initrd "$work/initrd-$version" --unsigned --output "$work/initos-$version.efi" > /dev/null
done
"$initos" build bundle --version 2.0 --compatible fleet-sim --uki "$work/initos-2.0.efi" --key "$work/release" --output "$work/bundle.tar" > /dev/null
port=$(free_port)
registry 127.0.0.1 "$port"
"$initos" push "$work/bundle.tar" "127.0.0.1:$port/initos/bench" --plain-http > /dev/null
uki_mib=$(( $(stat -c %s "$work/initos-2.0.efi") >> 20 ))

# A fresh fleet of $count machines on 1.0; prints its hosts file.
fleet() {
  rm -rf "$work/fleet"
  for ((i = 1; i <= count; i++)); do
    local host=$work/fleet/hosts/h$(printf %02d "$i")
    mkdir -p "$host/esp/EFI/Linux" "$host/configs"
    cp "$work/initos-1.0.efi" "$host/esp/EFI/Linux/initos-1.0.efi"
    cp "$work/config-1.0.toml" "$host/configs/1.0.toml"
    cp "$work/config-2.0.toml" "$host/configs/2.0.toml"
    printf 'command="/bin/initos admin --role admin --key %s",no-port-forwarding,no-agent-forwarding,no-X11-forwarding %s\n' "$fingerprint" "$(cat "$work/admin.pub")" > "$host/authorized_keys"
  done
  "$sim" start "$work/fleet" | awk '{ print $2 }' > "$work/hosts"
}

declare -A wall
for k in 1 4 "$count"; do
  fleet
  fleet_port=$(free_port)
  registry "$gateway" "$fleet_port"
  rm -f "$work/known_hosts" "$work/rollout.json"
  for _ in $(seq 120); do
    "$initos" fleet --hosts "$work/hosts" --key "$work/admin" --known-hosts "$work/known_hosts" -- upgrade status > /dev/null 2>&1 && break
    sleep 0.5
  done
  start=$(date +%s.%N)
  "$initos" fleet upgrade --hosts "$work/hosts" --to "$gateway:$fleet_port/initos/bench:2.0" --max-parallel "$k" --halt-after 1 \
    --state "$work/rollout.json" --key "$work/admin" --known-hosts "$work/known_hosts" --verdict-timeout 300 > "$work/rollout-$k.log" 2>&1 \
    || { cat "$work/rollout-$k.log" >&2; echo "bench-rollout: the rollout at --max-parallel $k failed" >&2; exit 1; }
  wall[$k]=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  if [[ $k == 4 ]]; then "$initos" fleet status --state "$work/rollout.json" > "$work/status-4.txt"; fi
  "$sim" stop "$work/fleet" > /dev/null
  kill "${registries[-1]}"; wait "${registries[-1]}" 2>/dev/null || true; unset 'registries[-1]'
done

echo "rollout bench: $count simulated machines, each fetching a $uki_mib MiB UKI from docker-registry, rebooting into it and blessed by its own judge"
printf '  %-22s %10s %14s %22s\n' "--max-parallel" "wall (s)" "hosts/minute" "speed-up over K=1"
for k in 1 4 "$count"; do
  awk -v k="$k" -v w="${wall[$k]}" -v one="${wall[1]}" -v n="$count" 'BEGIN { printf "  %-22s %10.1f %14.1f %22.2f\n", k, w, n * 60 / w, one / w }'
done
echo "  the rollout at --max-parallel 4, as \`initos fleet status\` shows it:"
sed 's/^/    /' "$work/status-4.txt"
