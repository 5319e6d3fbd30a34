import Foundation
public import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import StintCore
public import StintStore
import Synchronization

/// The store on a PostgreSQL server, shared by any number of daemons on any number of hosts.
///
/// Each transaction runs on a thread of the store's own pool with a connection of its
/// own, because the seam's bodies are synchronous: every row operation is one round trip
/// that blocks that thread (never a thread of Swift's cooperative pool).
///
/// Isolation (see ``JobStore``): transactions are READ COMMITTED, and a write locks the
/// rows it decides on. The claim locks the queue rows (all of them, in name order, as
/// every write that reads a queue does, so two writes never wait on each other in a
/// circle) and takes ready jobs `FOR UPDATE SKIP LOCKED`; an ending locks its job, then the
/// queue rows, so a breaker, a concurrency count or the one half-open probe is decided on
/// the state the last commit left, across every daemon. A write that loses a race (a
/// deadlock, a serialization failure, a unique key or a reference that a concurrent commit
/// took) runs again from the start, up to ``maxRuns`` times: its body only reads and
/// writes through the transaction, so running it again is safe.
public final class PostgresJobStore: JobStore, TokenStore {
    /// Where the server is (password masked in ``location``).
    public let url: PostgresURL
    let logger: Logger
    let threads: NIOThreadPool
    private let idle = Mutex<[PostgresSession]>([])
    private let nextID = Atomic<Int>(1)
    /// Seconds a connection attempt may take. Default 5.
    let connectTimeout: Double
    /// This store's id in the notifications it sends, so that its listener ignores its own.
    let origin = UUID().uuidString.lowercased()
    /// How many times a write that lost a race runs at most: 8.
    static let maxRuns = 8

    /// Opens the store at `url`, applying any migration it lacks (exactly once however
    /// many daemons start at once); `E_UNAVAILABLE` when the server cannot be reached.
    /// `connections` is the most this store holds open (default 8), one per thread.
    public init(url: PostgresURL, connections: Int = 8, connectTimeout: Double = 5, logger: Logger? = nil) async throws {
        self.url = url
        self.connectTimeout = connectTimeout
        self.logger = logger ?? Logger(label: "stint.postgres")
        threads = NIOThreadPool(numberOfThreads: max(1, connections))
        threads.start()
        do {
            try await onThread { session in try PostgresMigrations.migrate(session) }
        } catch {
            try? await threads.shutdownGracefully()
            throw error
        }
    }

    /// Closes the connections and stops the threads.
    public func close() async {
        dropIdle()
        try? await threads.shutdownGracefully()
    }

    public var location: String { url.description }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        try await transact { tx in try body(tx) }
    }

    /// One write transaction over the store's own statements (the seam's row operations,
    /// the cluster's and the batches'), run again when it lost a race (see ``maxRuns``).
    func transact<T: Sendable>(_ body: @escaping @Sendable (PostgresTransaction) throws -> T) async throws -> T {
        let origin = self.origin
        return try await onThread { session in
            var run = 1
            while true {
                do {
                    return try Self.transaction(session, "BEGIN") { try body(PostgresTransaction(session, writing: true, origin: origin)) }
                } catch where PostgresFailure.isRetryable(error) && run < Self.maxRuns {
                    run += 1
                    // A short, growing pause lets the transaction that won finish.
                    usleep(UInt32(min(50_000, 500 << run)) + UInt32.random(in: 0..<1000))
                }
            }
        }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReading) throws -> T) async throws -> T {
        let origin = self.origin
        return try await onThread { session in
            try Self.transaction(session, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY") {
                try body(PostgresTransaction(session, writing: false, origin: origin))
            }
        }
    }

    /// Runs `body` between `begin` and COMMIT, rolling back when it throws.
    static func transaction<T>(_ session: PostgresSession, _ begin: PostgresQuery, _ body: () throws -> T) throws -> T {
        session.sentCommit = false
        try session.query(begin)
        do {
            let value = try body()
            session.sentCommit = true
            try session.query("COMMIT")
            return value
        } catch {
            if !session.broken { _ = try? session.query("ROLLBACK") }
            throw error
        }
    }

    /// Runs `body` on a pool thread with a connection of its own. A failure of the server
    /// or the connection throws `E_UNAVAILABLE`; errors the body throws pass through.
    func onThread<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        let url = self.url
        do {
            return try await threads.runIfActive { [self] in
                var tries = 0
                while true {
                    tries += 1
                    let (session, reused) = try checkOut()
                    do {
                        let value = try body(session)
                        checkIn(session)
                        return value
                    } catch let error as StintError {
                        checkIn(session)
                        throw error
                    } catch {
                        checkIn(session)
                        // A connection that sat idle may have died with a server restart, and its
                        // idle peers with it: when it failed before anything was committed, drop
                        // them all and run once more on a new connection.
                        if session.broken && reused && !session.sentCommit && tries == 1 {
                            dropIdle()
                            continue
                        }
                        throw StintError(.unavailable, "the store \(url) failed: \(PostgresFailure.describe(error))")
                    }
                }
            }
        } catch let error as StintError {
            throw error
        } catch {
            throw StintError(.unavailable, "the store \(url) is closed: \(error)")
        }
    }

    /// Closes every idle connection.
    private func dropIdle() {
        let sessions = idle.withLock { sessions in
            defer { sessions = [] }
            return sessions
        }
        for session in sessions { session.close() }
    }

    /// An idle connection (`reused`), or a new one.
    private func checkOut() throws -> (PostgresSession, reused: Bool) {
        if let session = idle.withLock({ $0.popLast() }) { return (session, true) }
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        return (try PostgresSession.connect(url, timeout: connectTimeout, logger: logger, id: id), false)
    }

    private func checkIn(_ session: PostgresSession) {
        guard !session.broken else {
            session.close()
            return
        }
        idle.withLock { $0.append(session) }
    }
}

extension JobStore where Self == PostgresJobStore {
    /// The PostgreSQL store at `url`, migrated as needed.
    public static func postgres(_ url: PostgresURL) async throws -> PostgresJobStore {
        try await PostgresJobStore(url: url)
    }
}
