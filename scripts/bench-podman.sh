#!/usr/bin/env bash
# podman with InitOS as its runtime against podman with Debian's runc (issue 18): the same
# container (`podman run --rm --rootfs DIR /bin/true`, busybox rootfs, --network none) started
# and removed BENCH_PODMAN_RUNS (20) times per runtime, alternating, median wall time. podman's
# storage and run-time state live in a scratch directory (vfs), so nothing is left behind.
# crun is not compared: it refuses this host's hybrid cgroup layout.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${BENCH_PODMAN_RUNS:-20}
box=$(pwd)/out/box/initos
[[ -x $box ]] || { echo "bench-podman: $box missing (make box)" >&2; exit 1; }
need=()
command -v runc >/dev/null || need+=(runc)
command -v podman >/dev/null || need+=(podman)
if ((${#need[@]})); then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/initos-bench-podman.XXXXXX)
existed_containers=$([[ -e /var/lib/containers ]] && echo 1 || echo 0)
existed_lock=$([[ -e /etc/cni/net.d/cni.lock ]] && echo 1 || echo 0)
cleanup() {
  rm -rf "$work"
  [[ $existed_containers = 1 ]] || rm -rf /var/lib/containers
  [[ $existed_lock = 1 ]] || rm -f /etc/cni/net.d/cni.lock
}
trap cleanup EXIT
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/proc" "$work/rootfs/sys" "$work/rootfs/dev"
cp /bin/busybox "$work/rootfs/bin/"
ln -s busybox "$work/rootfs/bin/true"
ln -s "$box" "$work/initos-runc"
# This host may lack CAP_SYS_RESOURCE: rlimits within its own, the same for both runtimes.
limits=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=4096:4096")

/usr/bin/python3 - "$runs" "$work" "${limits[@]}" <<'PY'
import statistics, subprocess, sys, time
runs, work, limits = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
base = ["podman", "--root", f"{work}/storage", "--runroot", f"{work}/run", "--tmpdir", f"{work}/tmp",
        "--events-backend", "none", "--storage-driver", "vfs"]
runtimes = {"podman + initos-runc": f"{work}/initos-runc", "podman + runc": "runc"}
times = {name: [] for name in runtimes}
for i in range(runs):
    for name, runtime in runtimes.items():
        command = base + ["--runtime", runtime, "run", "--rm", "--network", "none", *limits, "--rootfs", f"{work}/rootfs", "/bin/true"]
        start = time.perf_counter()
        subprocess.run(command, check=True, stdin=subprocess.DEVNULL)
        times[name].append((time.perf_counter() - start) * 1000)
medians = {name: statistics.median(t) for name, t in times.items()}
print(f"{'podman run --rm /bin/true':28} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
for name, t in times.items():
    print(f"{name:28} {medians[name]:10.1f} {min(t):8.1f} {max(t):8.1f}")
print(f"initos / runc under podman: {medians['podman + initos-runc'] / medians['podman + runc']:.2f}")
PY
