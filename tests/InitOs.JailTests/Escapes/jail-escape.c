/*
 * Escape attempts, run from inside a jail by the escape tests (built static by the test
 * fixture). Each prints "ESCAPED: how" when the attempt worked and "BLOCKED: why" when
 * it did not; the tests require BLOCKED. The host marker is a file that exists only
 * outside the jail: seeing it means the jail's filesystem view was left.
 *
 * usage: jail-escape chroot MARKER | fd MARKER | exe | kill PID | raw-socket | mknod | module
 *        | kernel-surface   (one line per call, each BLOCKED with the errno the filter gives)
 *        | exe-watch SECONDS   (an O_PATH fd on every new process's exe, reopened for writing at the end)
 *        | ptrace-watch SECONDS   (PTRACE_SEIZE on every new process while it may still be host root)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <sys/ptrace.h>
#include <dirent.h>
#include <time.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <unistd.h>

static int blocked(const char *why)
{
    printf("BLOCKED: %s: %s\n", why, strerror(errno));
    return 0;
}

static int escaped(const char *how)
{
    printf("ESCAPED: %s\n", how);
    return 1;
}

/* mkdir x; chroot x; cd ../../..; chroot . — the classic: escapes a chroot, not a pivot_root. */
static int chroot_escape(const char *marker)
{
    mkdir("/tmp/escape-dir", 0700);
    if (chroot("/tmp/escape-dir") != 0)
        return blocked("chroot");
    for (int i = 0; i < 64; i++)
        if (chdir("..") != 0)
            return blocked("chdir ..");
    if (chroot(".") != 0)
        return blocked("chroot .");
    if (access(marker, F_OK) == 0)
        return escaped("the host marker is visible after chroot .. chroot .");
    errno = ENOENT;
    return blocked("after the chroot dance the host marker is not visible");
}

/* Any inherited directory fd that leads to the host (runc CVE-2024-21626). */
static int fd_escape(const char *marker)
{
    for (int fd = 3; fd < 1024; fd++) {
        if (fchdir(fd) != 0)
            continue;
        for (int i = 0; i < 64; i++)
            if (chdir("..") != 0)
                break;
        if (access(marker + 1, F_OK) == 0)
            return escaped("an inherited directory fd reaches the host");
    }
    errno = EBADF;
    return blocked("no inherited fd leads to the host marker");
}

/* Open the jail's init binary for writing through /proc (runc CVE-2019-5736). */
static int exe_escape(void)
{
    int fd = open("/proc/1/exe", O_WRONLY);
    if (fd < 0)
        return blocked("open /proc/1/exe for writing");
    if (write(fd, "X", 1) == 1)
        return escaped("wrote into the jail init's binary");
    return blocked("write to /proc/1/exe");
}

static int kill_escape(const char *pid_text)
{
    if (kill(atoi(pid_text), SIGKILL) == 0)
        return escaped("killed a host process");
    return blocked("kill a host pid");
}

static int raw_socket_escape(void)
{
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (fd >= 0)
        return escaped("opened a raw socket");
    return blocked("socket(AF_INET, SOCK_RAW)");
}

static int mknod_escape(void)
{
    if (mknod("/tmp/disk", S_IFBLK | 0600, makedev(8, 0)) == 0)
        return escaped("made a block device node");
    return blocked("mknod block device");
}

static int module_escape(void)
{
    static const char junk[64] = "not a module";
    if (syscall(SYS_init_module, junk, sizeof junk, "") == 0)
        return escaped("loaded a module");
    /* ENOEXEC would mean the kernel looked at the image: the call itself was allowed. */
    if (errno == ENOEXEC || errno == EINVAL)
        return escaped("init_module reached the module loader");
    return blocked("init_module");
}

/* One call into a surface the default filter closes. With every capability each would work,
 * so only the filter's answer (EPERM, or ENOSYS for "this kernel lacks it") counts as BLOCKED. */
static int surface(const char *name, long result, int wanted)
{
    if (result >= 0) {
        if (result == 0 && (!strcmp(name, "clone-newuser")))
            _exit(0); /* the child of a clone that should not have happened */
        printf("ESCAPED: %s\n", name);
        return 1;
    }
    if (errno != wanted) {
        printf("UNEXPECTED: %s: %s\n", name, strerror(errno));
        return 1;
    }
    return blocked(name);
}

static int kernel_surface(void)
{
    int failures = 0;
    failures += surface("unshare-newuser", syscall(SYS_unshare, CLONE_NEWUSER), EPERM);
    long child = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (child > 0)
        waitpid((pid_t)child, NULL, 0);
    failures += surface("clone-newuser", child, EPERM);
    struct clone_args args = { .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
    failures += surface("clone3", syscall(SYS_clone3, &args, sizeof args), ENOSYS);
    unsigned char params[120] = {0}; /* struct io_uring_params */
    failures += surface("io_uring_setup", syscall(SYS_io_uring_setup, 1, params), ENOSYS);
    union bpf_attr map = { .map_type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 1 };
    failures += surface("bpf", syscall(SYS_bpf, BPF_MAP_CREATE, &map, sizeof map), EPERM);
    failures += surface("userfaultfd", syscall(SYS_userfaultfd, 0), EPERM);
    struct perf_event_attr perf = { .type = PERF_TYPE_SOFTWARE, .size = sizeof perf, .config = PERF_COUNT_SW_CPU_CLOCK };
    failures += surface("perf_event_open", syscall(SYS_perf_event_open, &perf, 0, -1, -1, 0), EPERM);
    failures += surface("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), EPERM);
    failures += surface("add_key", syscall(SYS_add_key, "user", "initos", "x", 1, KEY_SPEC_PROCESS_KEYRING), EPERM);
    unsigned char handle[16] = {0};
    failures += surface("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, handle, O_RDONLY), EPERM);
    failures += surface("fsopen", syscall(SYS_fsopen, "tmpfs", 0), ENOSYS);
    return failures ? 1 : 0;
}

/* The pids in /proc now, other than this process and the jail's init; returns how many. */
static int pids_now(int *pids, int max)
{
    DIR *proc = opendir("/proc");
    int n = 0;
    struct dirent *e;
    while (proc && (e = readdir(proc)) && n < max) {
        int pid = atoi(e->d_name);
        if (pid > 1 && pid != getpid())
            pids[n++] = pid;
    }
    if (proc)
        closedir(proc);
    return n;
}

static int seen_before(const int *seen, int count, int pid)
{
    for (int i = 0; i < count; i++)
        if (seen[i] == pid)
            return 1;
    return 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* runc CVE-2019-5736's way in: hold an O_PATH fd on a joining process's binary while it runs,
 * then, once nothing executes it, reopen it for writing through /proc/self/fd. The jail's own
 * binaries (its busybox, this program) are left alone: writing those escapes nothing. */
static int exe_watch(const char *seconds)
{
    struct stat own_busybox, own_exe;
    stat("/bin/busybox", &own_busybox);
    stat("/proc/self/exe", &own_exe);
    /* A process is taken again when its binary changes (an exec): (pid, inode) pairs. */
    static long seen[4096][2];
    static int fds[4096];
    int nseen = 0, nfds = 0;
    double end = now() + atof(seconds);
    while (now() < end && nseen < 4000) {
        int pids[256];
        int n = pids_now(pids, 256);
        for (int i = 0; i < n && nseen < 4000; i++) {
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/exe", pids[i]);
            int fd = open(path, O_PATH);
            struct stat st;
            if (fd < 0 || fstat(fd, &st) != 0) {
                if (fd >= 0)
                    close(fd);
                continue;
            }
            int known = (st.st_dev == own_busybox.st_dev && st.st_ino == own_busybox.st_ino) || (st.st_dev == own_exe.st_dev && st.st_ino == own_exe.st_ino);
            for (int k = 0; k < nseen && !known; k++)
                known = seen[k][0] == pids[i] && seen[k][1] == (long)st.st_ino;
            if (known) {
                close(fd);
                continue;
            }
            seen[nseen][0] = pids[i];
            seen[nseen++][1] = (long)st.st_ino;
            fds[nfds++] = fd;
        }
        usleep(1000);
    }
    printf("TOOK %d\n", nfds);
    sleep(1); /* the joining process has ended: its binary is no longer busy */
    int failures = 0;
    for (int i = 0; i < nfds; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fds[i]);
        int w = open(path, O_WRONLY);
        if (w >= 0) {
            ssize_t written = write(w, "X", 1);
            printf("ESCAPED: reopened a joining process's binary for writing (%zd byte written)\n", written);
            close(w);
            failures++;
        } else {
            blocked("reopen a joining process's binary for writing");
        }
    }
    return failures ? 1 : 0;
}

/* CVE-2016-9962's way in: seize each new process; one still running InitOS's code (before it
 * execs the toolbox as the jail's root) must never be caught. */
static int ptrace_watch(const char *seconds)
{
    static int seen[4096];
    int nseen = 0, tried = 0, failures = 0;
    double end = now() + atof(seconds);
    while (now() < end && nseen < 4000) {
        int pids[256];
        int n = pids_now(pids, 256);
        for (int i = 0; i < n; i++) {
            if (seen_before(seen, nseen, pids[i]))
                continue;
            seen[nseen++] = pids[i];
            tried++;
            if (ptrace(PTRACE_SEIZE, pids[i], 0, 0) != 0)
                continue;
            char path[64], cmdline[256] = {0};
            snprintf(path, sizeof path, "/proc/%d/cmdline", pids[i]);
            int fd = open(path, O_RDONLY);
            ssize_t got = fd >= 0 ? read(fd, cmdline, sizeof cmdline - 1) : -1;
            if (fd >= 0)
                close(fd);
            for (ssize_t k = 0; k < got; k++)
                if (!cmdline[k])
                    cmdline[k] = ' ';
            if (strstr(cmdline, "initos")) {
                printf("ESCAPED: seized pid %d while it ran InitOS (%s)\n", pids[i], cmdline);
                failures++;
            }
            ptrace(PTRACE_DETACH, pids[i], 0, 0);
        }
    }
    printf("TRIED %d\n", tried);
    if (!failures) {
        errno = EPERM;
        blocked("no process was seized while it ran InitOS");
    }
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2)
        return 2;
    const char *what = argv[1], *arg = argc > 2 ? argv[2] : "";
    if (!strcmp(what, "chroot")) return chroot_escape(arg);
    if (!strcmp(what, "fd")) return fd_escape(arg);
    if (!strcmp(what, "exe")) return exe_escape();
    if (!strcmp(what, "kill")) return kill_escape(arg);
    if (!strcmp(what, "raw-socket")) return raw_socket_escape();
    if (!strcmp(what, "mknod")) return mknod_escape();
    if (!strcmp(what, "module")) return module_escape();
    if (!strcmp(what, "kernel-surface")) return kernel_surface();
    if (!strcmp(what, "exe-watch")) return exe_watch(arg);
    if (!strcmp(what, "ptrace-watch")) return ptrace_watch(arg);
    return 2;
}
