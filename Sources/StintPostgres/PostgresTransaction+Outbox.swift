import Foundation
import PostgresNIO
import StintCore
import StintStore

extension PostgresTransaction {
    func notifications(session: String?, after: Int64, limit: Int) throws -> NotificationList {
        let found: [StoredRow]
        let dropped: Int
        if let session {
            found = try rows(
                """
                SELECT * FROM notifications WHERE session = \(session) AND acked_at IS NULL AND id > \(after)
                ORDER BY id LIMIT \(Int64(limit))
                """)
            dropped = try one("SELECT dropped FROM sessions WHERE name = \(session)")?.int("dropped") ?? 0
        } else {
            found = try rows(
                "SELECT * FROM notifications WHERE acked_at IS NULL AND id > \(after) ORDER BY id LIMIT \(Int64(limit))")
            dropped = try one("SELECT COALESCE(SUM(dropped), 0)::bigint AS n FROM sessions")?.int("n") ?? 0
        }
        // A notification whose stored body does not decode is left out rather than
        // keeping every other one from its reader.
        return NotificationList(notifications: found.compactMap { try? StoreRows.notification($0) }, dropped: dropped)
    }

    func notificationSession(_ id: Int64) throws -> String? {
        try one("SELECT session FROM notifications WHERE id = \(id)")?.string("session")
    }

    func pendingNotificationCount(session: String) throws -> Int {
        try one("SELECT COUNT(*) AS n FROM notifications WHERE session = \(session) AND acked_at IS NULL")?.int("n") ?? 0
    }

    func pendingNotificationTotal() throws -> Int {
        try one("SELECT COUNT(*) AS n FROM notifications WHERE acked_at IS NULL")?.int("n") ?? 0
    }

    func insertNotification(_ notification: NotificationView) throws -> Int64? {
        // The stored body is the notification's JSON without its id (the row's).
        let body = String(decoding: try StintJSON.encoder().encode(notification), as: UTF8.self)
        return try one(
            """
            INSERT INTO notifications (session, job_id, attempt, kind, body, created_at)
            VALUES (\(notification.session), \(notification.job), \(notification.attempt), \(notification.kind.rawValue),
                    \(body), \(notification.createdAt.timeIntervalSince1970))
            ON CONFLICT (job_id, attempt, kind) DO NOTHING RETURNING id
            """)?.int64("id")
    }

    func dropOldestNotifications(session: String, count: Int) throws {
        try run(
            """
            DELETE FROM notifications WHERE id IN (
                SELECT id FROM notifications WHERE session = \(session) AND acked_at IS NULL ORDER BY id LIMIT \(Int64(count)))
            """)
        try run(
            """
            INSERT INTO sessions (name, dropped) VALUES (\(session), \(Int64(count)))
            ON CONFLICT (name) DO UPDATE SET dropped = sessions.dropped + excluded.dropped
            """)
    }

    func ackNotification(_ id: Int64, now: Date) throws {
        try run("UPDATE notifications SET acked_at = \(now.timeIntervalSince1970) WHERE id = \(id) AND acked_at IS NULL")
    }

    func insertDelivery(
        job: Int64, attempt: Int, kind: NotificationKind, _ delivery: NotificationComposer.Delivery, payload: String,
        now: Date
    ) throws -> Bool {
        let stamp = now.timeIntervalSince1970
        return try run(
            """
            INSERT INTO deliveries (job_id, attempt, kind, channel, target, payload, next_at, created_at, updated_at)
            VALUES (\(job), \(attempt), \(kind.rawValue), \(delivery.channel.rawValue), \(delivery.target), \(payload),
                    \(stamp), \(stamp), \(stamp))
            ON CONFLICT (job_id, attempt, kind, channel, target) DO NOTHING
            """) > 0
    }

    func updateDelivery(_ id: Int64, status: DeliveryStatus, nextAt: Date?, error: String?, now: Date) throws {
        try run(
            """
            UPDATE deliveries SET attempts = attempts + 1, status = \(status.rawValue),
                next_at = \(nextAt?.timeIntervalSince1970), last_error = \(error), updated_at = \(now.timeIntervalSince1970)
            WHERE id = \(id) AND status = 'pending'
            """)
    }

    func leaseDelivery(_ id: Int64, until: Date) throws {
        try run("UPDATE deliveries SET next_at = \(until.timeIntervalSince1970) WHERE id = \(id) AND status = 'pending'")
    }

    func dueDeliveries(now: Date, limit: Int) throws -> (due: [DeliveryView], damaged: [(id: Int64, reason: String)]) {
        var due: [DeliveryView] = []
        var damaged: [(id: Int64, reason: String)] = []
        let locking = writing ? " FOR UPDATE SKIP LOCKED" : ""
        for row in try rows(
            PostgresQuery(
                unsafeSQL: "SELECT * FROM deliveries WHERE status = 'pending' AND next_at <= $1 ORDER BY next_at, id LIMIT $2"
                    + locking, binds: binds(now.timeIntervalSince1970, Int64(limit))))
        {
            do {
                due.append(try StoreRows.delivery(row))
            } catch {
                damaged.append((((try? row.int64("id")) ?? nil) ?? 0, "\(error)"))
            }
        }
        return (due, damaged)
    }

    func nextDeliveryAt() throws -> Date? {
        try one("SELECT MIN(next_at) AS at FROM deliveries WHERE status = 'pending'")?.date("at")
    }

    func deliveries(job: Int64?, limit: Int) throws -> [DeliveryView] {
        // Rows that do not decode are left out of the listing (and failed when due).
        if let job {
            return try rows("SELECT * FROM deliveries WHERE job_id = \(job) ORDER BY id LIMIT \(Int64(limit))")
                .compactMap { try? StoreRows.delivery($0) }
        }
        return try rows(
            "SELECT * FROM (SELECT * FROM deliveries ORDER BY id DESC LIMIT \(Int64(limit))) newest ORDER BY id"
        ).compactMap { try? StoreRows.delivery($0) }
    }
}
