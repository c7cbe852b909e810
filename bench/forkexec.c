/* Physical baseline for the mass start/stop scenarios of bench/sv_bench.py:
 * what N child processes cost the kernel when nothing else is done.
 *
 * Start: for each child, stdin/stdout/stderr pipes (as a supervisor makes),
 * fork, new process group, exec /bin/cat; the parent waits on a close-on-exec
 * pipe until the exec has happened. Stop: SIGTERM to every child, then reap
 * them all. Prints both times in seconds.
 *
 *     cc -O2 -o /tmp/forkexec bench/forkexec.c && /tmp/forkexec 1000
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    /* Three pipe ends per child stay open: as many as the hard limit allows. */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    pid_t *pids = calloc(n, sizeof *pids);
    int *fds = calloc(3 * n, sizeof *fds);
    double t0 = now();
    for (int i = 0; i < n; i++) {
        int in[2], out[2], err[2], ready[2];
        if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) ||
            pipe2(ready, O_CLOEXEC)) {
            perror("pipe");
            return 1;
        }
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            setpgid(0, 0);
            dup2(in[0], 0);
            dup2(out[1], 1);
            dup2(err[1], 2);
            execl("/bin/cat", "cat", (char *)NULL);
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        close(err[1]);
        close(ready[1]);
        char c;
        while (read(ready[0], &c, 1) > 0) {
        }
        close(ready[0]);
        pids[i] = pid;
        fds[3 * i] = in[1];
        fds[3 * i + 1] = out[0];
        fds[3 * i + 2] = err[0];
    }
    double t1 = now();
    for (int i = 0; i < n; i++)
        kill(pids[i], SIGTERM);
    for (int i = 0; i < n; i++)
        waitpid(pids[i], NULL, 0);
    double t2 = now();
    for (int i = 0; i < 3 * n; i++)
        close(fds[i]);
    printf("%d children: start %.4f s (%.1f us each), stop %.4f s\n", n, t1 - t0,
           (t1 - t0) / n * 1e6, t2 - t1);
    return 0;
}
