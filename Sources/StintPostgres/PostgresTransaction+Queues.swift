import Foundation
import PostgresNIO
import StintCore
import StintStore

extension PostgresTransaction {
    func queues() throws -> [QueueRecord] {
        try rows(PostgresQuery(unsafeSQL: "SELECT * FROM queues ORDER BY name" + lock)).map(StoreRows.queue)
    }

    func queue(_ name: String) throws -> QueueRecord? {
        // A write locks every queue row, in name order, as the claim does: two writes then
        // never each hold a queue row the other waits for.
        guard writing else { return try one("SELECT * FROM queues WHERE name = \(name)").map(StoreRows.queue) }
        return try queues().first { $0.name == name }
    }

    func ensureQueue(_ name: String, now: Date) throws {
        try run("INSERT INTO queues (name, created_at) VALUES (\(name), \(now.timeIntervalSince1970)) ON CONFLICT (name) DO NOTHING")
    }

    func saveQueueSettings(_ name: String, _ settings: QueueSettings, resetPreflight: Bool) throws {
        try run(
            """
            UPDATE queues SET concurrency = \(settings.concurrency), paused = \(settings.paused),
                breaker_threshold = \(settings.breaker.threshold), breaker_pause = \(settings.breaker.pause),
                preflight = \(settings.preflight), preflight_ttl = \(settings.preflightTTL), notify = \(settings.notify),
                on_end = \(settings.onEnd)
            WHERE name = \(name)
            """)
        if resetPreflight {
            try run(
                """
                UPDATE queues SET preflight_passed = NULL, preflight_checked_at = NULL, preflight_reason = NULL
                WHERE name = \(name)
                """)
        }
        try ringWake()
    }

    func saveBreaker(_ queue: String, _ breaker: CircuitBreaker) throws {
        try run(
            """
            UPDATE queues SET breaker_state = \(breaker.state.rawValue), breaker_streak = \(breaker.streak),
                breaker_until = \(breaker.openUntil?.timeIntervalSince1970), breaker_probe = \(breaker.probeJob)
            WHERE name = \(queue)
            """)
    }

    func savePreflight(_ queue: String, _ status: PreflightStatus) throws {
        try run(
            """
            UPDATE queues SET preflight_passed = \(status.passed), preflight_checked_at = \(status.checkedAt.timeIntervalSince1970),
                preflight_reason = \(status.reason)
            WHERE name = \(queue)
            """)
        if status.passed { try ringWake() }
    }

    func appendEvent(_ event: EventRecord) throws {
        try run(
            """
            INSERT INTO events (at, job_id, queue, kind, message)
            VALUES (\(event.at.timeIntervalSince1970), \(event.job), \(event.queue), \(event.kind), \(event.message))
            """)
    }

    func events(job: Int64?, queue: String?, limit: Int) throws -> [EventView] {
        try rows(
            """
            SELECT * FROM (
                SELECT * FROM events
                WHERE (\(job)::bigint IS NULL OR job_id = \(job)) AND (\(queue)::text IS NULL OR queue = \(queue))
                ORDER BY id DESC LIMIT \(Int64(max(0, limit)))
            ) newest ORDER BY id
            """
        ).compactMap(StoreRows.event)
    }

    func events(after: Int64, session: String?, limit: Int) throws -> [EventView] {
        try rows(
            """
            SELECT * FROM events
            WHERE id > \(after) AND (\(session)::text IS NULL OR job_id IN (SELECT id FROM jobs WHERE session = \(session)))
            ORDER BY id LIMIT \(Int64(max(0, limit)))
            """
        ).compactMap(StoreRows.event)
    }

    func queueGauges() throws -> [String: QueueGauges] {
        var gauges: [String: QueueGauges] = [:]
        for row in try rows("SELECT queue, state, COUNT(*)::bigint AS n FROM jobs GROUP BY queue, state") {
            guard let queue = try row.string("queue"), let state = try row.string("state").flatMap(JobState.init(rawValue:))
            else { continue }
            gauges[queue, default: QueueGauges()].counts[state] = try row.int("n") ?? 0
        }
        for row in try rows(
            """
            SELECT queue, COUNT(*)::bigint AS n, MIN(GREATEST(created_at, COALESCE(run_at, created_at))) AS since FROM jobs
            WHERE state = 'queued' AND ready GROUP BY queue
            """)
        {
            guard let queue = try row.string("queue") else { continue }
            gauges[queue, default: QueueGauges()].ready = try row.int("n") ?? 0
            gauges[queue]!.oldestReady = try row.double("since").map(Date.init(timeIntervalSince1970:))
        }
        return gauges
    }

    func lastEventID() throws -> Int64 {
        try rows("SELECT COALESCE(MAX(id), 0)::bigint AS id FROM events").first?.int64("id") ?? 0
    }
}
