import Foundation
import GRDB
import StintCore

extension SQLiteJobStore {
    public func notifications(session: String?, after: Int64, limit: Int) async throws -> NotificationList {
        try await read { db in
            let rows: [Row]
            let dropped: Int
            if let session {
                rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT * FROM notifications
                        WHERE session = ? AND acked_at IS NULL AND id > ? ORDER BY id LIMIT ?
                        """, arguments: [session, after, limit])
                dropped = try Int.fetchOne(db, sql: "SELECT dropped FROM sessions WHERE name = ?", arguments: [session]) ?? 0
            } else {
                rows = try Row.fetchAll(
                    db,
                    sql: "SELECT * FROM notifications WHERE acked_at IS NULL AND id > ? ORDER BY id LIMIT ?",
                    arguments: [after, limit])
                dropped = try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(dropped), 0) FROM sessions") ?? 0
            }
            return NotificationList(notifications: try rows.map(Outbox.notification), dropped: dropped)
        }
    }

    public func ack(_ ids: [Int64], session: String?, now: Date) async throws -> AckResponse {
        try await write { db in
            var acked: [Int64] = []
            var unknown: [Int64] = []
            for id in ids {
                guard let owner = try String.fetchOne(db, sql: "SELECT session FROM notifications WHERE id = ?", arguments: [id]),
                    session == nil || owner == session
                else {
                    unknown.append(id)
                    continue
                }
                try db.execute(
                    sql: "UPDATE notifications SET acked_at = ? WHERE id = ? AND acked_at IS NULL",
                    arguments: [now.timeIntervalSince1970, id])
                acked.append(id)
            }
            return AckResponse(acked: acked, unknown: unknown)
        }
    }

    public func dueDeliveries(now: Date, limit: Int) async throws -> [DeliveryView] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM deliveries WHERE status = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?",
                arguments: [now.timeIntervalSince1970, limit]
            ).map(Self.delivery)
        }
    }

    public func nextDeliveryAt() async throws -> Date? {
        try await read { db in
            try Double.fetchOne(db, sql: "SELECT MIN(next_at) FROM deliveries WHERE status = 'pending'")
                .map(Date.init(timeIntervalSince1970:))
        }
    }

    public func recordDelivery(id: Int64, status: DeliveryStatus, nextAt: Date?, error: String?, now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE deliveries SET attempts = attempts + 1, status = ?, next_at = ?, last_error = ?, updated_at = ?
                    WHERE id = ? AND status = 'pending'
                    """,
                arguments: [
                    status.rawValue, status == .pending ? nextAt?.timeIntervalSince1970 : nil, error,
                    now.timeIntervalSince1970, id,
                ])
        }
    }

    public func deliveries(job: Int64?, limit: Int) async throws -> [DeliveryView] {
        try await read { db in
            if let job {
                return try Row.fetchAll(
                    db, sql: "SELECT * FROM deliveries WHERE job_id = ? ORDER BY id LIMIT ?", arguments: [job, limit]
                ).map(Self.delivery)
            }
            return try Row.fetchAll(
                db, sql: "SELECT * FROM (SELECT * FROM deliveries ORDER BY id DESC LIMIT ?) ORDER BY id",
                arguments: [limit]
            ).map(Self.delivery)
        }
    }

    private static func delivery(_ row: Row) throws -> DeliveryView {
        let next: Double? = row["next_at"]
        return DeliveryView(
            id: row["id"], job: row["job_id"], attempt: row["attempt"],
            kind: NotificationKind(rawValue: row["kind"]) ?? .ended,
            channel: DeliveryChannel(rawValue: row["channel"]) ?? .webhook, target: row["target"],
            payload: row["payload"], attempts: row["attempts"],
            status: DeliveryStatus(rawValue: row["status"]) ?? .pending,
            nextAt: next.map(Date.init(timeIntervalSince1970:)), lastError: row["last_error"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            updatedAt: Date(timeIntervalSince1970: row["updated_at"]))
    }
}
