#!/usr/bin/env bash
# Jail start-up benchmark (issue 4): create+start+wait+delete of /bin/true in one busybox
# bundle with pid, mount, uts, ipc and network namespaces — `initos jail run` against
# `runc run` (Debian's runc) and `bwrap --unshare-all`, alternated in one run, median of
# BENCH_JAIL_RUNS (50) each. The bundle is `runc spec` with terminal off, /bin/true, those
# five namespaces; its resources (a deny-all device rule) stay.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${BENCH_JAIL_RUNS:-50}
box=$(pwd)/out/box/initos
need=()
command -v runc >/dev/null || need+=(runc)
command -v bwrap >/dev/null || need+=(bubblewrap)
if ((${#need[@]})); then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

bundle=$(mktemp -d /tmp/initos-bench-bundle.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
scripts/bench/make-bundle.sh "$bundle"

/usr/bin/python3 - "$runs" "$box" "$bundle" <<'PY'
import statistics, subprocess, sys, time
runs, box, bundle = int(sys.argv[1]), sys.argv[2], sys.argv[3]
peers = {
    "initos jail run": lambda i: [box, "jail", "run", "--bundle", bundle, f"bench-initos-{i}"],
    "runc run": lambda i: ["runc", "run", "--bundle", bundle, f"bench-runc-{i}"],
    "bwrap --unshare-all": lambda i: ["bwrap", "--unshare-all", "--ro-bind", f"{bundle}/rootfs", "/",
                                      "--proc", "/proc", "--dev", "/dev", "/bin/true"],
}
times = {name: [] for name in peers}
for i in range(runs):
    for name, command in peers.items():
        start = time.perf_counter()
        subprocess.run(command(i), check=True, stdin=subprocess.DEVNULL)
        times[name].append((time.perf_counter() - start) * 1000)
medians = {name: statistics.median(t) for name, t in times.items()}
print(f"{'jail start-up (/bin/true)':28} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
for name, t in times.items():
    print(f"{name:28} {medians[name]:10.1f} {min(t):8.1f} {max(t):8.1f}")
print(f"initos / runc:  {medians['initos jail run'] / medians['runc run']:.2f}  (target <= 0.50)")
print(f"initos / bwrap: {medians['initos jail run'] / medians['bwrap --unshare-all']:.2f}")
PY
