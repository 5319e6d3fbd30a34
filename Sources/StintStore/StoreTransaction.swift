public import Foundation
public import StintCore

/// The writes a backend offers inside a write transaction (see ``JobStore``), beside
/// its reads. Each changes exactly the rows it names, unconditionally: whether a change
/// is allowed was decided before it is asked for.
public protocol StoreTransaction: StoreReading {
    // MARK: Jobs

    /// Stores a new job and returns its id: `spec` as added (its environment stored once
    /// for all the jobs that share it), in the state `admission` gives, waiting for
    /// `admission.pending`; with its end stamped at `now` when it starts terminal. The
    /// queue row must exist (``ensureQueue(_:now:)``).
    func insertJob(_ spec: JobSpec, _ admission: JobAdmission, now: Date) throws -> Int64

    /// Changes the fields of job `id` that `change` sets.
    func updateJob(_ id: Int64, _ change: JobChange) throws

    /// Marks queued jobs that wait only for their time, and whose `runAt` is at or
    /// before `now`, ready (see ``JobAdmission/isReady(state:pendingDependencies:runAt:now:)``).
    func promoteDueJobs(now: Date) throws

    /// Deletes job `id` (ended) with its attempts, its events, its acknowledged notifications
    /// and its settled deliveries; pending ones outlive it (they are the outbox).
    func deleteJob(_ id: Int64) throws

    /// Deletes every ended job that ended at or before `cutoff` as ``deleteJob(_:)`` does,
    /// and events, acknowledged notifications and settled deliveries as old; returns the job ids.
    func pruneJobs(endedBefore cutoff: Date) throws -> [Int64]

    /// Forgets that jobs wait for `job` (all its dependent links).
    func removeDependents(of job: Int64) throws

    /// Forgets what `job` waits for (all its own links).
    func removeDependencies(of job: Int64) throws

    /// Records `progress` of job `id` at `now`.
    func setProgress(_ id: Int64, _ progress: ProgressRequest, now: Date) throws

    /// Records the checkpoint `value` of job `id` at `now`.
    func setCheckpoint(_ id: Int64, _ value: String, now: Date) throws

    // MARK: Attempts

    /// Opens attempt `number` of `job`, claimed by `worker` at `now`.
    func startAttempt(job: Int64, number: Int, worker: WorkerIdentity, now: Date) throws

    /// Closes attempt `ending.attempt` of `ending.jobID` with its outcome and verdict, and
    /// `retryAt` when it is retried.
    func endAttempt(_ ending: AttemptEnding, retryAt: Date?) throws

    /// Closes an open attempt as `lost` with `message` at `now` (a job that cannot be processed).
    func abandonAttempt(job: Int64, number: Int, message: String, now: Date) throws

    /// Deletes attempt `number` of `job` (a claim undone before the shim started).
    func deleteAttempt(job: Int64, number: Int) throws

    /// Flags open attempt `number` of `job` stalled at `line`, unless it was flagged
    /// already; returns whether it flagged it.
    func markStalled(job: Int64, number: Int, at: Date, line: String) throws -> Bool

    // MARK: Queues and events

    /// Creates queue `name` with default settings unless it exists.
    func ensureQueue(_ name: String, now: Date) throws

    /// Stores a queue's settings; with `resetPreflight`, forgets its last preflight result.
    func saveQueueSettings(_ name: String, _ settings: QueueSettings, resetPreflight: Bool) throws

    /// Stores a queue's breaker.
    func saveBreaker(_ queue: String, _ breaker: CircuitBreaker) throws

    /// Stores a queue's last preflight result.
    func savePreflight(_ queue: String, _ status: PreflightStatus) throws

    /// Appends an event.
    func appendEvent(_ event: EventRecord) throws

    // MARK: Outbox

    /// Stores `notification` (its `session` set) and returns its id, or `nil` when one for
    /// the same job, attempt and kind exists (then nothing is written).
    func insertNotification(_ notification: NotificationView) throws -> Int64?

    /// Deletes the `count` oldest pending notifications of `session`, and counts them as dropped.
    func dropOldestNotifications(session: String, count: Int) throws

    /// Marks notification `id` acknowledged at `now`, unless it was already.
    func ackNotification(_ id: Int64, now: Date) throws

    /// Queues a delivery of `payload` (a notification's JSON) about `job`'s `attempt`, due
    /// at `now`; returns `false` when the same one (job, attempt, kind, channel, target) exists.
    func insertDelivery(
        job: Int64, attempt: Int, kind: NotificationKind, _ delivery: NotificationComposer.Delivery, payload: String,
        now: Date
    ) throws -> Bool

    /// Holds pending delivery `id` for the caller until `until` (its next attempt moves
    /// there; no attempt is counted): while one daemon sends it, no other takes it, and if
    /// that daemon dies, it is due again then.
    func leaseDelivery(_ id: Int64, until: Date) throws

    /// Records one attempt of pending delivery `id`: still `pending` until `nextAt`, or a
    /// final status. A delivery that is not pending is left as it is.
    func updateDelivery(_ id: Int64, status: DeliveryStatus, nextAt: Date?, error: String?, now: Date) throws

    // MARK: Schedules

    /// Stores a new schedule and returns its id. Names are unique per session (the caller
    /// checks first).
    func insertSchedule(_ spec: ScheduleSpec, _ state: ScheduleState, now: Date) throws -> Int64

    /// Stores schedule `id`'s state.
    func updateSchedule(_ id: Int64, _ state: ScheduleState, now: Date) throws

    /// Deletes schedule `id` with its fire times (its jobs stay).
    func deleteSchedule(_ id: Int64) throws

    /// Stores a fire time; returns `false`, writing nothing, when one of the same schedule
    /// and time (to the millisecond) exists: the key that keeps each fire time to one job.
    func insertFire(_ fire: ScheduleFire) throws -> Bool

    /// Sets the job of a fire time that waited.
    func setFireJob(schedule: Int64, at: Date, job: Int64) throws

    /// Deletes a fire time (one that waited, dropped).
    func deleteFire(schedule: Int64, at: Date) throws
}

/// The fields of a job that a change sets; `nil` leaves a field as it is. For the fields
/// that may be cleared, `.some(nil)` clears.
public struct JobChange: Sendable, Hashable {
    /// The state.
    public var state: JobState?
    /// Whether a claim may take it (see ``JobAdmission/isReady(state:pendingDependencies:runAt:now:)``).
    public var ready: Bool?
    /// When it ended; `.some(nil)`: it has not.
    public var endedAt: Date??
    /// Not before this moment.
    public var runAt: Date?
    /// The number of attempts started.
    public var attemptCount: Int?
    /// Dependencies still to succeed.
    public var pendingDependencies: Int?
    /// Why it ended without running to its end; `.some(nil)` clears it.
    public var endReason: String??
    /// Whether a stop was requested.
    public var stopRequested: Bool?
    /// Creates a change.
    public init(
        state: JobState? = nil, ready: Bool? = nil, endedAt: Date?? = nil, runAt: Date? = nil, attemptCount: Int? = nil,
        pendingDependencies: Int? = nil, endReason: String?? = nil, stopRequested: Bool? = nil
    ) {
        self.state = state
        self.ready = ready
        self.endedAt = endedAt
        self.runAt = runAt
        self.attemptCount = attemptCount
        self.pendingDependencies = pendingDependencies
        self.endReason = endReason
        self.stopRequested = stopRequested
    }
}
