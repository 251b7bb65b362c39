#!/usr/bin/env bash
# Runs tini's own upstream behaviour suite (test/run_inner_tests.py, its helper scripts and
# sigconf-test.c) against InitOS's tini mode, inside a fresh PID namespace, with
# FORCE_SUBREAPER=0 and =1. The suite comes from Debian's tini source package at test
# time (scripts/apt-source.sh: apt-get source with a private apt configuration, nothing
# written to /etc/apt); it is never committed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=$root/.cache/tini-suite
box=${INITOS_BOX:-$root/out/box/initos}
[[ -x $box ]] || { echo "tini-suite: $box missing (make box)" >&2; exit 1; }

need=()
for p in python3 python3-psutil python3-prctl dpkg-dev gcc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if ((${#need[@]})); then
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

if [[ ! -f $cache/src/test/run_inner_tests.py ]]; then
  rm -rf "$cache" && mkdir -p "$cache/download"
  "$root/scripts/apt-source.sh" tini "$cache/download"
  dpkg-source --no-check -x "$(ls "$cache"/download/tini_*.dsc)" "$cache/src" >/dev/null
fi

# BUILD_DIR as the suite expects it: "tini" is the InitOS binary under tini's name (argv[0] dispatch).
build=$cache/build
mkdir -p "$build" "$cache/shim" "$cache/bin"
# The helper scripts say "env python": that is Debian's python3 here, never a version manager's
# shim on the PATH (pyenv's forks helpers, which the suite counts as the init's children).
ln -sf /usr/bin/python3 "$cache/bin/python"
ln -sf "$box" "$build/tini"
gcc -O2 -o "$build/sigconf-test" "$cache/src/test/sigconf/sigconf-test.c"

# A clean start for the suite: empty signal mask and default dispositions, both by raw syscall,
# since glibc refuses to touch signals 32/33 and a test host may have blocked or ignored them
# (an ignored signal stays ignored across exec). The suite cannot name signals 32/33 when it
# prints the sigconf result, and fails on them.
cat > "$build/clean-signals.c" <<'C'
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
struct kernel_sigaction { void *handler; unsigned long flags; void *restorer; unsigned long mask; };
int main(int argc, char **argv)
{
    unsigned long empty = 0;
    struct kernel_sigaction dfl = { SIG_DFL, 0, 0, 0 };
    for (int sig = 1; sig < 65; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof empty);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, NULL, sizeof empty);
    if (argc < 2)
        return 2;
    execvp(argv[1], argv + 1);
    return 127;
}
C
gcc -O2 -o "$build/clean-signals" "$build/clean-signals.c"

# The suite imports `bitmap`, a PyPI-only package; this shim has the two calls it uses.
cat > "$cache/shim/bitmap.py" <<'PY'
"""Stand-in for PyPI's bitmap: BitMap.fromstring(bits) and nonzero(), bit 0 = the last character."""
class BitMap:
    def __init__(self, bits):
        self._bits = bits

    @classmethod
    def fromstring(cls, bits):
        return cls(bits)

    def nonzero(self):
        return [i for i, c in enumerate(reversed(self._bits)) if c == "1"]
PY

# The suite's process-group test sends SIGUSR1 as soon as stage_1 has two descendants, which can be
# while the grandchild still has stage_1's SIG_IGN (between its fork and the preexec_fn that resets
# it); the signal is then lost whatever the init does (upstream tini too), and under load it is.
# A copy of the suite waits until the grandchild has exec'd sleep instead: the same test, without the race.
suite=$build/run_inner_tests.py
sed 's/len(psutil.Process(p.pid).children(recursive=True)) == 2/any(c.name() == "sleep" for c in psutil.Process(p.pid).children(recursive=True))/' \
    "$cache/src/test/run_inner_tests.py" > "$suite"
patched=$(grep -c 'c.name() == "sleep"' "$suite" || true)
[[ $patched == 2 ]] || { echo "tini-suite: expected to fix the process-group wait in 2 places of run_inner_tests.py, found $patched (a new upstream version?)" >&2; exit 1; }

run_suite() {
  # Debian's python3 (with python3-psutil and python3-prctl) first, as python too (above).
  # Default signal dispositions first: whatever started us (a test host) may ignore RT signals, which the
  # suite cannot even name when it prints the sigconf result.
  "$build/clean-signals" unshare --pid --fork --mount-proc env PATH="$cache/bin:/usr/bin:/bin:$PATH" SOURCE_DIR="$cache/src" BUILD_DIR="$build" FORCE_SUBREAPER=$1 \
      PYTHONPATH="$cache/shim" /usr/bin/python3 "$suite"
}

status=0
for force in 0 1; do
  echo "== tini suite, FORCE_SUBREAPER=$force"
  if ! run_suite "$force"; then
    echo "== tini suite FAILED with FORCE_SUBREAPER=$force"
    status=1
  fi
done
exit $status
