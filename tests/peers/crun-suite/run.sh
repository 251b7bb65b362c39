#!/usr/bin/env bash
# A copy of the team's shared runner ../shared/peers/crun-suite/run.sh (kept here so a fresh clone
# runs it: make test has no ../shared). scripts/crun-suite.sh prepares what it needs.
# Run crun's own OCI-runtime test suite (tests/test_*.py from Debian's crun source package)
# against any runc-compatible runtime.
#
# Usage: crun-suite.sh RUNTIME [TEST_FILE...]      TEST_FILE: test_exec.py, exec or tests/test_exec.py
#
# Prints one line per test, "pass|fail|skip FILE:TEST", then "N passed, N failed, N skipped";
# exits 1 if any test failed (2 on setup errors). Progress and notes go to stderr. Needs root.
#
# What it does:
#  - `apt-get source --download-only crun` into the cache (once), unpacks it, builds the static
#    tests/init helper the tests copy into every container rootfs (the tests build their own
#    rootfs per container from it); installs gcc/libc6-dev/python3/xz-utils with apt if missing.
#  - The tests speak crun's CLI. RUNTIME is reached through a small adapter (OCI_RUNTIME points to it)
#    that rewrites the two crun-only spellings every test uses into runc's: global
#    `--cgroup-manager cgroupfs|systemd` -> (nothing)|--systemd-cgroup, and `run|create --config
#    config.json` -> (nothing: config.json in the bundle is the default). Everything else (e.g.
#    `--config config/config.json`, `delete --regex`) passes through unchanged. It also records the
#    ids of the containers the tests create, for cleanup.
#  - Debian has no python3-libmount; test_mounts.py needs only libmount.Table(file).find_target(),
#    so a 20-line mountinfo parser stands in for it when the real module is absent.
#  - Runs each file alone (cwd = a fresh work dir holding a copy of tests/, as upstream's `make check`
#    runs them from the source root), under a pseudo-terminal so the tty tests run too, with a
#    timeout. After each file it removes what the tests left: it deletes containers whose state is
#    still there, thaws and kills leftover container processes (the per-file runner is a child
#    subreaper, so every orphaned container process ends up as its child), removes cgroups named
#    after the suite's container ids, the /sys/fs/cgroup/freezer/frozen cgroup test_delete.py makes
#    (only if it did not exist before), and mounts under the work dir; then deletes the work dir.
#
# Environment knobs:
#   CRUN_SUITE_CACHE    cache dir (default ${TMPDIR:-/tmp}/crun-suite); logs of the last run: $CACHE/last-logs
#   CRUN_SUITE_TIMEOUT  seconds per test file (default 60); tests that did not report count as failed
#   CRUN_SUITE_TTY=0    run without a terminal (the 4 tty tests then skip, as under upstream's make check)
#   CRUN_SUITE_ADAPT=0  pass crun's CLI to RUNTIME unchanged (for runtimes that speak crun's dialect)
#   CRUN_SUITE_FEATURES e.g. "+SYSTEMD +CRIU": line added to `RUNTIME --version`; the tests gate
#                       their systemd and checkpoint cases on crun's "+FEATURE" version line
#   RUN_TESTS           upstream's filter: space-separated test names to run within each file
#   CRUN_SUITE_KEEP=1   keep the work dir
set -uo pipefail

die() { echo "crun-suite: $*" >&2; exit 2; }
note() { echo "crun-suite: $*" >&2; }

[ $# -ge 1 ] || die "usage: crun-suite.sh RUNTIME [TEST_FILE...]"
[ "$(id -u)" = 0 ] || die "must run as root"
RUNTIME=$(command -v -- "$1" 2>/dev/null) || die "runtime not found: $1"
RUNTIME=$(readlink -f -- "$RUNTIME"); shift
[ -x "$RUNTIME" ] || die "runtime not executable: $RUNTIME"
CACHE=${CRUN_SUITE_CACHE:-${TMPDIR:-/tmp}/crun-suite}
TIMEOUT=${CRUN_SUITE_TIMEOUT:-60}
PY=/usr/bin/python3
export DEBIAN_FRONTEND=noninteractive

# --- dependencies --------------------------------------------------------------------------
need=()
for p in gcc libc6-dev python3 xz-utils; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  note "installing ${need[*]}"
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; } ||
    die "apt-get install ${need[*]} failed"
fi

# --- crun's tests, from Debian's source package ------------------------------------------------
mkdir -p "$CACHE" && chmod 755 "$CACHE" || die "cannot create $CACHE"
SRC=$(ls -d "$CACHE"/src/crun-*/tests 2>/dev/null | sort -V | tail -1)
if [ -z "$SRC" ] || [ ! -f "$SRC/tests_utils.py" ]; then
  mkdir -p "$CACHE/dl" "$CACHE/src"
  if ! ls "$CACHE"/dl/crun_*.orig.tar.* >/dev/null 2>&1; then
    note "apt-get source --download-only crun"
    (cd "$CACHE/dl" && apt-get source -qq --download-only crun >/dev/null 2>&1) ||
      (apt-get update -qq >/dev/null 2>&1; cd "$CACHE/dl" && apt-get source -qq --download-only crun >/dev/null) ||
      die "apt-get source crun failed (needs a deb-src entry)"
  fi
  tarball=$(ls "$CACHE"/dl/crun_*.orig.tar.* | grep -v '\.asc$' | sort -V | tail -1)
  tar xf "$tarball" -C "$CACHE/src" || die "cannot unpack $tarball"
  SRC=$(ls -d "$CACHE"/src/crun-*/tests | sort -V | tail -1)
  [ -f "$SRC/tests_utils.py" ] || die "no tests/tests_utils.py in $tarball"
fi
# tests/init: static helper; init.c wants <config.h> (autoconf) and <seccomp.h> (only for
# declarations it never uses), so both are stubbed.
INIT="$CACHE/build/init"
if [ ! -x "$INIT" ] || [ "$SRC/init.c" -nt "$INIT" ]; then
  mkdir -p "$CACHE/build/inc"
  printf '#define HAVE_ERROR_H 1\n#define HAVE_SECCOMP 1\n' > "$CACHE/build/inc/config.h"
  : > "$CACHE/build/inc/seccomp.h"
  gcc -static -O2 -I "$CACHE/build/inc" -o "$INIT.tmp" "$SRC/init.c" && mv "$INIT.tmp" "$INIT" ||
    die "building tests/init failed"
fi

# --- which files ----------------------------------------------------------------------------
files=()
if [ $# -eq 0 ]; then
  for f in "$SRC"/test_*.py; do files+=("$(basename "$f")"); done
else
  for a in "$@"; do
    f=$(basename "$a"); f=${f%.py}; f=test_${f#test_}.py
    [ -f "$SRC/$f" ] || die "no such test file: $a"
    files+=("$f")
  done
fi

# --- work dir -----------------------------------------------------------------------------------
# World-traversable: some tests run containers as uid 1/8000 whose bundle lives in $TMPDIR.
W=$(mktemp -d "$CACHE/run.XXXXXX") || die "mktemp failed"
chmod 755 "$W"
mkdir -p "$W/tests" "$W/bin" "$W/py" "$W/logs" "$W/tmp"
chmod 1777 "$W/tmp"
cp "$SRC"/tests_utils.py "$SRC"/test_*.py "$W/tests/" && cp "$INIT" "$W/tests/init" || die "copy failed"
d=$W; while [ "$d" != / ]; do
  d=$(dirname "$d")
  case $(stat -c %A "$d") in *x|*t) ;; *) note "warning: $d is not world-searchable; tests running containers as uid 1/8000 will fail" ;; esac
done

FROZEN=/sys/fs/cgroup/freezer/frozen
OWN_FROZEN=""; [ -e "$FROZEN" ] || OWN_FROZEN=$FROZEN

finish() {
  local rc=$?
  if [ -d "$W" ]; then
    rm -rf "$CACHE/last-logs"; cp -r "$W/logs" "$CACHE/last-logs" 2>/dev/null
    if [ "${CRUN_SUITE_KEEP:-0}" = 1 ]; then note "work dir kept: $W"
    elif ! grep -qF " $W/" /proc/self/mountinfo; then rm -rf --one-file-system "$W"
    else note "mounts remain under $W; not removing it"; fi
  fi
  exit $rc
}
trap finish EXIT
trap 'exit 130' INT TERM

# --- the runtime adapter ------------------------------------------------------------------
cat > "$W/bin/oci-runtime" <<EOF
#!/bin/bash
# crun CLI dialect -> runc CLI dialect, then exec the runtime under test. Generated by crun-suite.sh.
real=$(printf %q "$RUNTIME"); adapt=${CRUN_SUITE_ADAPT:-1}; features=$(printf %q "${CRUN_SUITE_FEATURES:-}")
EOF
cat >> "$W/bin/oci-runtime" <<'EOF'
g=(); root=""; version=0
while [ $# -gt 0 ]; do                      # global options, up to the subcommand
  case $1 in
    --cgroup-manager) if [ "$adapt" = 1 ]; then [ "$2" = systemd ] && g+=(--systemd-cgroup); else g+=("$1" "$2"); fi; shift 2 ;;
    --root) root=$2; g+=("$1" "$2"); shift 2 ;;
    --log|--log-format|--criu|--rootless) g+=("$1" "$2"); shift 2 ;;
    --version|-v) version=1; g+=("$1"); shift ;;
    -*) g+=("$1"); shift ;;
    *) break ;;
  esac
done
sub=${1-}; [ $# -gt 0 ] && shift
o=()
if [ "$adapt" = 1 ] && { [ "$sub" = run ] || [ "$sub" = create ]; }; then
  while [ $# -gt 0 ]; do                    # subcommand options, up to the container id
    case $1 in
      --config) [ "$2" = config.json ] || o+=("$1" "$2"); shift 2 ;;
      --config=config.json) shift ;;
      --bundle|-b|--pid-file|--console-socket|--preserve-fds|--pidfd-socket) o+=("$1" "$2"); shift 2 ;;
      -*) o+=("$1"); shift ;;
      *) break ;;
    esac
  done
fi
case $sub in run|create|restore) [ -n "${CRUN_SUITE_IDLOG:-}" ] && [ $# -gt 0 ] && printf '%s\t%s\n' "$root" "${!#}" >> "$CRUN_SUITE_IDLOG" ;; esac
if [ "$version" = 1 ] && [ -z "$sub" ] && [ -n "$features" ]; then
  "$real" "${g[@]}"; rc=$?; echo "$features"; exit $rc
fi
exec "$real" "${g[@]}" ${sub:+"$sub"} "${o[@]}" "$@"
EOF
chmod 755 "$W/bin/oci-runtime"

# --- libmount stand-in (only if the real bindings are missing) -----------------------------
if ! "$PY" -c 'import libmount' 2>/dev/null; then
  cat > "$W/py/libmount.py" <<'EOF'
# Stand-in for util-linux's python "libmount" bindings (not packaged in Debian): just what
# crun's test_mounts.py uses. Table(mountinfo_file).find_target(path) -> last entry mounted on path.
import re
def _u(s): return re.sub(r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)), s)
class Fs:
    def __init__(self, line):
        a, b = line.split(' - ', 1)
        a, b = a.split(), b.split()
        self.root, self.target, self.vfs_options = _u(a[3]), _u(a[4]), a[5]
        self.fstype, self.source = b[0], _u(b[1]) if len(b) > 1 else ''
        self.fs_options = b[2] if len(b) > 2 else ''
        self.options = self.vfs_options + ',' + self.fs_options
class Table:
    def __init__(self, path=None):
        self._fs = []
        if path:
            with open(path) as f:
                self._fs = [Fs(l.rstrip('\n')) for l in f if ' - ' in l]
    def find_target(self, path):
        for fs in reversed(self._fs):
            if fs.target == path:
                return fs
        return None
EOF
  note "python3-libmount missing: test_mounts.py uses the built-in mountinfo stand-in"
fi

# --- per-file runner: pty + timeout + subreaper cleanup ------------------------------------------
cat > "$W/bin/runner.py" <<'EOF'
# Run one crun test file and clean up after it. Generated by crun-suite.sh.
# argv: WORKDIR LOG IDLOG TIMEOUT TTY(0|1) OWN_FROZEN RUNTIME -- CMD...
# stdout (the TAP stream) goes to LOG, stderr to LOG.err, kept apart as automake's tap-driver does.
import ctypes, fcntl, os, re, select, signal, subprocess, sys, termios, time
wd, log, idlog, timeout, tty, own_frozen, runtime = sys.argv[1:8]
cmd = sys.argv[9:]
timeout = float(timeout)
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)   # PR_SET_CHILD_SUBREAPER
class Stop(Exception): pass
def stop(*_): raise Stop()
signal.signal(signal.SIGTERM, stop); signal.signal(signal.SIGINT, stop)
env = dict(os.environ, CRUN_SUITE_IDLOG=idlog)
status = 0
def ctty():
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
p = None
try:
    deadline = time.monotonic() + timeout
    with open(log, 'wb') as lf, open(log + '.err', 'wb') as ef:
        if tty == '1':
            m, s = os.openpty()
            p = subprocess.Popen(cmd, cwd=wd, env=env, stdin=s, stdout=s, stderr=ef,
                                 start_new_session=True, preexec_fn=ctty)
            os.close(s)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    status = 124; break
                r, _, _ = select.select([m], [], [], min(left, 0.5))
                if r:
                    try: data = os.read(m, 65536)
                    except OSError: data = b''
                    if not data: break
                    lf.write(data); lf.flush()
                elif p.poll() is not None:
                    break          # a leaked container may still hold the terminal open
            os.close(m)
            if status == 0:
                try: p.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired: status = 124
        else:
            p = subprocess.Popen(cmd, cwd=wd, env=env, stdin=subprocess.DEVNULL, stdout=lf,
                                 stderr=ef, start_new_session=True)
            try: p.wait(timeout)
            except subprocess.TimeoutExpired: status = 124
except Stop:
    status = 130
if p is not None and p.poll() is None:
    try: os.killpg(p.pid, signal.SIGKILL)
    except OSError: pass
    p.wait()
if status == 0 and p is not None:
    status = 0 if p.returncode == 0 else 1
signal.signal(signal.SIGTERM, signal.SIG_IGN); signal.signal(signal.SIGINT, signal.SIG_IGN)

# ---- cleanup, scoped to this file's containers and this work dir ----
notes = []
ids = {}
try:
    for l in open(idlog):
        r, _, i = l.rstrip('\n').partition('\t')
        if i: ids[i] = r
except OSError:
    pass
# a name is ours if it contains one of this file's container ids as a whole word
ours = re.compile('(^|[^A-Za-z0-9])(%s)($|[^A-Za-z0-9])' % '|'.join(map(re.escape, ids))).search if ids else (lambda s: None)
def cgroup_mounts():
    out = []
    for l in open('/proc/self/mountinfo'):
        a, _, b = l.partition(' - ')
        if b.split()[0] in ('cgroup', 'cgroup2'):
            out.append(a.split()[4])
    return out
def id_cgroups():
    found = []
    if not ids: return found
    for mnt in cgroup_mounts():
        for d, subdirs, _ in os.walk(mnt):
            for sd in subdirs:
                if ours(sd):
                    found.append(os.path.join(d, sd))
    return found
def thaw(dirs):
    for d in dirs:
        try:
            with open(os.path.join(d, 'freezer.state'), 'w') as f: f.write('THAWED')
        except OSError: pass
def cg_pids(dirs):
    pids = set()
    for top in dirs:
        for d, _, _ in os.walk(top):
            try: pids |= {int(x) for x in open(os.path.join(d, 'cgroup.procs')).read().split()}
            except OSError: pass
    return pids
def children():                             # live (non-zombie) children
    me, out = os.getpid(), []
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                st = open('/proc/%s/stat' % d).read().rsplit(')', 1)[1].split()
                if int(st[1]) == me and st[0] != 'Z':
                    out.append(int(d))
            except (OSError, IndexError, ValueError): pass
    return out
def reap():
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0: return
        except ChildProcessError: return
frozen = [own_frozen] if own_frozen and os.path.isdir(own_frozen) else []
cgs = id_cgroups()
thaw(frozen + cgs)
for i, r in ids.items():                     # containers whose state survived
    if r and os.path.isdir(os.path.join(r, i)):
        try: subprocess.run([runtime, '--root', r, 'delete', '-f', i], timeout=30,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except subprocess.TimeoutExpired: pass
        notes.append('deleted container ' + i)
killed = set()
reap()
for _ in range(100):
    thaw(frozen + cgs)
    victims = (set(children()) | cg_pids(frozen + cgs)) - {os.getpid()}
    if not victims: break
    for v in victims:
        try: os.kill(v, signal.SIGKILL); killed.add(v)
        except OSError: pass
    time.sleep(0.1); reap()
if killed: notes.append('killed %d leftover processes' % len(killed))
def rmdirs(dirs):
    n = 0
    for top in dirs:
        for d, _, _ in sorted(os.walk(top), key=lambda t: -t[0].count('/')):
            for _ in range(50):
                try: os.rmdir(d); n += 1; break
                except FileNotFoundError: break
                except OSError: time.sleep(0.1)
            else: notes.append('could not remove cgroup ' + d)
    return n
n = rmdirs(sorted(set(cgs), key=lambda d: -d.count('/')))
if n: notes.append('removed %d container cgroups' % n)
if frozen and rmdirs(frozen): notes.append('removed ' + own_frozen)
mps = []
for l in open('/proc/self/mountinfo'):
    mp = l.split()[4].replace('\\040', ' ')
    if mp.startswith(wd + '/') or ours(mp): mps.append(mp)
for mp in sorted(mps, key=lambda x: -x.count('/')):
    subprocess.run(['umount', '-l', mp], stderr=subprocess.DEVNULL)
    notes.append('unmounted ' + mp)
if notes: sys.stderr.write('crun-suite: cleanup after %s: %s\n' % (os.path.basename(cmd[-1]), '; '.join(notes)))
sys.exit(status)
EOF

# --- run -----------------------------------------------------------------------------------------
TTY=${CRUN_SUITE_TTY:-1}
pass=0 fail=0 skip=0
export OCI_RUNTIME="$W/bin/oci-runtime" INIT="$W/tests/init" TMPDIR="$W/tmp" LANG=C
export PYTHONPATH="$W/py" PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
note "runtime $RUNTIME, tests from $(basename "$(dirname "$SRC")"), ${#files[@]} files, work dir $W"
for f in "${files[@]}"; do
  log="$W/logs/${f%.py}.log"
  t0=$SECONDS
  "$PY" "$W/bin/runner.py" "$W" "$log" "$W/logs/${f%.py}.ids" "$TIMEOUT" "$TTY" "$OWN_FROZEN" "$RUNTIME" \
    -- "$PY" "tests/$f"
  rc=$?
  [ $rc = 130 ] && exit 130
  # Test names in the order the file runs them (keys of its all_tests dict), for tests that never report.
  names=$("$PY" - "$W/tests/$f" <<'EOF'
import ast, os, sys
allowed = os.environ.get('RUN_TESTS')
for n in ast.parse(open(sys.argv[1]).read()).body:
    if isinstance(n, ast.Assign) and isinstance(n.value, ast.Dict) and any(getattr(t, 'id', '') == 'all_tests' for t in n.targets):
        for k in n.value.keys:
            if allowed is None or k.value in allowed.split(): print(k.value)
EOF
)
  results=$(tr -d '\r' < "$log" | sed -n -E 's/^(not ok|ok) [0-9]+ - (.*)$/\1\t\2/p')
  plan0=$(tr -d '\r' < "$log" | grep -cx '1\.\.0')
  while IFS= read -r name; do
    [ -n "$name" ] || continue
    line=$(printf '%s\n' "$results" | awk -F'\t' -v n="$name" '$2 == n || $2 == n" #SKIP" {print; exit}')
    case $line in
      "not ok"*) st=fail ;;
      *"#SKIP") st=skip ;;
      ok*) st=pass ;;
      *) if [ "$plan0" -gt 0 ] && [ $rc = 0 ]; then st=skip
         elif [ $rc = 124 ]; then st="fail (timeout)"; else st="fail (no result, exit $rc)"; fi ;;
    esac
    case $st in pass) pass=$((pass+1));; skip) skip=$((skip+1));; *) fail=$((fail+1));; esac
    printf '%s %s:%s\n' "${st%% *}" "$f" "$name${st#????}"
  done <<< "$names"
  note "$f done in $((SECONDS-t0))s"
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
