#!/usr/bin/env bash
# Adds up dotnet test's per-assembly totals into one plain closing line.
set -euo pipefail
log=${1:?usage: test-summary.sh LOG}
sum() { sed -nE "s/^\s+$1: +([0-9]+)\s*$/\1/p" "$log" | awk '{ s += $1 } END { print s + 0 }'; }
echo "tests: $(sum Passed) passed, $(sum Failed) failed, $(sum Skipped) skipped"
