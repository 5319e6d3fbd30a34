public import Foundation
import GRDB
public import StintCore

extension SQLiteJobStore {
    public func acquireBatch(
        _ request: BatchAcquireRequest, session: String?, token: String, now: Date,
        isAlive: @escaping @Sendable (BatchHolder, Date?) -> Bool
    ) async throws -> BatchView {
        try await writeDatabase { db in
            var warnings: [String] = []
            // A batch is keyed by its session too: another session's run of the same
            // command on the same units is another batch.
            let key = session ?? ""
            let existing = try Row.fetchOne(
                try db.cachedStatement(sql: "SELECT * FROM batches WHERE session = ? AND command = ? AND target = ?"),
                arguments: [key, request.command, request.target])
            let holder = existing.flatMap(Self.holder)
            let heartbeat = (existing?["heartbeat_at"] as Double?).map(Date.init(timeIntervalSince1970:))
            let holderLives = holder.map { isAlive($0, heartbeat) } ?? false
            if !request.allowConcurrent {
                if let holder, holderLives, let id: Int64 = existing?["id"] {
                    throw BatchLock.held(id, by: holder)
                }
                for queue in request.exclusiveWith {
                    let paused =
                        try Bool.fetchOne(
                            try db.cachedStatement(sql: "SELECT paused FROM queues WHERE name = ?"), arguments: [queue]) ?? false
                    let running =
                        try Int.fetchOne(
                            try db.cachedStatement(sql: "SELECT COUNT(*) FROM jobs WHERE queue = ? AND state = 'running'"),
                            arguments: [queue]) ?? 0
                    if let warning = try BatchLock.exclusive(with: queue, paused: paused, running: running) {
                        warnings.append(warning)
                    }
                }
            }
            let nowSeconds = now.timeIntervalSince1970
            guard let existing else {
                let lock = request.allowConcurrent ? nil : request.holder
                try db.execute(
                    sql: """
                        INSERT INTO batches (command, target, total, session, holder_token, holder_pid, holder_started,
                            holder_host, heartbeat_at, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        request.command, request.target, request.total, key, lock == nil ? nil : token, lock?.pid,
                        lock?.started, lock?.host, nowSeconds, nowSeconds, nowSeconds,
                    ])
                return try Self.batch(db, id: db.lastInsertedRowID, token: lock == nil ? nil : token, warnings: warnings)
            }
            let id: Int64 = existing["id"]
            if let holder, !holderLives, !request.allowConcurrent {
                warnings.append(BatchLock.takeover(id, from: holder))
            }
            let recordedTotal: Int64 = existing["total"]
            if recordedTotal != request.total {
                warnings.append(BatchLock.unitsChanged(recorded: recordedTotal, now: request.total))
                try db.execute(
                    sql: """
                        UPDATE batches SET total = ?, completed = 0, resume_from = NULL, succeeded = 0, failed = 0,
                            failed_units = '[]', stopped_by = NULL, updated_at = ? WHERE id = ?
                        """,
                    arguments: [request.total, nowSeconds, id])
            }
            if request.allowConcurrent {
                return try Self.batch(db, id: id, token: nil, warnings: warnings)
            }
            try db.execute(
                sql: """
                    UPDATE batches SET holder_token = ?, holder_pid = ?, holder_started = ?, holder_host = ?,
                        heartbeat_at = ?, stopped_by = NULL WHERE id = ?
                    """,
                arguments: [token, request.holder.pid, request.holder.started, request.holder.host, nowSeconds, id])
            return try Self.batch(db, id: id, token: token, warnings: warnings)
        }
    }

    public func saveBatch(_ id: Int64, _ request: BatchSaveRequest, now: Date) async throws -> BatchView? {
        try await writeDatabase { db in
            guard let row = try Row.fetchOne(try db.cachedStatement(sql: "SELECT * FROM batches WHERE id = ?"), arguments: [id])
            else {
                return nil
            }
            let holderToken: String? = row["holder_token"]
            if let token = request.token, holderToken != token {
                let pid: Int32? = row["holder_pid"]
                throw BatchLock.lost(id, takenBy: pid.map(Int64.init))
            }
            // A run without the lock (--allow-concurrent) never touches a held batch: its
            // progress is not the holder's, and the holder's resume must not skip units.
            let ownsLock = request.token != nil
            if !ownsLock, holderToken != nil { return try Self.batch(db, id: id, token: nil, warnings: []) }
            if request.finished {
                try db.cachedStatement(sql: "DELETE FROM batches WHERE id = ?").execute(arguments: [id])
                return nil
            }
            let failedUnits = String(
                decoding: try JSONEncoder().encode(Array(request.failedUnits.prefix(BatchView.failedUnitsLimit))),
                as: UTF8.self)
            try db.execute(
                sql: """
                    UPDATE batches SET completed = ?, resume_from = ?, succeeded = ?, failed = ?, failed_units = ?,
                        stopped_by = ?, updated_at = ?, heartbeat_at = CASE WHEN ? THEN ? ELSE heartbeat_at END
                    WHERE id = ?
                    """,
                arguments: [
                    request.completed, request.resumeFrom, request.succeeded, request.failed, failedUnits,
                    request.stoppedBy, now.timeIntervalSince1970, ownsLock, now.timeIntervalSince1970, id,
                ])
            if request.release, ownsLock {
                try db.execute(
                    sql: """
                        UPDATE batches SET holder_token = NULL, holder_pid = NULL, holder_started = NULL,
                            holder_host = NULL WHERE id = ?
                        """,
                    arguments: [id])
            }
            return try Self.batch(db, id: id, token: nil, warnings: [])
        }
    }

    public func heartbeatBatch(_ id: Int64, token: String, now: Date) async throws {
        try await writeDatabase { db in
            try db.execute(
                sql: "UPDATE batches SET heartbeat_at = ? WHERE id = ? AND holder_token = ?",
                arguments: [now.timeIntervalSince1970, id, token])
            guard db.changesCount == 1 else {
                throw StintError(.conflict, "the lock of batch \(id) is no longer this run's")
            }
        }
    }

    public func batches(session: String?, isAlive: @escaping @Sendable (BatchHolder, Date?) -> Bool) async throws -> [BatchView] {
        try await readDatabase { db in
            let rows = try Row.fetchAll(
                try db.cachedStatement(sql: "SELECT * FROM batches WHERE ? IS NULL OR session = ? ORDER BY id"),
                arguments: [session, session ?? ""])
            return try rows.map { try Self.batch($0, isAlive: isAlive) }
        }
    }

    public func forgetBatches(
        _ ids: [Int64], session: String?, isAlive: @escaping @Sendable (BatchHolder, Date?) -> Bool
    ) async throws -> [BatchView] {
        try await writeDatabase { db in
            var forgotten: [BatchView] = []
            for id in ids {
                guard
                    let row = try Row.fetchOne(
                        try db.cachedStatement(sql: "SELECT * FROM batches WHERE id = ? AND (? IS NULL OR session = ?)"),
                        arguments: [id, session, session ?? ""])
                else {
                    throw BatchLock.notFound(id)
                }
                let view = try Self.batch(row, isAlive: isAlive)
                if view.state == "running", let holder = view.holder {
                    throw BatchLock.inUse(id, by: holder)
                }
                try db.cachedStatement(sql: "DELETE FROM batches WHERE id = ?").execute(arguments: [id])
                forgotten.append(view)
            }
            return forgotten
        }
    }

    private static func holder(_ row: Row) -> BatchHolder? {
        guard let pid: Int32 = row["holder_pid"], let started: String = row["holder_started"],
            let host: String = row["holder_host"]
        else { return nil }
        return BatchHolder(pid: pid, started: started, host: host)
    }

    private static func batch(_ db: Database, id: Int64, token: String?, warnings: [String]) throws -> BatchView {
        guard let row = try Row.fetchOne(try db.cachedStatement(sql: "SELECT * FROM batches WHERE id = ?"), arguments: [id])
        else {
            throw StintError(.notFound, "no batch with id \(id)")
        }
        var view = try batch(row, isAlive: { _, _ in true })
        view.token = token
        view.warnings = warnings.isEmpty ? nil : warnings
        return view
    }

    private static func batch(_ row: Row, isAlive: (BatchHolder, Date?) -> Bool) throws -> BatchView {
        let holder = holder(row)
        let heartbeat = (row["heartbeat_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        let lives = holder.map { isAlive($0, heartbeat) } ?? false
        var stoppedBy: String? = row["stopped_by"]
        if holder != nil, !lives { stoppedBy = "lost" }
        let failedUnits = try JSONDecoder().decode([String].self, from: Data((row["failed_units"] as String).utf8))
        return BatchView(
            id: row["id"], command: row["command"], target: row["target"], total: row["total"],
            completed: row["completed"], resumeFrom: row["resume_from"], succeeded: row["succeeded"],
            failed: row["failed"], failedUnits: failedUnits, state: lives ? "running" : "stopped",
            stoppedBy: lives ? nil : stoppedBy, holder: lives ? holder : nil,
            session: (row["session"] as String?).flatMap { $0.isEmpty ? nil : $0 },
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            updatedAt: Date(timeIntervalSince1970: row["updated_at"]))
    }
}
