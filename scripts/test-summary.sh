#!/usr/bin/env bash
# Adds up dotnet test's per-assembly totals into one plain closing line, then names each failed
# test with the first lines of its message: CI shows only the tail of the log, and a red run
# must say what went red there.
set -euo pipefail
log=${1:?usage: test-summary.sh LOG}
sum() { sed -nE "s/^\s+$1: +([0-9]+)\s*$/\1/p" "$log" | awk '{ s += $1 } END { print s + 0 }'; }
awk '
  /^  Failed [^ ]/ { sub(/^  Failed /, ""); print "failed: " $0; lines = 0; grab = 1; next }
  grab && /^  (Stack Trace|Standard Output Messages):/ { grab = 0; next }
  grab && /^  (Passed|Failed|Skipped) / { grab = 0 }
  grab && /^  Error Message:/ { next }
  grab && lines < 12 { print "    " $0; lines++ }
' "$log"
echo "tests: $(sum Passed) passed, $(sum Failed) failed, $(sum Skipped) skipped"
