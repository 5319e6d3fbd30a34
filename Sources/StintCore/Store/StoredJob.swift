public import Foundation

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
    /// The attempts, oldest first: all of them from a single job's read, the last one from a list.
    public var attempts: [StoredAttempt]
    /// Higher runs first.
    public var priority: Int = 0
    /// Not before this moment (a delay, `--at`, or a retry's backoff).
    public var runAt: Date?
    /// Dependencies that have not succeeded yet.
    public var pendingDependencies: Int = 0
    /// Why the job ended without running to its own end (a failed dependency).
    public var endReason: String?
    /// A stop was requested while it ran.
    public var stopRequested = false
    /// What the job last reported with `stint progress`.
    public var progress: ProgressView?
    /// What the job last recorded with `stint checkpoint`.
    public var checkpoint: String?
    /// Why the stored row could not be read in full (a column that does not decode), or
    /// `nil`. The other fields then hold what could be read, and defaults for the rest; such
    /// a job is never started.
    public var damage: String?

    /// Creates a stored job.
    public init(
        id: Int64, state: JobState, queue: String, spec: JobSpec, createdAt: Date, endedAt: Date? = nil,
        attemptCount: Int = 0, attempts: [StoredAttempt] = [], priority: Int = 0, runAt: Date? = nil,
        pendingDependencies: Int = 0, endReason: String? = nil, stopRequested: Bool = false,
        progress: ProgressView? = nil, checkpoint: String? = nil, damage: String? = nil
    ) {
        self.id = id
        self.state = state
        self.queue = queue
        self.spec = spec
        self.createdAt = createdAt
        self.endedAt = endedAt
        self.attemptCount = attemptCount
        self.attempts = attempts
        self.priority = priority
        self.runAt = runAt
        self.pendingDependencies = pendingDependencies
        self.endReason = endReason
        self.stopRequested = stopRequested
        self.progress = progress
        self.checkpoint = checkpoint
        self.damage = damage
    }
}
