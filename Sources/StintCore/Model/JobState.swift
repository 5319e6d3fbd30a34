/// The lifecycle state of a job.
///
/// `held` → `queued` → `running` → one of `succeeded` | `failed` | `cancelled`.
/// Every change goes through ``JobStateMachine``; nothing else assigns a state.
public enum JobState: String, Codable, Sendable, CaseIterable, Hashable {
    /// Added with `--hold`: waits for `stint release` before it may run.
    case held
    /// Ready to run as soon as a slot is free.
    case queued
    /// An attempt is running under a shim.
    case running
    /// The last attempt exited with status 0.
    case succeeded
    /// The last attempt failed: non-zero exit, signal, timeout, launch error or lost.
    case failed
    /// Stopped by `stint stop` before or while it ran.
    case cancelled

    /// Whether the job has ended; terminal states change only through `stint retry`.
    public var isTerminal: Bool {
        switch self {
        case .succeeded, .failed, .cancelled: true
        case .held, .queued, .running: false
        }
    }
}
