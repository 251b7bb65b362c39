/*
 * Workloads for the cgroup limit tests, run inside a jail in a QEMU guest:
 *   cgroup-hogs memory MIB   allocate and touch MIB mebibytes, 1 MiB at a time, printing progress
 *   cgroup-hogs forkbomb N   fork up to N sleeping children; print how many forks worked and why one failed
 *   cgroup-hogs spin MS      spin for MS ms of wall time; print the CPU time it got
 * Output goes straight to stdout (unbuffered) so progress survives an OOM kill.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long now_ms(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

static int memory(long mib)
{
    for (long i = 1; i <= mib; i++) {
        char *chunk = malloc(1 << 20);
        if (chunk == NULL) {
            printf("MEMORY malloc failed at %ld MiB\n", i);
            return 1;
        }
        memset(chunk, 0x5a, 1 << 20);
        if (i % 4 == 0)
            printf("MEMORY allocated=%ld\n", i);
    }
    printf("MEMORY all %ld MiB allocated\n", mib);
    return 0;
}

static int forkbomb(int n)
{
    pid_t children[4096];
    int forked = 0, error = 0;
    for (; forked < n && forked < 4096; forked++) {
        pid_t pid = fork();
        if (pid < 0) {
            error = errno;
            break;
        }
        if (pid == 0) {
            pause();
            _exit(0);
        }
        children[forked] = pid;
    }
    printf("FORKBOMB forked=%d error=%s\n", forked, error ? strerror(error) : "none");
    for (int i = 0; i < forked; i++)
        kill(children[i], SIGKILL);
    while (wait(NULL) > 0) {
    }
    return 0;
}

static int spin(long ms)
{
    long start = now_ms(CLOCK_MONOTONIC);
    volatile unsigned long x = 0;
    while (now_ms(CLOCK_MONOTONIC) - start < ms)
        x++;
    printf("SPIN wall_ms=%ld cpu_ms=%ld\n", now_ms(CLOCK_MONOTONIC) - start, now_ms(CLOCK_PROCESS_CPUTIME_ID));
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc == 3 && strcmp(argv[1], "memory") == 0)
        return memory(atol(argv[2]));
    if (argc == 3 && strcmp(argv[1], "forkbomb") == 0)
        return forkbomb(atoi(argv[2]));
    if (argc == 3 && strcmp(argv[1], "spin") == 0)
        return spin(atol(argv[2]));
    fprintf(stderr, "usage: cgroup-hogs memory MIB | forkbomb N | spin MS\n");
    return 2;
}
