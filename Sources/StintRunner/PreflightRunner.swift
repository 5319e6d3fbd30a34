import Foundation
public import StintCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a queue's preflight command: `/bin/sh -c CMD` in its own session, in the state
/// folder, with stdin from `/dev/null` and the daemon's environment; the whole session
/// is killed after ``PreflightStatus/runTimeout``.
public enum PreflightRunner {
    /// Runs `command` and reports whether it passed (exit 0), with the exit status and
    /// the last line of its output as the reason of a failure. `scratch` is a file for
    /// the output, removed afterwards.
    ///
    /// Cancelling the calling task kills the command's session at once (a daemon shutting
    /// down does not wait for a slow preflight); the result then fails with `cancelled`.
    public static func run(
        _ command: String, directory: String, scratch: String, timeout: Double = PreflightStatus.runTimeout
    ) async -> (passed: Bool, reason: String?) {
        let cancelled = CancelFlag()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(
                        returning: runBlocking(
                            command, directory: directory, scratch: scratch, timeout: timeout, cancelled: cancelled))
                }
            }
        } onCancel: {
            cancelled.raised.store(true, ordering: .relaxed)
        }
    }

    private static func runBlocking(
        _ command: String, directory: String, scratch: String, timeout: Double, cancelled: CancelFlag
    ) -> (passed: Bool, reason: String?) {
        unlink(scratch)
        defer { unlink(scratch) }
        let environment = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        let pid: Int32
        do {
            pid = try ShimLauncher.spawnDetached(
                ["/bin/sh", "-c", "cd \(ShellQuoting.quote(directory)) && exec /bin/sh -c \(ShellQuoting.quote(command))"],
                environment: environment, output: scratch)
        } catch {
            return (false, "cannot start /bin/sh: \(error)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        var timedOut = false
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid || (reaped < 0 && errno != EINTR) { break }
            if !timedOut, Date() >= deadline || cancelled.raised.load(ordering: .relaxed) {
                timedOut = true
                kill(-pid, SIGKILL)
            }
            usleep(20_000)
        }
        // Whatever the command left behind in its session goes too.
        kill(-pid, SIGKILL)
        let output = LogReader.readFile(scratch, at: max(0, (LogReader.size(scratch) ?? 0) - 4096), count: 4096)
        let lastLine = PromptDetector.lastLine(of: String(decoding: output, as: UTF8.self))
        let detail = lastLine.map { ": \($0)" } ?? ""
        if cancelled.raised.load(ordering: .relaxed) { return (false, "cancelled") }
        if timedOut { return (false, "timed out after \(Int(timeout)) s\(detail)") }
        if status & 0x7f != 0 { return (false, "killed by signal \(status & 0x7f)\(detail)") }
        let code = (status >> 8) & 0xff
        guard code == 0 else { return (false, "exit \(code)\(detail)") }
        return (true, nil)
    }
}

/// Set when the task that runs a preflight is cancelled; read by the thread that waits for it.
private final class CancelFlag: Sendable {
    let raised = Atomic<Bool>(false)
}
