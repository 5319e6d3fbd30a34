public import Foundation
import PostgresNIO
public import StintCore
public import StintStore

/// `stint batch` checkpoints and their locks, as the SQLite store keeps them (see
/// StintStore's `BatchStore`): the row is locked while a lock is taken or a checkpoint
/// written, so two runs on two hosts never both hold one batch.
extension PostgresJobStore: BatchStore {
    public func acquireBatch(
        _ request: BatchAcquireRequest, session: String?, token: String, now: Date,
        isAlive: @escaping @Sendable (BatchHolder, Date?) -> Bool
    ) async throws -> BatchView {
        try await transact { tx in
            var warnings: [String] = []
            let key = session ?? ""
            let existing = try tx.one(
                """
                SELECT * FROM batches WHERE session = \(key) AND command = \(request.command) AND target = \(request.target)
                FOR UPDATE
                """)
            let holder = existing.flatMap(Self.holder)
            let heartbeat = try existing?.date("heartbeat_at")
            let holderLives = holder.map { isAlive($0, heartbeat) } ?? false
            if !request.allowConcurrent {
                if let holder, holderLives, let id = try existing?.int64("id") {
                    throw BatchLock.held(id, by: holder)
                }
                for queue in request.exclusiveWith {
                    let paused = try tx.one("SELECT paused FROM queues WHERE name = \(queue)")?.bool("paused") ?? false
                                        let running =
                        try tx.one("SELECT COUNT(*) AS n FROM jobs WHERE queue = \(queue) AND state = 'running'")?.int("n") ?? 0
                    if let warning = try BatchLock.exclusive(with: queue, paused: paused, running: running) {
                        warnings.append(warning)
                    }
                }
            }
            let stamp = now.timeIntervalSince1970
            guard let existing else {
                let lock = request.allowConcurrent ? nil : request.holder
                // A run on another host inserting the same batch at once makes this fail with a
                // unique violation; the transaction then runs again and finds its row.
                guard
                    let id = try tx.one(
                        """
                        INSERT INTO batches (command, target, total, session, holder_token, holder_pid, holder_started,
                            holder_host, heartbeat_at, created_at, updated_at)
                        VALUES (\(request.command), \(request.target), \(request.total), \(key), \(lock == nil ? nil : token),
                            \(lock.map { Int64($0.pid) }), \(lock?.started), \(lock?.host), \(stamp), \(stamp), \(stamp))
                        RETURNING id
                        """)?.int64("id")
                else { throw StintError(.unavailable, "the store returned no id for a new batch") }
                return try Self.batch(tx, id: id, token: lock == nil ? nil : token, warnings: warnings)
            }
            let id = try existing.required("id", existing.int64)
            if let holder, !holderLives, !request.allowConcurrent {
                warnings.append(BatchLock.takeover(id, from: holder))
            }
            let recordedTotal = try existing.required("total", existing.int64)
            if recordedTotal != request.total {
                warnings.append(BatchLock.unitsChanged(recorded: recordedTotal, now: request.total))
                try tx.run(
                    """
                    UPDATE batches SET total = \(request.total), completed = 0, resume_from = NULL, succeeded = 0, failed = 0,
                        failed_units = '[]', stopped_by = NULL, updated_at = \(stamp) WHERE id = \(id)
                    """)
            }
            if request.allowConcurrent { return try Self.batch(tx, id: id, token: nil, warnings: warnings) }
            try tx.run(
                """
                UPDATE batches SET holder_token = \(token), holder_pid = \(Int64(request.holder.pid)),
                    holder_started = \(request.holder.started), holder_host = \(request.holder.host),
                    heartbeat_at = \(stamp), stopped_by = NULL
                WHERE id = \(id)
                """)
            return try Self.batch(tx, id: id, token: token, warnings: warnings)
        }
    }

    public func saveBatch(_ id: Int64, _ request: BatchSaveRequest, now: Date) async throws -> BatchView? {
        try await transact { tx in
            guard let row = try tx.one("SELECT * FROM batches WHERE id = \(id) FOR UPDATE") else { return nil }
            let holderToken = try row.string("holder_token")
            if let token = request.token, holderToken != token {
                let pid = try row.int64("holder_pid")
                throw BatchLock.lost(id, takenBy: pid)
            }
            // A run without the lock (--allow-concurrent) never touches a held batch.
            let ownsLock = request.token != nil
            if !ownsLock, holderToken != nil { return try Self.batch(tx, id: id, token: nil, warnings: []) }
            if request.finished {
                try tx.run("DELETE FROM batches WHERE id = \(id)")
                return nil
            }
            let failedUnits = String(
                decoding: try JSONEncoder().encode(Array(request.failedUnits.prefix(BatchView.failedUnitsLimit))), as: UTF8.self)
            let stamp = now.timeIntervalSince1970
            try tx.run(
                """
                UPDATE batches SET completed = \(request.completed), resume_from = \(request.resumeFrom),
                    succeeded = \(request.succeeded), failed = \(request.failed), failed_units = \(failedUnits),
                    stopped_by = \(request.stoppedBy), updated_at = \(stamp),
                    heartbeat_at = CASE WHEN \(ownsLock) THEN \(stamp) ELSE heartbeat_at END
                WHERE id = \(id)
                """)
            if request.release, ownsLock {
                try tx.run(
                    """
                    UPDATE batches SET holder_token = NULL, holder_pid = NULL, holder_started = NULL, holder_host = NULL
                    WHERE id = \(id)
                    """)
            }
            return try Self.batch(tx, id: id, token: nil, warnings: [])
        }
    }

    public func heartbeatBatch(_ id: Int64, token: String, now: Date) async throws {
        try await transact { tx in
            let changed = try tx.run(
                "UPDATE batches SET heartbeat_at = \(now.timeIntervalSince1970) WHERE id = \(id) AND holder_token = \(token)")
            guard changed == 1 else { throw StintError(.conflict, "the lock of batch \(id) is no longer this run's") }
        }
    }

    public func batches(session: String?, isAlive: @escaping @Sendable (BatchHolder, Date?) -> Bool) async throws -> [BatchView] {
        try await transact { tx in
            try tx.rows("SELECT * FROM batches WHERE \(session)::text IS NULL OR session = \(session ?? "") ORDER BY id")
                .map { try Self.batch($0, isAlive: isAlive) }
        }
    }

    public func forgetBatches(
        _ ids: [Int64], session: String?, isAlive: @escaping @Sendable (BatchHolder, Date?) -> Bool
    ) async throws -> [BatchView] {
        try await transact { tx in
            var forgotten: [BatchView] = []
            for id in ids {
                guard
                    let row = try tx.one(
                        "SELECT * FROM batches WHERE id = \(id) AND (\(session)::text IS NULL OR session = \(session ?? "")) FOR UPDATE")
                else {
                    throw BatchLock.notFound(id)
                }
                let view = try Self.batch(row, isAlive: isAlive)
                if view.state == "running", let holder = view.holder {
                    throw BatchLock.inUse(id, by: holder)
                }
                try tx.run("DELETE FROM batches WHERE id = \(id)")
                forgotten.append(view)
            }
            return forgotten
        }
    }

    private static func holder(_ row: StoredRow) -> BatchHolder? {
        guard let pid = ((try? row.int64("holder_pid")) ?? nil).flatMap({ Int32(exactly: $0) }),
            let started = (try? row.string("holder_started")) ?? nil, let host = (try? row.string("holder_host")) ?? nil
        else { return nil }
        return BatchHolder(pid: pid, started: started, host: host)
    }

    private static func batch(_ tx: PostgresTransaction, id: Int64, token: String?, warnings: [String]) throws -> BatchView {
        guard let row = try tx.one("SELECT * FROM batches WHERE id = \(id)") else {
            throw StintError(.notFound, "no batch with id \(id)")
        }
        var view = try batch(row, isAlive: { _, _ in true })
        view.token = token
        view.warnings = warnings.isEmpty ? nil : warnings
        return view
    }

    private static func batch(_ row: StoredRow, isAlive: (BatchHolder, Date?) -> Bool) throws -> BatchView {
        let holder = holder(row)
        let lives = holder.map { isAlive($0, try? row.date("heartbeat_at")) } ?? false
        var stoppedBy = try row.string("stopped_by")
        if holder != nil, !lives { stoppedBy = "lost" }
        let failedUnits = try JSONDecoder().decode([String].self, from: Data(try row.required("failed_units", row.string).utf8))
        let session = try row.string("session")
        return BatchView(
            id: try row.required("id", row.int64), command: try row.required("command", row.string),
            target: try row.required("target", row.string), total: try row.required("total", row.int64),
            completed: try row.required("completed", row.int64), resumeFrom: try row.string("resume_from"),
            succeeded: try row.required("succeeded", row.int64), failed: try row.required("failed", row.int64),
            failedUnits: failedUnits, state: lives ? "running" : "stopped", stoppedBy: lives ? nil : stoppedBy,
            holder: lives ? holder : nil, session: session.flatMap { $0.isEmpty ? nil : $0 },
            createdAt: try row.required("created_at", row.date), updatedAt: try row.required("updated_at", row.date))
    }
}
