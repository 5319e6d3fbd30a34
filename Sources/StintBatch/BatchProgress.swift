import StintCore

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
public struct BatchSummary: Sendable, Codable, Hashable {
    /// Why a batch stopped before its last unit.
    public enum AbortReason: String, Sendable, Codable {
        /// `--max-failures` consecutive failures (exit 8).
        case maxFailures = "max_failures"
        /// SIGINT or SIGTERM (exit 7).
        case signal
    }

    /// Units in the batch (from the start, resumed ones included).
    public var total: Int64
    /// Units run now that succeeded.
    public var succeeded: Int64
    /// Units run now that failed.
    public var failed: Int64
    /// Units skipped because an earlier run had done them (the checkpoint).
    public var skipped: Int64
    /// The failed units' values, in unit order.
    public var failedUnits: [String]
    /// Why it stopped early, if it did.
    public var abortedBy: AbortReason?
    /// The checkpoint: every unit up to this position is done.
    public var completed: Int64

    /// Creates a summary.
    public init(
        total: Int64, succeeded: Int64 = 0, failed: Int64 = 0, skipped: Int64 = 0, failedUnits: [String] = [],
        abortedBy: AbortReason? = nil, completed: Int64 = 0
    ) {
        self.total = total
        self.succeeded = succeeded
        self.failed = failed
        self.skipped = skipped
        self.failedUnits = failedUnits
        self.abortedBy = abortedBy
        self.completed = completed
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
}
