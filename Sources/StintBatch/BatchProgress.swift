public import StintCore

/// The checkpoint of a batch whose units may finish out of order (`--parallel`): the
/// highest position below which every unit is done. Resuming after it never skips a unit
/// that did not finish, and repeats only units that finished above a gap.
public struct CheckpointFrontier: Sendable, Hashable {
    /// Every position up to and including this one is done (0: none).
    public private(set) var completed: Int64
    private var above: Set<Int64> = []

    /// Starts with every position up to `completed` done.
    public init(completed: Int64 = 0) { self.completed = completed }

    /// Marks `position` done; returns whether the frontier moved.
    @discardableResult
    public mutating func finish(_ position: Int64) -> Bool {
        guard position > completed else { return false }
        above.insert(position)
        let before = completed
        while above.remove(completed + 1) != nil { completed += 1 }
        return completed != before
    }
}

/// `--max-failures N`: N failed units in a row (in the order they finish) open the breaker.
public struct ConsecutiveFailures: Sendable, Hashable {
    /// The threshold; 0: never.
    public let limit: Int
    /// Failures since the last success.
    public private(set) var streak = 0

    /// Creates a breaker with `limit` (0: off).
    public init(limit: Int) { self.limit = max(0, limit) }

    /// Records one unit's result; returns whether the batch must stop now.
    public mutating func record(success: Bool) -> Bool {
        streak = success ? 0 : streak + 1
        return limit > 0 && streak >= limit
    }
}

/// How a batch ended, and the exit code the contract gives it.
///
/// `succeeded`, `failed` and `failedUnits` cover the whole batch: what earlier runs
/// recorded up to the checkpoint this run resumed from, and what this run did. When the
/// batch finishes, `succeeded + failed + skipped == total`.
public struct BatchSummary: Sendable, Codable, Hashable {
    /// Why a batch stopped before its last unit.
    public enum AbortReason: String, Sendable, Codable {
        /// `--max-failures` consecutive failures (exit 8).
        case maxFailures = "max_failures"
        /// SIGINT or SIGTERM (exit 7).
        case signal
    }

    /// Units in the batch.
    public var total: Int64
    /// Units that succeeded.
    public var succeeded: Int64
    /// Units that failed.
    public var failed: Int64
    /// Units before the start that no run recorded (an explicit `--resume-from` past the checkpoint).
    public var skipped: Int64
    /// Units this run ran.
    public var ran: Int64
    /// The failed units' values, in unit order (at most 1000; `failed` counts them all).
    public var failedUnits: [String]
    /// Why it stopped early, if it did.
    public var abortedBy: AbortReason?
    /// The checkpoint: every unit up to this position (1-based) is done.
    public var completed: Int64
    /// The value of the unit at ``completed`` (`Aborted at N`), when there is one.
    public var lastCompleted: String?
    /// What `--resume-from` takes to go on, when the batch did not finish.
    public var resumeFrom: String?
    /// The value of the first unit this run ran, when it resumed.
    public var resumedFrom: String?
    /// The command that goes on where this run stopped, when one was given.
    public var resumeCommand: String?
    /// Seconds this run took.
    public var duration: Double

    /// Creates a summary.
    public init(
        total: Int64, succeeded: Int64 = 0, failed: Int64 = 0, skipped: Int64 = 0, ran: Int64 = 0,
        failedUnits: [String] = [], abortedBy: AbortReason? = nil, completed: Int64 = 0, lastCompleted: String? = nil,
        resumeFrom: String? = nil, resumedFrom: String? = nil, resumeCommand: String? = nil, duration: Double = 0
    ) {
        self.total = total
        self.succeeded = succeeded
        self.failed = failed
        self.skipped = skipped
        self.ran = ran
        self.failedUnits = failedUnits
        self.abortedBy = abortedBy
        self.completed = completed
        self.lastCompleted = lastCompleted
        self.resumeFrom = resumeFrom
        self.resumedFrom = resumedFrom
        self.resumeCommand = resumeCommand
        self.duration = duration
    }

    /// The exit code of the contract: 8 circuit broken, 7 aborted by a signal, 6 some
    /// units failed but the range finished, 0 all done.
    public var exitCode: Int32 {
        switch abortedBy {
        case .maxFailures: return 8
        case .signal: return 7
        case nil: return failed > 0 ? 6 : 0
        }
    }

    /// The error an unfinished or partly failed batch reports (`E_ABORTED`, `E_MAX_FAILURES`,
    /// `E_PARTIAL`); `nil` when every unit succeeded.
    public var error: StintError? {
        let resume = resumeCommand.map { "Resume with: \($0)" }
        switch abortedBy {
        case .signal:
            let at = lastCompleted.map { "Aborted at \($0)." } ?? "Aborted before the first unit was done."
            return StintError(.aborted, at, hint: resume)
        case .maxFailures:
            let at = lastCompleted.map { " Done up to \($0)." } ?? ""
            return StintError(
                .maxFailures, "Stopped after too many consecutive failures (--max-failures).\(at)",
                hint: [resume, "the backend may be down: look at the failures before you resume"].compactMap { $0 }
                    .joined(separator: "; "))
        case nil:
            guard failed > 0 else { return nil }
            return StintError(
                .partial, "\(failed) of \(total) units failed",
                hint: "run them again with --ids \(failedUnits.prefix(20).joined(separator: ","))\(failedUnits.count > 20 || failed > Int64(failedUnits.count) ? ",…" : "")")
        }
    }
}
