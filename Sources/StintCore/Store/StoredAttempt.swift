public import Foundation

/// One attempt as stored.
public struct StoredAttempt: Sendable, Hashable {
    /// 1, 2, …
    public var number: Int
    /// When it started.
    public var startedAt: Date
    /// The node that claimed it (see ``WorkerIdentity/node``).
    public var host: String
    /// The daemon instance that claimed it (see ``WorkerIdentity/instance``); `nil` for
    /// attempts stored before instances were recorded.
    public var instance: String?
    /// The shim's pid, once known.
    public var shimPid: Int32?
    /// How it ended; `nil` while running.
    public var outcome: AttemptOutcome?
    /// Transient or permanent, for a failed attempt.
    public var verdict: FailureVerdict?
    /// When the next attempt was scheduled, if this one was retried.
    public var retryAt: Date?
    /// When it was flagged stalled at a prompt.
    public var stalledAt: Date?
    /// The prompt line it stalled at.
    public var stallLine: String?

    /// Creates a stored attempt.
    public init(
        number: Int, startedAt: Date, host: String, instance: String? = nil, shimPid: Int32? = nil,
        outcome: AttemptOutcome? = nil, verdict: FailureVerdict? = nil, retryAt: Date? = nil, stalledAt: Date? = nil,
        stallLine: String? = nil
    ) {
        self.number = number
        self.startedAt = startedAt
        self.host = host
        self.instance = instance
        self.shimPid = shimPid
        self.outcome = outcome
        self.verdict = verdict
        self.retryAt = retryAt
        self.stalledAt = stalledAt
        self.stallLine = stallLine
    }
}
