#!/bin/bash
# The stand-in OS init of a simulated machine (fleet-sim.sh), PID 1 of its namespaces: stages the
# sidecar as InitOS's PID 1 does before switch_root (SidecarStaging), starts it and the OS's one
# service (busybox httpd on 127.0.0.1:8080, unless this version fails on this machine), and
# waits for busybox init's signals: TERM or INT reboot, USR2 power off, USR1 halt.
#   sim-init.sh HOST_DIR TEMPLATE VERSION      exit 0: reboot; 3: power off or halt
set -u

host=$1 template=$2 version=$3
root=/run/initramfs

mount -t tmpfs -o mode=755 run /run
mkdir -p "$root"
cp -a "$template/." "$root/"
mkdir -p "$root"/{proc,sys,dev,run/initos/esp,tmp,root/.ssh,etc/dropbear}
chmod 700 "$root/root" "$root/etc/dropbear"
cp "$host/boot.toml" "$root/etc/initos/initos.toml"
install -m 600 "$host/authorized_keys" "$root/root/.ssh/authorized_keys"

# Its own /proc with /proc/sys read-only: the sidecar must not set this machine's sysctls.
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount --bind "$root/proc/sys" "$root/proc/sys"
mount -o remount,bind,ro "$root/proc/sys"
# sysfs as seen from this network namespace (the door finds its network cards there), read-only,
# with the firmware's directory replaced: the EFI variables are the stand-in firmware's.
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
mount -t tmpfs -o mode=755 firmware "$root/sys/firmware"
efi_variable() {
    local file=$root/sys/firmware/efi/efivars/$1-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f
    mkdir -p "${file%/*}"
    { printf '\x06\x00\x00\x00'; printf '%s' "$2" | iconv -f ascii -t utf-16le; printf '\x00\x00'; } > "$file"
}
efi_variable LoaderEntrySelected "$(cat "$host/efi-entry")"
[ -f "$host/efi-count-path" ] && efi_variable LoaderBootCountPath "$(cat "$host/efi-count-path")"
mount -o remount,ro "$root/sys/firmware"
# A small /dev; /dev/kmsg and /dev/console are pipes read into the machine's log and console.
mount -t tmpfs -o mode=755,nosuid dev "$root/dev"
mknod -m 666 "$root/dev/null" c 1 3
mknod -m 666 "$root/dev/zero" c 1 5
mknod -m 666 "$root/dev/random" c 1 8
mknod -m 666 "$root/dev/urandom" c 1 9
mknod -m 666 "$root/dev/tty" c 5 0
mkfifo -m 600 "$root/dev/kmsg" "$root/dev/console"
exec 3<>"$root/dev/kmsg" 4<>"$root/dev/console"
while IFS= read -r line <&3; do printf '%s %s\n' "$(date +%s.%N)" "${line#<[0-9]>}"; done >> "$host/log" &
cat <&4 >> "$host/console" &
mount --bind "$host/hostkeys" "$root/etc/dropbear"
mount --bind "$host/esp" "$root/run/initos/esp"

want=
trap 'want=reboot' TERM INT
trap 'want=poweroff' USR2
trap 'want=halt' USR1

# As PID 1 starts it from [sidecar] port and listen: these machines' configs say 22 and eth0.
(cd / && exec -a @initos env -i PATH=/bin:/usr/sbin "$root/bin/initos" sidecar --port 22 --listen eth0) </dev/null &
if grep -qx "$version" "$host/fail-versions" 2>/dev/null; then
    echo "$version: the OS's service does not start on this machine"
else
    mkdir -p /run/www && echo "$version" > /run/www/index.html
    busybox httpd -f -p 127.0.0.1:8080 -h /run/www &
fi

while [ -z "$want" ]; do
    sleep 1 &
    wait $!
done
echo "$want requested"
kill -TERM -1 2>/dev/null
for _ in $(seq 50); do
    [ -z "$(jobs -pr)" ] && break
    sleep 0.1
done
kill -KILL -1 2>/dev/null
[ "$want" = reboot ] && exit 0
exit 3
