import Foundation
import GRDB
import StintCore

/// The row operations of the SQLite store over one open GRDB `Database`: a write
/// transaction, or a read (whose writes SQLite refuses).
final class SQLiteTransaction: StoreTransaction {
    let db: Database
    /// Environments stored or found in this transaction, by their JSON: a batch of jobs
    /// sharing one environment looks it up once.
    private var environmentIDs: [String: Int64] = [:]

    init(_ db: Database) {
        self.db = db
    }

    // MARK: Jobs

    func job(_ id: Int64, attempts: Bool) throws -> StoredJob? {
        guard let row = try Row.fetchOne(try db.cachedStatement(sql: "SELECT * FROM jobs WHERE id = ?"), arguments: [id]) else {
            return nil
        }
        guard attempts else { return try StoreRows.storedJob(row, attempts: []) }
        let attemptRows = try Row.fetchAll(
            try db.cachedStatement(sql: "SELECT * FROM attempts WHERE job_id = ? ORDER BY number"), arguments: [id])
        return try StoreRows.storedJob(row, attemptRows: attemptRows)
    }

    func state(of id: Int64) throws -> JobState? {
        try String.fetchOne(try db.cachedStatement(sql: "SELECT state FROM jobs WHERE id = ?"), arguments: [id]).flatMap(
            JobState.init(rawValue:))
    }

    func jobs(_ filter: JobFilter) throws -> [StoredJob] {
        let (whereSQL, filterArguments) = Self.filterClause(filter)
        var arguments = filterArguments
        arguments += [max(filter.limit, 0)]
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT * FROM (
                    \(StoreRows.listingFrom)
                    \(whereSQL)
                    ORDER BY j.id DESC LIMIT ?
                ) ORDER BY id
                """, arguments: arguments)
        return try rows.map(StoreRows.listedJob)
    }

    func countJobs(_ filter: JobFilter) throws -> Int {
        let (whereSQL, arguments) = Self.filterClause(filter)
        return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs j \(whereSQL)", arguments: arguments) ?? 0
    }

    func stateCounts(session: String?) throws -> [JobState: Int] {
        var result: [JobState: Int] = [:]
        for row in try Row.fetchAll(
            try db.cachedStatement(sql: "SELECT state, COUNT(*) AS n FROM jobs WHERE ? IS NULL OR session = ? GROUP BY state"),
            arguments: [session, session])
        {
            // A state that is not one (a damaged row) is not counted, rather than trapped on.
            if let text = try? row.decode(String.self, forColumn: "state"), let state = JobState(rawValue: text) {
                result[state] = try row.decode(forColumn: "n")
            }
        }
        return result
    }

    func liveCounts(queue: String?, session: String?) throws -> [String: [JobState: Int]] {
        var counts: [String: [JobState: Int]] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT queue, state, COUNT(*) AS n FROM jobs
                WHERE state IN ('held', 'queued', 'running') AND (? IS NULL OR queue = ?) AND (? IS NULL OR session = ?)
                GROUP BY queue, state
                """, arguments: [queue, queue, session, session])
        {
            guard let name = try? row.decode(String.self, forColumn: "queue"),
                let state = (try? row.decode(String.self, forColumn: "state")).flatMap(JobState.init(rawValue:))
            else { continue }
            counts[name, default: [:]][state] = try row.decode(forColumn: "n")
        }
        return counts
    }

    func liveJob(session: String?, unique key: String) throws -> InsertedJob? {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT id, state FROM jobs
                    WHERE ifnull(session, '') = ? AND unique_key = ? AND state IN ('held', 'queued', 'running')
                    """, arguments: [session ?? "", key])
        else { return nil }
        let state = (try? row.decode(String.self, forColumn: "state")).flatMap(JobState.init(rawValue:)) ?? .queued
        return InsertedJob(id: try row.decode(forColumn: "id"), duplicate: true, state: state)
    }

    func dependents(of job: Int64) throws -> [Int64] {
        try Int64.fetchAll(try db.cachedStatement(sql: "SELECT job_id FROM job_deps WHERE dep_id = ?"), arguments: [job])
    }

    func insertJob(_ spec: JobSpec, _ admission: JobAdmission, now: Date) throws -> Int64 {
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO jobs (state, queue, priority, argv, shell, cwd, env_id, labels, session,
                                  timeout, output_cap, created_at, run_at, ready, pending_deps, after,
                                  unique_key, retries, retry_on, transient_pattern, backoff_min,
                                  backoff_max, stall_after, end_reason, ended_at, notify, on_end)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let stamp = now.timeIntervalSince1970
        let envID = try environmentID(StoreJSON.text(spec.env))
        try insert.execute(arguments: [
            admission.state.rawValue, spec.queueName, spec.priority ?? 0, StoreJSON.text(spec.argv ?? []), spec.shell,
            spec.cwd, envID, StoreJSON.text(spec.labels), spec.session, spec.timeout,
            spec.outputCap ?? JobSpec.defaultOutputCap, stamp, admission.runAt.timeIntervalSince1970, admission.ready,
            admission.pending.count, spec.after.map { StoreJSON.text($0) }, spec.unique,
            spec.retryPolicy.retries, spec.retryOn.map { StoreJSON.text($0) }, spec.transientPattern,
            spec.backoffMin, spec.backoffMax, spec.stallAfter, admission.brokenBy,
            admission.state.isTerminal ? stamp : nil, spec.notify, spec.onEnd,
        ])
        let id = db.lastInsertedRowID
        for dependency in admission.pending {
            try db.cachedStatement(sql: "INSERT INTO job_deps (job_id, dep_id) VALUES (?, ?)").execute(arguments: [
                id, dependency,
            ])
        }
        return id
    }

    func updateJob(_ id: Int64, _ change: JobChange) throws {
        var assignments: [String] = []
        var arguments = StatementArguments()
        func set(_ column: String, _ value: (any DatabaseValueConvertible)?) {
            assignments.append("\(column) = ?")
            arguments += [value]
        }
        if let state = change.state { set("state", state.rawValue) }
        if let ready = change.ready { set("ready", ready) }
        if let endedAt = change.endedAt { set("ended_at", endedAt?.timeIntervalSince1970) }
        if let runAt = change.runAt { set("run_at", runAt.timeIntervalSince1970) }
        if let attempts = change.attemptCount { set("attempts", attempts) }
        if let pending = change.pendingDependencies { set("pending_deps", pending) }
        if let endReason = change.endReason { set("end_reason", endReason) }
        if let stop = change.stopRequested { set("stop_requested", stop) }
        guard !assignments.isEmpty else { return }
        arguments += [id]
        // A handful of shapes recur (a claim, an ending, a retry): each is prepared once per connection.
        try db.cachedStatement(sql: "UPDATE jobs SET \(assignments.joined(separator: ", ")) WHERE id = ?")
            .execute(arguments: arguments)
    }

    func promoteDueJobs(now: Date) throws {
        try db.cachedStatement(sql: ClaimSQL.promote).execute(arguments: [now.timeIntervalSince1970])
    }

    func deleteJob(_ id: Int64) throws {
        try db.cachedStatement(sql: "DELETE FROM jobs WHERE id = ?").execute(arguments: [id])
        try db.cachedStatement(sql: "DELETE FROM events WHERE job_id = ?").execute(arguments: [id])
        // Pending notifications and deliveries outlive the job: they are the outbox.
        try db.cachedStatement(sql: "DELETE FROM notifications WHERE job_id = ? AND acked_at IS NOT NULL").execute(arguments: [id]
        )
        try db.cachedStatement(sql: "DELETE FROM deliveries WHERE job_id = ? AND status != 'pending'").execute(arguments: [id])
        try dropUnusedEnvironments()
    }

    func pruneJobs(endedBefore cutoff: Date) throws -> [Int64] {
        let stamp = cutoff.timeIntervalSince1970
        let ids = try Int64.fetchAll(
            db,
            sql: """
                DELETE FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled') AND ended_at <= ?
                RETURNING id
                """, arguments: [stamp])
        try db.cachedStatement(sql: "DELETE FROM events WHERE at <= ?").execute(arguments: [stamp])
        try db.cachedStatement(sql: "DELETE FROM notifications WHERE acked_at IS NOT NULL AND acked_at <= ?").execute(arguments: [
            stamp
        ])
        try db.cachedStatement(sql: "DELETE FROM deliveries WHERE status != 'pending' AND updated_at <= ?").execute(arguments: [
            stamp
        ])
        // A fire time's key outlives its job by the retention: the schedule's next fire time,
        // stored with it, already keeps an old fire time from coming back.
        try db.cachedStatement(sql: "DELETE FROM schedule_fires WHERE job_id IS NOT NULL AND fire_ms <= ?").execute(
            arguments: [Int64(stamp * 1000)])
        try dropUnusedEnvironments()
        return ids
    }

    func removeDependents(of job: Int64) throws {
        try db.cachedStatement(sql: "DELETE FROM job_deps WHERE dep_id = ?").execute(arguments: [job])
    }

    func removeDependencies(of job: Int64) throws {
        try db.cachedStatement(sql: "DELETE FROM job_deps WHERE job_id = ?").execute(arguments: [job])
    }

    func setProgress(_ id: Int64, _ progress: ProgressRequest, now: Date) throws {
        try db.execute(
            sql: "UPDATE jobs SET progress_done = ?, progress_total = ?, progress_message = ?, progress_at = ? WHERE id = ?",
            arguments: [progress.done, progress.total, progress.message, now.timeIntervalSince1970, id])
    }

    func setCheckpoint(_ id: Int64, _ value: String, now: Date) throws {
        try db.execute(
            sql: "UPDATE jobs SET checkpoint = ?, checkpoint_at = ? WHERE id = ?",
            arguments: [value, now.timeIntervalSince1970, id])
    }

    private func environmentID(_ json: String) throws -> Int64 {
        if let known = environmentIDs[json] { return known }
        let id: Int64
        if let stored = try Int64.fetchOne(
            try db.cachedStatement(sql: "SELECT id FROM environments WHERE json = ?"), arguments: [json])
        {
            id = stored
        } else {
            try db.cachedStatement(sql: "INSERT INTO environments (json) VALUES (?)").execute(arguments: [json])
            id = db.lastInsertedRowID
        }
        environmentIDs[json] = id
        return id
    }

    private func dropUnusedEnvironments() throws {
        try db.cachedStatement(sql: "DELETE FROM environments WHERE id NOT IN (SELECT env_id FROM jobs)").execute()
        environmentIDs = [:]
    }

    // MARK: Attempts

    func attemptIsOpen(job: Int64, number: Int) throws -> Bool? {
        try Bool.fetchOne(
            try db.cachedStatement(sql: "SELECT ended_at IS NULL FROM attempts WHERE job_id = ? AND number = ?"),
            arguments: [job, number])
    }

    func openAttempts() throws -> [ClaimedJob] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT j.*, e.json AS env_json, a.number AS a_number, a.shim_pid AS a_shim_pid,
                       a.started_at AS a_started_at, a.host AS a_host, a.instance AS a_instance
                FROM attempts a JOIN jobs j ON j.id = a.job_id LEFT JOIN environments e ON e.id = j.env_id
                WHERE a.ended_at IS NULL ORDER BY j.id
                """)
        return try rows.map(StoreRows.openAttempt)
    }

    func startAttempt(job: Int64, number: Int, worker: WorkerIdentity, now: Date) throws {
        try db.execute(
            sql: "INSERT INTO attempts (job_id, number, started_at, host, instance) VALUES (?, ?, ?, ?, ?)",
            arguments: [job, number, now.timeIntervalSince1970, worker.node, worker.instance])
    }

    func endAttempt(_ ending: AttemptEnding, retryAt: Date?) throws {
        let outcome = ending.outcome
        try db.execute(
            sql: """
                UPDATE attempts SET ended_at = ?, exit_code = ?, signal = ?, reason = ?,
                    message = ?, peak_rss = ?, output_bytes = ?, dropped_bytes = ?,
                    started_at = COALESCE(?, started_at), shim_pid = COALESCE(?, shim_pid),
                    failure_class = ?, class_reason = ?, retry_at = ?
                WHERE job_id = ? AND number = ?
                """,
            arguments: [
                outcome.endedAt.timeIntervalSince1970, outcome.exitCode, outcome.signal, outcome.reason.rawValue,
                outcome.message, outcome.peakRssBytes, outcome.outputBytes, outcome.droppedBytes,
                outcome.startedAt?.timeIntervalSince1970, ending.shimPid, ending.verdict?.failureClass.rawValue,
                ending.verdict?.reason, retryAt?.timeIntervalSince1970, ending.jobID, ending.attempt,
            ])
    }

    func abandonAttempt(job: Int64, number: Int, message: String, now: Date) throws {
        try db.cachedStatement(
            sql: """
                UPDATE attempts SET ended_at = ?, reason = 'lost', message = ?
                WHERE job_id = ? AND number = ? AND ended_at IS NULL
                """
        ).execute(arguments: [now.timeIntervalSince1970, message, job, number])
    }

    func deleteAttempt(job: Int64, number: Int) throws {
        try db.cachedStatement(sql: "DELETE FROM attempts WHERE job_id = ? AND number = ?").execute(arguments: [job, number])
    }

    func markStalled(job: Int64, number: Int, at: Date, line: String) throws -> Bool {
        try db.cachedStatement(
            sql: """
                UPDATE attempts SET stalled_at = ?, stall_line = ?
                WHERE job_id = ? AND number = ? AND stalled_at IS NULL AND ended_at IS NULL
                """
        ).execute(arguments: [at.timeIntervalSince1970, line, job, number])
        return db.changesCount > 0
    }

    // MARK: Claiming

    func runningCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try Row.fetchAll(try db.cachedStatement(sql: ClaimSQL.runningByQueue)) {
            guard let queue = try? row.decode(String.self, forColumn: "queue") else { continue }
            counts[queue] = try row.decode(forColumn: "n")
        }
        return counts
    }

    func readyJobs(queue: String, limit: Int) throws -> [StoredJob] {
        try Row.fetchAll(try db.cachedStatement(sql: ClaimSQL.candidates), arguments: [queue, limit]).map(
            StoreRows.jobWithEnvironment)
    }

    func hasReadyJobs(queue: String) throws -> Bool {
        try Bool.fetchOne(try db.cachedStatement(sql: ClaimSQL.hasReady), arguments: [queue]) ?? false
    }

    func nextRunAt() throws -> Date? {
        try Double.fetchOne(try db.cachedStatement(sql: ClaimSQL.nextWake)).map(Date.init(timeIntervalSince1970:))
    }

    /// The `WHERE` clause that `filter` (its limit aside) makes over `jobs j`, with its
    /// arguments; empty when it filters nothing.
    static func filterClause(_ filter: JobFilter) -> (String, StatementArguments) {
        var clauses: [String] = []
        var arguments = StatementArguments()
        if !filter.states.isEmpty {
            clauses.append("j.state IN (\(filter.states.map { _ in "?" }.joined(separator: ",")))")
            for state in filter.states.sorted(by: { $0.rawValue < $1.rawValue }) {
                arguments += [state.rawValue]
            }
        }
        if let session = filter.session {
            clauses.append("j.session = ?")
            arguments += [session]
        }
        if let queue = filter.queue {
            clauses.append("j.queue = ?")
            arguments += [queue]
        }
        for (key, value) in filter.labels.sorted(by: { $0.key < $1.key }) {
            clauses.append("json_extract(j.labels, ?) = ?")
            arguments += ["$.\"\(key.replacingOccurrences(of: "\"", with: ""))\"", value]
        }
        return (clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND "), arguments)
    }
}
