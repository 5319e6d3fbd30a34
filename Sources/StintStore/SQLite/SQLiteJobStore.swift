import Foundation
import GRDB
import StintCore

/// The statements of a claim. Each reads through an index, so a claim costs
/// O(log n) in the number of queued jobs however many wait (see `queryPlan`).
enum ClaimSQL {
    /// Delayed and backed-off jobs whose time has come become runnable (`jobs_waiting`).
    static let promote = """
        UPDATE jobs SET ready = 1
        WHERE state = 'queued' AND ready = 0 AND pending_deps = 0 AND run_at <= ?
        """
    /// The earliest run_at still in the future (`jobs_waiting`).
    static let nextWake = "SELECT MIN(run_at) FROM jobs WHERE state = 'queued' AND ready = 0 AND pending_deps = 0"
    /// Running jobs per queue (`jobs_running`, which holds only running jobs).
    static let runningByQueue = "SELECT queue, COUNT(*) AS n FROM jobs INDEXED BY jobs_running WHERE state = 'running' GROUP BY queue"
    /// A queue's best runnable jobs, in claim order, straight from `jobs_ready`.
    static let candidates = """
        SELECT j.*, e.json AS env_json FROM jobs j INDEXED BY jobs_ready
        JOIN environments e ON e.id = j.env_id
        WHERE j.queue = ? AND j.state = 'queued' AND j.ready = 1
        ORDER BY j.priority DESC, j.id LIMIT ?
        """
    /// Whether a queue has runnable jobs (for preflights).
    static let hasReady = """
        SELECT EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_ready WHERE queue = ? AND state = 'queued' AND ready = 1)
        """
}

/// The embedded default store: one SQLite file in WAL mode with `synchronous=FULL`,
/// so an `add` that returned an id survives a crash or a power loss.
public final class SQLiteJobStore: JobStore {
    let pool: DatabasePool
    /// The path of the database file.
    public let path: String
    /// Pending notifications kept per session; beyond it the oldest are dropped.
    public let notificationCap: Int

    /// Opens (creating and migrating as needed) the store at `path`.
    public init(path: String, notificationCap: Int = Session.defaultNotificationCap) throws {
        self.notificationCap = max(1, notificationCap)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        self.path = path
        self.pool = try DatabasePool(path: path, configuration: configuration)
        try SQLiteMigrations.migrator.migrate(pool)
    }

    public var location: String { "sqlite:\(path)" }

    /// One write transaction; a failure of the storage (a full disk, say) throws
    /// `E_UNAVAILABLE` (see ``StorageFailure``).
    func write<T: Sendable>(_ updates: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(updates)
        } catch {
            throw StorageFailure.translated(error, path: path)
        }
    }

    /// One read; a failure of the storage throws `E_UNAVAILABLE` (see ``StorageFailure``).
    func read<T: Sendable>(_ value: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(value)
        } catch {
            throw StorageFailure.translated(error, path: path)
        }
    }

    public func insert(_ specs: [JobSpec], now: Date) async throws -> [InsertedJob] {
        try await write { db in
            var envIDs: [String: Int64] = [:]
            var knownQueues: Set<String> = []
            var result: [InsertedJob] = []
            result.reserveCapacity(specs.count)
            let insertJob = try db.cachedStatement(
                sql: """
                    INSERT INTO jobs (state, queue, priority, argv, shell, cwd, env_id, labels, session,
                                      timeout, output_cap, created_at, run_at, ready, pending_deps, after,
                                      unique_key, retries, retry_on, transient_pattern, backoff_min,
                                      backoff_max, stall_after, end_reason, ended_at, notify, on_end)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            let stamp = now.timeIntervalSince1970
            for spec in specs {
                if let key = spec.unique,
                    let existing = try Row.fetchOne(
                        db,
                        sql: """
                            SELECT id, state FROM jobs
                            WHERE ifnull(session, '') = ? AND unique_key = ? AND state IN ('held', 'queued', 'running')
                            """, arguments: [spec.session ?? "", key])
                {
                    // Keys are per session: another session's live job with this key is
                    // neither found nor told of.
                    result.append(
                        InsertedJob(id: existing["id"], duplicate: true, state: JobState(rawValue: existing["state"]) ?? .queued))
                    continue
                }
                let queue = spec.queueName
                if !knownQueues.contains(queue) {
                    try db.execute(
                        sql: "INSERT OR IGNORE INTO queues (name, created_at) VALUES (?, ?)", arguments: [queue, stamp])
                    knownQueues.insert(queue)
                }
                let envJSON = try Self.json(spec.env)
                let envID: Int64
                if let known = envIDs[envJSON] {
                    envID = known
                } else {
                    envID = try Self.environmentID(envJSON, db: db)
                    envIDs[envJSON] = envID
                }
                // Dependencies: succeeded ones are satisfied, pending ones counted, and a
                // failed or cancelled one cancels the new job at once.
                var pending: [Int64] = []
                var brokenBy: String?
                for dependency in Array(Set(spec.after ?? [])).sorted() {
                    guard let text = try String.fetchOne(db, sql: "SELECT state FROM jobs WHERE id = ?", arguments: [dependency])
                    else {
                        throw StintError(.notFound, "--after: job \(dependency) does not exist")
                    }
                    switch JobState(rawValue: text) ?? .failed {
                    case .succeeded: continue
                    case .failed: brokenBy = brokenBy ?? "dependency \(dependency) failed"
                    case .cancelled: brokenBy = brokenBy ?? "dependency \(dependency) was cancelled"
                    case .held, .queued, .running: pending.append(dependency)
                    }
                }
                let runAt = spec.runAt ?? now.addingTimeInterval(spec.delay ?? 0)
                let state: JobState = brokenBy != nil ? .cancelled : (spec.hold == true ? .held : .queued)
                let ready = state == .queued && pending.isEmpty && runAt <= now
                let policy = spec.retryPolicy
                try insertJob.execute(arguments: [
                    state.rawValue, queue, spec.priority ?? 0, try Self.json(spec.argv ?? []), spec.shell, spec.cwd,
                    envID, try Self.json(spec.labels), spec.session, spec.timeout,
                    spec.outputCap ?? JobSpec.defaultOutputCap, stamp, runAt.timeIntervalSince1970, ready,
                    brokenBy == nil ? pending.count : 0, spec.after.map { try Self.json($0) } ?? nil,
                    brokenBy == nil ? spec.unique : nil, policy.retries,
                    spec.retryOn.map { try Self.json($0) } ?? nil, spec.transientPattern, spec.backoffMin,
                    spec.backoffMax, spec.stallAfter, brokenBy, brokenBy == nil ? nil : stamp, spec.notify, spec.onEnd,
                ])
                let id = db.lastInsertedRowID
                if brokenBy == nil {
                    for dependency in pending {
                        try db.execute(
                            sql: "INSERT INTO job_deps (job_id, dep_id) VALUES (?, ?)", arguments: [id, dependency])
                    }
                } else if let brokenBy {
                    try Self.event(db, job: id, queue: queue, kind: "dependency_failed", message: brokenBy, at: now)
                    var ignored = FinishResult(job: try Self.fetchJob(id, db: db))
                    try Outbox.jobEnded(id, attempt: 1, tail: [], log: nil, now: now, cap: notificationCap, db: db, into: &ignored)
                }
                result.append(InsertedJob(id: id, duplicate: false, state: state))
            }
            return result
        }
    }

    public func job(_ id: Int64) async throws -> StoredJob? {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id])
            else { return nil }
            let attempts = try Row.fetchAll(
                db, sql: "SELECT * FROM attempts WHERE job_id = ? ORDER BY number", arguments: [id])
            return try Self.storedJob(row, attemptRows: attempts)
        }
    }

    public func list(_ filter: JobFilter) async throws -> [StoredJob] {
        try await read { db in
            let (whereSQL, filterArguments) = Self.filterClause(filter)
            var arguments = filterArguments
            arguments += [max(filter.limit, 0)]
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM (
                        SELECT j.*, a.number AS a_number, a.started_at AS a_started_at,
                               a.ended_at AS a_ended_at, a.exit_code AS a_exit_code,
                               a.signal AS a_signal, a.reason AS a_reason, a.message AS a_message,
                               a.host AS a_host, a.shim_pid AS a_shim_pid, a.peak_rss AS a_peak_rss,
                               a.output_bytes AS a_output_bytes, a.dropped_bytes AS a_dropped_bytes,
                               a.failure_class AS a_failure_class, a.class_reason AS a_class_reason,
                               a.retry_at AS a_retry_at, a.stalled_at AS a_stalled_at, a.stall_line AS a_stall_line
                        FROM jobs j
                        LEFT JOIN attempts a ON a.job_id = j.id AND a.number = j.attempts
                        \(whereSQL)
                        ORDER BY j.id DESC LIMIT ?
                    ) ORDER BY id
                    """, arguments: arguments)
            return try rows.map { row in
                let number: Int? = try? row.decode(forColumn: "a_number")
                guard number != nil else { return try Self.storedJob(row, attempts: []) }
                do {
                    return try Self.storedJob(row, attempts: [try Self.storedAttempt(row, prefix: "a_")])
                } catch {
                    var job = try Self.storedJob(row, attempts: [])
                    job.damage = job.damage ?? "a stored attempt does not decode: \(error)"
                    return job
                }
            }
        }
    }

    public func claim(limit: Int, host: String, now: Date) async throws -> ClaimResult {
        try await write { db in
            let stamp = now.timeIntervalSince1970
            var result = ClaimResult()
            // Delayed and backed-off jobs whose time has come become runnable.
            try db.execute(sql: ClaimSQL.promote, arguments: [stamp])
            if let next = try Double.fetchOne(db, sql: ClaimSQL.nextWake) {
                result.nextWake = Date(timeIntervalSince1970: next)
            }
            guard limit > 0 else { return result }
            var runningByQueue: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: ClaimSQL.runningByQueue) {
                runningByQueue[row["queue"]] = row["n"]
            }
            // Each queue's allowance, then the best candidates of every open queue merged
            // by priority and age, so the global limit goes to the most urgent work.
            var allowance: [String: Int] = [:]
            var breakers: [String: CircuitBreaker] = [:]
            var candidates: [Row] = []
            for queue in try Self.queueRows(db) {
                let name = queue.name
                guard !queue.settings.paused else { continue }
                var available = limit
                if queue.settings.concurrency > 0 {
                    available = min(available, queue.settings.concurrency - (runningByQueue[name] ?? 0))
                }
                guard available > 0 else { continue }
                var breaker = queue.breaker
                let (admission, transition) = breaker.admit(now: now)
                if let transition {
                    try Self.saveBreaker(db, queue: name, breaker)
                    try Self.event(
                        db, job: nil, queue: name, kind: "breaker_\(transition.to.rawValue)", message: transition.reason,
                        at: now)
                    result.transitions.append((name, transition))
                }
                switch admission {
                case .none:
                    if let until = breaker.openUntil { result.nextWake = min(result.nextWake ?? until, until) }
                    continue
                case .probe:
                    available = 1
                case .unlimited:
                    break
                }
                switch PreflightGate.evaluate(
                    command: queue.settings.preflight, status: queue.preflight, ttl: queue.settings.preflightTTL, now: now)
                {
                case .open:
                    break
                case .closed:
                    if let expiry = queue.preflight?.expiresAt(ttl: queue.settings.preflightTTL),
                        try Self.hasReadyJobs(db, queue: name)
                    {
                        result.nextWake = min(result.nextWake ?? expiry, expiry)
                    }
                    continue
                case .needsCheck:
                    if let command = queue.settings.preflight, try Self.hasReadyJobs(db, queue: name) {
                        result.preflightsDue.append((name, command))
                    }
                    continue
                }
                allowance[name] = available
                breakers[name] = breaker
                candidates += try Row.fetchAll(db, sql: ClaimSQL.candidates, arguments: [name, available])
            }
            // Read with `try?`: a damaged value sorts as 0 here and is failed below, not trapped on.
            func order(_ row: Row) -> (Int, Int64) {
                ((try? row.decode(Int.self, forColumn: "priority")) ?? 0, (try? row.decode(Int64.self, forColumn: "id")) ?? 0)
            }
            candidates.sort { a, b in
                let ((pa, ia), (pb, ib)) = (order(a), order(b))
                return pa != pb ? pa > pb : ia < ib
            }
            for row in candidates where result.claimed.count < limit {
                let queue: String = (try? row.decode(String.self, forColumn: "queue")) ?? QueueName.default
                guard let left = allowance[queue], left > 0 else { continue }
                var job = try Self.storedJob(row, attempts: [])
                let (env, envDamage) = Self.environment(try row.decode(forColumn: "env_json"))
                job.spec.env = env
                if let damage = job.damage ?? envDamage {
                    // It can never run as it was added: fail it, once, and claim the next one.
                    var failed = FinishResult(job: job)
                    try Self.failUnprocessable(
                        job.id, attempt: nil, reason: damage, now: now, cap: notificationCap, db: db, into: &failed)
                    result.failed.append(failed)
                    continue
                }
                allowance[queue] = left - 1
                // A job that recorded a checkpoint resumes from it (a retry, or an attempt after a failure).
                if let checkpoint = row["checkpoint"] as String? { job.spec.env["STINT_CHECKPOINT"] = checkpoint }
                try Self.check(job.state, .start, id: job.id)
                let number = job.attemptCount + 1
                try db.execute(
                    sql: "UPDATE jobs SET state = 'running', attempts = ?, ended_at = NULL, ready = 0 WHERE id = ?",
                    arguments: [number, job.id])
                try db.execute(
                    sql: "INSERT INTO attempts (job_id, number, started_at, host) VALUES (?, ?, ?, ?)",
                    arguments: [job.id, number, stamp, host])
                if var breaker = breakers[queue], breaker.state == .half_open {
                    breaker.claimedProbe(job.id)
                    breakers[queue] = breaker
                    try Self.saveBreaker(db, queue: queue, breaker)
                }
                result.claimed.append(
                    ClaimedJob(id: job.id, attempt: number, queue: queue, spec: job.spec, shimPid: nil, startedAt: now))
            }
            return result
        }
    }

    public func finish(_ ending: AttemptEnding) async throws -> FinishResult {
        try await write { db in
            let jobID = ending.jobID
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [jobID])
            else { throw StintError.jobNotFound(jobID) }
            let ended: Bool? = try Bool.fetchOne(
                db, sql: "SELECT ended_at IS NOT NULL FROM attempts WHERE job_id = ? AND number = ?",
                arguments: [jobID, ending.attempt])
            guard let ended else {
                throw StintError(.notFound, "job \(jobID) has no attempt \(ending.attempt)")
            }
            guard !ended else { return FinishResult(job: try Self.fetchJob(jobID, db: db)) }
            let outcome = ending.outcome
            // Decoded with `try`, not GRDB's trapping subscripts: a damaged row makes this
            // ending throw, and the engine fails the job with the reason.
            let state = JobState(rawValue: try row.decode(forColumn: "state")) ?? .running
            let stopRequested: Bool = try row.decode(forColumn: "stop_requested")
            var event = outcome.event
            var retryAt = ending.retryAt
            if event == .fail {
                if stopRequested {
                    // A stop wins over a retry: the job ends cancelled, never requeued.
                    event = .cancel
                    retryAt = nil
                } else if retryAt != nil {
                    event = .reschedule
                }
            } else {
                retryAt = nil
            }
            let next = try Self.check(state, event, id: jobID)
            try db.execute(
                sql: """
                    UPDATE attempts SET ended_at = ?, exit_code = ?, signal = ?, reason = ?,
                        message = ?, peak_rss = ?, output_bytes = ?, dropped_bytes = ?,
                        started_at = COALESCE(?, started_at), shim_pid = COALESCE(?, shim_pid),
                        failure_class = ?, class_reason = ?, retry_at = ?
                    WHERE job_id = ? AND number = ?
                    """,
                arguments: [
                    outcome.endedAt.timeIntervalSince1970, outcome.exitCode, outcome.signal,
                    outcome.reason.rawValue, outcome.message, outcome.peakRssBytes,
                    outcome.outputBytes, outcome.droppedBytes,
                    outcome.startedAt?.timeIntervalSince1970, ending.shimPid,
                    ending.verdict?.failureClass.rawValue, ending.verdict?.reason,
                    retryAt?.timeIntervalSince1970, jobID, ending.attempt,
                ])
            let queue: String = try row.decode(forColumn: "queue")
            if let retryAt {
                try db.execute(
                    sql: "UPDATE jobs SET state = 'queued', ended_at = NULL, run_at = ?, ready = 0 WHERE id = ?",
                    arguments: [retryAt.timeIntervalSince1970, jobID])
                try Self.event(
                    db, job: jobID, queue: queue, kind: "retry_scheduled",
                    message: "attempt \(ending.attempt) failed (\(ending.verdict?.reason ?? "transient")); "
                        + "attempt \(ending.attempt + 1) at \(RFC3339.format(retryAt))",
                    at: outcome.endedAt)
            } else {
                try db.execute(
                    sql: "UPDATE jobs SET state = ?, ended_at = ? WHERE id = ?",
                    arguments: [next.rawValue, outcome.endedAt.timeIntervalSince1970, jobID])
            }
            var result = FinishResult(job: try Self.fetchJob(jobID, db: db))
            // The queue's breaker learns from every ended attempt.
            if let queueRow = try Self.queueRows(db, name: queue).first {
                var breaker = queueRow.breaker
                let input: CircuitBreaker.Input
                if next == .succeeded {
                    input = .success
                } else if outcome.event == .fail, let verdict = ending.verdict, verdict.failureClass == .transient {
                    input = .transient(verdict.reason)
                } else {
                    input = .neutral
                }
                let before = breaker
                result.transition = breaker.record(
                    input, job: jobID, now: outcome.endedAt, settings: queueRow.settings.breaker)
                if breaker != before { try Self.saveBreaker(db, queue: queue, breaker) }
                if let transition = result.transition {
                    try Self.event(
                        db, job: jobID, queue: queue, kind: "breaker_\(transition.to.rawValue)",
                        message: transition.reason, at: outcome.endedAt)
                }
            }
            if result.job.state.isTerminal {
                try Outbox.jobEnded(
                    jobID, attempt: ending.attempt, tail: ending.outputTail, log: ending.logPath, now: outcome.endedAt,
                    cap: notificationCap, db: db, into: &result)
            }
            if let transition = result.transition, transition.to == .open {
                try Outbox.breakerOpened(
                    jobID, attempt: ending.attempt, reason: transition.reason, tail: ending.outputTail,
                    log: ending.logPath, now: outcome.endedAt, cap: notificationCap, db: db, into: &result)
            }
            try Self.settleDependents(
                of: jobID, state: result.job.state, now: outcome.endedAt, cap: notificationCap, db: db, into: &result)
            return result
        }
    }

    public func apply(_ event: JobEvent, to id: Int64, now: Date) async throws -> FinishResult {
        try await write { db in
            guard let stateText = try String.fetchOne(db, sql: "SELECT state FROM jobs WHERE id = ?", arguments: [id])
            else { throw StintError.jobNotFound(id) }
            let state = JobState(rawValue: stateText) ?? .failed
            // Starting and ending attempts go through claim and finish, which keep the
            // attempt rows in step; here only a job without a running attempt may change.
            guard [.release, .cancel, .retry].contains(event), state != .running else {
                throw StintError(.conflict, "job \(id) is \(state.rawValue); cannot \(event.rawValue) it here")
            }
            let next = try Self.check(state, event, id: id)
            let stamp = now.timeIntervalSince1970
            switch event {
            case .cancel:
                try db.execute(
                    sql: "UPDATE jobs SET state = ?, ended_at = ?, ready = 0 WHERE id = ?",
                    arguments: [next.rawValue, stamp, id])
            case .release:
                try db.execute(
                    sql: """
                        UPDATE jobs SET state = 'queued', ready = (pending_deps = 0 AND run_at <= ?) WHERE id = ?
                        """, arguments: [stamp, id])
            default:
                // A retry runs now, without waiting for dependencies again.
                try db.execute(
                    sql: """
                        UPDATE jobs SET state = 'queued', ended_at = NULL, run_at = ?, ready = 1, pending_deps = 0,
                            end_reason = NULL, stop_requested = 0
                        WHERE id = ?
                        """, arguments: [stamp, id])
                try db.execute(sql: "DELETE FROM job_deps WHERE job_id = ?", arguments: [id])
            }
            var result = FinishResult(job: try Self.fetchJob(id, db: db))
            if next.isTerminal {
                // Keyed on the attempt that will never run, so that a job retried and then
                // stopped is told of again.
                try Outbox.jobEnded(
                    id, attempt: result.job.attemptCount + 1, tail: [], log: nil, now: now, cap: notificationCap, db: db, into: &result)
                try Self.settleDependents(of: id, state: next, now: now, cap: notificationCap, db: db, into: &result)
            }
            return result
        }
    }

    public func requestStop(_ id: Int64) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE jobs SET stop_requested = 1 WHERE id = ? AND state = 'running'", arguments: [id])
        }
    }

    public func markStalled(job: Int64, attempt: Int, at: Date, line: String) async throws -> [NotificationView] {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE attempts SET stalled_at = ?, stall_line = ?
                    WHERE job_id = ? AND number = ? AND stalled_at IS NULL AND ended_at IS NULL
                    """, arguments: [at.timeIntervalSince1970, line, job, attempt])
            guard db.changesCount > 0 else { return [] }
            let queue = try String.fetchOne(db, sql: "SELECT queue FROM jobs WHERE id = ?", arguments: [job])
            try Self.event(
                db, job: job, queue: queue, kind: "stalled",
                message: "attempt \(attempt) is waiting at a prompt: \(line)", at: at)
            var result = FinishResult(job: try Self.fetchJob(job, db: db))
            try Outbox.stalled(job, attempt: attempt, line: line, now: at, cap: notificationCap, db: db, into: &result)
            return result.notifications
        }
    }

    /// After a job reached `state`: a success counts down its dependents' pending
    /// dependencies (making them runnable at zero); a failure or cancellation cancels
    /// them, and theirs in turn, naming the job that broke the chain.
    private static func settleDependents(
        of id: Int64, state: JobState, now: Date, cap: Int, db: Database, into result: inout FinishResult
    ) throws {
        guard state.isTerminal else { return }
        let stamp = now.timeIntervalSince1970
        if state == .succeeded {
            let dependents = try Int64.fetchAll(db, sql: "SELECT job_id FROM job_deps WHERE dep_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM job_deps WHERE dep_id = ?", arguments: [id])
            for dependent in dependents {
                try db.execute(
                    sql: "UPDATE jobs SET pending_deps = MAX(pending_deps - 1, 0) WHERE id = ?", arguments: [dependent])
                try db.execute(
                    sql: """
                        UPDATE jobs SET ready = (run_at <= ?)
                        WHERE id = ? AND pending_deps = 0 AND state = 'queued'
                        """, arguments: [stamp, dependent])
                if db.changesCount > 0 { result.unblocked.append(dependent) }
            }
            return
        }
        var frontier: [(Int64, String)] = [(id, state == .cancelled ? "was cancelled" : "failed")]
        while let (broken, how) = frontier.popLast() {
            let dependents = try Int64.fetchAll(
                db, sql: "SELECT job_id FROM job_deps WHERE dep_id = ?", arguments: [broken])
            try db.execute(sql: "DELETE FROM job_deps WHERE dep_id = ?", arguments: [broken])
            for dependent in dependents {
                let reason = "dependency \(broken) \(how)"
                try db.execute(
                    sql: """
                        UPDATE jobs SET state = 'cancelled', ended_at = ?, ready = 0, pending_deps = 0, end_reason = ?
                        WHERE id = ? AND state IN ('held', 'queued')
                        """, arguments: [stamp, reason, dependent])
                guard db.changesCount > 0 else { continue }
                try db.execute(sql: "DELETE FROM job_deps WHERE job_id = ?", arguments: [dependent])
                let queue = try String.fetchOne(db, sql: "SELECT queue FROM jobs WHERE id = ?", arguments: [dependent])
                try event(db, job: dependent, queue: queue, kind: "dependency_failed", message: reason, at: now)
                let attempts = try Int.fetchOne(db, sql: "SELECT attempts FROM jobs WHERE id = ?", arguments: [dependent]) ?? 0
                try Outbox.jobEnded(
                    dependent, attempt: attempts + 1, tail: [], log: nil, now: now, cap: cap, db: db, into: &result)
                result.cascaded.append(dependent)
                frontier.append((dependent, "was cancelled"))
            }
        }
    }

    // MARK: - Queues and events

    public func queues(now: Date, session: String?) async throws -> [QueueView] {
        try await read { db in
            var counts: [String: [String: Int]] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT queue, state, COUNT(*) AS n FROM jobs
                    WHERE state IN ('held', 'queued', 'running') AND (? IS NULL OR session = ?) GROUP BY queue, state
                    """, arguments: [session, session])
            {
                counts[row["queue"], default: [:]][row["state"]] = row["n"]
            }
            return try Self.queueRows(db).map { $0.view(counts: counts[$0.name] ?? [:], now: now) }
        }
    }

    public func updateQueue(_ name: String, _ update: QueueUpdate, now: Date) async throws -> QueueView {
        try await write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO queues (name, created_at) VALUES (?, ?)",
                arguments: [name, now.timeIntervalSince1970])
            guard let current = try Self.queueRows(db, name: name).first else {
                throw StintError(.internal, "queue \(name) vanished")
            }
            let settings = update.applied(to: current.settings)
            let preflightChanged = settings.preflight != current.settings.preflight
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
            if preflightChanged {
                // A new command has no result yet.
                try db.execute(
                    sql: """
                        UPDATE queues SET preflight_passed = NULL, preflight_checked_at = NULL, preflight_reason = NULL
                        WHERE name = ?
                        """, arguments: [name])
            }
            if settings.breaker.threshold == 0, current.breaker.state != .closed {
                // Turning the breaker off closes it.
                try Self.saveBreaker(db, queue: name, CircuitBreaker())
                try Self.event(
                    db, job: nil, queue: name, kind: "breaker_closed", message: "the breaker was turned off", at: now)
            }
            if update.paused != nil, update.paused != current.settings.paused {
                try Self.event(
                    db, job: nil, queue: name, kind: settings.paused ? "queue_paused" : "queue_resumed",
                    message: settings.paused ? "paused" : "resumed", at: now)
            }
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT state, COUNT(*) AS n FROM jobs
                    WHERE queue = ? AND state IN ('held', 'queued', 'running') GROUP BY state
                    """, arguments: [name])
            {
                counts[row["state"]] = row["n"]
            }
            guard let stored = try Self.queueRows(db, name: name).first else {
                throw StintError(.internal, "queue \(name) vanished")
            }
            return stored.view(counts: counts, now: now)
        }
    }

    public func recordPreflight(queue: String, status: PreflightStatus) async throws {
        try await write { db in
            let previous = try Bool.fetchOne(
                db, sql: "SELECT preflight_passed FROM queues WHERE name = ?", arguments: [queue])
            try db.execute(
                sql: """
                    UPDATE queues SET preflight_passed = ?, preflight_checked_at = ?, preflight_reason = ?
                    WHERE name = ?
                    """,
                arguments: [status.passed, status.checkedAt.timeIntervalSince1970, status.reason, queue])
            if previous != status.passed {
                try Self.event(
                    db, job: nil, queue: queue, kind: status.passed ? "preflight_passed" : "preflight_failed",
                    message: status.passed ? "preflight passed" : "preflight failed: \(status.reason ?? "")",
                    at: status.checkedAt)
            }
        }
    }

    public func events(job: Int64?, queue: String?, limit: Int) async throws -> [EventView] {
        try await read { db in
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
            // An event row that does not decode is left out, rather than trapped on.
            return rows.compactMap { row in
                try? EventView(
                    id: row.decode(forColumn: "id"), at: Date(timeIntervalSince1970: row.decode(forColumn: "at")),
                    job: row.decode(forColumn: "job_id"), queue: row.decode(forColumn: "queue"),
                    kind: row.decode(forColumn: "kind"), message: row.decode(forColumn: "message"))
            }
        }
    }

    private static func event(_ db: Database, job: Int64?, queue: String?, kind: String, message: String, at: Date) throws {
        try db.execute(
            sql: "INSERT INTO events (at, job_id, queue, kind, message) VALUES (?, ?, ?, ?, ?)",
            arguments: [at.timeIntervalSince1970, job, queue, kind, message])
    }

    private static func hasReadyJobs(_ db: Database, queue: String) throws -> Bool {
        try Bool.fetchOne(db, sql: ClaimSQL.hasReady, arguments: [queue]) ?? false
    }

    /// SQLite's plan for `sql` (the `detail` column of EXPLAIN QUERY PLAN), for tests
    /// and docs that show the claim uses its indexes.
    func queryPlan(_ sql: String, arguments: StatementArguments = StatementArguments()) throws -> [String] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] }
        }
    }

    /// One row of `queues`, decoded.
    private struct QueueRow {
        var name: String
        var settings: QueueSettings
        var breaker: CircuitBreaker
        var preflight: PreflightStatus?

        /// A value that does not decode (a damaged or hand-edited row) takes its default, so
        /// that one bad queue row cannot stop every claim (GRDB's subscripts would trap on it).
        init(_ row: Row) {
            func value<T: DatabaseValueConvertible>(_ column: String, _ fallback: T) -> T {
                (try? row.decode(T?.self, forColumn: column)).flatMap { $0 } ?? fallback
            }
            func optional<T: DatabaseValueConvertible>(_ column: String) -> T? {
                (try? row.decode(T?.self, forColumn: column)).flatMap { $0 }
            }
            // The fallbacks are the column defaults of `queues` (SQLiteMigrations).
            name = value("name", QueueName.default)
            settings = QueueSettings(
                concurrency: value("concurrency", 0), paused: value("paused", false),
                breaker: CircuitBreaker.Settings(
                    threshold: value("breaker_threshold", 0), pause: value("breaker_pause", 60.0)),
                preflight: optional("preflight"), preflightTTL: value("preflight_ttl", 30.0),
                notify: optional("notify"), onEnd: optional("on_end"))
            let until: Double? = optional("breaker_until")
            breaker = CircuitBreaker(
                state: CircuitBreaker.State(rawValue: value("breaker_state", "")) ?? .closed,
                streak: value("breaker_streak", 0), openUntil: until.map(Date.init(timeIntervalSince1970:)),
                probeJob: optional("breaker_probe"))
            let passed: Bool? = optional("preflight_passed")
            let checked: Double? = optional("preflight_checked_at")
            if let passed, let checked {
                preflight = PreflightStatus(
                    passed: passed, checkedAt: Date(timeIntervalSince1970: checked), reason: optional("preflight_reason"))
            }
        }

        func view(counts: [String: Int], now: Date) -> QueueView {
            let preflightView = settings.preflight.map { command in
                PreflightView(
                    command: command, ttl: settings.preflightTTL,
                    status: preflight.map { $0.passed ? "passed" : "failed" } ?? "unchecked",
                    checkedAt: preflight?.checkedAt, reason: preflight?.reason)
            }
            return QueueView(
                name: name, concurrency: settings.concurrency, paused: settings.paused,
                running: counts["running"] ?? 0, queued: counts["queued"] ?? 0, held: counts["held"] ?? 0,
                breaker: BreakerView(
                    state: breaker.state, threshold: settings.breaker.threshold, pause: settings.breaker.pause,
                    streak: breaker.streak, openUntil: breaker.openUntil, secondsLeft: breaker.secondsLeft(now: now),
                    probeJob: breaker.probeJob),
                preflight: preflightView, notify: settings.notify, onEnd: settings.onEnd)
        }
    }

    private static func queueRows(_ db: Database, name: String? = nil) throws -> [QueueRow] {
        let rows =
            if let name {
                try Row.fetchAll(db, sql: "SELECT * FROM queues WHERE name = ?", arguments: [name])
            } else {
                try Row.fetchAll(db, sql: "SELECT * FROM queues ORDER BY name")
            }
        return rows.map(QueueRow.init)
    }

    private static func saveBreaker(_ db: Database, queue: String, _ breaker: CircuitBreaker) throws {
        try db.execute(
            sql: """
                UPDATE queues SET breaker_state = ?, breaker_streak = ?, breaker_until = ?, breaker_probe = ?
                WHERE name = ?
                """,
            arguments: [
                breaker.state.rawValue, breaker.streak, breaker.openUntil?.timeIntervalSince1970, breaker.probeJob, queue,
            ])
    }

    public func runningAttempts() async throws -> [ClaimedJob] {
        try await read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT j.*, e.json AS env_json, a.number AS a_number, a.shim_pid AS a_shim_pid,
                           a.started_at AS a_started_at
                    FROM attempts a JOIN jobs j ON j.id = a.job_id LEFT JOIN environments e ON e.id = j.env_id
                    WHERE a.ended_at IS NULL ORDER BY j.id
                    """)
            return try rows.map { row in
                var job = try Self.storedJob(row, attempts: [])
                let (env, envDamage) = Self.environment(try? row.decode(String?.self, forColumn: "env_json"))
                job.spec.env = env
                let startedAt = (try? row.decode(Double.self, forColumn: "a_started_at")) ?? 0
                return ClaimedJob(
                    id: job.id, attempt: try row.decode(forColumn: "a_number"), queue: job.queue, spec: job.spec,
                    shimPid: try? row.decode(Int32?.self, forColumn: "a_shim_pid"),
                    startedAt: Date(timeIntervalSince1970: startedAt), damage: job.damage ?? envDamage)
            }
        }
    }

    public func unclaim(job id: Int64, attempt: Int, now: Date) async throws -> FinishResult {
        try await write { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT state, attempts, queue FROM jobs WHERE id = ?", arguments: [id])
            else { throw StintError.jobNotFound(id) }
            let state = JobState(rawValue: try row.decode(String.self, forColumn: "state")) ?? .failed
            let latest: Int = try row.decode(forColumn: "attempts")
            let open = try Bool.fetchOne(
                db, sql: "SELECT ended_at IS NULL FROM attempts WHERE job_id = ? AND number = ?", arguments: [id, attempt])
            guard state == .running, latest == attempt, open == true else {
                throw StintError(
                    .conflict, "job \(id) is \(state.rawValue) at attempt \(latest); cannot undo the claim of attempt \(attempt)")
            }
            // Back to the queue as the claim found it: the claim only took a ready job.
            try Self.check(state, .reschedule, id: id)
            try db.execute(sql: "DELETE FROM attempts WHERE job_id = ? AND number = ?", arguments: [id, attempt])
            try db.execute(
                sql: "UPDATE jobs SET state = 'queued', attempts = ?, ended_at = NULL, ready = 1 WHERE id = ?",
                arguments: [attempt - 1, id])
            try Self.event(
                db, job: id, queue: try row.decode(forColumn: "queue"), kind: "requeued",
                message: "attempt \(attempt) was claimed but never started; back in the queue, no retry used", at: now)
            return FinishResult(job: try Self.fetchJob(id, db: db))
        }
    }

    public func failUnprocessable(job id: Int64, attempt: Int?, reason: String, now: Date) async throws -> FinishResult {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM jobs WHERE id = ?", arguments: [id]) != nil
            else { throw StintError.jobNotFound(id) }
            var result = FinishResult(job: try Self.fetchJob(id, db: db))
            try Self.failUnprocessable(id, attempt: attempt, reason: reason, now: now, cap: notificationCap, db: db, into: &result)
            return result
        }
    }

    /// See ``JobStore/failUnprocessable(job:attempt:reason:now:)``. This is the one change of
    /// state that does not go through ``JobStateMachine``: a job whose row cannot be read has
    /// left the lifecycle, and `failed` is the only true thing left to say of it.
    static func failUnprocessable(
        _ id: Int64, attempt: Int?, reason: String, now: Date, cap: Int, db: Database, into result: inout FinishResult
    ) throws {
        let stamp = now.timeIntervalSince1970
        if let attempt {
            try db.execute(
                sql: """
                    UPDATE attempts SET ended_at = ?, reason = 'lost', message = ?
                    WHERE job_id = ? AND number = ? AND ended_at IS NULL
                    """, arguments: [stamp, reason, id, attempt])
        }
        let stateText = try String.fetchOne(db, sql: "SELECT state FROM jobs WHERE id = ?", arguments: [id])
        let state = stateText.flatMap(JobState.init(rawValue:))
        guard state?.isTerminal != true else {
            result.job = try fetchJob(id, db: db)
            return
        }
        try db.execute(
            sql: "UPDATE jobs SET state = 'failed', ended_at = ?, ready = 0, end_reason = ? WHERE id = ?",
            arguments: [stamp, reason, id])
        let queue = try String.fetchOne(db, sql: "SELECT queue FROM jobs WHERE id = ?", arguments: [id])
        try event(db, job: id, queue: queue, kind: "unprocessable", message: reason, at: now)
        result.job = try fetchJob(id, db: db)
        try Outbox.jobEnded(
            id, attempt: attempt ?? result.job.attemptCount + 1, tail: [], log: nil, now: now, cap: cap, db: db,
            into: &result)
        try settleDependents(of: id, state: .failed, now: now, cap: cap, db: db, into: &result)
    }

    public func delete(_ id: Int64) async throws {
        try await write { db in
            guard let stateText = try String.fetchOne(db, sql: "SELECT state FROM jobs WHERE id = ?", arguments: [id])
            else { throw StintError.jobNotFound(id) }
            guard JobState(rawValue: stateText)?.isTerminal == true else {
                throw StintError(
                    .conflict, "job \(id) is \(stateText); only ended jobs can be removed",
                    hint: "stop it first with `stint stop \(id)`")
            }
            try db.execute(sql: "DELETE FROM jobs WHERE id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM events WHERE job_id = ?", arguments: [id])
            // Pending notifications and deliveries outlive the job: they are the outbox.
            try db.execute(sql: "DELETE FROM notifications WHERE job_id = ? AND acked_at IS NOT NULL", arguments: [id])
            try db.execute(sql: "DELETE FROM deliveries WHERE job_id = ? AND status != 'pending'", arguments: [id])
            try Self.dropUnusedEnvironments(db)
        }
    }

    public func prune(endedBefore cutoff: Date) async throws -> [Int64] {
        try await write { db in
            let ids = try Int64.fetchAll(
                db,
                sql: """
                    DELETE FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled') AND ended_at <= ?
                    RETURNING id
                    """, arguments: [cutoff.timeIntervalSince1970])
            try db.execute(sql: "DELETE FROM events WHERE at <= ?", arguments: [cutoff.timeIntervalSince1970])
            try db.execute(
                sql: "DELETE FROM notifications WHERE acked_at IS NOT NULL AND acked_at <= ?",
                arguments: [cutoff.timeIntervalSince1970])
            try db.execute(
                sql: "DELETE FROM deliveries WHERE status != 'pending' AND updated_at <= ?",
                arguments: [cutoff.timeIntervalSince1970])
            try Self.dropUnusedEnvironments(db)
            return ids.sorted()
        }
    }

    public func counts(session: String?) async throws -> [JobState: Int] {
        try await read { db in
            var result: [JobState: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT state, COUNT(*) AS n FROM jobs WHERE ? IS NULL OR session = ? GROUP BY state",
                arguments: [session, session])
            {
                // A state that is not one (a damaged row) is not counted, rather than trapped on.
                if let text = try? row.decode(String.self, forColumn: "state"), let state = JobState(rawValue: text) {
                    result[state] = try row.decode(forColumn: "n")
                }
            }
            return result
        }
    }

    // MARK: - Rows

    static func fetchJob(_ id: Int64, db: Database) throws -> StoredJob {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id])
        else { throw StintError.jobNotFound(id) }
        let attempts = try Row.fetchAll(
            db, sql: "SELECT * FROM attempts WHERE job_id = ? ORDER BY number", arguments: [id])
        return try storedJob(row, attemptRows: attempts)
    }

    @discardableResult
    private static func check(_ state: JobState, _ event: JobEvent, id: Int64) throws -> JobState {
        guard let next = JobStateMachine.next(from: state, on: event) else {
            throw StintError(.conflict, "job \(id) is \(state.rawValue); cannot \(event.rawValue) it")
        }
        return next
    }

    private static func environmentID(_ json: String, db: Database) throws -> Int64 {
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM environments WHERE json = ?", arguments: [json]) {
            return id
        }
        try db.execute(sql: "INSERT INTO environments (json) VALUES (?)", arguments: [json])
        return db.lastInsertedRowID
    }

    private static func dropUnusedEnvironments(_ db: Database) throws {
        try db.execute(sql: "DELETE FROM environments WHERE id NOT IN (SELECT env_id FROM jobs)")
    }

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

    private static func decodedJob(_ row: Row, attempts: [StoredAttempt]) throws -> StoredJob {
        let argv = try decode([String].self, try row.decode(String?.self, forColumn: "argv"))
        let shell: String? = try row.decode(forColumn: "shell")
        let retryOn: String? = try row.decode(forColumn: "retry_on")
        let after: String? = try row.decode(forColumn: "after")
        let queue: String = try row.decode(forColumn: "queue")
        let priority: Int = try row.decode(forColumn: "priority")
        var spec = JobSpec(
            argv: shell == nil ? argv : nil, shell: shell, cwd: try row.decode(forColumn: "cwd"), env: [:],
            labels: try decode([String: String].self, try row.decode(String?.self, forColumn: "labels")),
            session: try row.decode(forColumn: "session"), timeout: try row.decode(forColumn: "timeout"),
            outputCap: try row.decode(forColumn: "output_cap"), hold: nil, queue: queue, priority: priority,
            after: try after.map { try decode([Int64].self, $0) }, unique: try row.decode(forColumn: "unique_key"),
            retries: try row.decode(forColumn: "retries"), retryOn: try retryOn.map { try decode([Int].self, $0) },
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
    private static func damagedJob(_ row: Row, attempts: [StoredAttempt], damage: String) throws -> StoredJob {
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
            return (try decode([String: String].self, text), nil)
        } catch {
            return ([:], "the stored environment does not decode: \(error)")
        }
    }

    private static func storedAttempt(_ row: Row, prefix: String) throws -> StoredAttempt {
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
            host: try row.decode(forColumn: prefix + "host"), shimPid: try row.decode(forColumn: prefix + "shim_pid"),
            outcome: outcome,
            verdict: failureClass.flatMap(FailureClass.init(rawValue:)).map { FailureVerdict($0, classReason ?? "") },
            retryAt: retryAt.map(Date.init(timeIntervalSince1970:)),
            stalledAt: stalledAt.map(Date.init(timeIntervalSince1970:)),
            stallLine: try row.decode(forColumn: prefix + "stall_line"))
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String?) throws -> T {
        try JSONDecoder().decode(type, from: Data((text ?? "null").utf8))
    }
}
