/// Why an attempt ended.
public enum AttemptReason: String, Codable, Sendable, CaseIterable, Hashable {
    /// The command exited by itself; see the exit code.
    case exited
    /// The command was killed by a signal it did not expect.
    case signal
    /// The job's `--timeout` fired; the shim terminated the process tree.
    case timeout
    /// `stint stop` terminated the process tree.
    case cancelled
    /// The shim vanished without an exit record: the true outcome is unknown.
    case lost
    /// The command could not be started (not found, not executable, bad cwd).
    case launch_error
}
