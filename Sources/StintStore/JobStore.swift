import Foundation
import StintCore

/// Where jobs and attempts live: the daemon's single source of truth.
///
/// Every method is one transaction: when it returns, what it did is durable; when it
/// throws, it did nothing. State changes are checked against ``JobStateMachine`` and
/// an illegal one throws `E_CONFLICT` without writing. A failure of the storage itself (a
/// full disk, an I/O error, a busy database) throws `E_UNAVAILABLE`: the same call may
/// succeed later, and the engine tries outcomes again on it. Implementations must be safe
/// to call concurrently; they serialise writes themselves.
public protocol JobStore: Sendable {
    /// A short description for `daemon status`, such as `sqlite:/home/me/.local/state/stint/stint.db`.
    var location: String { get }

    /// Stores `specs` as new jobs and returns them in order. A spec whose `unique` key
    /// matches a job that is held, queued or running returns that job (`duplicate`)
    /// and adds nothing. Unknown `after` ids throw `E_NOT_FOUND` and add nothing.
    func insert(_ specs: [JobSpec], now: Date) async throws -> [InsertedJob]

    /// The job with `id` and all its attempts, or `nil`.
    func job(_ id: Int64) async throws -> StoredJob?

    /// Jobs matching `filter`, in ascending id order.
    func list(_ filter: JobFilter) async throws -> [StoredJob]

    /// How many jobs match `filter`, its limit aside.
    func count(_ filter: JobFilter) async throws -> Int

    /// Moves runnable queued jobs to `running`, starting a new attempt for each: at most
    /// `limit` in all, within each queue's concurrency, pause, breaker and preflight;
    /// highest priority first, then oldest. Delayed and retried jobs whose time has come
    /// become runnable here. Uses the indexes only (O(log n) in the queued jobs).
    func claim(limit: Int, host: String, now: Date) async throws -> ClaimResult

    /// Ends a running attempt and moves the job to the state that implies: a failure
    /// with a `retryAt` goes back to `queued` (unless a stop was requested), others end
    /// it. Also updates the queue's breaker and the job's dependents, in the same
    /// transaction. Ending an attempt that has already ended changes nothing.
    func finish(_ ending: AttemptEnding) async throws -> FinishResult

    /// Applies `event` to a job that is not running: `release`, `cancel` (held or queued)
    /// or `retry` (ended). Any other event, or a running job, throws `E_CONFLICT`; an
    /// unknown id throws `E_NOT_FOUND`. A cancel also cancels the job's dependents.
    func apply(_ event: JobEvent, to id: Int64, now: Date) async throws -> FinishResult

    /// Marks a running job as being stopped, so that a failure of its attempt ends it
    /// `cancelled` instead of retrying it.
    func requestStop(_ id: Int64) async throws

    /// Flags a running attempt as stalled at a prompt (once) and records the event;
    /// returns the notification written (none when already flagged or without a session).
    func markStalled(job: Int64, attempt: Int, at: Date, line: String) async throws -> [NotificationView]

    /// Every attempt still marked running, for reconciliation after a restart. A job whose
    /// row cannot be read in full is returned all the same, with its ``ClaimedJob/damage``:
    /// one bad row must not keep the others from being reconciled.
    func runningAttempts() async throws -> [ClaimedJob]

    /// Undoes the claim of an attempt that never started (the daemon stopped between the
    /// claim and the shim's start): deletes attempt `attempt` and puts the job back in the
    /// queue as it was before the claim, so its attempt count and retries are untouched, and
    /// records the event. Throws `E_CONFLICT` unless `attempt` is the job's latest attempt,
    /// still open, of a running job.
    func unclaim(job: Int64, attempt: Int, now: Date) async throws -> FinishResult

    /// Ends a job the engine cannot process (a row that does not decode, an outcome that
    /// cannot be stored): its open attempt `attempt` (if given and still open) is closed as
    /// `lost` with `reason`, and the job, unless it has ended already, becomes `failed` with
    /// `reason` as its end reason, with its notification and dependents as for any failure.
    func failUnprocessable(job: Int64, attempt: Int?, reason: String, now: Date) async throws -> FinishResult

    /// Deletes ended jobs. Throws `E_NOT_FOUND` or `E_CONFLICT` (not ended) and deletes nothing then.
    func delete(_ id: Int64) async throws

    /// Deletes every ended job that ended before `cutoff`; returns their ids.
    func prune(endedBefore cutoff: Date) async throws -> [Int64]

    /// The number of jobs in each state; of `session`'s jobs only, when given.
    func counts(session: String?) async throws -> [JobState: Int]

    /// Every queue with its breaker and preflight, by name, and its counts of held,
    /// queued and running jobs (of `session`'s jobs only, when given).
    func queues(now: Date, session: String?) async throws -> [QueueView]

    /// Changes a queue's settings, creating it if needed.
    func updateQueue(_ name: String, _ update: QueueUpdate, now: Date) async throws -> QueueView

    /// Stores the result of a queue's preflight and records an event when it changed.
    func recordPreflight(queue: String, status: PreflightStatus) async throws

    /// Recent events, newest last, of one job, one queue, or all.
    func events(job: Int64?, queue: String?, limit: Int) async throws -> [EventView]

    // MARK: Outbox
    //
    // `finish`, `apply(.cancel)`, `markStalled` and a breaker opening write the
    // notifications (for jobs with a session) and the deliveries (for jobs or queues
    // with hooks) in their own transaction; these methods read and settle them.

    /// Pending notifications, oldest first: of one session or all, with ids above `after`.
    func notifications(session: String?, after: Int64, limit: Int) async throws -> NotificationList

    /// Acknowledges notifications (of `session` only, when given); unknown ids are reported.
    func ack(_ ids: [Int64], session: String?, now: Date) async throws -> AckResponse

    /// Pending deliveries due at `now`, oldest first.
    func dueDeliveries(now: Date, limit: Int) async throws -> [DeliveryView]

    /// The earliest `next_at` of a pending delivery.
    func nextDeliveryAt() async throws -> Date?

    /// Records one delivery attempt: `status` pending with `nextAt` to try again, or a final status.
    func recordDelivery(id: Int64, status: DeliveryStatus, nextAt: Date?, error: String?, now: Date) async throws

    /// Deliveries of one job, or the latest of all.
    func deliveries(job: Int64?, limit: Int) async throws -> [DeliveryView]

    // MARK: Progress

    /// Records a running job's progress (`stint progress`); `E_CONFLICT` unless it runs.
    func setProgress(_ id: Int64, _ progress: ProgressRequest, now: Date) async throws

    /// Records a job's checkpoint (`stint checkpoint`); `E_CONFLICT` unless it runs.
    func setCheckpoint(_ id: Int64, _ value: String, now: Date) async throws

    // MARK: Batches
    //
    // `isAlive` tells whether a recorded holder still runs (given its last heartbeat).

    /// Takes the lock of the batch (command, target), creating its row, and returns its
    /// checkpoint with the lock token. A live holder, or a queue of `exclusiveWith` that is
    /// not paused, throws `E_CONFLICT` (unless `allowConcurrent`, which takes no lock).
    func acquireBatch(
        _ request: BatchAcquireRequest, session: String?, token: String, now: Date,
        isAlive: @Sendable (BatchHolder, Date?) -> Bool
    ) async throws -> BatchView

    /// Records a batch's checkpoint (and heartbeat); releases the lock or deletes the row as
    /// asked. A token that no longer holds the lock throws `E_CONFLICT`; returns `nil` when
    /// the row is gone.
    func saveBatch(_ id: Int64, _ request: BatchSaveRequest, now: Date) async throws -> BatchView?

    /// Records that the holder with `token` still runs.
    func heartbeatBatch(_ id: Int64, token: String, now: Date) async throws

    /// Every batch checkpoint (of `session` only, when given), by id.
    func batches(session: String?, isAlive: @Sendable (BatchHolder, Date?) -> Bool) async throws -> [BatchView]

    /// Deletes batch checkpoints; a batch with a live holder throws `E_CONFLICT`, an
    /// unknown (or other session's) id `E_NOT_FOUND`, and nothing is deleted then.
    func forgetBatches(
        _ ids: [Int64], session: String?, isAlive: @Sendable (BatchHolder, Date?) -> Bool
    ) async throws -> [BatchView]

    // MARK: Tokens

    /// Stores a token by the hash of its secret.
    func createToken(hash: String, session: String?, now: Date) async throws -> TokenView

    /// The token with this hash, if it exists and was not revoked.
    func token(hash: String) async throws -> TokenView?

    /// Every token, revoked ones included, by id; never their secrets.
    func tokens() async throws -> [TokenView]

    /// Revokes a token: its secret is refused from then on. Revoking a revoked token
    /// changes nothing; an unknown id throws `E_NOT_FOUND`.
    func revokeToken(id: Int64, now: Date) async throws -> TokenView
}

/// One job of an `insert`.
public struct InsertedJob: Sendable, Hashable {
    /// The id: new, or the existing job's for a duplicate.
    public var id: Int64
    /// Whether the unique key matched an existing job, so nothing was added.
    public var duplicate: Bool
    /// The job's state.
    public var state: JobState
}

/// What a `claim` did.
public struct ClaimResult: Sendable {
    /// The attempts started.
    public var claimed: [ClaimedJob] = []
    /// Queues with runnable jobs whose preflight must run before they may claim.
    public var preflightsDue: [(queue: String, command: String)] = []
    /// Breaker transitions (open → half-open) made while claiming.
    public var transitions: [(queue: String, transition: CircuitBreaker.Transition)] = []
    /// The next moment something may become claimable (a delay, a backoff, a breaker
    /// pause or a preflight result running out); `nil`: nothing is scheduled.
    public var nextWake: Date?
    /// Jobs the claim found but could not read (``StoredJob/damage``), failed instead of started.
    public var failed: [FinishResult] = []

    /// Creates a result.
    public init() {}
}

/// How an attempt ended, with the engine's verdict on it.
public struct AttemptEnding: Sendable {
    public var jobID: Int64
    public var attempt: Int
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

/// What ending an attempt (or cancelling a job) changed.
public struct FinishResult: Sendable {
    /// The job after the change.
    public var job: StoredJob
    /// Dependents cancelled because this job failed or was cancelled (transitively).
    public var cascaded: [Int64] = []
    /// Dependents that became runnable because this job succeeded.
    public var unblocked: [Int64] = []
    /// A breaker transition of the job's queue.
    public var transition: CircuitBreaker.Transition?
    /// Notifications written by the change (jobs with a session).
    public var notifications: [NotificationView] = []
    /// Whether the change queued deliveries.
    public var deliveriesQueued = false
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
    /// Transient or permanent, for a failed attempt.
    public var verdict: FailureVerdict?
    /// When the next attempt was scheduled, if this one was retried.
    public var retryAt: Date?
    /// When it was flagged stalled at a prompt, and that prompt.
    public var stalledAt: Date?
    /// The prompt line it stalled at.
    public var stallLine: String?
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
    /// Why the job's row could not be read in full (see ``StoredJob/damage``), or `nil`.
    public var damage: String?

    /// Creates a claimed job.
    public init(
        id: Int64, attempt: Int, queue: String, spec: JobSpec, shimPid: Int32?, startedAt: Date, damage: String? = nil
    ) {
        self.id = id
        self.attempt = attempt
        self.queue = queue
        self.spec = spec
        self.shimPid = shimPid
        self.startedAt = startedAt
        self.damage = damage
    }
}
