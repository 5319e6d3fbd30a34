import Foundation

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

    /// Creates a result for `job`, with nothing else changed yet.
    public init(job: StoredJob) {
        self.job = job
    }
}
