/*
 * Jail process plumbing that must run between fork/clone and exec, where no managed code
 * may run (see initos_native.c):
 *
 * - initos_clone_exec: clone(2) into new namespaces, wait for the host's "go" (uid/gid maps
 *   written, cgroup and network ready), become root of a new user namespace, and exec a
 *   sealed copy of the InitOS binary (an fd from memfd_create) with chosen fds at 3, 4, 5…
 * - initos_jail_spawn: fork and exec the jail's program as its spec says: new session,
 *   rlimits, umask, bounding set, ids, capabilities, no_new_privs, seccomp, working directory,
 *   every fd above 2 close-on-exec.
 *
 * A failure is reported as (stage, errno) through a close-on-exec pipe, so the caller can say
 * which step failed; the child then exits 127.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

void initos_restore_inherited_signals(void);
pid_t initos_fork_with_report(int report[2]);

struct initos_rlimit {
    int32_t resource;
    uint64_t soft;
    uint64_t hard;
};

/* Mirrors JailProcessNative in InitOs.Sys/Jails.cs (sequential layout, natural alignment). */
struct initos_jail_process {
    uint32_t uid;
    uint32_t gid;
    uint32_t group_count;
    const uint32_t *groups;
    int32_t umask;                  /* -1: leave as is */
    uint64_t bounding, effective, permitted, inheritable, ambient;
    int32_t no_new_privs;
    uint32_t rlimit_count;
    const struct initos_rlimit *rlimits;
    uint32_t filter_length;         /* instructions; 0: no seccomp */
    const struct sock_filter *filter;
    const char *cwd;
    int32_t last_capability;
    int32_t exec_fd;                /* >= 0: execveat this fd (a host binary, e.g. a toolbox) instead of path */
    int32_t keep_session;           /* 1: no setsid (the caller already leads its session: a jail's init) */
};

enum {
    STAGE_NONE, STAGE_SIGNALS, STAGE_SETSID, STAGE_RLIMIT, STAGE_BOUNDING, STAGE_KEEPCAPS, STAGE_GROUPS,
    STAGE_SETGID, STAGE_SETUID, STAGE_CAPSET, STAGE_AMBIENT, STAGE_NO_NEW_PRIVS, STAGE_SECCOMP,
    STAGE_CHDIR, STAGE_CWD_UNREACHABLE, STAGE_CLOSE_FDS, STAGE_EXEC, STAGE_GO, STAGE_DUP, STAGE_USERNS_IDS, STAGE_SETNS,
    STAGE_CGROUP_NS, STAGE_JOIN_CGROUP,
};

struct failure {
    int32_t stage;
    int32_t error;
};

static void fail(int report_fd, int stage)
{
    struct failure f = { stage, errno };
    ssize_t ignored = write(report_fd, &f, sizeof f);
    (void)ignored;
    _exit(127);
}

/* Reads the (stage, errno) a child sent before exec; stage 0 when exec happened. */
static void read_failure(int fd, int *stage, int *error)
{
    struct failure f = { 0, 0 };
    ssize_t n;
    do {
        n = read(fd, &f, sizeof f);
    } while (n < 0 && errno == EINTR);
    *stage = n == (ssize_t)sizeof f ? f.stage : 0;
    *error = n == (ssize_t)sizeof f ? f.error : 0;
}

/* The parent's side of a start that reports through a pipe: close its end of the child, wait for
 * the report (or exec's close-on-exec closing the pipe), and return the child's pid. */
static int finish_start(pid_t pid, int report[2], int *stage, int *error)
{
    close(report[1]);
    read_failure(report[0], stage, error);
    close(report[0]);
    return pid;
}

static int set_capabilities(const struct initos_jail_process *p)
{
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    data[0].effective = (uint32_t)p->effective;
    data[1].effective = (uint32_t)(p->effective >> 32);
    data[0].permitted = (uint32_t)p->permitted;
    data[1].permitted = (uint32_t)(p->permitted >> 32);
    data[0].inheritable = (uint32_t)p->inheritable;
    data[1].inheritable = (uint32_t)(p->inheritable >> 32);
    return (int)syscall(SYS_capset, &header, data);
}

static int install_seccomp(const struct initos_jail_process *p)
{
    struct sock_fprog program = { (unsigned short)p->filter_length, (struct sock_filter *)p->filter };
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0);
}

/*
 * Sets up this process as the jail's program and execs it. Returns only on failure: the stage
 * that failed, with errno set.
 */
static int become_jail_program(const char *path, char *const argv[], char *const envp[],
                               const struct initos_jail_process *p)
{
    initos_restore_inherited_signals();
    /* A new session: the program cannot reach the caller's terminal (TIOCSTI). */
    if (!p->keep_session && setsid() < 0)
        return STAGE_SETSID;
    for (uint32_t i = 0; i < p->rlimit_count; i++) {
        struct rlimit limit = { p->rlimits[i].soft, p->rlimits[i].hard };
        if (setrlimit(p->rlimits[i].resource, &limit) != 0)
            return STAGE_RLIMIT;
    }
    if (p->umask >= 0)
        umask((mode_t)p->umask);
    /* The bounding set needs CAP_SETPCAP, so it is dropped while we are still root. */
    for (int cap = 0; cap <= p->last_capability; cap++)
        if (!(p->bounding & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
            return STAGE_BOUNDING;
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
        return STAGE_KEEPCAPS;
    if (setgroups(p->group_count, (const gid_t *)p->groups) != 0)
        return STAGE_GROUPS;
    if (setresgid(p->gid, p->gid, p->gid) != 0)
        return STAGE_SETGID;
    /* Without no_new_privs, installing a filter needs CAP_SYS_ADMIN: do it before dropping it. */
    if (!p->no_new_privs && p->filter_length > 0 && install_seccomp(p) != 0)
        return STAGE_SECCOMP;
    if (setresuid(p->uid, p->uid, p->uid) != 0)
        return STAGE_SETUID;
    if (set_capabilities(p) != 0)
        return STAGE_CAPSET;
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    for (int cap = 0; cap <= p->last_capability; cap++)
        if ((p->ambient & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0)
            return STAGE_AMBIENT;
    if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return STAGE_NO_NEW_PRIVS;
    /* As the program's user, so a directory it may not enter is an error here. */
    if (chdir(p->cwd) != 0)
        return STAGE_CHDIR;
    /* A working directory outside the jail's root (a leaked host directory) reads as "(unreachable)". */
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd) || cwd[0] != '/')
        return STAGE_CWD_UNREACHABLE;
    /* No fd above 2 reaches the program (CVE-2024-21626): the report pipe closes at exec too. */
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
        return STAGE_CLOSE_FDS;
    if (p->no_new_privs && p->filter_length > 0 && install_seccomp(p) != 0)
        return STAGE_SECCOMP;
    if (p->exec_fd >= 0)
        syscall(SYS_execveat, p->exec_fd, "", argv, envp, AT_EMPTY_PATH);
    else
        execvpe(path, argv, envp);
    return STAGE_EXEC;
}

static void jail_child(const char *path, char *const argv[], char *const envp[],
                       const struct initos_jail_process *p, int report)
{
    int stage = become_jail_program(path, argv, envp, p);
    fail(report, stage);
}

/* The jail's init execs the OS's init in its place (the OS's init is then PID 1 of the jail):
   returns only on failure, with the stage and errno. */
int initos_jail_become(const char *path, char *const argv[], char *const envp[],
                       const struct initos_jail_process *process, int *stage, int *error)
{
    *stage = become_jail_program(path, argv, envp, process);
    *error = errno;
    return -1;
}

/* Returns the pid, or -errno; stage and error say what failed before exec (stage 0: exec ran). */
int initos_jail_spawn(const char *path, char *const argv[], char *const envp[],
                      const struct initos_jail_process *process, int *stage, int *error)
{
    int report[2];
    pid_t pid = initos_fork_with_report(report);
    if (pid < 0)
        return pid;
    if (pid == 0) {
        jail_child(path, argv, envp, process, report[1]);
    }
    return finish_start(pid, report, stage, error);
}

/*
 * clone(2) with CLONE_NEW* flags, then in the child: wait for one byte on go_fd (the host
 * has written the id maps and prepared the rest), become uid/gid 0 of a new user namespace,
 * put fds[i] at 3+i, and execveat the sealed binary. Returns the pid or -errno; the stage and
 * errno of a failure before exec in the child (stage 0: exec ran) are only known
 * after the host has written "go" — read them with initos_clone_exec_result.
 */
int initos_clone_exec(uint64_t clone_flags, int exec_fd, char *const argv[], char *const envp[],
                      const int *fds, int fd_count, int go_fd, int death_signal, int *report_fd)
{
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0)
        return -errno;
    /* The cgroup namespace is made after "go": by then the host has moved the child into the
       jail's cgroup, which must be the namespace's root (as runc does it: join, then unshare). */
    uint64_t late = clone_flags & CLONE_NEWCGROUP;
    pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)((clone_flags & ~late) | SIGCHLD), 0, 0, 0, 0);
    if (pid < 0) {
        int e = errno;
        close(report[0]);
        close(report[1]);
        return -e;
    }
    if (pid == 0) {
        close(report[0]);
        initos_restore_inherited_signals();
        /* A jail run in the foreground ends with the command that runs it. */
        if (death_signal > 0)
            prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0);
        char go;
        ssize_t n;
        do {
            n = read(go_fd, &go, 1);
        } while (n < 0 && errno == EINTR);
        if (n != 1) {
            errno = n == 0 ? ECANCELED : errno;
            fail(report[1], STAGE_GO);
        }
        if (late && unshare(CLONE_NEWCGROUP) != 0)
            fail(report[1], STAGE_CGROUP_NS);
        if (clone_flags & CLONE_NEWUSER) {
            /* The maps are written: be root of the new namespace, so exec keeps its capabilities.
               Raw system calls, not glibc's wrappers: after a raw clone glibc still believes in
               the parent's threads, and its wrappers would broadcast the change to them under a
               lock that one of them may have held at the clone (a copy locked for ever: the
               child hung in a futex wait, now and then, under load). */
            if (syscall(SYS_setresgid, 0, 0, 0) != 0 || syscall(SYS_setgroups, 0, NULL) != 0 || syscall(SYS_setresuid, 0, 0, 0) != 0)
                fail(report[1], STAGE_USERNS_IDS);
        }
        /* Move everything out of the way first, then into place: sources may overlap 3…3+n. */
        int high[16];
        if (fd_count > 16) {
            errno = EINVAL;
            fail(report[1], STAGE_DUP);
        }
        int reporter = fcntl(report[1], F_DUPFD_CLOEXEC, 100);
        int exe = fcntl(exec_fd, F_DUPFD_CLOEXEC, 100);
        if (reporter < 0 || exe < 0)
            fail(report[1], STAGE_DUP);
        for (int i = 0; i < fd_count; i++)
            if ((high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 100)) < 0)
                fail(reporter, STAGE_DUP);
        for (int i = 0; i < fd_count; i++)
            if (dup2(high[i], 3 + i) < 0)
                fail(reporter, STAGE_DUP);
        /* Everything else is closed at exec: no host fd reaches the jail. */
        if (syscall(SYS_close_range, 3 + fd_count, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
            fail(reporter, STAGE_CLOSE_FDS);
        syscall(SYS_execveat, exe, "", argv, envp, AT_EMPTY_PATH);
        fail(reporter, STAGE_EXEC);
    }
    close(report[1]);
    *report_fd = report[0];
    return pid;
}

/* After "go": what happened in the cloned child before exec (stage 0: exec ran). */
void initos_clone_exec_result(int report_fd, int *stage, int *error)
{
    read_failure(report_fd, stage, error);
    close(report_fd);
}

/*
 * `initos jail exec`: a new process inside a running jail. Forks; the child joins the jail's
 * cgroup (when cgroup_procs_fd is not -1) and namespaces (the user namespace first, so the others are joined with its capabilities; setns
 * into a user namespace needs a single-threaded process, which a fork child is), then forks
 * again because a pid namespace only applies to children. The grandchild is set up like the
 * jail's program (jail_child) and execs; the middle process waits for it and exits with its
 * status (128+signal when killed). Returns the middle process's pid or -errno.
 *
 * The joining process is host root until it has joined: it makes itself non-dumpable before
 * the first setns, so nothing in the jail can ptrace it or open its /proc files (the
 * CVE-2016-9962 class), and, when ns_fds[0] is a user namespace, it becomes that namespace's
 * root (its mapped ids) before it forks into the jail's pid namespace, so the first process
 * the jail can see is never host root.
 */
int initos_jail_exec(int cgroup_procs_fd, const int *ns_fds, int ns_count, int first_is_user_ns, const char *path,
                     char *const argv[], char *const envp[], const struct initos_jail_process *process, int *stage, int *error)
{
    int report[2];
    pid_t pid = initos_fork_with_report(report);
    if (pid < 0)
        return pid;
    if (pid == 0) {
        /* Into the jail's cgroup first, so its limits hold for this program too ("0": this process). */
        if (cgroup_procs_fd >= 0 && write(cgroup_procs_fd, "0", 1) != 1)
            fail(report[1], STAGE_JOIN_CGROUP);
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
            fail(report[1], STAGE_SETNS);
        for (int i = 0; i < ns_count; i++)
            if (setns(ns_fds[i], 0) != 0)
                fail(report[1], STAGE_SETNS);
        if (first_is_user_ns && ns_count > 0
            && (setresgid(0, 0, 0) != 0 || setgroups(0, NULL) != 0 || setresuid(0, 0, 0) != 0))
            fail(report[1], STAGE_USERNS_IDS);
        pid_t inner = fork();
        if (inner < 0)
            fail(report[1], STAGE_SETNS);
        if (inner == 0)
            jail_child(path, argv, envp, process, report[1]);
        close(report[1]);
        int status = 0;
        while (waitpid(inner, &status, 0) < 0 && errno == EINTR) {
        }
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    return finish_start(pid, report, stage, error);
}

/*
 * An idmapped copy of the mount at source, attached at target: files owned by host ids appear
 * owned by the ids that map to them in the user namespace userns_fd (its maps must be written).
 * This is how an unprivileged jail's root owns a lower layer that belongs to host root. Returns
 * 0 or -errno; *step says which call failed (1 open_tree, 2 mount_setattr, 3 move_mount).
 */
struct initos_mount_attr {
    uint64_t attr_set;
    uint64_t attr_clr;
    uint64_t propagation;
    uint64_t userns_fd;
};

int initos_idmapped_mount(const char *source, int userns_fd, const char *target, int *step)
{
    const unsigned int open_tree_clone = 1, open_tree_cloexec = O_CLOEXEC;
    const unsigned long at_recursive = 0x8000, at_empty_path = 0x1000, move_mount_f_empty_path = 0x4;
    const uint64_t mount_attr_idmap = 0x00100000;
    *step = 1;
    int tree = (int)syscall(428 /* open_tree */, AT_FDCWD, source, open_tree_clone | open_tree_cloexec | at_recursive);
    if (tree < 0)
        return -errno;
    struct initos_mount_attr attr = { mount_attr_idmap, 0, 0, (uint64_t)userns_fd };
    int result = 0;
    *step = 2;
    if (syscall(442 /* mount_setattr */, tree, "", at_empty_path | at_recursive, &attr, sizeof attr) != 0) {
        result = -errno;
    } else {
        *step = 3;
        if (syscall(429 /* move_mount */, tree, "", AT_FDCWD, target, move_mount_f_empty_path) != 0)
            result = -errno;
    }
    close(tree);
    return result;
}
