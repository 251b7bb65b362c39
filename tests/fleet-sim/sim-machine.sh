#!/bin/bash
# One simulated machine (fleet-sim.sh): a stand-in firmware, then a boot, again and again until
# the machine is stopped or its OS powers it off.
#   sim-machine.sh HOST_DIR NETNS TEMPLATE
set -uo pipefail

host=$1 ns=$2 template=$3
here=$(cd "$(dirname "$0")" && pwd)
entries=$host/esp/EFI/Linux

note() { echo "$(date +%s.%N) $*" >> "$host/boots"; }

# systemd-boot's choice among type-2 entries (Boot Loader Specification, boot counting): entries
# with no tries left sort last, the rest newest version first; a counted entry is renamed with one
# try fewer before it boots. Prints the booted version.
firmware() {
    local file name base id counter left done version bad chosen
    chosen=$(for file in "$entries"/initos-*.efi; do
        [ -f "$file" ] || continue
        name=${file##*/}; base=${name%.efi}; id=${base%%+*}; version=${id#initos-}
        counter=${base#"$id"}
        bad=0
        [[ $counter =~ ^\+0(-[0-9]+)?$ ]] && bad=1
        printf '%s\t%s\t%s\n' "$bad" "$version" "$name"
    done | sort -t$'\t' -k1,1n -k2,2Vr | head -n1)
    [ -n "$chosen" ] || return 1
    name=$(cut -f3 <<< "$chosen"); version=$(cut -f2 <<< "$chosen")
    base=${name%.efi}; id=${base%%+*}; counter=${base#"$id"}
    if [[ $counter =~ ^\+([0-9]+)(-([0-9]+))?$ ]]; then
        left=${BASH_REMATCH[1]}; done=${BASH_REMATCH[3]:-0}
        if [ "$left" -gt 0 ]; then
            mv "$entries/$name" "$entries/$id+$((left - 1))-$((done + 1)).efi"
            sync -f "$entries"
            name=$id+$((left - 1))-$((done + 1)).efi
        fi
    fi
    note "firmware: booting $name"
    # The Boot Loader Interface's variables for the OS: the entry's id (its name without the
    # counter, lower case) and, for a counted boot, the file as renamed.
    printf '%s\n' "${id,,}.efi" > "$host/efi-entry"
    if [ -n "$counter" ]; then printf '\\EFI\\Linux\\%s\n' "$name" > "$host/efi-count-path"; else rm -f "$host/efi-count-path"; fi
    echo "$version"
}

while [ ! -e "$host/stop" ]; do
    if ! version=$(firmware); then
        note "firmware: no boot entry in $entries; the machine stays off"
        exit 1
    fi
    if [ ! -f "$host/configs/$version.toml" ]; then
        note "firmware: no config for version $version (the harness writes configs/V.toml); the machine stays off"
        exit 1
    fi
    cp "$host/configs/$version.toml" "$host/boot.toml"
    # Each boot in a fresh PID, mount and time namespace: uptime (CLOCK_MONOTONIC) starts near 0.
    now=$(awk '/^now at/ {print int($3 / 1e9); exit}' /proc/timer_list)
    ip netns exec "$ns" unshare --pid --fork --kill-child --mount --propagation private \
        --time --monotonic="-$((now - 1))" --boottime="-$((now - 1))" \
        "$here/sim-init.sh" "$host" "$template" "$version"
    rc=$?
    note "down: exit $rc"
    # 0 is a reboot; anything else (power off, a crash of the stand-in init) leaves it off.
    [ $rc -eq 0 ] || exit 0
done
