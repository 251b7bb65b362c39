/*
 * What the two halves of the jail plumbing share (initos_jail.c: the jail's program between
 * fork and exec; initos_jail_enter.c: cloning into new namespaces and joining a running jail).
 */
#ifndef INITOS_JAIL_H
#define INITOS_JAIL_H

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

/* The most fds initos_clone_exec places at 3, 4, … (runc's --preserve-fds included). */
#define INITOS_CLONE_MAX_FDS 1024

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
    int32_t preserved_fds;          /* fds 3…3+n-1 stay open across exec (runc's --preserve-fds) */
    int32_t stdio_fd;               /* >= 0: a terminal put on 0, 1, 2 and made the controlling one */
};

enum {
    STAGE_NONE, STAGE_SIGNALS, STAGE_SETSID, STAGE_RLIMIT, STAGE_BOUNDING, STAGE_KEEPCAPS, STAGE_GROUPS,
    STAGE_SETGID, STAGE_SETUID, STAGE_CAPSET, STAGE_AMBIENT, STAGE_NO_NEW_PRIVS, STAGE_SECCOMP,
    STAGE_CHDIR, STAGE_CWD_UNREACHABLE, STAGE_CLOSE_FDS, STAGE_EXEC, STAGE_GO, STAGE_DUP, STAGE_USERNS_IDS, STAGE_SETNS,
    STAGE_CGROUP_NS, STAGE_JOIN_CGROUP,
};

/* Writes (stage, errno) to report_fd and exits 127: a child's failure before exec. */
void initos_jail_fail(int report_fd, int stage) __attribute__((noreturn));

/* Reads the (stage, errno) a child sent before exec; stage 0 when exec happened. */
void initos_jail_read_failure(int fd, int *stage, int *error);

/* The parent's side of a start that reports through a pipe; returns pid. */
int initos_jail_finish_start(pid_t pid, int report[2], int *stage, int *error);

/* In a child: become the jail's program as the spec says and exec it; reports and exits on failure. */
void initos_jail_child(const char *path, char *const argv[], char *const envp[],
                       const struct initos_jail_process *p, int report) __attribute__((noreturn));

#endif
