import Foundation
import GRDB
import StintCore

extension SQLiteTransaction {
    func queues() throws -> [QueueRecord] {
        try Row.fetchAll(try db.cachedStatement(sql: "SELECT * FROM queues ORDER BY name")).map(StoreRows.queue)
    }

    func queue(_ name: String) throws -> QueueRecord? {
        try Row.fetchOne(try db.cachedStatement(sql: "SELECT * FROM queues WHERE name = ?"), arguments: [name]).map(
            StoreRows.queue)
    }

    func ensureQueue(_ name: String, now: Date) throws {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO queues (name, created_at) VALUES (?, ?)").execute(arguments: [
            name, now.timeIntervalSince1970,
        ])
    }

    func saveQueueSettings(_ name: String, _ settings: QueueSettings, resetPreflight: Bool) throws {
        try db.execute(
            sql: """
                UPDATE queues SET concurrency = ?, paused = ?, breaker_threshold = ?, breaker_pause = ?,
                    preflight = ?, preflight_ttl = ?, notify = ?, on_end = ?
                WHERE name = ?
                """,
            arguments: [
                settings.concurrency, settings.paused, settings.breaker.threshold, settings.breaker.pause,
                settings.preflight, settings.preflightTTL, settings.notify, settings.onEnd, name,
            ])
        if resetPreflight {
            try db.cachedStatement(
                sql: """
                    UPDATE queues SET preflight_passed = NULL, preflight_checked_at = NULL, preflight_reason = NULL
                    WHERE name = ?
                    """
            ).execute(arguments: [name])
        }
    }

    func saveBreaker(_ queue: String, _ breaker: CircuitBreaker) throws {
        try db.execute(
            sql: """
                UPDATE queues SET breaker_state = ?, breaker_streak = ?, breaker_until = ?, breaker_probe = ?
                WHERE name = ?
                """,
            arguments: [
                breaker.state.rawValue, breaker.streak, breaker.openUntil?.timeIntervalSince1970, breaker.probeJob, queue,
            ])
    }

    func savePreflight(_ queue: String, _ status: PreflightStatus) throws {
        try db.execute(
            sql: "UPDATE queues SET preflight_passed = ?, preflight_checked_at = ?, preflight_reason = ? WHERE name = ?",
            arguments: [status.passed, status.checkedAt.timeIntervalSince1970, status.reason, queue])
    }

    func appendEvent(_ event: EventRecord) throws {
        try db.cachedStatement(sql: "INSERT INTO events (at, job_id, queue, kind, message) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [event.at.timeIntervalSince1970, event.job, event.queue, event.kind, event.message])
    }

    func events(job: Int64?, queue: String?, limit: Int) throws -> [EventView] {
        var clauses: [String] = []
        var arguments = StatementArguments()
        if let job {
            clauses.append("job_id = ?")
            arguments += [job]
        }
        if let queue {
            clauses.append("queue = ?")
            arguments += [queue]
        }
        arguments += [max(0, limit)]
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let rows = try Row.fetchAll(
            db, sql: "SELECT * FROM (SELECT * FROM events \(whereSQL) ORDER BY id DESC LIMIT ?) ORDER BY id",
            arguments: arguments)
        return rows.compactMap(StoreRows.event)
    }

    func events(after: Int64, session: String?, limit: Int) throws -> [EventView] {
        let rows: [Row]
        if let session {
            rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT * FROM events WHERE id > ? AND job_id IN (SELECT id FROM jobs WHERE session = ?)
                        ORDER BY id LIMIT ?
                        """), arguments: [after, session, max(0, limit)])
        } else {
            rows = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?"),
                arguments: [after, max(0, limit)])
        }
        return rows.compactMap(StoreRows.event)
    }

    func queueGauges() throws -> [String: QueueGauges] {
        var gauges: [String: QueueGauges] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT queue, state, COUNT(*) AS n FROM jobs GROUP BY queue, state") {
            guard let queue = try? row.decode(String.self, forColumn: "queue"),
                let state = (try? row.decode(String.self, forColumn: "state")).flatMap(JobState.init(rawValue:))
            else { continue }
            gauges[queue, default: QueueGauges()].counts[state] = try row.decode(forColumn: "n")
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT queue, COUNT(*) AS n, MIN(MAX(created_at, COALESCE(run_at, created_at))) AS since FROM jobs
                WHERE state = 'queued' AND ready = 1 GROUP BY queue
                """)
        {
            guard let queue = try? row.decode(String.self, forColumn: "queue") else { continue }
            gauges[queue, default: QueueGauges()].ready = try row.decode(forColumn: "n")
            gauges[queue]!.oldestReady = (try? row.decode(Double.self, forColumn: "since")).map(Date.init(timeIntervalSince1970:))
        }
        return gauges
    }

    func lastEventID() throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(id) FROM events")) ?? 0
    }
}
