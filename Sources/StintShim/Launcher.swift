import Glibc

/// Starts the job's command.
enum Launcher {
    /// Why the command did not start.
    enum Failure: Error {
        case cannotEnterDirectory(SystemError)
        case cannotRun(SystemError)

        /// "stint: cannot run 'ARGV0': REASON" or "stint: cannot enter directory 'DIR': REASON",
        /// the line that goes into the log and the exit record's message.
        func describe(_ options: ShimOptions, into message: inout TextBuffer) {
            message.append("stint: ")
            switch self {
            case .cannotEnterDirectory(let error):
                message.append("cannot enter directory '")
                message.append(cString: options.workingDirectory!)
                message.append("': ")
                message.append(cString: error.text)
            case .cannotRun(let error):
                message.append("cannot run '")
                message.append(cString: options.command[0]!)
                message.append("': ")
                message.append(cString: error.text)
            }
        }
    }

    /// Enters `options.workingDirectory` (if any) and spawns the command in a new process
    /// group with stdin on /dev/null and stdout and stderr both on `outputWriteEnd`.
    ///
    /// posix_spawnp rather than fork+exec: glibc implements it with clone(CLONE_VFORK), which
    /// is cheap, and reports exec failures (ENOENT, EACCES) as its return value. PATH is
    /// searched in the shim's own environment, which is the job's, and the environment is
    /// passed on unchanged.
    static func spawn(_ options: ShimOptions, outputWriteEnd: Int32) -> Result<pid_t, Failure> {
        // The shim never needs its own working directory again (the run directory and the log
        // are held open), so changing it is the simplest way to hand one to the child.
        if let directory = options.workingDirectory, chdir(directory) != 0 {
            return .failure(.cannotEnterDirectory(SystemError.current()))
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, StaticString("/dev/null").cString, O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputWriteEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, outputWriteEnd, 2)
        // Every other descriptor the shim holds is close-on-exec, and any it inherited were
        // closed at start-up, so the child gets exactly 0, 1 and 2.
        // (posix_spawn_file_actions_addclosefrom_np is not visible through Swift's Glibc module.)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, so the tree can be signalled as a group; default signal
        // dispositions and an empty mask, so the shim's handlers and its ignored SIGPIPE do
        // not leak into the job.
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
        // posix_spawn has no umask attribute: the child takes the shim's at the spawn, so
        // the shim lends it the command's for that moment (it is single-threaded).
        let shimUmask = options.commandUmask.map { umask($0) }
        let status = posix_spawnp(&pid, options.command[0]!, &actions, &attributes, options.command, environ)
        if let shimUmask { umask(shimUmask) }
        guard status == 0 else { return .failure(.cannotRun(SystemError(code: status))) }
        return .success(pid)
    }
}
