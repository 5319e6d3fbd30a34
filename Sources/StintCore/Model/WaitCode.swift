/// The exit code `stint wait` and `stint run` use for an ended job (SPEC: exit codes).
public enum WaitCode {
    /// The job timed out.
    public static let timeout: Int32 = 124
    /// The job was cancelled.
    public static let cancelled: Int32 = 125
    /// The command could not be started, as a shell reports "command not found".
    public static let launchError: Int32 = 127
    /// The job was lost: its outcome is unknown, which is never success.
    public static let lost: Int32 = 1

    /// The code for a job in `state` whose last attempt ended with `reason`, `exitCode`, `signal`.
    ///
    /// Returns `nil` while the job has not ended.
    public static func code(
        state: JobState, reason: AttemptReason?, exitCode: Int?, signal: Int?
    ) -> Int32? {
        guard state.isTerminal else { return nil }
        if state == .cancelled { return cancelled }
        switch reason {
        case .timeout: return timeout
        case .cancelled: return cancelled
        case .signal: return 128 + Int32(signal ?? 0)
        case .launch_error: return launchError
        case .lost: return lost
        case .none: return state == .succeeded ? 0 : lost
        case .exited: return Int32(truncatingIfNeeded: exitCode ?? 1)
        }
    }
}
