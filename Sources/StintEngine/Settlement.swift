import StintCore
import StintStore

/// What follows every change the store made to a job: its waiters woken, its
/// notifications published, the delivery worker and the dispatcher told.
struct Settlement: Sendable {
    /// The callers blocked in `wait`.
    let waiters: JobWaiters
    /// The live readers of the outbox.
    let hub: NotificationHub
    /// Rung when a change queued webhook or command-hook deliveries.
    let deliveries: Doorbell
    /// Rung when a change may let a job start.
    let dispatch: Doorbell

    /// Wakes the waiters of every job `result` ended, publishes its notifications, and lets
    /// newly runnable jobs start.
    func settled(_ result: FinishResult) async {
        if result.job.state.isTerminal { await waiters.jobEnded(result.job.id) }
        for id in result.cascaded { await waiters.jobEnded(id) }
        if result.deliveriesQueued { await deliveries.ring() }
        if !result.notifications.isEmpty { await hub.publish(result.notifications) }
        if result.job.state == .queued || !result.unblocked.isEmpty {
            // Not awaited: the caller (an ending, a cancel) is answered without waiting for
            // the claims and launches it allows; `dispatch` records its own failures.
            let dispatch = dispatch
            Task { await dispatch.ring() }
        }
    }

    /// Publishes notifications written outside an ending (a stall) and tells the delivery
    /// worker, which looks for any delivery the change queued.
    func published(_ notifications: [NotificationView]) async {
        await hub.publish(notifications)
        await deliveries.ring()
    }
}
