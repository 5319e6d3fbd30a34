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
            // A notification whose stored body does not decode is left out rather than
            // keeping every other one from its reader.
            return NotificationList(notifications: rows.compactMap { try? Outbox.notification($0) }, dropped: dropped)
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
        let (due, damaged) = try await read { db in
            var due: [DeliveryView] = []
            var damaged: [(id: Int64, reason: String)] = []
            for row in try Row.fetchAll(
                db,
                sql: "SELECT * FROM deliveries WHERE status = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?",
                arguments: [now.timeIntervalSince1970, limit])
            {
                do {
                    due.append(try Self.delivery(row))
                } catch {
                    damaged.append(((try? row.decode(Int64.self, forColumn: "id")) ?? 0, "\(error)"))
                }
            }
            return (due, damaged)
        }
        // A delivery that does not decode can never be sent: it ends `permanent` with the
        // reason, so it neither blocks the others nor stays due for ever.
        for (id, reason) in damaged {
            try await recordDelivery(
                id: id, status: .permanent, nextAt: nil, error: "the stored delivery does not decode: \(reason)", now: now)
        }
        return due
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
                ).compactMap { try? Self.delivery($0) }
            }
            // Rows that do not decode are left out of the listing (and failed when due).
            return try Row.fetchAll(
                db, sql: "SELECT * FROM (SELECT * FROM deliveries ORDER BY id DESC LIMIT ?) ORDER BY id",
                arguments: [limit]
            ).compactMap { try? Self.delivery($0) }
        }
    }

    /// The delivery in `row`; throws (rather than trap, as GRDB's subscripts do) on a value
    /// that does not decode.
    private static func delivery(_ row: Row) throws -> DeliveryView {
        let next: Double? = try row.decode(forColumn: "next_at")
        return DeliveryView(
            id: try row.decode(forColumn: "id"), job: try row.decode(forColumn: "job_id"),
            attempt: try row.decode(forColumn: "attempt"),
            kind: NotificationKind(rawValue: try row.decode(forColumn: "kind")) ?? .ended,
            channel: DeliveryChannel(rawValue: try row.decode(forColumn: "channel")) ?? .webhook,
            target: try row.decode(forColumn: "target"), payload: try row.decode(forColumn: "payload"),
            attempts: try row.decode(forColumn: "attempts"),
            status: DeliveryStatus(rawValue: try row.decode(forColumn: "status")) ?? .pending,
            nextAt: next.map(Date.init(timeIntervalSince1970:)), lastError: try row.decode(forColumn: "last_error"),
            createdAt: Date(timeIntervalSince1970: try row.decode(forColumn: "created_at")),
            updatedAt: Date(timeIntervalSince1970: try row.decode(forColumn: "updated_at")))
    }
}
