import Foundation
import GRDB
import StintCore

/// The embedded default store: one SQLite file in WAL mode with `synchronous=FULL`,
/// so an `add` that returned an id survives a crash or a power loss.
public final class SQLiteJobStore: JobStore {
    private let pool: DatabasePool
    /// The path of the database file.
    public let path: String

    /// Opens (creating and migrating as needed) the store at `path`.
    public init(path: String) throws {
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

    public func insert(_ specs: [JobSpec], now: Date) async throws -> [Int64] {
        try await pool.write { db in
            var envIDs: [String: Int64] = [:]
            var ids: [Int64] = []
            ids.reserveCapacity(specs.count)
            let insertJob = try db.cachedStatement(
                sql: """
                    INSERT INTO jobs (state, queue, argv, shell, cwd, env_id, labels, session,
                                      timeout, output_cap, created_at)
                    VALUES (?, 'default', ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for spec in specs {
                let envJSON = try Self.json(spec.env)
                let envID: Int64
                if let known = envIDs[envJSON] {
                    envID = known
                } else {
                    envID = try Self.environmentID(envJSON, db: db)
                    envIDs[envJSON] = envID
                }
                let state: JobState = spec.hold == true ? .held : .queued
                try insertJob.execute(arguments: [
                    state.rawValue, try Self.json(spec.argv ?? []), spec.shell, spec.cwd, envID,
                    try Self.json(spec.labels), spec.session, spec.timeout,
                    spec.outputCap ?? JobSpec.defaultOutputCap, now.timeIntervalSince1970,
                ])
                ids.append(db.lastInsertedRowID)
            }
            return ids
        }
    }

    public func job(_ id: Int64) async throws -> StoredJob? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id])
            else { return nil }
            let attempts = try Row.fetchAll(
                db, sql: "SELECT * FROM attempts WHERE job_id = ? ORDER BY number", arguments: [id])
            return try Self.storedJob(row, attempts: attempts.map(Self.storedAttempt))
        }
    }

    public func list(_ filter: JobFilter) async throws -> [StoredJob] {
        try await pool.read { db in
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
            let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
            arguments += [max(filter.limit, 0)]
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM (
                        SELECT j.*, a.number AS a_number, a.started_at AS a_started_at,
                               a.ended_at AS a_ended_at, a.exit_code AS a_exit_code,
                               a.signal AS a_signal, a.reason AS a_reason, a.message AS a_message,
                               a.host AS a_host, a.shim_pid AS a_shim_pid, a.peak_rss AS a_peak_rss,
                               a.output_bytes AS a_output_bytes, a.dropped_bytes AS a_dropped_bytes
                        FROM jobs j
                        LEFT JOIN attempts a ON a.job_id = j.id AND a.number = j.attempts
                        \(whereSQL)
                        ORDER BY j.id DESC LIMIT ?
                    ) ORDER BY id
                    """, arguments: arguments)
            return try rows.map { row in
                let attempt: [StoredAttempt] =
                    row["a_number"] == nil ? [] : [try Self.storedAttempt(row, prefix: "a_")]
                return try Self.storedJob(row, attempts: attempt)
            }
        }
    }

    public func claim(limit: Int, host: String, now: Date) async throws -> [ClaimedJob] {
        guard limit > 0 else { return [] }
        return try await pool.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT j.*, e.json AS env_json FROM jobs j JOIN environments e ON e.id = j.env_id
                    WHERE j.state = 'queued' AND (j.run_at IS NULL OR j.run_at <= ?)
                    ORDER BY j.priority DESC, j.id LIMIT ?
                    """, arguments: [now.timeIntervalSince1970, limit])
            var claimed: [ClaimedJob] = []
            for row in rows {
                var job = try Self.storedJob(row, attempts: [])
                job.spec.env = try Self.decode([String: String].self, row["env_json"])
                try Self.check(job.state, .start, id: job.id)
                let number = job.attemptCount + 1
                try db.execute(
                    sql: """
                        UPDATE jobs SET state = 'running', attempts = ?, ended_at = NULL WHERE id = ?
                        """, arguments: [number, job.id])
                try db.execute(
                    sql: """
                        INSERT INTO attempts (job_id, number, started_at, host) VALUES (?, ?, ?, ?)
                        """, arguments: [job.id, number, now.timeIntervalSince1970, host])
                claimed.append(
                    ClaimedJob(
                        id: job.id, attempt: number, queue: job.queue, spec: job.spec, shimPid: nil,
                        startedAt: now))
            }
            return claimed
        }
    }

    public func finish(jobID: Int64, attempt: Int, outcome: AttemptOutcome, shimPid: Int32?) async throws -> StoredJob {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [jobID])
            else { throw StintError.jobNotFound(jobID) }
            let ended: Bool? = try Bool.fetchOne(
                db, sql: "SELECT ended_at IS NOT NULL FROM attempts WHERE job_id = ? AND number = ?",
                arguments: [jobID, attempt])
            guard let ended else {
                throw StintError(.notFound, "job \(jobID) has no attempt \(attempt)")
            }
            if !ended {
                let state = JobState(rawValue: row["state"]) ?? .running
                let next = try Self.check(state, outcome.event, id: jobID)
                try db.execute(
                    sql: """
                        UPDATE attempts SET ended_at = ?, exit_code = ?, signal = ?, reason = ?,
                            message = ?, peak_rss = ?, output_bytes = ?, dropped_bytes = ?,
                            started_at = COALESCE(?, started_at), shim_pid = COALESCE(?, shim_pid)
                        WHERE job_id = ? AND number = ?
                        """,
                    arguments: [
                        outcome.endedAt.timeIntervalSince1970, outcome.exitCode, outcome.signal,
                        outcome.reason.rawValue, outcome.message, outcome.peakRssBytes,
                        outcome.outputBytes, outcome.droppedBytes,
                        outcome.startedAt?.timeIntervalSince1970, shimPid, jobID, attempt,
                    ])
                try db.execute(
                    sql: "UPDATE jobs SET state = ?, ended_at = ? WHERE id = ?",
                    arguments: [next.rawValue, outcome.endedAt.timeIntervalSince1970, jobID])
            }
            return try Self.fetchJob(jobID, db: db)
        }
    }

    public func apply(_ event: JobEvent, to id: Int64, now: Date) async throws -> StoredJob {
        try await pool.write { db in
            guard let stateText = try String.fetchOne(db, sql: "SELECT state FROM jobs WHERE id = ?", arguments: [id])
            else { throw StintError.jobNotFound(id) }
            let state = JobState(rawValue: stateText) ?? .failed
            // Starting and ending attempts go through claim and finish, which keep the
            // attempt rows in step; here only a job without a running attempt may change.
            guard [.release, .cancel, .retry].contains(event), state != .running else {
                throw StintError(.conflict, "job \(id) is \(state.rawValue); cannot \(event.rawValue) it here")
            }
            let next = try Self.check(state, event, id: id)
            let endedAt: Double? = next.isTerminal ? now.timeIntervalSince1970 : nil
            try db.execute(
                sql: "UPDATE jobs SET state = ?, ended_at = ?, run_at = NULL WHERE id = ?",
                arguments: [next.rawValue, endedAt, id])
            return try Self.fetchJob(id, db: db)
        }
    }

    public func runningAttempts() async throws -> [ClaimedJob] {
        try await pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT j.*, e.json AS env_json, a.number AS a_number, a.shim_pid AS a_shim_pid,
                           a.started_at AS a_started_at
                    FROM attempts a JOIN jobs j ON j.id = a.job_id JOIN environments e ON e.id = j.env_id
                    WHERE a.ended_at IS NULL ORDER BY j.id
                    """)
            return try rows.map { row in
                var job = try Self.storedJob(row, attempts: [])
                job.spec.env = try Self.decode([String: String].self, row["env_json"])
                return ClaimedJob(
                    id: job.id, attempt: row["a_number"], queue: job.queue, spec: job.spec,
                    shimPid: row["a_shim_pid"],
                    startedAt: Date(timeIntervalSince1970: row["a_started_at"]))
            }
        }
    }

    public func delete(_ id: Int64) async throws {
        try await pool.write { db in
            guard let stateText = try String.fetchOne(db, sql: "SELECT state FROM jobs WHERE id = ?", arguments: [id])
            else { throw StintError.jobNotFound(id) }
            guard JobState(rawValue: stateText)?.isTerminal == true else {
                throw StintError(
                    .conflict, "job \(id) is \(stateText); only ended jobs can be removed",
                    hint: "stop it first with `stint stop \(id)`")
            }
            try db.execute(sql: "DELETE FROM jobs WHERE id = ?", arguments: [id])
            try Self.dropUnusedEnvironments(db)
        }
    }

    public func prune(endedBefore cutoff: Date) async throws -> [Int64] {
        try await pool.write { db in
            let ids = try Int64.fetchAll(
                db,
                sql: """
                    DELETE FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled') AND ended_at <= ?
                    RETURNING id
                    """, arguments: [cutoff.timeIntervalSince1970])
            try Self.dropUnusedEnvironments(db)
            return ids.sorted()
        }
    }

    public func counts() async throws -> [JobState: Int] {
        try await pool.read { db in
            var result: [JobState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state") {
                if let state = JobState(rawValue: row["state"]) { result[state] = row["n"] }
            }
            return result
        }
    }

    // MARK: - Rows

    private static func fetchJob(_ id: Int64, db: Database) throws -> StoredJob {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id])
        else { throw StintError.jobNotFound(id) }
        let attempts = try Row.fetchAll(
            db, sql: "SELECT * FROM attempts WHERE job_id = ? ORDER BY number", arguments: [id])
        return try storedJob(row, attempts: attempts.map { try storedAttempt($0) })
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

    private static func storedJob(_ row: Row, attempts: [StoredAttempt]) throws -> StoredJob {
        let argv = try decode([String].self, row["argv"])
        let shell: String? = row["shell"]
        let spec = JobSpec(
            argv: shell == nil ? argv : nil, shell: shell, cwd: row["cwd"], env: [:],
            labels: try decode([String: String].self, row["labels"]), session: row["session"],
            timeout: row["timeout"], outputCap: row["output_cap"],
            hold: nil)
        let endedAt: Double? = row["ended_at"]
        return StoredJob(
            id: row["id"], state: JobState(rawValue: row["state"]) ?? .failed, queue: row["queue"],
            spec: spec, createdAt: Date(timeIntervalSince1970: row["created_at"]),
            endedAt: endedAt.map(Date.init(timeIntervalSince1970:)), attemptCount: row["attempts"],
            attempts: attempts)
    }

    private static func storedAttempt(_ row: Row) throws -> StoredAttempt {
        try storedAttempt(row, prefix: "")
    }

    private static func storedAttempt(_ row: Row, prefix: String) throws -> StoredAttempt {
        let endedAt: Double? = row[prefix + "ended_at"]
        let reason: String? = row[prefix + "reason"]
        let outcome = endedAt.map { ended in
            AttemptOutcome(
                reason: reason.flatMap(AttemptReason.init(rawValue:)) ?? .lost,
                exitCode: row[prefix + "exit_code"], signal: row[prefix + "signal"],
                startedAt: Date(timeIntervalSince1970: row[prefix + "started_at"]),
                endedAt: Date(timeIntervalSince1970: ended), peakRssBytes: row[prefix + "peak_rss"],
                outputBytes: row[prefix + "output_bytes"], droppedBytes: row[prefix + "dropped_bytes"],
                message: row[prefix + "message"])
        }
        return StoredAttempt(
            number: row[prefix + "number"],
            startedAt: Date(timeIntervalSince1970: row[prefix + "started_at"]),
            host: row[prefix + "host"], shimPid: row[prefix + "shim_pid"], outcome: outcome)
    }

    private static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ text: String?) throws -> T {
        try JSONDecoder().decode(type, from: Data((text ?? "null").utf8))
    }
}
