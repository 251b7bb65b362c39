/*
 * Jail process plumbing that must run between fork/clone and exec, where no managed code
 * may run (see initos_native.c):
 *
 * - initos_jail_spawn: fork and exec the jail's program as its spec says: new session,
 *   rlimits, umask, bounding set, ids, capabilities, no_new_privs, seccomp, working directory,
 *   every fd above 2 close-on-exec.
 *
 * A failure is reported as (stage, errno) through a close-on-exec pipe, so the caller can say
 * which step failed; the child then exits 127.
 */
#define _GNU_SOURCE
#include "initos_jail.h"
#include <sys/ioctl.h>

struct failure {
    int32_t stage;
    int32_t error;
};

void initos_jail_fail(int report_fd, int stage)
{
    struct failure f = { stage, errno };
    ssize_t ignored = write(report_fd, &f, sizeof f);
    (void)ignored;
    _exit(127);
}

/* Reads the (stage, errno) a child sent before exec; stage 0 when exec happened. */
void initos_jail_read_failure(int fd, int *stage, int *error)
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
int initos_jail_finish_start(pid_t pid, int report[2], int *stage, int *error)
{
    close(report[1]);
    initos_jail_read_failure(report[0], stage, error);
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
    /* exec --tty: the terminal is stdio and, in the new session, the controlling terminal. */
    if (p->stdio_fd >= 0) {
        for (int fd = 0; fd <= 2; fd++)
            if (dup2(p->stdio_fd, fd) < 0)
                return STAGE_DUP;
        if (ioctl(0, TIOCSCTTY, 0) != 0)
            return STAGE_DUP;
    }
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
    /* No fd above 2 reaches the program (CVE-2024-21626) but those the caller preserved on
       purpose: the report pipe closes at exec too. */
    if (syscall(SYS_close_range, 3 + (unsigned)p->preserved_fds, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
        return STAGE_CLOSE_FDS;
    if (p->no_new_privs && p->filter_length > 0 && install_seccomp(p) != 0)
        return STAGE_SECCOMP;
    if (p->exec_fd >= 0)
        syscall(SYS_execveat, p->exec_fd, "", argv, envp, AT_EMPTY_PATH);
    else
        execvpe(path, argv, envp);
    return STAGE_EXEC;
}

void initos_jail_child(const char *path, char *const argv[], char *const envp[],
                       const struct initos_jail_process *p, int report)
{
    int stage = become_jail_program(path, argv, envp, p);
    initos_jail_fail(report, stage);
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
        initos_jail_child(path, argv, envp, process, report[1]);
    }
    return initos_jail_finish_start(pid, report, stage, error);
}
