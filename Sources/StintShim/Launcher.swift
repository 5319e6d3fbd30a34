import Glibc

/// Starts the job's command.
enum Launcher {
    /// Why the command did not start, worded for the log and the exit record.
    struct Failure: Error {
        let message: String
    }

    /// Enters `workingDirectory` (if any) and spawns `command` in a new process group with
    /// stdin on /dev/null and stdout and stderr both on `outputWriteEnd`.
    ///
    /// posix_spawnp rather than fork+exec: glibc implements it with clone(CLONE_VFORK), which
    /// is cheap, and reports exec failures (ENOENT, EACCES) as its return value. PATH is
    /// searched in the shim's own environment, which is the job's.
    static func spawn(
        _ command: UnsafePointer<UnsafeMutablePointer<CChar>?>,
        workingDirectory: UnsafePointer<CChar>?,
        outputWriteEnd: Int32
    ) -> Result<pid_t, Failure> {
        let name = String(cString: command[0]!)
        // The shim itself never needs its own working directory again (run directory and
        // log are held open), so changing it is the simplest way to give it to the child.
        if let workingDirectory, chdir(workingDirectory) != 0 {
            let error = SystemError.current()
            return .failure(Failure(
                message: "stint: cannot enter directory '\(String(cString: workingDirectory))': \(error.text)"))
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputWriteEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, outputWriteEnd, 2)
        // Every other descriptor the shim holds is close-on-exec (and inherited ones were
        // closed at start-up), so the child gets exactly 0, 1 and 2.
        // (posix_spawn_file_actions_addclosefrom_np is not visible through Swift's Glibc module.)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Own process group, so the tree can be signalled as a group; default dispositions
        // and an empty mask, so the shim's handlers and ignored SIGPIPE do not leak into the job.
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)

        var pid: pid_t = 0
        let status = posix_spawnp(&pid, command[0]!, &actions, &attributes, command, environ)
        guard status == 0 else {
            return .failure(Failure(message: "stint: cannot run '\(name)': \(SystemError(code: status).text)"))
        }
        return .success(pid)
    }
}
