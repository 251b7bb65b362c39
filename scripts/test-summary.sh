#!/usr/bin/env bash
# Adds up dotnet test's per-assembly summaries into one plain closing line.
set -euo pipefail
log=${1:?usage: test-summary.sh LOG}
passed=0 failed=0 skipped=0
while read -r f p s; do
  failed=$((failed + f)); passed=$((passed + p)); skipped=$((skipped + s))
done < <(sed -nE 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\1 \2 \3/p' "$log")
echo "tests: $passed passed, $failed failed, $skipped skipped"
