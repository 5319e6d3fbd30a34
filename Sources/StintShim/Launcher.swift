import CStintSpawn
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
    /// CStintSpawn's vfork + exec, which reports exec failures (ENOENT, EACCES) as its
    /// result as posix_spawnp does, but resets only the signals whose action differs in the
    /// shim (its handlers and its ignored SIGPIPE) instead of making two system calls for
    /// every signal. PATH is searched in the shim's own environment, which is the job's, and
    /// the environment is passed on unchanged; the child gets exactly 0, 1 and 2, an empty
    /// signal mask, and the command's umask.
    static func spawn(_ options: ShimOptions, outputWriteEnd: Int32) -> Result<pid_t, Failure> {
        // The shim never needs its own working directory again (the run directory and the log
        // are held open), so changing it is the simplest way to hand one to the child.
        if let directory = options.workingDirectory, chdir(directory) != 0 {
            return .failure(.cannotEnterDirectory(SystemError.current()))
        }
        var spawnOptions = stint_spawn_options(
            new_session: 0, search_path: 1, umask: options.commandUmask.map { Int32($0) } ?? -1, stdin_path: nil,
            output_fd: outputWriteEnd, output_path: nil)
        var spawnErrno: Int32 = 0
        let pid = stint_spawn_session(options.command[0]!, options.command, environ, &spawnOptions, &spawnErrno)
        guard pid > 0 else { return .failure(.cannotRun(SystemError(code: spawnErrno))) }
        return .success(pid)
    }
}
