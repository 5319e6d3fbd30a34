/* The floor of the drain benchmark: spawn COUNT copies of a command with at most
   SLOTS in flight, as fast as the machine allows. Usage: floor COUNT SLOTS CMD [ARGS...] */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: floor COUNT SLOTS CMD [ARGS...]\n"); return 64; }
    long count = atol(argv[1]), slots = atol(argv[2]), started = 0, running = 0;
    while (started < count || running > 0) {
        while (started < count && running < slots) {
            pid_t pid;
            if (posix_spawnp(&pid, argv[3], NULL, NULL, &argv[3], environ) != 0) { perror("spawn"); return 1; }
            started++; running++;
        }
        int status;
        if (wait(&status) > 0) running--;
    }
    return 0;
}
