import Foundation
import StintCore

/// Where jobs and attempts live: the daemon's single source of truth.
///
/// Every method is one transaction: when it returns, what it did is durable; when it
/// throws, it did nothing. State changes are checked against ``JobStateMachine`` and
/// an illegal one throws `E_CONFLICT` without writing. Implementations must be safe to
/// call concurrently; they serialise writes themselves.
public protocol JobStore: Sendable {
    /// A short description for `daemon status`, such as `sqlite:/home/me/.local/state/stint/stint.db`.
    var location: String { get }

    /// Stores `specs` as new jobs (`queued`, or `held` when asked) and returns their ids in order.
    func insert(_ specs: [JobSpec], now: Date) async throws -> [Int64]

    /// The job with `id` and all its attempts, or `nil`.
    func job(_ id: Int64) async throws -> StoredJob?

    /// Jobs matching `filter`, in ascending id order.
    func list(_ filter: JobFilter) async throws -> [StoredJob]

    /// Moves up to `limit` runnable queued jobs to `running`, starting a new attempt for
    /// each, highest priority and then oldest first.
    func claim(limit: Int, host: String, now: Date) async throws -> [ClaimedJob]

    /// Ends a running attempt with `outcome` and moves the job to the state it implies.
    /// Ending an attempt that has already ended changes nothing and returns the job.
    /// `shimPid` is recorded with it (the shim's pid lives in its run folder until then,
    /// which keeps a database write off the path from claim to start).
    func finish(jobID: Int64, attempt: Int, outcome: AttemptOutcome, shimPid: Int32?) async throws -> StoredJob

    /// Applies `event` to a job that is not running: `release`, `cancel` (held or queued)
    /// or `retry` (ended). Any other event, or a running job, throws `E_CONFLICT`; an
    /// unknown id throws `E_NOT_FOUND`.
    func apply(_ event: JobEvent, to id: Int64, now: Date) async throws -> StoredJob

    /// Every attempt still marked running, for reconciliation after a restart.
    func runningAttempts() async throws -> [ClaimedJob]

    /// Deletes ended jobs. Throws `E_NOT_FOUND` or `E_CONFLICT` (not ended) and deletes nothing then.
    func delete(_ id: Int64) async throws

    /// Deletes every ended job that ended before `cutoff`; returns their ids.
    func prune(endedBefore cutoff: Date) async throws -> [Int64]

    /// The number of jobs in each state.
    func counts() async throws -> [JobState: Int]
}

/// Which jobs `list` returns.
public struct JobFilter: Sendable, Hashable {
    /// Only jobs in one of these states; empty: any.
    public var states: Set<JobState> = []
    /// Only jobs of this session.
    public var session: String?
    /// Only jobs of this queue.
    public var queue: String?
    /// Only jobs carrying every one of these labels.
    public var labels: [String: String] = [:]
    /// At most this many jobs: the newest ones. Default 100.
    public var limit: Int = 100

    /// Creates a filter.
    public init(
        states: Set<JobState> = [], session: String? = nil, queue: String? = nil,
        labels: [String: String] = [:], limit: Int = 100
    ) {
        self.states = states
        self.session = session
        self.queue = queue
        self.labels = labels
        self.limit = limit
    }
}

/// A job as stored, with its attempts.
public struct StoredJob: Sendable, Hashable {
    /// The id.
    public var id: Int64
    /// The state.
    public var state: JobState
    /// The queue.
    public var queue: String
    /// What was asked to run (with the environment left out of lists).
    public var spec: JobSpec
    /// When it was added.
    public var createdAt: Date
    /// When it ended, if it has.
    public var endedAt: Date?
    /// The number of attempts started.
    public var attemptCount: Int
    /// The attempts, oldest first: all of them from `job(_:)`, the last one from `list`.
    public var attempts: [StoredAttempt]
}

/// One attempt as stored.
public struct StoredAttempt: Sendable, Hashable {
    /// 1, 2, …
    public var number: Int
    /// When it started.
    public var startedAt: Date
    /// The host that ran it.
    public var host: String
    /// The shim's pid, once known.
    public var shimPid: Int32?
    /// How it ended; `nil` while running.
    public var outcome: AttemptOutcome?
}

/// What the engine needs to start (or re-attach to) one attempt.
public struct ClaimedJob: Sendable, Hashable {
    /// The job id.
    public var id: Int64
    /// The attempt number.
    public var attempt: Int
    /// The queue.
    public var queue: String
    /// The job as added, environment included.
    public var spec: JobSpec
    /// The shim's pid, for attempts already running.
    public var shimPid: Int32?
    /// When the attempt started.
    public var startedAt: Date
}
