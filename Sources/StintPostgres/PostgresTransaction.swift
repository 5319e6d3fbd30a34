import Foundation
import PostgresNIO
import StintCore
import StintStore

/// The row operations of the PostgreSQL store over one open transaction (see
/// ``PostgresJobStore`` for what a write locks, and why).
final class PostgresTransaction: StoreTransaction {
    let session: PostgresSession
    /// A write transaction: rows it decides on are read `FOR UPDATE`.
    let writing: Bool
    /// Environments stored or found in this transaction, by their JSON.
    private var environmentIDs: [String: Int64] = [:]
    /// Whether this transaction told the other daemons to look for work (once is enough:
    /// the server sends one notification at commit).
    private var rangWake = false
    /// The id of the store this transaction runs on, sent with its notifications.
    let origin: String
    /// The channel daemons listen on for work to claim; the payload is the origin.
    static let wakeChannel = "stint_wake"
    /// The channel a job's end is told on, as `ORIGIN JOB`: waiters on other nodes wake.
    static let endedChannel = "stint_ended"

    init(_ session: PostgresSession, writing: Bool, origin: String) {
        self.session = session
        self.writing = writing
        self.origin = origin
    }

    // MARK: Running statements

    func rows(_ query: PostgresQuery) throws -> [StoredRow] {
        try session.query(query).map(StoredRow.init)
    }

    func one(_ query: PostgresQuery) throws -> StoredRow? {
        try session.query(query).first.map(StoredRow.init)
    }

    @discardableResult
    func run(_ query: PostgresQuery) throws -> Int {
        try session.execute(query)
    }

    /// ` FOR UPDATE` in a write, so what the write decides on stays as read until it commits.
    var lock: String { writing ? " FOR UPDATE" : "" }

    /// Tells every daemon (at commit) that there may be work to claim.
    func ringWake() throws {
        guard !rangWake else { return }
        rangWake = true
        try run("SELECT pg_notify(\(Self.wakeChannel), \(origin))")
    }

    // MARK: Jobs

    func job(_ id: Int64, attempts: Bool) throws -> StoredJob? {
        guard let row = try one(PostgresQuery(unsafeSQL: "SELECT * FROM jobs WHERE id = $1" + lock, binds: binds(id))) else {
            return nil
        }
        guard attempts else { return try StoreRows.storedJob(row, attempts: []) }
        let attemptRows = try rows("SELECT * FROM attempts WHERE job_id = \(id) ORDER BY number")
        return try StoreRows.storedJob(row, attemptRows: attemptRows)
    }

    func state(of id: Int64) throws -> JobState? {
        try one(PostgresQuery(unsafeSQL: "SELECT state FROM jobs WHERE id = $1" + lock, binds: binds(id)))
            .flatMap { try $0.string("state") }.flatMap(JobState.init(rawValue:))
    }

    func jobs(_ filter: JobFilter) throws -> [StoredJob] {
        var statement = Statement()
        let whereSQL = Self.filterClause(filter, &statement)
        let limit = statement.bind(Int64(max(filter.limit, 0)))
        statement.sql = """
            SELECT * FROM (
                \(StoreRows.listingFrom)
                \(whereSQL)
                ORDER BY j.id DESC LIMIT \(limit)
            ) listed ORDER BY id
            """
        return try rows(statement.query).map(StoreRows.listedJob)
    }

    func countJobs(_ filter: JobFilter) throws -> Int {
        var statement = Statement()
        let whereSQL = Self.filterClause(filter, &statement)
        statement.sql = "SELECT COUNT(*) AS n FROM jobs j \(whereSQL)"
        return try one(statement.query)?.int("n") ?? 0
    }

    func stateCounts(session: String?) throws -> [JobState: Int] {
        var result: [JobState: Int] = [:]
        for row in try rows(
            "SELECT state, COUNT(*) AS n FROM jobs WHERE \(session)::text IS NULL OR session = \(session) GROUP BY state")
        {
            if let text = try? row.string("state"), let state = JobState(rawValue: text) {
                result[state] = try row.int("n") ?? 0
            }
        }
        return result
    }

    func liveCounts(queue: String?, session: String?) throws -> [String: [JobState: Int]] {
        var counts: [String: [JobState: Int]] = [:]
        for row in try rows(
            """
            SELECT queue, state, COUNT(*) AS n FROM jobs
            WHERE state IN ('held', 'queued', 'running') AND (\(queue)::text IS NULL OR queue = \(queue))
                AND (\(session)::text IS NULL OR session = \(session))
            GROUP BY queue, state
            """)
        {
            guard let name = try? row.string("queue"), let state = (try? row.string("state")).flatMap(JobState.init(rawValue:))
            else { continue }
            counts[name, default: [:]][state] = try row.int("n") ?? 0
        }
        return counts
    }

    func liveJob(session: String?, unique key: String) throws -> InsertedJob? {
        guard
            let row = try one(
                """
                SELECT id, state FROM jobs
                WHERE COALESCE(session, '') = \(session ?? "") AND unique_key = \(key)
                    AND state IN ('held', 'queued', 'running')
                """)
        else { return nil }
        let state = (try? row.string("state")).flatMap(JobState.init(rawValue:)) ?? .queued
        return InsertedJob(id: try row.required("id", row.int64), duplicate: true, state: state)
    }

    func dependents(of job: Int64) throws -> [Int64] {
        try rows("SELECT job_id FROM job_deps WHERE dep_id = \(job) ORDER BY job_id").compactMap { try $0.int64("job_id") }
    }

    func insertJob(_ spec: JobSpec, _ admission: JobAdmission, now: Date) throws -> Int64 {
        let stamp = now.timeIntervalSince1970
        let envID = try environmentID(StoreJSON.text(spec.env))
        let ended: Double? = admission.state.isTerminal ? stamp : nil
        guard
            let row = try one(
                """
                INSERT INTO jobs (state, queue, priority, argv, shell, cwd, env_id, labels, session,
                                  timeout, output_cap, created_at, run_at, ready, pending_deps, after,
                                  unique_key, retries, retry_on, transient_pattern, backoff_min,
                                  backoff_max, stall_after, end_reason, ended_at, notify, on_end)
                VALUES (\(admission.state.rawValue), \(spec.queueName), \(spec.priority ?? 0), \(StoreJSON.text(spec.argv ?? [])),
                        \(spec.shell), \(spec.cwd), \(envID), \(StoreJSON.text(spec.labels)), \(spec.session),
                        \(spec.timeout), \(spec.outputCap ?? JobSpec.defaultOutputCap), \(stamp),
                        \(admission.runAt.timeIntervalSince1970), \(admission.ready), \(admission.pending.count),
                        \(spec.after.map { StoreJSON.text($0) }), \(spec.unique), \(spec.retryPolicy.retries),
                        \(spec.retryOn.map { StoreJSON.text($0) }), \(spec.transientPattern), \(spec.backoffMin),
                        \(spec.backoffMax), \(spec.stallAfter), \(admission.brokenBy), \(ended), \(spec.notify), \(spec.onEnd))
                RETURNING id
                """), let id = try row.int64("id")
        else { throw StintError(.unavailable, "the store returned no id for a new job") }
        for dependency in admission.pending {
            try run("INSERT INTO job_deps (job_id, dep_id) VALUES (\(id), \(dependency))")
        }
        if admission.ready && admission.state == .queued { try ringWake() }
        return id
    }

    func updateJob(_ id: Int64, _ change: JobChange) throws {
        var statement = Statement()
        var assignments: [String] = []
        if let state = change.state { assignments.append("state = \(statement.bind(state.rawValue))") }
        if let ready = change.ready { assignments.append("ready = \(statement.bind(ready))") }
        if let endedAt = change.endedAt { assignments.append("ended_at = \(statement.bind(endedAt?.timeIntervalSince1970))") }
        if let runAt = change.runAt { assignments.append("run_at = \(statement.bind(runAt.timeIntervalSince1970))") }
        if let attempts = change.attemptCount { assignments.append("attempts = \(statement.bind(Int64(attempts)))") }
        if let pending = change.pendingDependencies { assignments.append("pending_deps = \(statement.bind(Int64(pending)))") }
        if let endReason = change.endReason { assignments.append("end_reason = \(statement.bind(endReason))") }
        if let stop = change.stopRequested { assignments.append("stop_requested = \(statement.bind(stop))") }
        guard !assignments.isEmpty else { return }
        statement.sql = "UPDATE jobs SET \(assignments.joined(separator: ", ")) WHERE id = \(statement.bind(id))"
        try run(statement.query)
        if change.state == .queued || change.ready == true || change.runAt != nil { try ringWake() }
        if let state = change.state, state.isTerminal { try run("SELECT pg_notify(\(Self.endedChannel), \("\(origin) \(id)"))") }
    }

    func promoteDueJobs(now: Date) throws {
        // Rows another transaction holds are left for the next claim rather than waited for.
        let promoted = try run(
            """
            UPDATE jobs SET ready = true WHERE id IN (
                SELECT id FROM jobs
                WHERE state = 'queued' AND NOT ready AND pending_deps = 0 AND run_at <= \(now.timeIntervalSince1970)
                FOR UPDATE SKIP LOCKED)
            """)
        if promoted > 0 { try ringWake() }
    }

    func deleteJob(_ id: Int64) throws {
        try run("DELETE FROM jobs WHERE id = \(id)")
        try run("DELETE FROM events WHERE job_id = \(id)")
        // Pending notifications and deliveries outlive the job: they are the outbox.
        try run("DELETE FROM notifications WHERE job_id = \(id) AND acked_at IS NOT NULL")
        try run("DELETE FROM deliveries WHERE job_id = \(id) AND status != 'pending'")
        try run("DELETE FROM controls WHERE job_id = \(id)")
        try dropUnusedEnvironments()
    }

    func pruneJobs(endedBefore cutoff: Date) throws -> [Int64] {
        let stamp = cutoff.timeIntervalSince1970
        let ids = try rows(
            "DELETE FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled') AND ended_at <= \(stamp) RETURNING id"
        ).compactMap { try $0.int64("id") }
        try run("DELETE FROM events WHERE at <= \(stamp)")
        try run("DELETE FROM notifications WHERE acked_at IS NOT NULL AND acked_at <= \(stamp)")
        try run("DELETE FROM deliveries WHERE status != 'pending' AND updated_at <= \(stamp)")
        if !ids.isEmpty { try run("DELETE FROM controls WHERE job_id = ANY(\(ids))") }
        try run("DELETE FROM schedule_fires WHERE job_id IS NOT NULL AND fire_ms <= \(Int64(stamp * 1000))")
        try dropUnusedEnvironments()
        return ids
    }

    func removeDependents(of job: Int64) throws {
        try run("DELETE FROM job_deps WHERE dep_id = \(job)")
    }

    func removeDependencies(of job: Int64) throws {
        try run("DELETE FROM job_deps WHERE job_id = \(job)")
    }

    func setProgress(_ id: Int64, _ progress: ProgressRequest, now: Date) throws {
        try run(
            """
            UPDATE jobs SET progress_done = \(progress.done), progress_total = \(progress.total),
                progress_message = \(progress.message), progress_at = \(now.timeIntervalSince1970)
            WHERE id = \(id)
            """)
    }

    func setCheckpoint(_ id: Int64, _ value: String, now: Date) throws {
        try run("UPDATE jobs SET checkpoint = \(value), checkpoint_at = \(now.timeIntervalSince1970) WHERE id = \(id)")
    }

    private func environmentID(_ json: String) throws -> Int64 {
        if let known = environmentIDs[json] { return known }
        let id: Int64
        if let stored = try one("SELECT id FROM environments WHERE md5(json) = md5(\(json)) AND json = \(json)")?.int64("id") {
            id = stored
        } else if let inserted = try one(
            "INSERT INTO environments (json) VALUES (\(json)) ON CONFLICT ((md5(json))) DO NOTHING RETURNING id")?.int64("id")
        {
            id = inserted
        } else {
            // Another transaction stored it since: its row is committed now, or this one
            // fails and runs again.
            guard let stored = try one("SELECT id FROM environments WHERE md5(json) = md5(\(json))")?.int64("id") else {
                throw StintError(.unavailable, "an environment could not be stored")
            }
            id = stored
        }
        environmentIDs[json] = id
        return id
    }

    private func dropUnusedEnvironments() throws {
        try run("DELETE FROM environments e WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.env_id = e.id)")
        environmentIDs = [:]
    }

    // MARK: Attempts

    func attemptIsOpen(job: Int64, number: Int) throws -> Bool? {
        try one("SELECT ended_at IS NULL AS open FROM attempts WHERE job_id = \(job) AND number = \(number)")?.bool("open")
    }

    func openAttempts() throws -> [ClaimedJob] {
        try rows(
            """
            SELECT j.*, e.json AS env_json, a.number AS a_number, a.shim_pid AS a_shim_pid,
                   a.started_at AS a_started_at, a.host AS a_host, a.instance AS a_instance
            FROM attempts a JOIN jobs j ON j.id = a.job_id LEFT JOIN environments e ON e.id = j.env_id
            WHERE a.ended_at IS NULL ORDER BY j.id
            """
        ).map(StoreRows.openAttempt)
    }

    func startAttempt(job: Int64, number: Int, worker: WorkerIdentity, now: Date) throws {
        let stamp = now.timeIntervalSince1970
        // The lease runs from the claim: the claiming daemon renews it while the attempt runs.
        try run(
            """
            INSERT INTO attempts (job_id, number, started_at, host, instance, lease_until)
            VALUES (\(job), \(number), \(stamp), \(worker.node), \(worker.instance),
                    \(stamp) + COALESCE((SELECT lease FROM nodes WHERE name = \(worker.node)), \(Self.defaultLease)))
            """)
    }

    /// The lease of an attempt whose node has not registered (a store used without
    /// daemons, as in the conformance suite): 15 s, the daemons' default.
    static let defaultLease: Double = 15

    func endAttempt(_ ending: AttemptEnding, retryAt: Date?) throws {
        let outcome = ending.outcome
        try run(
            """
            UPDATE attempts SET ended_at = \(outcome.endedAt.timeIntervalSince1970), exit_code = \(outcome.exitCode),
                signal = \(outcome.signal), reason = \(outcome.reason.rawValue), message = \(outcome.message),
                peak_rss = \(outcome.peakRssBytes), output_bytes = \(outcome.outputBytes),
                dropped_bytes = \(outcome.droppedBytes),
                started_at = COALESCE(\(outcome.startedAt?.timeIntervalSince1970), started_at),
                shim_pid = COALESCE(\(ending.shimPid.map(Int64.init)), shim_pid),
                failure_class = \(ending.verdict?.failureClass.rawValue), class_reason = \(ending.verdict?.reason),
                retry_at = \(retryAt?.timeIntervalSince1970)
            WHERE job_id = \(ending.jobID) AND number = \(ending.attempt)
            """)
        try ringWake()
    }

    func abandonAttempt(job: Int64, number: Int, message: String, now: Date) throws {
        try run(
            """
            UPDATE attempts SET ended_at = \(now.timeIntervalSince1970), reason = 'lost', message = \(message)
            WHERE job_id = \(job) AND number = \(number) AND ended_at IS NULL
            """)
        try ringWake()
    }

    func deleteAttempt(job: Int64, number: Int) throws {
        try run("DELETE FROM attempts WHERE job_id = \(job) AND number = \(number)")
    }

    func markStalled(job: Int64, number: Int, at: Date, line: String) throws -> Bool {
        try run(
            """
            UPDATE attempts SET stalled_at = \(at.timeIntervalSince1970), stall_line = \(line)
            WHERE job_id = \(job) AND number = \(number) AND stalled_at IS NULL AND ended_at IS NULL
            """) > 0
    }

    // MARK: Claiming

    func runningCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try rows("SELECT queue, COUNT(*) AS n FROM jobs WHERE state = 'running' GROUP BY queue") {
            guard let queue = try? row.string("queue") else { continue }
            counts[queue] = try row.int("n") ?? 0
        }
        return counts
    }

    func readyJobs(queue: String, limit: Int) throws -> [StoredJob] {
        // Jobs another daemon's transaction holds (being claimed, stopped or changed) are
        // passed over, not waited for.
        let locking = writing ? " FOR UPDATE OF j SKIP LOCKED" : ""
        return try rows(
            PostgresQuery(
                unsafeSQL: """
                    SELECT j.*, e.json AS env_json FROM jobs j JOIN environments e ON e.id = j.env_id
                    WHERE j.queue = $1 AND j.state = 'queued' AND j.ready
                    ORDER BY j.priority DESC, j.id LIMIT $2
                    """ + locking, binds: binds(queue, Int64(limit)))
        ).map(StoreRows.jobWithEnvironment)
    }

    func hasReadyJobs(queue: String) throws -> Bool {
        try one("SELECT EXISTS (SELECT 1 FROM jobs WHERE queue = \(queue) AND state = 'queued' AND ready) AS any")?.bool("any")
            ?? false
    }

    func nextRunAt() throws -> Date? {
        try one("SELECT MIN(run_at) AS at FROM jobs WHERE state = 'queued' AND NOT ready AND pending_deps = 0")?.date("at")
    }

    /// The `WHERE` clause that `filter` (its limit aside) makes over `jobs j`, binding its
    /// values in `statement`; empty when it filters nothing.
    static func filterClause(_ filter: JobFilter, _ statement: inout Statement) -> String {
        var clauses: [String] = []
        if !filter.states.isEmpty {
            let states = filter.states.map(\.rawValue).sorted().map { statement.bind($0) }
            clauses.append("j.state IN (\(states.joined(separator: ",")))")
        }
        if let session = filter.session { clauses.append("j.session = \(statement.bind(session))") }
        if let queue = filter.queue { clauses.append("j.queue = \(statement.bind(queue))") }
        for (key, value) in filter.labels.sorted(by: { $0.key < $1.key }) {
            clauses.append("(j.labels::jsonb ->> \(statement.bind(key))) = \(statement.bind(value))")
        }
        return clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
    }
}

/// SQL written at run time with its bound values (`$1`, `$2`, …).
struct Statement {
    var sql = ""
    var bindings = PostgresBindings()

    /// Binds `value` and returns its placeholder.
    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value?) -> String {
        bindings.append(value)
        return "$\(bindings.count)"
    }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: bindings) }
}

/// Bindings for a query written with `$1`, `$2`, … in order.
func binds(_ values: any PostgresDynamicTypeEncodable...) -> PostgresBindings {
    var bindings = PostgresBindings(capacity: values.count)
    for value in values { bindings.append(value) }
    return bindings
}
