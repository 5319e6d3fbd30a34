import Foundation
import StintCore

/// Everything a ``MemoryJobStore`` holds: plain values, copied on write, so a
/// transaction that throws leaves the tables it started from untouched.
struct MemoryTables: Sendable {
    /// A job with what only the store knows of it.
    struct JobRow: Sendable {
        /// The job, with all its attempts and its environment.
        var job: StoredJob
        /// Whether a claim may take it (see ``JobAdmission/isReady(state:pendingDependencies:runAt:now:)``).
        var ready: Bool
    }

    /// A notification with its session, kept until acknowledged.
    struct NotificationRow: Sendable {
        var notification: NotificationView
        var session: String
    }

    var jobs: [Int64: JobRow] = [:]
    var lastJobID: Int64 = 0
    /// Dependent links: for each job, the jobs waiting for it.
    var dependents: [Int64: Set<Int64>] = [:]
    /// By name; the default queue exists from the start, as in every backend.
    var queues: [String: QueueRecord] = [QueueName.default: QueueRecord(name: QueueName.default)]
    var events: [EventView] = []
    var lastEventID: Int64 = 0
    var notifications: [Int64: NotificationRow] = [:]
    var lastNotificationID: Int64 = 0
    /// Pending notifications dropped by a full outbox, per session.
    var dropped: [String: Int] = [:]
    var deliveries: [Int64: DeliveryView] = [:]
    var lastDeliveryID: Int64 = 0
    var schedules: [Int64: ScheduleRecord] = [:]
    var lastScheduleID: Int64 = 0
    /// Each schedule's fire times, by millisecond.
    var fires: [Int64: [Int64: ScheduleFire]] = [:]
}
