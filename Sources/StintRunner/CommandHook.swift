public import Foundation
public import StintCore

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a command hook (`--on-end CMD`): `/bin/sh -c CMD` in its own session, so its
/// whole process group can be killed when it runs too long or the caller gives up.
public enum CommandHook {
    /// Runs `command` in `directory` with exactly `environment`, `input` on its stdin and
    /// its stdout and stderr in the file `output` (replaced, then removed).
    ///
    /// Returns how it ended and the last line it printed. Past `timeout` seconds, or when
    /// the calling task is cancelled, the hook's process group is killed with SIGKILL;
    /// a timeout reports ``DeliveryResult/commandTimedOut``.
    public static func run(
        _ command: String, directory: String, environment: [String: String], input: Data, output: String,
        timeout: Double
    ) async -> (result: DeliveryResult, lastLine: String?) {
        defer { unlink(output) }
        let pid: Int32
        do {
            pid = try spawn(command, directory: directory, environment: environment, input: input, output: output)
        } catch {
            return (.launchFailed(error.message), nil)
        }
        // Not awaited: it only kills the hook's group once the timeout has passed, and is
        // cancelled as soon as the hook exits.
        let timer = Task {
            try await Task.sleep(for: .seconds(timeout))
            kill(-pid, SIGKILL)
        }
        let status = await withTaskCancellationHandler {
            await waitForExit(pid)
        } onCancel: {
            kill(-pid, SIGKILL)
        }
        timer.cancel()
        let timerFired = (try? await timer.value) != nil
        let lastLine = Self.lastLine(output)
        guard let status else { return (.launchFailed("lost track of the hook's process"), lastLine) }
        let signal = status & 0x7f
        if signal != 0 {
            // The timer may fire just after a hook ended by itself; only its own kill counts.
            if timerFired, signal == SIGKILL { return (.commandTimedOut, lastLine) }
            return (.signaled(Int(signal)), lastLine)
        }
        return (.exited(Int((status >> 8) & 0xff)), lastLine)
    }

    /// Starts `/bin/sh -c command` in a new session with `input` as its stdin.
    private static func spawn(
        _ command: String, directory: String, environment: [String: String], input: Data, output: String
    ) throws(SpawnError) -> Int32 {
        // The input goes through an unlinked file rather than a pipe, so a hook that never
        // reads its stdin cannot block the daemon, whatever the payload's size.
        let inputPath = output + ".in"
        let inputFD = open(inputPath, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0o600)
        guard inputFD >= 0 else { throw SpawnError("cannot create \(inputPath): \(String(cString: strerror(errno)))") }
        unlink(inputPath)
        defer { close(inputFD) }
        let written = input.withUnsafeBytes { write(inputFD, $0.baseAddress, $0.count) }
        guard written == input.count, lseek(inputFD, 0, SEEK_SET) == 0 else {
            throw SpawnError("cannot write the hook's input: \(String(cString: strerror(errno)))")
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inputFD, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        stint_posix_spawn_file_actions_addchdir_np(&actions, directory)
        SpawnActions.closeDescriptors(from: 3, in: &actions)

        let arguments = ["/bin/sh", "-c", command]
        let envp = environment.map { "\($0.key)=\($0.value)" }.sorted()
        var pid: pid_t = 0
        let status = withCStrings(arguments) { argv in
            withCStrings(envp) { envp in
                SessionSpawn.withAttributes { attributes in
                    posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp)
                }
            }
        }
        guard status == 0 else { throw SpawnError(String(cString: strerror(status))) }
        return pid
    }

    /// The wait status of `pid` once it has exited; `nil` when it is not our child.
    ///
    /// `waitpid` blocks a dispatch thread: hooks run a few at a time, so this costs a few
    /// threads at most, and needs no SIGCHLD handling that would race the shim watcher.
    private static func waitForExit(_ pid: Int32) async -> Int32? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var status: Int32 = 0
                var reaped = waitpid(pid, &status, 0)
                while reaped < 0, errno == EINTR { reaped = waitpid(pid, &status, 0) }
                continuation.resume(returning: reaped == pid ? status : nil)
            }
        }
    }

    /// The last non-empty line of the file at `path`, from its last 4 KiB.
    private static func lastLine(_ path: String) -> String? {
        let size = LogReader.size(path) ?? 0
        let tail = LogReader.readFile(path, at: max(0, size - 4096), count: 4096)
        return PromptDetector.lastLine(of: String(decoding: tail, as: UTF8.self))
    }

    private struct SpawnError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }
}

/// Declared by name because Swift's Glibc module hides it (glibc 2.29+).
@_silgen_name("posix_spawn_file_actions_addchdir_np")
private func stint_posix_spawn_file_actions_addchdir_np(
    _ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: UnsafePointer<CChar>
) -> Int32
