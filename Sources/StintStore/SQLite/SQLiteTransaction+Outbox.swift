import Foundation
import GRDB
import StintCore

extension SQLiteTransaction {
    func notifications(session: String?, after: Int64, limit: Int) throws -> NotificationList {
        let rows: [Row]
        let dropped: Int
        if let session {
            rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM notifications WHERE session = ? AND acked_at IS NULL AND id > ? ORDER BY id LIMIT ?",
                arguments: [session, after, limit])
            dropped =
                try Int.fetchOne(try db.cachedStatement(sql: "SELECT dropped FROM sessions WHERE name = ?"), arguments: [session])
                ?? 0
        } else {
            rows = try Row.fetchAll(
                try db.cachedStatement(sql: "SELECT * FROM notifications WHERE acked_at IS NULL AND id > ? ORDER BY id LIMIT ?"),
                arguments: [after, limit])
            dropped = try Int.fetchOne(try db.cachedStatement(sql: "SELECT COALESCE(SUM(dropped), 0) FROM sessions")) ?? 0
        }
        // A notification whose stored body does not decode is left out rather than
        // keeping every other one from its reader.
        return NotificationList(notifications: rows.compactMap { try? StoreRows.notification($0) }, dropped: dropped)
    }

    func notificationSession(_ id: Int64) throws -> String? {
        try String.fetchOne(try db.cachedStatement(sql: "SELECT session FROM notifications WHERE id = ?"), arguments: [id])
    }

    func pendingNotificationCount(session: String) throws -> Int {
        try Int.fetchOne(
            try db.cachedStatement(sql: "SELECT COUNT(*) FROM notifications WHERE session = ? AND acked_at IS NULL"),
            arguments: [session]) ?? 0
    }

    func pendingNotificationTotal() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM notifications WHERE acked_at IS NULL") ?? 0
    }

    func insertNotification(_ notification: NotificationView) throws -> Int64? {
        // The stored body is the notification's JSON without its id (the row's).
        let body = String(decoding: try StintJSON.encoder().encode(notification), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO notifications (session, job_id, attempt, kind, body, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                notification.session, notification.job, notification.attempt, notification.kind.rawValue, body,
                notification.createdAt.timeIntervalSince1970,
            ])
        return db.changesCount > 0 ? db.lastInsertedRowID : nil
    }

    func dropOldestNotifications(session: String, count: Int) throws {
        try db.cachedStatement(
            sql: """
                DELETE FROM notifications WHERE id IN (
                    SELECT id FROM notifications WHERE session = ? AND acked_at IS NULL ORDER BY id LIMIT ?)
                """
        ).execute(arguments: [session, count])
        try db.cachedStatement(
            sql: """
                INSERT INTO sessions (name, dropped) VALUES (?, ?)
                ON CONFLICT (name) DO UPDATE SET dropped = dropped + excluded.dropped
                """
        ).execute(arguments: [session, count])
    }

    func ackNotification(_ id: Int64, now: Date) throws {
        try db.execute(
            sql: "UPDATE notifications SET acked_at = ? WHERE id = ? AND acked_at IS NULL",
            arguments: [now.timeIntervalSince1970, id])
    }

    func insertDelivery(
        job: Int64, attempt: Int, kind: NotificationKind, _ delivery: NotificationComposer.Delivery, payload: String,
        now: Date
    ) throws -> Bool {
        let stamp = now.timeIntervalSince1970
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO deliveries
                    (job_id, attempt, kind, channel, target, payload, next_at, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                job, attempt, kind.rawValue, delivery.channel.rawValue, delivery.target, payload, stamp, stamp, stamp,
            ])
        return db.changesCount > 0
    }

    func updateDelivery(_ id: Int64, status: DeliveryStatus, nextAt: Date?, error: String?, now: Date) throws {
        try db.execute(
            sql: """
                UPDATE deliveries SET attempts = attempts + 1, status = ?, next_at = ?, last_error = ?, updated_at = ?
                WHERE id = ? AND status = 'pending'
                """,
            arguments: [status.rawValue, nextAt?.timeIntervalSince1970, error, now.timeIntervalSince1970, id])
    }

    func leaseDelivery(_ id: Int64, until: Date) throws {
        try db.cachedStatement(sql: "UPDATE deliveries SET next_at = ? WHERE id = ? AND status = 'pending'")
            .execute(arguments: [until.timeIntervalSince1970, id])
    }

    func dueDeliveries(now: Date, limit: Int) throws -> (due: [DeliveryView], damaged: [(id: Int64, reason: String)]) {
        var due: [DeliveryView] = []
        var damaged: [(id: Int64, reason: String)] = []
        for row in try Row.fetchAll(
            try db.cachedStatement(
                sql: "SELECT * FROM deliveries WHERE status = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?"),
            arguments: [now.timeIntervalSince1970, limit])
        {
            do {
                due.append(try StoreRows.delivery(row))
            } catch {
                damaged.append(((try? row.decode(Int64.self, forColumn: "id")) ?? 0, "\(error)"))
            }
        }
        return (due, damaged)
    }

    func nextDeliveryAt() throws -> Date? {
        try Double.fetchOne(try db.cachedStatement(sql: "SELECT MIN(next_at) FROM deliveries WHERE status = 'pending'"))
            .map(Date.init(timeIntervalSince1970:))
    }

    func deliveries(job: Int64?, limit: Int) throws -> [DeliveryView] {
        // Rows that do not decode are left out of the listing (and failed when due).
        if let job {
            return try Row.fetchAll(
                try db.cachedStatement(sql: "SELECT * FROM deliveries WHERE job_id = ? ORDER BY id LIMIT ?"),
                arguments: [job, limit]
            ).compactMap { try? StoreRows.delivery($0) }
        }
        return try Row.fetchAll(
            try db.cachedStatement(sql: "SELECT * FROM (SELECT * FROM deliveries ORDER BY id DESC LIMIT ?) ORDER BY id"),
            arguments: [limit]
        ).compactMap { try? StoreRows.delivery($0) }
    }
}
