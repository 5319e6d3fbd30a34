/* The two-process floor: what a design with two processes per job (a parent like the
   shim, and the command) costs at the least. Spawns COUNT parents with at most SLOTS in
   flight; each parent is this program executed afresh (the shim is a fresh exec too) with
   --child, which spawns the command once, waits for it and exits.
   Usage: floor2 COUNT SLOTS CMD [ARGS...]
          floor2 --child CMD [ARGS...]      (one parent: spawn CMD, wait, exit with its status) */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

/* The parent: one spawn and one wait, nothing else. */
static int child(char **command) {
    pid_t pid;
    if (posix_spawnp(&pid, command[0], NULL, NULL, command, environ) != 0) { perror("spawn"); return 127; }
    int status;
    if (waitpid(pid, &status, 0) < 0) { perror("waitpid"); return 1; }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "--child") == 0) return child(&argv[2]);
    if (argc < 4) { fprintf(stderr, "usage: floor2 COUNT SLOTS CMD [ARGS...] | floor2 --child CMD [ARGS...]\n"); return 64; }
    long count = atol(argv[1]), slots = atol(argv[2]), started = 0, running = 0;
    /* argv[1] and argv[2] become "floor2 --child": the parent's argv is ours from CMD on. */
    char **parent = &argv[1];
    parent[0] = argv[0];
    parent[1] = "--child";
    while (started < count || running > 0) {
        while (started < count && running < slots) {
            pid_t pid;
            /* /proc/self/exe: this very binary, wherever it was started from. */
            if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, parent, environ) != 0) { perror("spawn"); return 1; }
            started++; running++;
        }
        int status;
        if (wait(&status) > 0) {
            running--;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { fprintf(stderr, "floor2: a parent failed\n"); return 1; }
        }
    }
    return 0;
}
