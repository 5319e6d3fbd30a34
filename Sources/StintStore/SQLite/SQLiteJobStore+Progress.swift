import Foundation
import GRDB
import StintCore

extension SQLiteJobStore {
    public func setProgress(_ id: Int64, _ progress: ProgressRequest, now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE jobs SET progress_done = ?, progress_total = ?, progress_message = ?, progress_at = ?
                    WHERE id = ? AND state = 'running'
                    """,
                arguments: [progress.done, progress.total, progress.message, now.timeIntervalSince1970, id])
            try Self.requireRunning(id, changed: db.changesCount, db: db)
        }
    }

    public func setCheckpoint(_ id: Int64, _ value: String, now: Date) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE jobs SET checkpoint = ?, checkpoint_at = ? WHERE id = ? AND state = 'running'",
                arguments: [value, now.timeIntervalSince1970, id])
            try Self.requireRunning(id, changed: db.changesCount, db: db)
        }
    }

    private static func requireRunning(_ id: Int64, changed: Int, db: Database) throws {
        guard changed == 0 else { return }
        guard let state = try String.fetchOne(db, sql: "SELECT state FROM jobs WHERE id = ?", arguments: [id]) else {
            throw StintError.jobNotFound(id)
        }
        throw StintError(.conflict, "job \(id) is \(state), not running: only a running job reports progress")
    }
}
