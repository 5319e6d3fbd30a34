#define _GNU_SOURCE
#include "CStintSpawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/// The hexadecimal mask after `key` in the text of /proc/self/status (SigIgn:, SigCgt:).
static unsigned long long status_mask(const char *text, const char *key) {
    const char *line = strstr(text, key);
    if (!line) return ~0ULL;
    line += strlen(key);
    while (*line == ' ' || *line == '\t') line++;
    unsigned long long mask = 0;
    for (; *line; line++) {
        char c = *line;
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit < 0) break;
        mask = mask << 4 | (unsigned long long)digit;
    }
    return mask;
}

/// Gives its default action to every signal whose action is not the default in this
/// process: the ignored ones (SigIgn, which exec keeps) and the caught ones (SigCgt:
/// their handlers belong to the parent, whose memory this child still runs on). Read from
/// /proc/self/status, the child's own copy of the dispositions at the vfork: three system
/// calls and one sigaction per signal that differs, where glibc's posix_spawn makes two
/// per signal there is (about 130). Without /proc, every signal is reset.
static void reset_signals(void) {
    char text[4096];
    unsigned long long differ = ~0ULL;
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t length = read(fd, text, sizeof text - 1);
        close(fd);
        if (length > 0) {
            text[length] = 0;
            differ = status_mask(text, "SigIgn:") | status_mask(text, "SigCgt:");
        }
    }
    // The kernel's own call: glibc's sigaction refuses signals 32 and 33, which it keeps
    // for itself, and which a parent may have left ignored.
    struct { void *handler; unsigned long flags; void *restorer; unsigned long mask; } defaults = { SIG_DFL, 0, NULL, 0 };
    for (int sig = 1; sig <= 64; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        if (differ & (1ULL << (sig - 1))) syscall(SYS_rt_sigaction, sig, &defaults, NULL, sizeof defaults.mask);
    }
}

/// execve of `file`, looked up on PATH when it has no slash, the way posix_spawnp looks:
/// no retry through /bin/sh of a file without a `#!` line (execvpe would), an EACCES on
/// the way is reported if no later directory has the file. Returns only on failure.
static void exec_on_path(const char *file, char *const argv[], char *const envp[]) {
    if (strchr(file, '/')) {
        execve(file, argv, envp);
        return;
    }
    const char *path = getenv("PATH");
    if (!path) path = "/bin:/usr/bin";
    size_t file_length = strlen(file);
    int denied = 0;
    char candidate[4096];
    for (const char *start = path;; ) {
        const char *end = strchr(start, ':');
        size_t length = end ? (size_t)(end - start) : strlen(start);
        if (length + 1 + file_length < sizeof candidate) {
            if (length == 0) {
                memcpy(candidate, file, file_length + 1); // an empty entry is the working directory
            } else {
                memcpy(candidate, start, length);
                candidate[length] = '/';
                memcpy(candidate + length + 1, file, file_length + 1);
            }
            execve(candidate, argv, envp);
            if (errno == EACCES) {
                denied = 1;
            } else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE) {
                return;
            }
        }
        if (!end) break;
        start = end + 1;
    }
    errno = denied ? EACCES : ENOENT;
}

pid_t stint_spawn_session(
    const char *file, char *const argv[], char *const envp[], const struct stint_spawn_options *options, int *spawn_errno
) {
    // The child borrows this process's memory until it execs (vfork): it only makes system
    // calls, with every signal blocked until their actions are reset, and reports an exec
    // failure through `child_errno`, which the parent reads once the child has exec'd or exited.
    volatile int child_errno = 0;
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid_t pid = vfork();
    if (pid == 0) {
        reset_signals();
        if (options->new_session) {
            setsid();
        } else {
            setpgid(0, 0);
        }
        if (options->umask >= 0) umask((mode_t)options->umask);
        int input = open(options->stdin_path ? options->stdin_path : "/dev/null", O_RDONLY);
        int output = options->output_fd;
        if (output < 0) output = open(options->output_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (input < 0 || output < 0 || dup2(input, 0) < 0 || dup2(output, 1) < 0 || dup2(output, 2) < 0) {
            child_errno = errno;
            _exit(127);
        }
        if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
            long max = sysconf(_SC_OPEN_MAX);
            for (long fd = 3; fd < (max > 0 ? max : 65536); fd++) close((int)fd);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (options->search_path) {
            exec_on_path(file, argv, envp);
        } else {
            execve(file, argv, envp);
        }
        child_errno = errno ? errno : ENOEXEC;
        _exit(127);
    }
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (pid < 0) {
        *spawn_errno = fork_errno;
        return -1;
    }
    if (child_errno != 0) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        *spawn_errno = child_errno;
        return -1;
    }
    return pid;
}
