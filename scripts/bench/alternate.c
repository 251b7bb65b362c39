/*
 * alternate RUNS -- NAME COMMAND... [-- NAME COMMAND...]...: runs each command in turn, RUNS
 * rounds, and prints each one's median, min and max wall time in ms, then the ratio of each
 * median to the first one's. "{}" in an argument becomes the round number (unique ids). A
 * command that fails stops the benchmark: a fast failure is not a result. Static, so it
 * runs in a bare initramfs; used by scripts/bench-jails-vm.sh inside the QEMU guest.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_COMMANDS 8
#define MAX_ARGS 32

struct command {
    const char *name;
    char *argv[MAX_ARGS];
    double *ms;
};

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double run(struct command *c, int round)
{
    char *argv[MAX_ARGS], numbers[MAX_ARGS][256];
    for (int i = 0; c->argv[i]; i++) {
        char *mark = strstr(c->argv[i], "{}");
        if (mark) {
            snprintf(numbers[i], sizeof numbers[i], "%.*s%d%s", (int)(mark - c->argv[i]), c->argv[i], round, mark + 2);
            argv[i] = numbers[i];
        } else {
            argv[i] = c->argv[i];
        }
        argv[i + 1] = NULL;
    }
    double start = now_ms();
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    double elapsed = now_ms() - start;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "alternate: %s failed in round %d (status %d)\n", c->name, round, status);
        exit(1);
    }
    return elapsed;
}

int main(int argc, char **argv)
{
    struct command commands[MAX_COMMANDS];
    int count = 0, runs = argc > 1 ? atoi(argv[1]) : 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0 && i + 2 < argc && count < MAX_COMMANDS) {
            struct command *c = &commands[count++];
            c->name = argv[++i];
            int n = 0;
            while (i + 1 < argc && strcmp(argv[i + 1], "--") != 0 && n < MAX_ARGS - 1)
                c->argv[n++] = argv[++i];
            c->argv[n] = NULL;
            c->ms = calloc(runs, sizeof(double));
        }
    }
    if (runs <= 0 || count == 0) {
        fprintf(stderr, "usage: alternate RUNS -- NAME COMMAND... [-- NAME COMMAND...]...\n");
        return 2;
    }
    for (int r = 0; r < runs; r++)
        for (int c = 0; c < count; c++)
            commands[c].ms[r] = run(&commands[c], r);
    double first = 0;
    printf("%-28s %10s %8s %8s %10s\n", "command", "median ms", "min ms", "max ms", "1st/this");
    for (int c = 0; c < count; c++) {
        qsort(commands[c].ms, runs, sizeof(double), compare);
        double median = runs % 2 ? commands[c].ms[runs / 2] : (commands[c].ms[runs / 2 - 1] + commands[c].ms[runs / 2]) / 2;
        if (c == 0)
            first = median;
        printf("%-28s %10.1f %8.1f %8.1f %10.2f\n", commands[c].name, median, commands[c].ms[0], commands[c].ms[runs - 1], first / median);
    }
    return 0;
}
