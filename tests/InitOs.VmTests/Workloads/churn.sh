#!/bin/sh
# Orphan churn under an init that is PID 1 of this PID namespace: for $1 seconds, batches of
# 50 processes that are orphaned at once (re-parented to PID 1) and exit. Every 10 s a
# SAMPLE line with PID 1's open fds and resident memory; at the end the zombies left.
seconds=$1
end=$(( $(date +%s) + seconds ))
next=0
orphans=0
sample() {
  echo "SAMPLE fds=$(ls /proc/1/fd | wc -l) rss_kb=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' /proc/1/status) orphans=$orphans"
}
while :; do
  now=$(date +%s)
  [ "$now" -ge "$end" ] && break
  if [ "$now" -ge "$next" ]; then
    sample
    next=$((now + 10))
  fi
  for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 \
           26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50; do
    (true &)
  done
  orphans=$((orphans + 50))
done
sleep 1
sample
echo "zombies=$(grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l)"
