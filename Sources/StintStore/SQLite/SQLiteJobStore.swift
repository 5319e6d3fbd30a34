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
///
/// SQLite allows one writer at a time: every write transaction runs alone (GRDB's
/// writer queue), which gives ``JobStore``'s isolation without row locks. Reads run
/// beside it on their own connections, each over one WAL snapshot.
public final class SQLiteJobStore: JobStore, BatchStore, TokenStore {
    let pool: DatabasePool
    /// Every write goes through it: concurrent writes share a transaction and its fsync.
    let writer: SQLiteGroupCommit
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
        self.writer = SQLiteGroupCommit(pool: pool)
        // The pool turns WAL on after `prepareDatabase` ran, and sets its writer to
        // `synchronous = NORMAL` as it does (a commit then survives a crash of the process
        // but not of the machine). The writer is the connection that commits: set FULL again.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try SQLiteMigrations.migrator.migrate(pool)
    }

    public var location: String { "sqlite:\(path)" }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        try await writeDatabase { db in try body(SQLiteTransaction(db)) }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReading) throws -> T) async throws -> T {
        try await readDatabase { db in try body(SQLiteTransaction(db)) }
    }

    /// One write transaction on the database itself; a failure of the storage (a full
    /// disk, say) throws `E_UNAVAILABLE` (see ``StorageFailure``).
    func writeDatabase<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await writer.write(updates)
        } catch {
            throw StorageFailure.translated(error, path: path)
        }
    }

    /// One read of the database itself; a failure of the storage throws `E_UNAVAILABLE`.
    func readDatabase<T: Sendable>(_ value: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(value)
        } catch {
            throw StorageFailure.translated(error, path: path)
        }
    }

    /// The writer connection's `PRAGMA synchronous` (2 is FULL), for the test that pins it.
    func writerSynchronous() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// SQLite's plan for `sql` (the `detail` column of EXPLAIN QUERY PLAN), for tests
    /// and docs that show the claim uses its indexes.
    func queryPlan(_ sql: String, arguments: StatementArguments = StatementArguments()) throws -> [String] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] }
        }
    }
}

extension JobStore where Self == SQLiteJobStore {
    /// The SQLite store at `path`, opened (created and migrated as needed).
    public static func sqlite(path: String) throws -> SQLiteJobStore { try SQLiteJobStore(path: path) }
}
