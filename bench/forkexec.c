/* Physical baseline for the mass start/stop scenarios of bench/sv_bench.py:
 * what N child processes cost the kernel when nothing else is done.
 *
 * Start: for each child, stdin/stdout/stderr pipes (as a supervisor makes),
 * then one of three ways to start it in a new process group and exec
 * /bin/cat:
 *   fork        fork, the child sets up and execs; the parent waits on a
 *               close-on-exec pipe until the exec has happened
 *   vfork       vfork (the parent is suspended until the exec), no copy
 *   posix_spawn glibc's posix_spawn (clone(CLONE_VM|CLONE_VFORK) inside)
 * Stop: SIGTERM to every child, then reap them all. Prints both times in
 * seconds, the mode last.
 *
 * A fork copies the parent's page tables, so its cost grows with the
 * parent's memory; the third argument makes this process touch that many
 * MiB first, to stand in for a daemon that has grown (the other two modes
 * should not care).
 *
 *     cc -O2 -o /tmp/forkexec bench/forkexec.c
 *     /tmp/forkexec 1000                   # fork, as before
 *     /tmp/forkexec 1000 posix_spawn 64    # posix_spawn from a 64 MiB parent
 *     /tmp/forkexec 1000 all               # the three modes one after another
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum mode { FORK, VFORK, POSIX_SPAWN };
static const char *mode_names[] = {"fork", "vfork", "posix_spawn"};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Start one /bin/cat with the given pipe ends as its 0, 1, 2. */
static pid_t start(enum mode mode, int in, int out, int err) {
    static char *const argv[] = {"cat", NULL};
    pid_t pid;
    if (mode == POSIX_SPAWN) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in, 0);
        posix_spawn_file_actions_adddup2(&fa, out, 1);
        posix_spawn_file_actions_adddup2(&fa, err, 2);
        posix_spawnattr_init(&attr);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        int rc = posix_spawn(&pid, "/bin/cat", &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        return rc == 0 ? pid : -1;
    }
    if (mode == VFORK) {
        pid = vfork();
        if (pid == 0) {
            setpgid(0, 0);
            dup2(in, 0);
            dup2(out, 1);
            dup2(err, 2);
            execve("/bin/cat", argv, environ);
            _exit(127);
        }
        return pid;
    }
    int ready[2];
    if (pipe2(ready, O_CLOEXEC))
        return -1;
    pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        execve("/bin/cat", argv, environ);
        _exit(127);
    }
    close(ready[1]);
    char c;
    while (read(ready[0], &c, 1) > 0) {
    }
    close(ready[0]);
    return pid;
}

static int run(int n, enum mode mode) {
    pid_t *pids = calloc(n, sizeof *pids);
    int *fds = calloc(3 * n, sizeof *fds);
    double t0 = now();
    for (int i = 0; i < n; i++) {
        int in[2], out[2], err[2];
        if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
            perror("pipe");
            return 1;
        }
        pid_t pid = start(mode, in[0], out[1], err[1]);
        if (pid < 0) {
            perror(mode_names[mode]);
            return 1;
        }
        close(in[0]);
        close(out[1]);
        close(err[1]);
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
    free(pids);
    free(fds);
    printf("%d children: start %.4f s (%.1f us each), stop %.4f s [%s]\n", n, t1 - t0,
           (t1 - t0) / n * 1e6, t2 - t1, mode_names[mode]);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    const char *which = argc > 2 ? argv[2] : "fork";
    long heap_mib = argc > 3 ? atol(argv[3]) : 0;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rlim_t want = 3 * (rlim_t)n + 64;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (heap_mib > 0) {
        size_t len = (size_t)heap_mib << 20;
        char *heap = malloc(len);
        if (!heap) {
            perror("malloc");
            return 1;
        }
        memset(heap, 1, len); /* touched: mapped pages the fork must copy */
    }
    for (int m = FORK; m <= POSIX_SPAWN; m++) {
        if (strcmp(which, "all") == 0 || strcmp(which, mode_names[m]) == 0) {
            if (run(n, m))
                return 1;
        }
    }
    return 0;
}
