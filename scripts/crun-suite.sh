#!/usr/bin/env bash
# crun's own OCI-runtime test suite (the Python tests of Debian's crun source package) against
# `initos jail`, through the team's runner (tests/peers/crun-suite/run.sh, a copy of
# ../shared/peers/crun-suite/run.sh) and a two-line wrapper. The source package is fetched with
# scripts/apt-source.sh (a private apt configuration: nothing written to /etc/apt) into the
# runner's cache before it runs, so no deb-src entry is needed. Prints the runner's lines:
# "pass|fail|skip FILE:TEST" and "N passed, N failed, N skipped". Usage: scripts/crun-suite.sh [TEST_FILE…]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
box=${INITOS_BOX:-$root/out/box/initos}
[[ -x $box ]] || { echo "crun-suite: $box missing (make box)" >&2; exit 2; }
cache=${CRUN_SUITE_CACHE:-$root/.cache/crun-suite}
mkdir -p "$cache"
if ! ls "$cache"/dl/crun_*.orig.tar.* >/dev/null 2>&1; then
  "$root/scripts/apt-source.sh" crun "$cache/dl"
fi
wrapper=$cache/initos-runtime
printf '#!/bin/sh\nexec %s jail "$@"\n' "$box" > "$wrapper"
chmod 755 "$wrapper"
# The work dir must be reachable by uid 1 and 8000 (some tests run as them): .cache is made 0755.
chmod 755 "$root/.cache" "$cache"
CRUN_SUITE_CACHE=$cache exec bash "$root/tests/peers/crun-suite/run.sh" "$wrapper" "$@"
