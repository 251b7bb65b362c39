# Sourced by the bench scripts: one way to boot a machine for a measurement.
#
# bench_boot LABEL PATTERN [initos run ARGUMENTS...]
#   boots with `out/cli/initos run ARGUMENTS --until PATTERN` (a whole console line must match),
#   keeps the whole console in $BENCH_LOGS (out/bench/logs)/LABEL-N.log and prints the first
#   line that matched. A boot that fails is retried once, saying so and where its console is;
#   a second failure names both logs and returns 1.
bench_boot() {
  local label=$1 pattern=$2 logs=${BENCH_LOGS:-out/bench/logs} attempt log line first=""
  shift 2
  mkdir -p "$logs"
  for attempt in 1 2; do
    log=$logs/$label-$(date +%s%N).log
    if out/cli/initos run "$@" --until "$pattern" --timeout "${BENCH_TIMEOUT:-180}" >"$log" 2>&1 \
        && line=$(tr -d '\r' <"$log" | grep -E -m1 "$pattern"); then
      printf '%s\n' "$line"
      return 0
    fi
    if [[ -z $first ]]; then
      echo "bench: $label did not reach /$pattern/ (its console: $log); retrying once" >&2
      first=$log
    else
      echo "bench: $label failed twice; its consoles: $first $log" >&2
    fi
  done
  return 1
}
