#!/usr/bin/env bash
# make-bundle.sh DIR: the jail benchmarks' bundle in DIR (made if missing): a busybox rootfs and
# `runc spec` with terminal off, /bin/true, and the pid, mount, uts, ipc and network
# namespaces; the spec's resources (a deny-all device rule) stay.
set -euo pipefail
bundle=$1
mkdir -p "$bundle"/rootfs/{bin,proc,dev,sys,tmp,etc}
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for applet in sh true; do ln -sf busybox "$bundle/rootfs/bin/$applet"; done
(cd "$bundle" && runc spec)
/usr/bin/python3 - "$bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
spec = json.load(open(path))
spec["process"]["terminal"] = False
spec["process"]["args"] = ["/bin/true"]
spec["linux"]["namespaces"] = [{"type": t} for t in ("pid", "mount", "uts", "ipc", "network")]
json.dump(spec, open(path, "w"), indent=1)
PY
