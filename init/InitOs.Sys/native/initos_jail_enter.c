/*
 * Into a jail's namespaces, between fork/clone and exec (see initos_jail.c for the program's side):
 *
 * - initos_clone_exec: clone(2) into new namespaces, wait for the host's "go" (uid/gid maps
 *   written, cgroup and network ready), become root of a new user namespace, and exec a
 *   sealed copy of the InitOS binary (an fd from memfd_create) with chosen fds at 3, 4, 5…
 * - initos_jail_exec: a new process in a running jail (jail exec, jail debug).
 * - initos_idmapped_mount: an idmapped copy of a mount, for an unprivileged jail's lower layer.
 */
#define _GNU_SOURCE
#include "initos_jail.h"

/*
 * clone(2) with CLONE_NEW* flags, then in the child: wait for one byte on go_fd (the host
 * has written the id maps and prepared the rest), become uid/gid 0 of a new user namespace,
 * put fds[i] at 3+i, and execveat the sealed binary. Returns the pid or -errno; the stage and
 * errno of a failure before exec in the child (stage 0: exec ran) are only known
 * after the host has written "go" — read them with initos_clone_exec_result.
 */
int initos_clone_exec(uint64_t clone_flags, int exec_fd, char *const argv[], char *const envp[],
                      const int *fds, int fd_count, int go_fd, int death_signal, const int *join_fds, int join_count,
                      int *report_fd)
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
        /* Namespaces the spec names by path (a network namespace podman made): joined before
           anything else, as host root (the planner refuses them together with a new user namespace). */
        for (int i = 0; i < join_count; i++)
            if (setns(join_fds[i], 0) != 0)
                initos_jail_fail(report[1], STAGE_SETNS);
        char go;
        ssize_t n;
        do {
            n = read(go_fd, &go, 1);
        } while (n < 0 && errno == EINTR);
        if (n != 1) {
            errno = n == 0 ? ECANCELED : errno;
            initos_jail_fail(report[1], STAGE_GO);
        }
        if (late && unshare(CLONE_NEWCGROUP) != 0)
            initos_jail_fail(report[1], STAGE_CGROUP_NS);
        if (clone_flags & CLONE_NEWUSER) {
            /* The maps are written: be root of the new namespace, so exec keeps its capabilities.
               Raw system calls, not glibc's wrappers: after a raw clone glibc still believes in
               the parent's threads, and its wrappers would broadcast the change to them under a
               lock that one of them may have held at the clone (a copy locked for ever: the
               child hung in a futex wait, now and then, under load). */
            if (syscall(SYS_setresgid, 0, 0, 0) != 0 || syscall(SYS_setgroups, 0, NULL) != 0 || syscall(SYS_setresuid, 0, 0, 0) != 0)
                initos_jail_fail(report[1], STAGE_USERNS_IDS);
        }
        /* Move everything out of the way first (above every target), then into place: sources
           may overlap 3…3+n. A source of -1 leaves its slot closed (a preserved fd the caller
           did not have). No malloc here: after a raw clone glibc's heap lock may be held. */
        int high[INITOS_CLONE_MAX_FDS];
        if (fd_count > INITOS_CLONE_MAX_FDS) {
            errno = EINVAL;
            initos_jail_fail(report[1], STAGE_DUP);
        }
        int base = 3 + fd_count;
        int reporter = fcntl(report[1], F_DUPFD_CLOEXEC, base);
        int exe = fcntl(exec_fd, F_DUPFD_CLOEXEC, base);
        if (reporter < 0 || exe < 0)
            initos_jail_fail(report[1], STAGE_DUP);
        for (int i = 0; i < fd_count; i++)
            if ((high[i] = fds[i] < 0 ? -1 : fcntl(fds[i], F_DUPFD_CLOEXEC, base)) < 0 && fds[i] >= 0)
                initos_jail_fail(reporter, STAGE_DUP);
        for (int i = 0; i < fd_count; i++) {
            if (high[i] < 0)
                close(3 + i);
            else if (dup2(high[i], 3 + i) < 0)
                initos_jail_fail(reporter, STAGE_DUP);
        }
        /* Everything else is closed at exec: no host fd reaches the jail. */
        if (syscall(SYS_close_range, 3 + fd_count, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
            initos_jail_fail(reporter, STAGE_CLOSE_FDS);
        syscall(SYS_execveat, exe, "", argv, envp, AT_EMPTY_PATH);
        initos_jail_fail(reporter, STAGE_EXEC);
    }
    close(report[1]);
    *report_fd = report[0];
    return pid;
}

/* After "go": what happened in the cloned child before exec (stage 0: exec ran). */
void initos_clone_exec_result(int report_fd, int *stage, int *error)
{
    initos_jail_read_failure(report_fd, stage, error);
    close(report_fd);
}

/*
 * `initos jail exec`: a new process inside a running jail. Forks; the child joins the jail's
 * cgroup (when cgroup_procs_fd is not -1) and namespaces (the user namespace first, so the others are joined with its capabilities; setns
 * into a user namespace needs a single-threaded process, which a fork child is), then forks
 * again because a pid namespace only applies to children. The grandchild is set up like the
 * jail's program (jail_child) and execs; the middle process waits for it and exits with its
 * status (128+signal when killed), or, detached, exits at once and leaves the program to the
 * nearest subreaper. Returns the middle process's pid or -errno; *program_pid is the program's.
 *
 * The joining process is host root until it has joined: it makes itself non-dumpable before
 * the first setns, so nothing in the jail can ptrace it or open its /proc files (the
 * CVE-2016-9962 class), and, when ns_fds[0] is a user namespace, it becomes that namespace's
 * root (its mapped ids) before it forks into the jail's pid namespace, so the first process
 * the jail can see is never host root.
 */
int initos_jail_exec(int cgroup_procs_fd, const int *ns_fds, int ns_count, int first_is_user_ns, const char *path,
                     char *const argv[], char *const envp[], const struct initos_jail_process *process, int detach,
                     int *program_pid, int *stage, int *error)
{
    /* The middle process sends the program's pid (as the host sees it) through pid_pipe; when
       detached it waits on release for the exec's outcome: 'w' (it failed: reap the program, so
       no zombie of the jail's pid namespace falls to a subreaper outside it) or 'x' (it ran). */
    int pid_pipe[2], release[2];
    if (pipe2(pid_pipe, O_CLOEXEC) != 0)
        return -errno;
    if (pipe2(release, O_CLOEXEC) != 0) {
        int e = errno;
        close(pid_pipe[0]);
        close(pid_pipe[1]);
        return -e;
    }
    int report[2];
    pid_t pid = initos_fork_with_report(report);
    if (pid < 0) {
        close(pid_pipe[0]);
        close(pid_pipe[1]);
        close(release[0]);
        close(release[1]);
        return pid;
    }
    if (pid == 0) {
        close(pid_pipe[0]);
        close(release[1]);
        /* Into the jail's cgroup first, so its limits hold for this program too ("0": this process). */
        if (cgroup_procs_fd >= 0 && write(cgroup_procs_fd, "0", 1) != 1)
            initos_jail_fail(report[1], STAGE_JOIN_CGROUP);
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
            initos_jail_fail(report[1], STAGE_SETNS);
        for (int i = 0; i < ns_count; i++)
            if (setns(ns_fds[i], 0) != 0)
                initos_jail_fail(report[1], STAGE_SETNS);
        if (first_is_user_ns && ns_count > 0
            && (setresgid(0, 0, 0) != 0 || setgroups(0, NULL) != 0 || setresuid(0, 0, 0) != 0))
            initos_jail_fail(report[1], STAGE_USERNS_IDS);
        pid_t inner = fork();
        if (inner < 0)
            initos_jail_fail(report[1], STAGE_SETNS);
        if (inner == 0) {
            close(pid_pipe[1]);
            close(release[0]);
            initos_jail_child(path, argv, envp, process, report[1]);
        }
        close(report[1]);
        ssize_t written = write(pid_pipe[1], &inner, sizeof inner);
        (void)written;
        close(pid_pipe[1]);
        /* Detached (exec -d): once the program runs it is left to the nearest subreaper, as runc
           leaves it (a caller such as conmon waits for it itself). Else this process waits and
           passes its status on. */
        if (detach) {
            char outcome = 'x';
            ssize_t got;
            do {
                got = read(release[0], &outcome, 1);
            } while (got < 0 && errno == EINTR);
            if (got == 1 && outcome == 'w')
                while (waitpid(inner, NULL, 0) < 0 && errno == EINTR) {
                }
            _exit(0);
        }
        int status = 0;
        while (waitpid(inner, &status, 0) < 0 && errno == EINTR) {
        }
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    close(pid_pipe[1]);
    close(release[0]);
    int result = initos_jail_finish_start(pid, report, stage, error);
    char outcome = *stage != 0 ? 'w' : 'x';
    ssize_t sent = write(release[1], &outcome, 1);
    (void)sent;
    close(release[1]);
    pid_t program = 0;
    ssize_t n;
    do {
        n = read(pid_pipe[0], &program, sizeof program);
    } while (n < 0 && errno == EINTR);
    close(pid_pipe[0]);
    *program_pid = n == (ssize_t)sizeof program ? program : 0;
    return result;
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
