/*
 * The only C in InitOS: what managed code cannot do safely.
 *
 * 1. Signal handlers. PID 1 must catch SIGCHLD, SIGTERM, SIGINT, SIGUSR1, SIGUSR2 (the
 *    kernel drops default-action signals sent to init), and a handler runs on whatever
 *    thread the kernel picks, where managed code must not run. The handler here only
 *    sets a flag and writes one byte to a non-blocking pipe; a managed thread sleeps on
 *    the pipe and collects the flags. A full pipe loses only a wake-up, never a signal.
 * 2. Spawning with exact signal state. Between fork and exec no managed code may run,
 *    and the child must get back the signal dispositions and mask this process started
 *    with (tini's contract) plus a process group, a foreground terminal and a
 *    parent-death signal when asked. posix_spawn cannot restore SIG_IGN; this can.
 * 3. Jails (initos_jail.c): clone into new namespaces and exec a sealed binary, and the
 *    last steps of a jail's program (ids, capabilities, seccomp) between fork and exec.
 * 4. Passing an fd over a unix socket (SCM_RIGHTS): a jail's terminal to runc's --console-socket.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define INITOS_NSIG 65

static int wake_fd = -1;
/* Bit sig-1 set: the signal arrived since the last initos_take_signals. */
static _Atomic unsigned long long pending_mask;
/* 1 while a wake-up byte is in the pipe and not yet consumed: a burst of SIGCHLDs writes one byte. */
static atomic_int wake_pending;
static struct sigaction original[INITOS_NSIG];
static int original_saved[INITOS_NSIG];
static sigset_t original_mask;
static sigset_t caught_set;

/*
 * Runs before the .NET runtime starts (a constructor of the statically linked object):
 * the only moment the signal mask and dispositions this process inherited are still
 * untouched. Children get exactly these back (tini's contract, and what sigconf tests).
 */
__attribute__((constructor)) static void save_inherited_signal_state(void)
{
    sigprocmask(SIG_SETMASK, NULL, &original_mask);
    sigemptyset(&caught_set);
    for (int sig = 1; sig < INITOS_NSIG; sig++)
        if (sigaction(sig, NULL, &original[sig]) == 0)
            original_saved[sig] = 1;
}

static void on_signal(int sig)
{
    int saved_errno = errno;
    if (sig > 0 && sig < INITOS_NSIG)
        atomic_fetch_or(&pending_mask, 1ULL << (sig - 1));
    if (wake_fd >= 0 && !atomic_exchange(&wake_pending, 1)) {
        unsigned char byte = (unsigned char)sig;
        ssize_t ignored = write(wake_fd, &byte, 1);
        (void)ignored;
    }
    errno = saved_errno;
}

/* Unblocks the caught signals in the calling thread, so they are delivered to it. */
int initos_unblock_caught_signals(void)
{
    return pthread_sigmask(SIG_UNBLOCK, &caught_set, NULL);
}

/* Installs the flag-and-wake handler for one signal, keeping its original disposition. */
int initos_catch_signal(int sig, int wake_write_fd)
{
    if (sig <= 0 || sig >= INITOS_NSIG) {
        errno = EINVAL;
        return -1;
    }
    wake_fd = wake_write_fd;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigfillset(&action.sa_mask);
    action.sa_flags = SA_RESTART | (sig == SIGCHLD ? SA_NOCLDSTOP : 0);
    if (sigaction(sig, &action, original_saved[sig] ? NULL : &original[sig]) != 0)
        return -1;
    original_saved[sig] = 1;
    sigaddset(&caught_set, sig);
    return 0;
}

/*
 * The signals that arrived since the last call (bit sig-1), cleared. Call after draining the
 * wake-up pipe: the wake flag is re-armed first, so a signal that comes after this point
 * writes a new byte, and one that came before is in the returned mask.
 */
unsigned long long initos_take_signals(void)
{
    atomic_store(&wake_pending, 0);
    return atomic_exchange(&pending_mask, 0);
}

enum {
    INITOS_SPAWN_NEW_SESSION = 1,     /* setsid() */
    INITOS_SPAWN_NEW_GROUP = 2,       /* setpgid(0, 0) */
    INITOS_SPAWN_FOREGROUND = 4,      /* make the new group the terminal's foreground group */
    INITOS_SPAWN_KEEP_STDERR = 8,     /* stdio_fd on 0 and 1 only: 2 stays this process's (a log) */
    INITOS_SPAWN_DETACHED = 16,       /* forked twice: the child is an orphan, reaped by the subreaper or init */
    INITOS_SPAWN_NEW_MOUNT_NS = 32,   /* unshare(CLONE_NEWNS): the child's mounts are its own */
};

/* A handler cannot survive exec; what was ignored must stay ignored, the rest is default. */
static void restore_inherited_dispositions(void)
{
    for (int sig = 1; sig < INITOS_NSIG; sig++) {
        if (!original_saved[sig] || sig == SIGKILL || sig == SIGSTOP)
            continue;
        if (original[sig].sa_handler == SIG_IGN)
            sigaction(sig, &original[sig], NULL);
        else
            signal(sig, SIG_DFL);
    }
}

/* In a child between fork and exec: the signal dispositions and mask this process inherited. */
void initos_restore_inherited_signals(void)
{
    restore_inherited_dispositions();
    sigprocmask(SIG_SETMASK, &original_mask, NULL);
}

/* The child side: restore the inherited signal state, then the requested session setup. */
static void child_setup(int flags, int death_signal, int stdio_fd)
{
    /* The mask last: nothing is delivered until the session is set up. */
    restore_inherited_dispositions();
    if (flags & INITOS_SPAWN_NEW_SESSION)
        setsid();
    if (flags & INITOS_SPAWN_NEW_GROUP)
        setpgid(0, 0);
    if (stdio_fd >= 0) {
        dup2(stdio_fd, 0);
        dup2(stdio_fd, 1);
        if (!(flags & INITOS_SPAWN_KEEP_STDERR))
            dup2(stdio_fd, 2);
        if (stdio_fd > 2)
            close(stdio_fd);
    }
    if (flags & INITOS_SPAWN_NEW_SESSION)
        ioctl(0, TIOCSCTTY, 0);
    if (flags & INITOS_SPAWN_FOREGROUND) {
        /* Like tini: a terminal is optional; ENOTTY and ENXIO are not errors. */
        signal(SIGTTOU, SIG_IGN);
        tcsetpgrp(STDIN_FILENO, getpgrp());
        if (original_saved[SIGTTOU])
            sigaction(SIGTTOU, &original[SIGTTOU], NULL);
        else
            signal(SIGTTOU, SIG_DFL);
    }
    if (death_signal > 0)
        prctl(PR_SET_PDEATHSIG, death_signal);
    sigprocmask(SIG_SETMASK, &original_mask, NULL);
}

/*
 * fork, with a close-on-exec pipe for the child to report a failure before exec through
 * (report[1]; the child's copy of the read end is closed here); the pipe is closed again
 * if fork fails. Returns the pid (0 in the child) or -errno.
 */
pid_t initos_fork_with_report(int report[2])
{
    if (pipe2(report, O_CLOEXEC) != 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(report[0]);
        close(report[1]);
        return -e;
    }
    if (pid == 0)
        close(report[0]);
    return pid;
}

/* One int from a report pipe; 0 at its end (exec succeeded, or the writer left). */
static int read_report(int fd, int *value)
{
    ssize_t n;
    do {
        n = read(fd, value, sizeof *value);
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof *value;
}

/*
 * fork + exec. Returns the pid, or -errno. If exec fails the child exits with 126
 * (found but not executable) or 127 (not found), the shell's and tini's convention,
 * after writing errno into the CLOEXEC pipe so the parent can report it. DETACHED puts a
 * middle process between (reaped here) that writes the grandchild's pid into the same pipe.
 */
int initos_spawn(const char *path, char *const argv[], char *const envp[], int search_path,
                 int flags, int death_signal, int stdio_fd, int *exec_errno)
{
    int report[2];
    pid_t pid = initos_fork_with_report(report);
    if (pid < 0)
        return pid;
    if (pid == 0) {
        if (flags & INITOS_SPAWN_DETACHED) {
            /* The middle process reports the grandchild's pid first and leaves at once. */
            pid_t grandchild = fork();
            if (grandchild != 0) {
                int reported = grandchild > 0 ? grandchild : -errno;
                ssize_t ignored = write(report[1], &reported, sizeof reported);
                (void)ignored;
                _exit(grandchild > 0 ? 0 : 1);
            }
        }
        child_setup(flags, death_signal, stdio_fd);
        /* In the child the process is single-threaded: the whole of it enters the namespace. */
        if ((flags & INITOS_SPAWN_NEW_MOUNT_NS) && unshare(CLONE_NEWNS) != 0) {
            int e = errno;
            ssize_t ignored = write(report[1], &e, sizeof e);
            (void)ignored;
            _exit(125);
        }
        if (search_path)
            execvpe(path, argv, envp);
        else
            execve(path, argv, envp);
        int e = errno;
        ssize_t ignored = write(report[1], &e, sizeof e);
        (void)ignored;
        _exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
    }
    close(report[1]);
    if (flags & INITOS_SPAWN_DETACHED) {
        int middle_status;
        while (waitpid(pid, &middle_status, 0) < 0 && errno == EINTR)
            ;
        pid = read_report(report[0], &pid) ? pid : -EPIPE;
        if (pid < 0) {
            close(report[0]);
            return pid;
        }
    }
    int e = 0;
    *exec_errno = read_report(report[0], &e) ? e : 0;
    close(report[0]);
    return pid;
}

/*
 * runc's --console-socket: connects to the unix stream socket at socket_path and sends fd with
 * SCM_RIGHTS, name as the message (runc sends the terminal's name). Returns 0 or -errno.
 */
int initos_send_fd(const char *socket_path, int fd, const char *name)
{
    struct sockaddr_un address = { .sun_family = AF_UNIX };
    size_t length = strlen(socket_path);
    if (length >= sizeof address.sun_path)
        return -ENAMETOOLONG;
    memcpy(address.sun_path, socket_path, length + 1);
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        return -errno;
    union {
        char buffer[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct iovec data = { (void *)name, strlen(name) };
    struct msghdr message = {
        .msg_iov = &data, .msg_iovlen = 1, .msg_control = control.buffer, .msg_controllen = sizeof control.buffer,
    };
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(header), &fd, sizeof fd);
    int result = 0;
    if (connect(sock, (struct sockaddr *)&address, sizeof address) != 0)
        result = -errno;
    else if (sendmsg(sock, &message, MSG_NOSIGNAL) < 0)
        result = -errno;
    close(sock);
    return result;
}
