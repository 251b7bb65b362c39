#!/usr/bin/env bash
# What a test run must not leave behind: `leftovers.sh snapshot FILE` records this machine's
# state before the run, `leftovers.sh check FILE` lists whatever is new after it and fails if
# anything is: processes of the tools tests start (QEMU, swtpm, dropbear, jails), mounts, loop
# devices, network links and namespaces, cgroups, files under /run, /etc and /tmp/initos-*.
# Something that was already there before the run is not the run's doing and is not listed.
# Nor is the state host tools keep by design the first time they run on a machine: blkid's
# cache (/run/blkid), libmount's utab (/run/mount) and iproute2's /run/netns mount point (a
# namespace left under it is still listed).
set -euo pipefail

state() {
  # One line per thing, prefixed by its kind, sorted, so two states compare with comm.
  {
    ps -eo pid=,args= | awk '$2 ~ /(qemu-system|swtpm|dropbear|initos|jail-init|runc|crun|bwrap|tini)/ && $0 !~ /leftovers\.sh|dotnet/ { print "process " $0 }'
    awk '$5 != "/run/netns" { print "mount " $5 " (" $9 ")" }' /proc/self/mountinfo
    losetup -a -n -O NAME,BACK-FILE 2>/dev/null | sed 's/^/loop /'
    ip -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print "link " $2 }'
    ip netns list 2>/dev/null | awk '{ print "netns " $1 }'
    find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d -name '*initos*' 2>/dev/null | sed 's/^/cgroup /'
    find /run /etc -xdev -mindepth 1 -maxdepth 3 2>/dev/null | grep -v '^/run/user/\|^/run/systemd/\|^/run/log/\|^/run/postgresql\|^/run/blkid\|^/run/mount\|^/run/netns$' | sed 's/^/file /'
    find /tmp -mindepth 1 -maxdepth 1 -name 'initos-*' 2>/dev/null | sed 's/^/file /'
  } | LC_ALL=C sort -u
}

case "${1:-}" in
  snapshot)
    state > "${2:?usage: leftovers.sh snapshot FILE}"
    ;;
  check)
    before=${2:?usage: leftovers.sh check FILE}
    [[ -f $before ]] || { echo "leftovers: no snapshot $before (run 'leftovers.sh snapshot' before the tests)" >&2; exit 2; }
    new=$(LC_ALL=C comm -13 "$before" <(state))
    if [[ -n $new ]]; then
      echo "leftovers: the test run left these behind (a later run may trip over them):" >&2
      echo "$new" | sed 's/^/  /' >&2
      exit 1
    fi
    echo "leftovers: none (processes, mounts, loop devices, links, netns, cgroups, /run, /etc, /tmp/initos-*)"
    ;;
  *)
    echo "usage: leftovers.sh snapshot|check FILE" >&2
    exit 2
    ;;
esac
