public import Foundation
public import StintCore

extension JobLedger {
    // MARK: Telling

    /// Tells of `result.job`'s end (it must be read after the change): the notification
    /// and deliveries that ``NotificationComposer`` composes. `queue`: the job's queue row
    /// when the caller has read it already.
    static func tellEnded(
        attempt: Int, tail: [String], log: String?, now: Date, cap: Int, _ tx: any StoreTransaction,
        queue known: QueueRecord? = nil, into result: inout FinishResult
    ) throws {
        let job = result.job
        try tx.appendEvent(LiveEvents.ended(job, now: now))
        if job.spec.labels[ScheduleRules.scheduleLabel] != nil {
            try scheduleRunEnded(job, attempt: attempt, now: now, cap: cap, tx, into: &result)
        }
        let queue = try known ?? tx.queue(job.queue)
        guard NotificationComposer.isHeard(job, queue: queue?.settings) else { return }
        let notification = NotificationComposer.ended(job, attempt: attempt, tail: tail, log: log, now: now)
        try tell(notification, about: job, queue: queue, cap: cap, tx, into: &result)
    }

    /// Stores `notification` in the outbox of `job`'s session (keeping it within `cap`)
    /// and queues a delivery for each hook of the job and its `queue`. A notification told
    /// before (same job, attempt and kind) changes nothing.
    static func tell(
        _ notification: NotificationView, about job: StoredJob, queue: QueueRecord?, cap: Int,
        _ tx: any StoreTransaction, into result: inout FinishResult
    ) throws {
        guard NotificationComposer.isHeard(job, queue: queue?.settings) else { return }
        var notification = notification
        if let session = job.spec.session {
            guard let id = try tx.insertNotification(notification) else { return }
            notification.id = id
            try tx.appendEvent(LiveEvents.notification(notification, id: id, job: job.id, queue: job.queue, now: notification.createdAt))
            result.notifications.append(notification)
            let excess = NotificationComposer.excess(pending: try tx.pendingNotificationCount(session: session), cap: cap)
            if excess > 0 { try tx.dropOldestNotifications(session: session, count: excess) }
        }
        let deliveries = NotificationComposer.deliveries(of: notification, job: job, queue: queue?.settings)
        guard !deliveries.isEmpty else { return }
        let payload = String(decoding: try StintJSON.encoder().encode(notification), as: UTF8.self)
        for delivery in deliveries {
            let queued = try tx.insertDelivery(
                job: notification.job, attempt: notification.attempt, kind: notification.kind, delivery, payload: payload,
                now: notification.createdAt)
            if queued { result.deliveriesQueued = true }
        }
    }

    // MARK: Reading and settling the outbox
    //
    // `finish`, `apply(.cancel)`, `markStalled` and a breaker opening write the
    // notifications (for jobs with a session) and the deliveries (for jobs or queues
    // with hooks) in their own transaction; these methods read and settle them.

    /// Pending notifications, oldest first: of one session or all, with ids above `after`.
    public func notifications(session: String?, after: Int64, limit: Int) async throws -> NotificationList {
        try await read { tx in try tx.notifications(session: session, after: after, limit: limit) }
    }

    /// Acknowledges notifications (of `session` only, when given); unknown ids are reported.
    public func ack(_ ids: [Int64], session: String?, now: Date) async throws -> AckResponse {
        try await write { tx in
            var acked: [Int64] = []
            var unknown: [Int64] = []
            for id in ids {
                guard let owner = try tx.notificationSession(id), session == nil || owner == session else {
                    unknown.append(id)
                    continue
                }
                try tx.ackNotification(id, now: now)
                acked.append(id)
            }
            return AckResponse(acked: acked, unknown: unknown)
        }
    }

    /// Pending deliveries due at `now`, oldest first. A delivery whose row does not decode
    /// can never be sent: it ends `permanent` with the reason, so it neither blocks the
    /// others nor stays due for ever.
    /// With `lease` above 0 (a store shared by several daemons), the deliveries returned are
    /// held for the caller for `lease` seconds, so that no other daemon sends them meanwhile;
    /// one the caller does not record in time (it died) is due again then.
    public func dueDeliveries(now: Date, limit: Int, lease: Double = 0) async throws -> [DeliveryView] {
        let (due, damaged) =
            lease > 0
            ? try await write { tx in
                let found = try tx.dueDeliveries(now: now, limit: limit)
                for delivery in found.due { try tx.leaseDelivery(delivery.id, until: now.addingTimeInterval(lease)) }
                return found
            } : try await read { tx in try tx.dueDeliveries(now: now, limit: limit) }
        for (id, reason) in damaged {
            try await recordDelivery(
                id: id, status: .permanent, nextAt: nil, error: "the stored delivery does not decode: \(reason)", now: now)
        }
        return due
    }

    /// The earliest `next_at` of a pending delivery.
    public func nextDeliveryAt() async throws -> Date? {
        try await read { tx in try tx.nextDeliveryAt() }
    }

    /// Records one delivery attempt: `status` pending with `nextAt` to try again, or a final status.
    public func recordDelivery(id: Int64, status: DeliveryStatus, nextAt: Date?, error: String?, now: Date) async throws {
        try await write { tx in
            try tx.updateDelivery(id, status: status, nextAt: status == .pending ? nextAt : nil, error: error, now: now)
        }
    }

    /// Deliveries of one job, or the latest of all.
    public func deliveries(job: Int64?, limit: Int) async throws -> [DeliveryView] {
        try await read { tx in try tx.deliveries(job: job, limit: limit) }
    }
}
