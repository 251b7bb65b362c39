#!/bin/bash
# A fleet of simulated machines on this one: each a network namespace on a bridge, running the
# real sidecar (`@initos sidecar`: dropbear behind the admin door, the upgrade judge) after a
# stand-in OS init, against a directory standing in for its ESP. Between boots a stand-in
# firmware does what systemd-boot does: boots the newest entry with tries left and counts the
# try down in the file name. Used by the fleet tests and `make bench` (docs/fleet.md).
#
#   fleet-sim.sh start DIR   boot every machine DIR/hosts/NAME (see below); prints NAME ADDRESS
#   fleet-sim.sh stop DIR    power every machine off; remove the namespaces and the bridge
#
# A machine's directory, written by the caller before start:
#   esp/EFI/Linux/initos-V[+T].efi   its boot entries (UKIs; only the names matter here)
#   configs/V.toml                   the signed config each version's UKI carries
#   authorized_keys                  root's keys, each with its forced `initos admin` command
#   fail-versions (optional)         versions whose OS does not come up on this machine
# and, written here: address, boots (one line per boot and shutdown), log (the sidecar's
# kernel log lines, timestamped), console (the stand-in init's output), hostkeys/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bridge=fsim0
subnet=10.214.0
box=${INITOS_BOX:-$here/../../out/box/initos}

die() { echo "fleet-sim: $*" >&2; exit 1; }

# The sidecar's files, as PID 1 stages them into /run/initramfs before switch_root.
template() {
    local t=$1/template
    rm -rf "$t"
    mkdir -p "$t"/{bin,usr/sbin,etc/initos,lib/x86_64-linux-gnu,lib64}
    cp "$box" "$t/bin/initos"
    cp /bin/busybox "$t/bin/busybox"
    ln -s busybox "$t/bin/sh"
    cp /usr/sbin/dropbear "$t/usr/sbin/dropbear"
    for library in $(ldd "$box" /usr/sbin/dropbear | awk '$3 ~ /^\// {print $3} $1 ~ /^\/lib64/ {print $1}' | sort -u); do
        cp -L "$library" "$t$library"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\n' > "$t/etc/passwd"
    printf 'root:x:0:\n' > "$t/etc/group"
}

start() {
    local dir=$1 i=0
    [ -x "$box" ] || die "no box at $box (make box)"
    command -v dropbear >/dev/null || die "no dropbear (apt-get install dropbear-bin)"
    ip link show "$bridge" >/dev/null 2>&1 && die "bridge $bridge exists: another simulated fleet runs (fleet-sim.sh stop DIR)"
    template "$dir"
    ip link add "$bridge" type bridge
    ip addr add "$subnet.1/24" dev "$bridge"
    ip link set "$bridge" up
    for host in "$dir"/hosts/*/; do
        host=${host%/}
        i=$((i + 1))
        [ $i -le 200 ] || die "at most 200 machines"
        local name=${host##*/} ns=fsim-$i address=$subnet.$((10 + i))
        ip netns add "$ns"
        ip link add "fsim$i" type veth peer name eth0 netns "$ns"
        ip link set "fsim$i" master "$bridge" up
        ip -n "$ns" addr add "$address/24" dev eth0
        ip -n "$ns" link set eth0 up
        ip -n "$ns" link set lo up
        echo "$address" > "$host/address"
        echo "$ns" > "$host/netns"
        mkdir -p "$host/hostkeys"
        rm -f "$host/stop"
        setsid "$here/sim-machine.sh" "$host" "$ns" "$dir/template" </dev/null >>"$host/console" 2>&1 &
        echo $! > "$host/machine.pid"
        echo "$name $address"
    done
}

stop() {
    local dir=$1
    for host in "$dir"/hosts/*/; do
        host=${host%/}
        touch "$host/stop"
        if [ -f "$host/machine.pid" ]; then
            # The machine loop leads its own process group; unshare --kill-child takes the namespace's init, and with it every process in the namespace.
            kill -KILL -- "-$(cat "$host/machine.pid")" 2>/dev/null || true
            rm -f "$host/machine.pid"
        fi
    done
    for ns in $(ip netns list | awk '$1 ~ /^fsim-[0-9]+$/ {print $1}'); do
        # A namespace's processes may take a moment to go; delete it once they have.
        for _ in $(seq 50); do
            [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
            sleep 0.1
        done
        ip netns del "$ns"
    done
    ip link del "$bridge" 2>/dev/null || true
}

case "${1:-}" in
    start) [ $# -eq 2 ] || die "usage: fleet-sim.sh start DIR"; start "$2" ;;
    stop) [ $# -eq 2 ] || die "usage: fleet-sim.sh stop DIR"; stop "$2" ;;
    *) die "usage: fleet-sim.sh start|stop DIR" ;;
esac
