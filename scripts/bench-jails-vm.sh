#!/usr/bin/env bash
# Jail start-up inside a QEMU guest whose PID 1 is InitOS (pure cgroup2, off rootfs): the
# same bundle and the same create+start+wait+delete of /bin/true as scripts/bench-jails.sh,
# `initos jail run` against crun (which refuses the CI host's hybrid cgroups) and runc,
# alternated in one run by scripts/bench/alternate.c, median of BENCH_JAIL_VM_RUNS (20).
# Under TCG every process start is slow, so read the ratios, not the milliseconds.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${BENCH_JAIL_VM_RUNS:-20}
need=()
command -v crun >/dev/null || need+=(crun)
command -v runc >/dev/null || need+=(runc)
if ((${#need[@]})); then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/initos-bench-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
bench=$work/bench
scripts/bench/make-bundle.sh "$bench/bundle"
b=/bench/bundle
cat > "$bench/run.sh" <<SH
/bin/alternate $runs \
  -- "initos jail run" initos jail run --bundle $b i{} \
  -- "crun run" crun run --bundle $b c{} \
  -- "runc run" runc run --bundle $b r{}
echo BENCH-DONE=\$?
initos poweroff
SH
cat > "$work/initos.toml" <<'TOML'
mode = "initramfs"
on_failure = "poweroff"

[modules]
load = []
coldplug = false

[[service]]
name = "bench"
command = ["/bin/sh", "/bench/run.sh"]
restart = "never"
TOML
gcc -static -O2 -Wall -Wextra -Werror -o "$work/alternate" scripts/bench/alternate.c
out/cli/initos build initramfs --config "$work/initos.toml" --zstd-level 3 --output "$work/initramfs.img" \
  --add-exec "bin/alternate=$work/alternate" --add-exec "bin/crun=$(command -v crun)" --add-exec "bin/runc=$(command -v runc)" \
  --add-tree "bench=$bench" >/dev/null
source scripts/bench/boot.sh
done_line=$(BENCH_TIMEOUT=1200 bench_boot jails-vm 'BENCH-DONE=[0-9]+' --initrd "$work/initramfs.img" --append quiet) || exit 1
cp "$(ls -t out/bench/logs/jails-vm-*.log | head -1)" "$work/serial.log"
if [[ $done_line != *BENCH-DONE=0* ]]; then
  echo "bench-jails-vm: the guest run failed ($done_line); its console is $work/serial.log:" >&2
  tail -40 "$work/serial.log" >&2
  exit 1
fi
echo "jail start-up in a QEMU guest (TCG, InitOS PID 1, cgroup2), $runs rounds; 1st/this = initos / that tool:"
sed -n '/^command /,/^runc run/p' "$work/serial.log" | tr -d '\r'
