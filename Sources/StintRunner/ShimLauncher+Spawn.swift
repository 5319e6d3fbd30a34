import CStintSpawn
import StintCore

#if canImport(Glibc)
    import Glibc
#endif

extension ShimLauncher {
    /// Starts `arguments` in a new session with stdin on /dev/null, stdout and stderr on
    /// `output` (appended), no inherited fds, no blocked signal and every signal at its
    /// default action. CStintSpawn's vfork + exec rather than `posix_spawn`: glibc's child
    /// makes two system calls for every signal (about 130 before each shim), where this one
    /// resets only the few whose action differs in the daemon.
    static func spawnDetached(_ arguments: [String], environment: [String], output: String = "/dev/null") throws -> Int32 {
        var spawnErrno: Int32 = 0
        let pid = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in
                output.withCString { outputPath in
                    var options = stint_spawn_options(
                        new_session: 1, search_path: 0, umask: -1, stdin_path: nil, output_fd: -1, output_path: outputPath)
                    return stint_spawn_session(argv[0], argv, envp, &options, &spawnErrno)
                }
            }
        }
        guard pid > 0 else {
            throw StintError(.internal, "cannot start \(arguments[0]): \(String(cString: strerror(spawnErrno)))")
        }
        return pid
    }
}
