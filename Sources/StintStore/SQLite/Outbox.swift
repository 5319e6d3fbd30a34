import Foundation
import GRDB
import StintCore

/// Writes notifications and deliveries inside the transaction of the change they report,
/// so that a change and its notice are durable together or not at all.
enum Outbox {
    /// Job `id` reached a terminal state; `attempt` 0: it never ran.
    static func jobEnded(
        _ id: Int64, attempt: Int, tail: [String], log: String?, now: Date, cap: Int, db: Database, into result: inout FinishResult
    ) throws {
        guard try isHeard(id, db: db) else { return }
        let job = try SQLiteJobStore.fetchJob(id, db: db)
        let last = job.attempts.last(where: { $0.number == attempt })
        let outcome = last?.outcome
        var notification = NotificationView(
            id: 0, session: job.spec.session, job: id, attempt: attempt, kind: .ended, state: job.state,
            queue: job.queue, command: job.spec.displayCommand, labels: job.spec.labels, exitCode: outcome?.exitCode,
            signal: outcome?.signal, reason: outcome?.reason.rawValue ?? (job.state == .cancelled ? "cancelled" : nil),
            message: job.endReason ?? outcome?.message,
            duration: outcome.map { $0.endedAt.timeIntervalSince($0.startedAt ?? last?.startedAt ?? $0.endedAt) },
            tail: trimmed(tail), log: log, createdAt: now)
        try write(&notification, job: job, cap: cap, db: db, into: &result)
    }

    /// Job `id`'s running attempt was flagged stalled at `line`.
    static func stalled(
        _ id: Int64, attempt: Int, line: String, now: Date, cap: Int, db: Database, into result: inout FinishResult
    ) throws {
        guard try isHeard(id, db: db) else { return }
        let job = try SQLiteJobStore.fetchJob(id, db: db)
        let started = job.attempts.last(where: { $0.number == attempt })?.startedAt ?? now
        var notification = NotificationView(
            id: 0, session: job.spec.session, job: id, attempt: attempt, kind: .stalled, state: job.state,
            queue: job.queue, command: job.spec.displayCommand, labels: job.spec.labels, reason: "stalled",
            message: "waiting at a prompt: \(line)", duration: now.timeIntervalSince(started), tail: trimmed([line]),
            createdAt: now)
        try write(&notification, job: job, cap: cap, db: db, into: &result)
    }

    /// Job `id`'s failure opened its queue's breaker.
    static func breakerOpened(
        _ id: Int64, attempt: Int, reason: String, tail: [String], log: String?, now: Date, cap: Int, db: Database,
        into result: inout FinishResult
    ) throws {
        let job = try SQLiteJobStore.fetchJob(id, db: db)
        let outcome = job.attempts.last(where: { $0.number == attempt })?.outcome
        var notification = NotificationView(
            id: 0, session: job.spec.session, job: id, attempt: attempt, kind: .breakerOpen, state: job.state,
            queue: job.queue, command: job.spec.displayCommand, labels: job.spec.labels, exitCode: outcome?.exitCode,
            signal: outcome?.signal, reason: "breaker_open", message: "queue \(job.queue): \(reason)",
            tail: trimmed(tail), log: log, createdAt: now)
        try write(&notification, job: job, cap: cap, db: db, into: &result)
    }

    /// Whether anyone hears of job `id`: it has a session, or it or its queue has a hook.
    /// Two point reads, so that the end of a job nobody listens to costs next to nothing.
    private static func isHeard(_ id: Int64, db: Database) throws -> Bool {
        guard let row = try Row.fetchOne(db, sql: "SELECT session, notify, on_end, queue FROM jobs WHERE id = ?", arguments: [id])
        else { return false }
        if (row["session"] as String?) != nil || (row["notify"] as String?) != nil || (row["on_end"] as String?) != nil {
            return true
        }
        return try Bool.fetchOne(
            db, sql: "SELECT notify IS NOT NULL OR on_end IS NOT NULL FROM queues WHERE name = ?",
            arguments: [row["queue"] as String]) ?? false
    }

    /// Stores the notification (for a job with a session), keeps the session's outbox
    /// within its cap, and queues a delivery for each hook of the job and its queue.
    private static func write(
        _ notification: inout NotificationView, job: StoredJob, cap: Int, db: Database, into result: inout FinishResult
    ) throws {
        let stamp = notification.createdAt.timeIntervalSince1970
        if let session = job.spec.session {
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO notifications (session, job_id, attempt, kind, body, created_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    session, notification.job, notification.attempt, notification.kind.rawValue,
                    try body(notification), stamp,
                ])
            // Never two for the same (job, attempt, kind): a repeat changes nothing.
            guard db.changesCount > 0 else { return }
            notification.id = db.lastInsertedRowID
            result.notifications.append(notification)
            let pending = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM notifications WHERE session = ? AND acked_at IS NULL",
                arguments: [session]) ?? 0
            if pending > cap {
                let excess = pending - cap
                try db.execute(
                    sql: """
                        DELETE FROM notifications WHERE id IN (
                            SELECT id FROM notifications WHERE session = ? AND acked_at IS NULL ORDER BY id LIMIT ?)
                        """, arguments: [session, excess])
                try db.execute(
                    sql: """
                        INSERT INTO sessions (name, dropped) VALUES (?, ?)
                        ON CONFLICT (name) DO UPDATE SET dropped = dropped + excluded.dropped
                        """, arguments: [session, excess])
            }
        }
        var targets: [(DeliveryChannel, String)] = []
        let queueRow = try Row.fetchOne(db, sql: "SELECT notify, on_end FROM queues WHERE name = ?", arguments: [job.queue])
        for url in [job.spec.notify, queueRow?["notify"] as String?].compactMap({ $0 }) {
            targets.append((.webhook, url))
        }
        if notification.kind == .ended {
            for command in [job.spec.onEnd, queueRow?["on_end"] as String?].compactMap({ $0 }) {
                targets.append((.command, command))
            }
        }
        guard !targets.isEmpty else { return }
        let payload = String(decoding: try StintJSON.encoder().encode(notification), as: UTF8.self)
        for (channel, target) in targets {
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO deliveries
                        (job_id, attempt, kind, channel, target, payload, next_at, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    notification.job, notification.attempt, notification.kind.rawValue, channel.rawValue, target,
                    payload, stamp, stamp, stamp,
                ])
            if db.changesCount > 0 { result.deliveriesQueued = true }
        }
    }

    /// The stored body: the notification's JSON without its id (the row's).
    static func body(_ notification: NotificationView) throws -> String {
        String(decoding: try StintJSON.encoder().encode(notification), as: UTF8.self)
    }

    /// The notification stored in `row`.
    static func notification(_ row: Row) throws -> NotificationView {
        let body: String = try row.decode(forColumn: "body")
        var notification = try StintJSON.decoder().decode(NotificationView.self, from: Data(body.utf8))
        notification.id = try row.decode(forColumn: "id")
        let acked: Double? = try row.decode(forColumn: "acked_at")
        notification.ackedAt = acked.map(Date.init(timeIntervalSince1970:))
        return notification
    }

    /// At most ``NotificationView/tailLines`` lines, each at most ``NotificationView/tailLineBytes``.
    static func trimmed(_ lines: [String]) -> [String] {
        lines.suffix(NotificationView.tailLines).map { line in
            guard line.utf8.count > NotificationView.tailLineBytes else { return line }
            return String(decoding: line.utf8.prefix(NotificationView.tailLineBytes), as: UTF8.self) + "…"
        }
    }
}
