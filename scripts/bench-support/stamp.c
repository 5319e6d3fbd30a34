/* A job for the latency benchmark: writes CLOCK_REALTIME in nanoseconds to FILE.start
   as soon as it runs, sleeps MILLISECONDS, then writes FILE.end right before it exits.
   A FILE ending in "%j" has it replaced by $STINT_JOB_ID (a schedule's jobs share argv).
   Usage: stamp FILE [MILLISECONDS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void stamp(const char *path, const char *suffix) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char name[4096];
    size_t length = strlen(path);
    const char *job = getenv("STINT_JOB_ID");
    if (length >= 2 && strcmp(path + length - 2, "%j") == 0 && job)
        snprintf(name, sizeof name, "%.*s%s.%s", (int)(length - 2), path, job, suffix);
    else
        snprintf(name, sizeof name, "%s.%s", path, suffix);
    FILE *file = fopen(name, "w");
    if (!file) exit(1);
    fprintf(file, "%lld\n", (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
    fclose(file);
}

int main(int argc, char **argv) {
    if (argc < 2) return 64;
    stamp(argv[1], "start");
    if (argc > 2) {
        long ms = atol(argv[2]);
        struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
        nanosleep(&pause, NULL);
    }
    stamp(argv[1], "end");
    return 0;
}
