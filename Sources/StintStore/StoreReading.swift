public import Foundation
public import StintCore

/// The reads a backend offers inside a transaction (see ``JobStore``).
///
/// A row that does not decode in full never makes a read throw or trap: jobs come back
/// with ``StoredJob/damage`` set and what could be read; other kinds of row (events,
/// notifications, deliveries) are left out, except where a method says otherwise.
public protocol StoreReading {
    // MARK: Jobs

    /// The job with `id` (all its attempts with `attempts`, none without), or `nil`.
    func job(_ id: Int64, attempts: Bool) throws -> StoredJob?

    /// The state of job `id`; `nil` when there is no such job, or its state does not read as one.
    func state(of id: Int64) throws -> JobState?

    /// The newest `filter.limit` jobs matching `filter`, in ascending id order, each with its last attempt.
    func jobs(_ filter: JobFilter) throws -> [StoredJob]

    /// How many jobs match `filter`, its limit aside.
    func countJobs(_ filter: JobFilter) throws -> Int

    /// The number of jobs in each state (of `session`'s jobs only, when given).
    func stateCounts(session: String?) throws -> [JobState: Int]

    /// The held, queued and running jobs per queue and state (of `session`'s jobs only,
    /// when given; of one `queue` only, when given).
    func liveCounts(queue: String?, session: String?) throws -> [String: [JobState: Int]]

    /// The held, queued or running job of `session` (`nil`: no session) with unique key `key`.
    func liveJob(session: String?, unique key: String) throws -> InsertedJob?

    /// The jobs waiting for `job` to end (`--after`).
    func dependents(of job: Int64) throws -> [Int64]

    // MARK: Attempts

    /// Whether attempt `number` of `job` is still open: `nil` when there is no such attempt.
    func attemptIsOpen(job: Int64, number: Int) throws -> Bool?

    /// Every open attempt, with its job's spec (environment included), oldest job first. A
    /// job that does not decode in full is returned all the same, with its damage.
    func openAttempts() throws -> [ClaimedJob]

    // MARK: Claiming

    /// Running jobs per queue.
    func runningCounts() throws -> [String: Int]

    /// At most `limit` ready jobs of `queue` (queued, no pending dependency, time come),
    /// highest priority first, then oldest, each with its environment and checkpoint.
    func readyJobs(queue: String, limit: Int) throws -> [StoredJob]

    /// Whether `queue` has ready jobs.
    func hasReadyJobs(queue: String) throws -> Bool

    /// The earliest `runAt` of a queued job that waits only for its time.
    func nextRunAt() throws -> Date?

    // MARK: Queues and events

    /// Every queue row, by name; a value that does not decode takes its default.
    func queues() throws -> [QueueRecord]

    /// The queue row `name`, or `nil`.
    func queue(_ name: String) throws -> QueueRecord?

    /// The newest `limit` events of one job, one queue, or all, oldest first.
    func events(job: Int64?, queue: String?, limit: Int) throws -> [EventView]

    /// At most `limit` events with ids above `after`, oldest first; with `session`, only
    /// those of that session's jobs. What the live stream reads.
    func events(after: Int64, session: String?, limit: Int) throws -> [EventView]

    /// The id of the newest event; 0 when there is none.
    func lastEventID() throws -> Int64

    /// Each queue's jobs by state, how many are ready and since when the oldest of those
    /// is: what `/metrics` reads at scrape time.
    func queueGauges() throws -> [String: QueueGauges]

    // MARK: Outbox

    /// Pending notifications, oldest first: of one session or all, with ids above `after`,
    /// and how many the session's (or every session's) full outbox dropped.
    func notifications(session: String?, after: Int64, limit: Int) throws -> NotificationList

    /// The session of notification `id`, or `nil` when there is none.
    func notificationSession(_ id: Int64) throws -> String?

    /// The number of `session`'s pending notifications.
    func pendingNotificationCount(session: String) throws -> Int

    /// How many notifications wait to be acknowledged, in every session.
    func pendingNotificationTotal() throws -> Int

    /// Pending deliveries due at `now`, oldest first, and the ids of rows among them that
    /// do not decode, with why.
    func dueDeliveries(now: Date, limit: Int) throws -> (due: [DeliveryView], damaged: [(id: Int64, reason: String)])

    /// The earliest `nextAt` of a pending delivery.
    func nextDeliveryAt() throws -> Date?

    /// Deliveries of one job (oldest first), or the newest `limit` of all (oldest first).
    func deliveries(job: Int64?, limit: Int) throws -> [DeliveryView]

    // MARK: Schedules

    /// Every schedule, by id.
    func schedules() throws -> [ScheduleRecord]

    /// The schedules named `name`, one per session that has one; in a write, locked.
    func schedules(named name: String) throws -> [ScheduleRecord]

    /// At most `limit` schedules, not paused, whose next fire time is at or before `now`,
    /// earliest first; in a write, locked, skipping those another write holds.
    func dueSchedules(now: Date, limit: Int) throws -> [ScheduleRecord]

    /// The earliest next fire time of a schedule that is not paused.
    func nextScheduleFire() throws -> Date?

    /// The newest `limit` fire times of `schedule`, newest first.
    func fires(schedule: Int64, limit: Int) throws -> [ScheduleFire]

    /// The fire times of `schedule` that wait for their job (``ScheduleFire/job`` `nil`), oldest first.
    func waitingFires(schedule: Int64) throws -> [ScheduleFire]

    /// The fire time `at` of `schedule`, or `nil`.
    func fire(schedule: Int64, at: Date) throws -> ScheduleFire?
}
