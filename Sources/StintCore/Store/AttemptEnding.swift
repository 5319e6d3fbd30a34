public import Foundation

/// How an attempt ended, with the engine's verdict on it.
public struct AttemptEnding: Sendable {
    /// The job.
    public var jobID: Int64
    /// The attempt number.
    public var attempt: Int
    /// What the shim (or the reconciliation) says happened.
    public var outcome: AttemptOutcome
    /// Transient or permanent, for a failure; `nil` otherwise.
    public var verdict: FailureVerdict?
    /// When to try again, for a transient failure with retries left.
    public var retryAt: Date?
    /// The shim's pid, recorded with the outcome.
    public var shimPid: Int32?
    /// The last lines of output, for the notification.
    public var outputTail: [String]
    /// The attempt's log file, for the notification.
    public var logPath: String?

    /// Creates an ending.
    public init(
        jobID: Int64, attempt: Int, outcome: AttemptOutcome, verdict: FailureVerdict? = nil, retryAt: Date? = nil,
        shimPid: Int32? = nil, outputTail: [String] = [], logPath: String? = nil
    ) {
        self.outputTail = outputTail
        self.logPath = logPath
        self.jobID = jobID
        self.attempt = attempt
        self.outcome = outcome
        self.verdict = verdict
        self.retryAt = retryAt
        self.shimPid = shimPid
    }
}
