#ifndef CSTINTSPAWN_H
#define CSTINTSPAWN_H

#include <sys/types.h>

/// Starts (vfork + exec) `path` with `argv` and `envp` as the leader of a new process group, with stdin
/// from /dev/null and stdout and stderr on `output_fd`, and with every other descriptor
/// closed. The child gets SIGKILL when the calling thread ends (PR_SET_PDEATHSIG), so a
/// unit never outlives a batch killed by SIGKILL: call it from a thread that lives until
/// the child has been waited for. Signal mask and dispositions are reset to defaults.
///
/// Returns the child's pid, or -1 with `*spawn_errno` set (fork failed, or exec failed
/// in the child: then the child has been reaped).
pid_t stint_spawn_unit(const char *path, char *const argv[], char *const envp[], int output_fd, int *spawn_errno);

/// How ``stint_spawn_session`` sets up the child.
struct stint_spawn_options {
    /// Nonzero: the child leads a new session (setsid); zero: a new process group.
    int new_session;
    /// Nonzero: `file` is looked up on the PATH of the calling process, as posix_spawnp does.
    int search_path;
    /// The child's umask, or -1 for the caller's.
    int umask;
    /// Opened read-only as stdin; NULL: /dev/null.
    const char *stdin_path;
    /// Duplicated onto stdout and stderr; -1: open `output_path` instead.
    int output_fd;
    /// Opened for appending (created 0600) as stdout and stderr when `output_fd` is -1.
    const char *output_path;
};

/// Starts `file` (vfork + exec) in a new session or process group, with stdin and
/// stdout/stderr as `options` says, no other descriptor, an empty signal mask, and the
/// default action for every signal: only the signals whose action differs in the caller
/// are reset, read from /proc/self/status (no system call per signal).
///
/// Returns the child's pid, or -1 with `*spawn_errno` set (vfork failed, or the set-up or
/// exec failed in the child, which has then been reaped).
pid_t stint_spawn_session(
    const char *file, char *const argv[], char *const envp[], const struct stint_spawn_options *options, int *spawn_errno);

/// `pidfd_open(pid, 0)`: a descriptor that polls readable when `pid` ends; -1 if the
/// kernel has none (before Linux 5.3).
int stint_pidfd_open(pid_t pid);

/// `pipe2(fds, O_CLOEXEC)`, which Swift's Glibc module hides.
int stint_pipe_cloexec(int fds[2]);

/// Starts the guard of a batch: a process that outlives it by a moment and kills the
/// process groups of the units still running when the batch ends, however it ends (even by
/// SIGKILL: it sees the end as EOF on a pipe). Returns the pipe's write end (close-on-exec),
/// or -1. Tell it about each unit with `stint_guard_note`.
int stint_guard_start(void);

/// Tells the guard that the process group `message` started (positive) or ended (negative).
void stint_guard_note(int guard_fd, int message);

#endif
