import Foundation
package import StintCore

/// How a store's rows read as values, for every backend (their columns are named alike).
/// A row that does not decode in full never traps: a job reads with its damage, a queue
/// with defaults.
package enum StoreRows {
    /// The job in `row`. A row that does not decode in full (a planted or damaged value, a
    /// JSON column that is not JSON) still gives a job, with what could be read, defaults for
    /// the rest and ``StoredJob/damage`` saying why, so that one bad row cannot make a list,
    /// a claim or the reconciliation fail for every job.
    package static func storedJob<R: StoreRow>(_ row: R, attempts: [StoredAttempt]) throws -> StoredJob {
        do {
            return try decodedJob(row, attempts: attempts)
        } catch {
            return try damagedJob(row, attempts: attempts, damage: "the stored job does not decode: \(error)")
        }
    }

    static func decodedJob<R: StoreRow>(_ row: R, attempts: [StoredAttempt]) throws -> StoredJob {
        let argv = try StoreJSON.strings(try row.string("argv"))
        let shell = try row.string("shell")
        let retryOn = try row.string("retry_on")
        let after = try row.string("after")
        let queue = try row.required("queue", row.string)
        let priority = try row.required("priority", row.int)
        var spec = JobSpec(
            argv: shell == nil ? argv : nil, shell: shell, cwd: try row.required("cwd", row.string), env: [:],
            labels: try StoreJSON.stringMap(try row.string("labels")),
            session: try row.string("session"), timeout: try row.double("timeout"),
            outputCap: try row.required("output_cap", row.int64), hold: nil, queue: queue, priority: priority,
            after: try after.map { try StoreJSON.integers($0, as: Int64.self) }, unique: try row.string("unique_key"),
            retries: try row.required("retries", row.int), retryOn: try retryOn.map { try StoreJSON.integers($0, as: Int.self) },
            transientPattern: try row.string("transient_pattern"),
            backoffMin: try row.double("backoff_min"), backoffMax: try row.double("backoff_max"),
            stallAfter: try row.double("stall_after"))
        spec.notify = try row.string("notify")
        spec.onEnd = try row.string("on_end")
        let progress = try row.int64("progress_done").map { done in
            ProgressView(
                done: done, total: try row.int64("progress_total"), message: try row.string("progress_message"),
                updatedAt: try row.date("progress_at") ?? Date(timeIntervalSince1970: 0))
        }
        return StoredJob(
            id: try row.required("id", row.int64), state: JobState(rawValue: try row.required("state", row.string)) ?? .failed,
            queue: queue, spec: spec, createdAt: try row.required("created_at", row.date),
            endedAt: try row.date("ended_at"), attemptCount: try row.required("attempts", row.int),
            attempts: attempts, priority: priority, runAt: try row.date("run_at"),
            pendingDependencies: try row.required("pending_deps", row.int),
            endReason: try row.string("end_reason"), stopRequested: try row.required("stop_requested", row.bool),
            progress: progress, checkpoint: try row.string("checkpoint"))
    }

    /// What can be read of a row that does not decode in full; only the id must.
    static func damagedJob<R: StoreRow>(_ row: R, attempts: [StoredAttempt], damage: String) throws -> StoredJob {
        func value<T>(_ column: String, _ read: (String) throws -> T?, _ fallback: T) -> T {
            ((try? read(column)) ?? nil) ?? fallback
        }
        let queue = value("queue", row.string, QueueName.default)
        var spec = JobSpec(argv: [], cwd: value("cwd", row.string, "/"), env: [:], queue: queue)
        spec.session = value("session", row.string, "")
        if spec.session == "" { spec.session = nil }
        let unique = value("unique_key", row.string, "")
        spec.unique = unique.isEmpty ? nil : unique
        let endedAt = value("ended_at", row.double, -1.0)
        let endReason = value("end_reason", row.string, "")
        var job = StoredJob(
            id: try row.required("id", row.int64), state: JobState(rawValue: value("state", row.string, "")) ?? .failed,
            queue: queue, spec: spec, createdAt: Date(timeIntervalSince1970: value("created_at", row.double, 0.0)),
            endedAt: endedAt < 0 ? nil : Date(timeIntervalSince1970: endedAt), attemptCount: value("attempts", row.int, 0),
            attempts: attempts, priority: value("priority", row.int, 0))
        job.endReason = endReason.isEmpty ? nil : endReason
        job.stopRequested = value("stop_requested", row.bool, false)
        job.damage = damage
        return job
    }

    /// The attempts in `rows` that decode, and why any did not.
    static func storedAttempts<R: StoreRow>(_ rows: [R]) -> (attempts: [StoredAttempt], damage: String?) {
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
    package static func storedJob<R: StoreRow>(_ row: R, attemptRows rows: [R]) throws -> StoredJob {
        let (attempts, damage) = storedAttempts(rows)
        var job = try storedJob(row, attempts: attempts)
        if job.damage == nil { job.damage = damage }
        return job
    }

    /// The columns and joins of a listing, for ``listedJob(_:)``: every job column, and its
    /// last attempt's as `a_…` (the same SQL in every backend).
    package static let listingFrom = """
        SELECT j.*, a.number AS a_number, a.started_at AS a_started_at,
               a.ended_at AS a_ended_at, a.exit_code AS a_exit_code,
               a.signal AS a_signal, a.reason AS a_reason, a.message AS a_message,
               a.host AS a_host, a.instance AS a_instance, a.shim_pid AS a_shim_pid,
               a.peak_rss AS a_peak_rss, a.output_bytes AS a_output_bytes,
               a.dropped_bytes AS a_dropped_bytes, a.failure_class AS a_failure_class,
               a.class_reason AS a_class_reason, a.retry_at AS a_retry_at,
               a.stalled_at AS a_stalled_at, a.stall_line AS a_stall_line
        FROM jobs j
        LEFT JOIN attempts a ON a.job_id = j.id AND a.number = j.attempts
        """

    /// The job in `row` with its last attempt read from the same row's `a_` columns (a
    /// listing's join), or none when it has not run.
    package static func listedJob<R: StoreRow>(_ row: R) throws -> StoredJob {
        guard (try? row.int("a_number")) ?? nil != nil else { return try storedJob(row, attempts: []) }
        do {
            return try storedJob(row, attempts: [try storedAttempt(row, prefix: "a_")])
        } catch {
            var job = try storedJob(row, attempts: [])
            job.damage = job.damage ?? "a stored attempt does not decode: \(error)"
            return job
        }
    }

    /// The job in `row` with its environment from the `env_json` column (a claim's join).
    package static func jobWithEnvironment<R: StoreRow>(_ row: R) throws -> StoredJob {
        var job = try storedJob(row, attempts: [])
        let (env, envDamage) = environment(try? row.string("env_json"))
        job.spec.env = env
        job.damage = job.damage ?? envDamage
        return job
    }

    /// The open attempt in `row` (a job row with its environment and the attempt's `a_` columns).
    package static func openAttempt<R: StoreRow>(_ row: R) throws -> ClaimedJob {
        let job = try jobWithEnvironment(row)
        let startedAt = ((try? row.double("a_started_at")) ?? nil) ?? 0
        // Attempts from before instances were recorded carry no node (their host column
        // was not set with `--node`): every node reconciles them.
        let instance = (try? row.string("a_instance")) ?? nil
        let node = instance == nil ? nil : (try? row.string("a_host")) ?? nil
        let pid = ((try? row.int("a_shim_pid")) ?? nil).flatMap { Int32(exactly: $0) }
        return ClaimedJob(
            id: job.id, attempt: try row.required("a_number", row.int), queue: job.queue, spec: job.spec, shimPid: pid,
            startedAt: Date(timeIntervalSince1970: startedAt), node: node, damage: job.damage)
    }

    /// The environment in `text`, or why it does not decode.
    package static func environment(_ text: String?) -> (env: [String: String], damage: String?) {
        do {
            return (try StoreJSON.stringMap(text), nil)
        } catch {
            return ([:], "the stored environment does not decode: \(error)")
        }
    }

    static func storedAttempt<R: StoreRow>(_ row: R, prefix: String) throws -> StoredAttempt {
        let startedAt = try row.required(prefix + "started_at", row.double)
        let reason = try row.string(prefix + "reason")
        let outcome = try row.double(prefix + "ended_at").map { ended in
            AttemptOutcome(
                reason: reason.flatMap(AttemptReason.init(rawValue:)) ?? .lost,
                exitCode: try row.int(prefix + "exit_code"), signal: try row.int(prefix + "signal"),
                startedAt: Date(timeIntervalSince1970: startedAt), endedAt: Date(timeIntervalSince1970: ended),
                peakRssBytes: try row.int64(prefix + "peak_rss"), outputBytes: try row.int64(prefix + "output_bytes"),
                droppedBytes: try row.int64(prefix + "dropped_bytes"), message: try row.string(prefix + "message"))
        }
        let failureClass = try row.string(prefix + "failure_class")
        let classReason = try row.string(prefix + "class_reason")
        return StoredAttempt(
            number: try row.required(prefix + "number", row.int),
            startedAt: Date(timeIntervalSince1970: startedAt),
            host: try row.required(prefix + "host", row.string), instance: try row.string(prefix + "instance"),
            shimPid: try row.int(prefix + "shim_pid").map { Int32(truncatingIfNeeded: $0) },
            outcome: outcome,
            verdict: failureClass.flatMap(FailureClass.init(rawValue:)).map { FailureVerdict($0, classReason ?? "") },
            retryAt: try row.date(prefix + "retry_at"), stalledAt: try row.date(prefix + "stalled_at"),
            stallLine: try row.string(prefix + "stall_line"))
    }

    /// The queue in `row`. A value that does not decode (a damaged or hand-edited row) takes
    /// its default, so that one bad queue row cannot stop every claim.
    package static func queue<R: StoreRow>(_ row: R) -> QueueRecord {
        func value<T>(_ column: String, _ read: (String) throws -> T?, _ fallback: T) -> T {
            ((try? read(column)) ?? nil) ?? fallback
        }
        func optional<T>(_ column: String, _ read: (String) throws -> T?) -> T? {
            (try? read(column)) ?? nil
        }
        // The fallbacks are the column defaults of `queues` (the migrations).
        let name = value("name", row.string, QueueName.default)
        let settings = QueueSettings(
            concurrency: value("concurrency", row.int, 0), paused: value("paused", row.bool, false),
            breaker: CircuitBreaker.Settings(
                threshold: value("breaker_threshold", row.int, 0), pause: value("breaker_pause", row.double, 60.0)),
            preflight: optional("preflight", row.string), preflightTTL: value("preflight_ttl", row.double, 30.0),
            notify: optional("notify", row.string), onEnd: optional("on_end", row.string))
        let breaker = CircuitBreaker(
            state: CircuitBreaker.State(rawValue: value("breaker_state", row.string, "")) ?? .closed,
            streak: value("breaker_streak", row.int, 0),
            openUntil: optional("breaker_until", row.double).map(Date.init(timeIntervalSince1970:)),
            probeJob: optional("breaker_probe", row.int64))
        var preflight: PreflightStatus?
        if let passed = optional("preflight_passed", row.bool), let checked = optional("preflight_checked_at", row.double) {
            preflight = PreflightStatus(
                passed: passed, checkedAt: Date(timeIntervalSince1970: checked), reason: optional("preflight_reason", row.string))
        }
        return QueueRecord(name: name, settings: settings, breaker: breaker, preflight: preflight)
    }

    /// The event in `row`, or `nil` when it does not decode (it is left out, rather than trapped on).
    package static func event<R: StoreRow>(_ row: R) -> EventView? {
        try? EventView(
            id: row.required("id", row.int64), at: row.required("at", row.date), job: row.int64("job_id"),
            queue: row.string("queue"), kind: row.required("kind", row.string), message: row.required("message", row.string))
    }

    /// The notification stored in `row`.
    package static func notification<R: StoreRow>(_ row: R) throws -> NotificationView {
        let body = try row.required("body", row.string)
        var notification = try StintJSON.decoder().decode(NotificationView.self, from: Data(body.utf8))
        notification.id = try row.required("id", row.int64)
        notification.ackedAt = try row.date("acked_at")
        return notification
    }

    /// The delivery in `row`; throws on a value that does not decode.
    package static func delivery<R: StoreRow>(_ row: R) throws -> DeliveryView {
        DeliveryView(
            id: try row.required("id", row.int64), job: try row.required("job_id", row.int64),
            attempt: try row.required("attempt", row.int),
            kind: NotificationKind(rawValue: try row.required("kind", row.string)) ?? .ended,
            channel: DeliveryChannel(rawValue: try row.required("channel", row.string)) ?? .webhook,
            target: try row.required("target", row.string), payload: try row.required("payload", row.string),
            attempts: try row.required("attempts", row.int),
            status: DeliveryStatus(rawValue: try row.required("status", row.string)) ?? .pending,
            nextAt: try row.date("next_at"), lastError: try row.string("last_error"),
            createdAt: try row.required("created_at", row.date), updatedAt: try row.required("updated_at", row.date))
    }
}
