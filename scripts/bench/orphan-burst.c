/*
 * orphan-burst N: PID 1's reaping throughput. Makes N orphans (each forked by a child that
 * exits at once, so PID 1 inherits it), all blocked on one pipe; then closes the pipe so
 * they all exit together, and times until every one of them is gone (kill(pid, 0) fails
 * with ESRCH only once PID 1 has reaped the zombie). Prints "reaped N in S s: R/s".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 5000;
    int release[2], report[2];
    pid_t *orphans = calloc(n, sizeof *orphans);
    if (!orphans || pipe(release) || pipe(report)) {
        perror("orphan-burst: setup");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        pid_t child = fork();
        if (child < 0) {
            perror("orphan-burst: fork");
            return 1;
        }
        if (child == 0) {
            pid_t orphan = fork();
            if (orphan == 0) {
                char byte;
                close(release[1]);
                while (read(release[0], &byte, 1) < 0 && errno == EINTR) {
                }
                _exit(0);
            }
            if (write(report[1], &orphan, sizeof orphan) != sizeof orphan)
                _exit(1);
            _exit(0);
        }
        if (read(report[0], &orphans[i], sizeof orphans[i]) != sizeof orphans[i] || orphans[i] <= 0) {
            fprintf(stderr, "orphan-burst: child %d reported no orphan\n", child);
            return 1;
        }
        waitpid(child, NULL, 0);
    }
    double start = now();
    close(release[1]);
    for (int i = 0; i < n; i++) {
        while (kill(orphans[i], 0) == 0)
            usleep(50);
    }
    double seconds = now() - start;
    printf("reaped %d in %.3f s: %.0f/s\n", n, seconds, n / seconds);
    return 0;
}
