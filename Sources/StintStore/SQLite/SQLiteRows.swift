import Foundation
import GRDB
import StintCore

/// How the SQLite store's rows read as values. A row that does not decode in full never
/// traps (as GRDB's subscripts would): a job reads with its damage, a queue with defaults.
enum SQLiteRows {
    /// The job in `row`. A row that does not decode in full (a planted or damaged value, a
    /// JSON column that is not JSON) still gives a job, with what could be read, defaults for
    /// the rest and ``StoredJob/damage`` saying why, so that one bad row cannot make a list,
    /// a claim or the reconciliation fail for every job.
    static func storedJob(_ row: Row, attempts: [StoredAttempt]) throws -> StoredJob {
        do {
            return try decodedJob(row, attempts: attempts)
        } catch {
            return try damagedJob(row, attempts: attempts, damage: "the stored job does not decode: \(error)")
        }
    }

    static func decodedJob(_ row: Row, attempts: [StoredAttempt]) throws -> StoredJob {
        let argv = try SQLiteJSON.strings(try row.decode(String?.self, forColumn: "argv"))
        let shell: String? = try row.decode(forColumn: "shell")
        let retryOn: String? = try row.decode(forColumn: "retry_on")
        let after: String? = try row.decode(forColumn: "after")
        let queue: String = try row.decode(forColumn: "queue")
        let priority: Int = try row.decode(forColumn: "priority")
        var spec = JobSpec(
            argv: shell == nil ? argv : nil, shell: shell, cwd: try row.decode(forColumn: "cwd"), env: [:],
            labels: try SQLiteJSON.stringMap(try row.decode(String?.self, forColumn: "labels")),
            session: try row.decode(forColumn: "session"), timeout: try row.decode(forColumn: "timeout"),
            outputCap: try row.decode(forColumn: "output_cap"), hold: nil, queue: queue, priority: priority,
            after: try after.map { try SQLiteJSON.integers($0, as: Int64.self) }, unique: try row.decode(forColumn: "unique_key"),
            retries: try row.decode(forColumn: "retries"), retryOn: try retryOn.map { try SQLiteJSON.integers($0, as: Int.self) },
            transientPattern: try row.decode(forColumn: "transient_pattern"),
            backoffMin: try row.decode(forColumn: "backoff_min"), backoffMax: try row.decode(forColumn: "backoff_max"),
            stallAfter: try row.decode(forColumn: "stall_after"))
        spec.notify = try row.decode(forColumn: "notify")
        spec.onEnd = try row.decode(forColumn: "on_end")
        let endedAt: Double? = try row.decode(forColumn: "ended_at")
        let runAt: Double? = try row.decode(forColumn: "run_at")
        let progressDone: Int64? = try row.decode(forColumn: "progress_done")
        let progressAt: Double? = try row.decode(forColumn: "progress_at")
        let progress = try progressDone.map { done in
            ProgressView(
                done: done, total: try row.decode(forColumn: "progress_total"),
                message: try row.decode(forColumn: "progress_message"),
                updatedAt: Date(timeIntervalSince1970: progressAt ?? 0))
        }
        return StoredJob(
            id: try row.decode(forColumn: "id"), state: JobState(rawValue: try row.decode(forColumn: "state")) ?? .failed,
            queue: queue, spec: spec, createdAt: Date(timeIntervalSince1970: try row.decode(forColumn: "created_at")),
            endedAt: endedAt.map(Date.init(timeIntervalSince1970:)), attemptCount: try row.decode(forColumn: "attempts"),
            attempts: attempts, priority: priority, runAt: runAt.map(Date.init(timeIntervalSince1970:)),
            pendingDependencies: try row.decode(forColumn: "pending_deps"),
            endReason: try row.decode(forColumn: "end_reason"), stopRequested: try row.decode(forColumn: "stop_requested"),
            progress: progress, checkpoint: try row.decode(forColumn: "checkpoint"))
    }

    /// What can be read of a row that does not decode in full; only the id must.
    static func damagedJob(_ row: Row, attempts: [StoredAttempt], damage: String) throws -> StoredJob {
        func value<T: DatabaseValueConvertible>(_ column: String, _ fallback: T) -> T {
            (try? row.decode(T?.self, forColumn: column)).flatMap { $0 } ?? fallback
        }
        let queue = value("queue", QueueName.default)
        var spec = JobSpec(argv: [], cwd: value("cwd", "/"), env: [:], queue: queue)
        spec.session = value("session", "")
        if spec.session == "" { spec.session = nil }
        let unique = value("unique_key", "")
        spec.unique = unique.isEmpty ? nil : unique
        let endedAt = value("ended_at", -1.0)
        let endReason = value("end_reason", "")
        var job = StoredJob(
            id: try row.decode(forColumn: "id"), state: JobState(rawValue: value("state", "")) ?? .failed, queue: queue,
            spec: spec, createdAt: Date(timeIntervalSince1970: value("created_at", 0.0)),
            endedAt: endedAt < 0 ? nil : Date(timeIntervalSince1970: endedAt), attemptCount: value("attempts", 0),
            attempts: attempts, priority: value("priority", 0))
        job.endReason = endReason.isEmpty ? nil : endReason
        job.stopRequested = value("stop_requested", false)
        job.damage = damage
        return job
    }

    /// The attempts in `rows` that decode, and why any did not.
    static func storedAttempts(_ rows: [Row]) -> (attempts: [StoredAttempt], damage: String?) {
        var attempts: [StoredAttempt] = []
        var damage: String?
        for row in rows {
            do {
                attempts.append(try storedAttempt(row, prefix: ""))
            } catch {
                damage = "a stored attempt does not decode: \(error)"
            }
        }
        return (attempts, damage)
    }

    /// The job in `row` with the attempts in `rows`, damaged if either does not decode.
    static func storedJob(_ row: Row, attemptRows rows: [Row]) throws -> StoredJob {
        let (attempts, damage) = storedAttempts(rows)
        var job = try storedJob(row, attempts: attempts)
        if job.damage == nil { job.damage = damage }
        return job
    }

    /// The environment in `text`, or why it does not decode.
    static func environment(_ text: String?) -> (env: [String: String], damage: String?) {
        do {
            return (try SQLiteJSON.stringMap(text), nil)
        } catch {
            return ([:], "the stored environment does not decode: \(error)")
        }
    }

    static func storedAttempt(_ row: Row, prefix: String) throws -> StoredAttempt {
        let endedAt: Double? = try row.decode(forColumn: prefix + "ended_at")
        let reason: String? = try row.decode(forColumn: prefix + "reason")
        let startedAt: Double = try row.decode(forColumn: prefix + "started_at")
        let outcome = try endedAt.map { ended in
            AttemptOutcome(
                reason: reason.flatMap(AttemptReason.init(rawValue:)) ?? .lost,
                exitCode: try row.decode(forColumn: prefix + "exit_code"),
                signal: try row.decode(forColumn: prefix + "signal"),
                startedAt: Date(timeIntervalSince1970: startedAt),
                endedAt: Date(timeIntervalSince1970: ended), peakRssBytes: try row.decode(forColumn: prefix + "peak_rss"),
                outputBytes: try row.decode(forColumn: prefix + "output_bytes"),
                droppedBytes: try row.decode(forColumn: prefix + "dropped_bytes"),
                message: try row.decode(forColumn: prefix + "message"))
        }
        let failureClass: String? = try row.decode(forColumn: prefix + "failure_class")
        let classReason: String? = try row.decode(forColumn: prefix + "class_reason")
        let retryAt: Double? = try row.decode(forColumn: prefix + "retry_at")
        let stalledAt: Double? = try row.decode(forColumn: prefix + "stalled_at")
        return StoredAttempt(
            number: try row.decode(forColumn: prefix + "number"),
            startedAt: Date(timeIntervalSince1970: startedAt),
            host: try row.decode(forColumn: prefix + "host"), instance: try row.decode(forColumn: prefix + "instance"),
            shimPid: try row.decode(forColumn: prefix + "shim_pid"),
            outcome: outcome,
            verdict: failureClass.flatMap(FailureClass.init(rawValue:)).map { FailureVerdict($0, classReason ?? "") },
            retryAt: retryAt.map(Date.init(timeIntervalSince1970:)),
            stalledAt: stalledAt.map(Date.init(timeIntervalSince1970:)),
            stallLine: try row.decode(forColumn: prefix + "stall_line"))
    }

    /// The queue in `row`. A value that does not decode (a damaged or hand-edited row) takes
    /// its default, so that one bad queue row cannot stop every claim.
    static func queue(_ row: Row) -> QueueRecord {
        func value<T: DatabaseValueConvertible>(_ column: String, _ fallback: T) -> T {
            (try? row.decode(T?.self, forColumn: column)).flatMap { $0 } ?? fallback
        }
        func optional<T: DatabaseValueConvertible>(_ column: String) -> T? {
            (try? row.decode(T?.self, forColumn: column)).flatMap { $0 }
        }
        // The fallbacks are the column defaults of `queues` (SQLiteMigrations).
        let name = value("name", QueueName.default)
        let settings = QueueSettings(
            concurrency: value("concurrency", 0), paused: value("paused", false),
            breaker: CircuitBreaker.Settings(
                threshold: value("breaker_threshold", 0), pause: value("breaker_pause", 60.0)),
            preflight: optional("preflight"), preflightTTL: value("preflight_ttl", 30.0),
            notify: optional("notify"), onEnd: optional("on_end"))
        let until: Double? = optional("breaker_until")
        let breaker = CircuitBreaker(
            state: CircuitBreaker.State(rawValue: value("breaker_state", "")) ?? .closed,
            streak: value("breaker_streak", 0), openUntil: until.map(Date.init(timeIntervalSince1970:)),
            probeJob: optional("breaker_probe"))
        var preflight: PreflightStatus?
        let passed: Bool? = optional("preflight_passed")
        let checked: Double? = optional("preflight_checked_at")
        if let passed, let checked {
            preflight = PreflightStatus(
                passed: passed, checkedAt: Date(timeIntervalSince1970: checked), reason: optional("preflight_reason"))
        }
        return QueueRecord(name: name, settings: settings, breaker: breaker, preflight: preflight)
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

    /// The delivery in `row`; throws (rather than trap, as GRDB's subscripts do) on a value
    /// that does not decode.
    static func delivery(_ row: Row) throws -> DeliveryView {
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
