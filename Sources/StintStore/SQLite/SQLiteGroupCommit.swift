import GRDB
import Synchronization

/// The SQLite store's one writer: writes that arrive while a transaction commits wait,
/// and then commit together, in one transaction and one `fsync`.
///
/// A write is a synchronous body over the database. The writer runs on GRDB's writer
/// queue: it takes every write waiting (at most ``Options/batchLimit``), runs each in its
/// own savepoint inside one transaction, commits, and only then answers each caller,
/// so nobody is answered before their write is on disk. A body that throws rolls back
/// its own savepoint and gets its error; the others commit. A commit that fails fails
/// every write of that transaction, and none of them is answered as done.
///
/// A lone write costs what it did before (no savepoint, one transaction); the writes of a
/// busy moment (adds from many clients, the endings of attempts that ended together, their
/// claims) share the transaction and its `fsync`.
///
/// Bounded: at most ``Options/queueLimit`` writes wait for the writer. Beyond that a
/// caller is suspended before its write is queued, until the writer takes a batch
/// (back-pressure, not unbounded memory: a suspended caller holds no write, only its
/// own request, and each client request holds a connection, so the daemon's open-file
/// limit bounds how many can wait; the engine's own writes are bounded by its slots).
final class SQLiteGroupCommit: Sendable {
    /// How writes are grouped.
    struct Options: Sendable {
        /// The most writes one transaction holds. Default 256.
        var batchLimit = 256
        /// The most writes waiting for the writer; a caller beyond waits before queueing. Default 4,096.
        var queueLimit = 4096
    }

    /// One queued write, its result, and its caller.
    private final class Pending: @unchecked Sendable {
        // Run only by the writer, on its queue; answered once, after the commit.
        /// Runs the body; false when it threw (its error is kept for the answer).
        let run: (Database) -> Bool
        /// Answers the caller: the body's result, or `commitError` when the transaction failed.
        let answer: (_ commitError: (any Error)?) -> Void

        init(run: @escaping (Database) -> Bool, answer: @escaping ((any Error)?) -> Void) {
            self.run = run
            self.answer = answer
        }
    }

    private struct State {
        var queue: [Pending] = []
        /// True while a drain of the queue is scheduled or running on the writer queue.
        var draining = false
        /// Callers waiting for room in the queue, in order.
        var roomWaiters: [CheckedContinuation<Void, Never>] = []
        /// Room reserved by callers whose write is not queued yet (checked and reserved in
        /// one step, so callers arriving together never overfill the queue).
        var promised = 0

        var isFull: Bool { queue.count + promised >= limit }
        let limit: Int
    }

    private let pool: DatabasePool
    private let options: Options
    private let state: Mutex<State>
    private let commitCount = Atomic<Int>(0)

    /// Transactions committed so far (for the tests that check grouping).
    var commits: Int { commitCount.load(ordering: .relaxed) }
    /// Writes queued for the writer now.
    var queued: Int { state.withLock { $0.queue.count } }
    /// Callers waiting for room in the queue now.
    var waitingForRoom: Int { state.withLock { $0.roomWaiters.count } }

    init(pool: DatabasePool, options: Options = Options()) {
        self.pool = pool
        self.options = options
        state = Mutex(State(limit: options.queueLimit))
    }

    /// Runs `body` in a transaction shared with whatever else waits to be written, and
    /// returns its value once that transaction has committed.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        await reserveRoom()
        return try await withCheckedThrowingContinuation { continuation in
            let result = ResultBox<T>()
            let pending = Pending(
                run: { db in
                    result.value = Result { try body(db) }
                    if case .failure = result.value { return false }
                    return true
                },
                answer: { commitError in
                    if let commitError {
                        continuation.resume(throwing: commitError)
                    } else if let value = result.value {
                        continuation.resume(with: value)
                    } else {
                        continuation.resume(throwing: DatabaseError(message: "the write was not run"))
                    }
                })
            let startDrain = state.withLock { state -> Bool in
                state.queue.append(pending)
                state.promised -= 1
                guard !state.draining else { return false }
                state.draining = true
                return true
            }
            if startDrain { pool.asyncWriteWithoutTransaction { db in self.drain(db) } }
        }
    }

    /// Reserves room for one write in the queue, suspending while it is full.
    private func reserveRoom() async {
        let reserved = state.withLock { state -> Bool in
            guard !state.isFull else { return false }
            state.promised += 1
            return true
        }
        if reserved { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let roomNow = state.withLock { state -> Bool in
                guard state.isFull else {
                    state.promised += 1
                    return true
                }
                state.roomWaiters.append(continuation)
                return false
            }
            if roomNow { continuation.resume() }
        }
    }

    /// Commits batches until the queue is empty. Runs on GRDB's writer queue.
    private func drain(_ db: Database) {
        while true {
            let (batch, admitted) = state.withLock { state -> ([Pending], [CheckedContinuation<Void, Never>]) in
                let batch = Array(state.queue.prefix(options.batchLimit))
                state.queue.removeFirst(batch.count)
                if batch.isEmpty { state.draining = false }
                let room = max(0, state.limit - state.queue.count - state.promised)
                let admitted = Array(state.roomWaiters.prefix(room))
                state.roomWaiters.removeFirst(admitted.count)
                state.promised += admitted.count
                return (batch, admitted)
            }
            // Their room is reserved (`promised`) before they are resumed.
            for waiter in admitted { waiter.resume() }
            guard !batch.isEmpty else { return }
            commit(batch, db)
        }
    }

    /// One transaction for `batch`: each write in its own savepoint (a lone write needs
    /// none: its error rolls the transaction back), then the commit, then the answers.
    private func commit(_ batch: [Pending], _ db: Database) {
        do {
            try db.inTransaction(.immediate) {
                if batch.count == 1 {
                    return batch[0].run(db) ? .commit : .rollback
                }
                for pending in batch { try Self.runInSavepoint(pending, db) }
                return .commit
            }
        } catch {
            for pending in batch { pending.answer(error) }
            return
        }
        commitCount.add(1, ordering: .relaxed)
        for pending in batch { pending.answer(nil) }
    }

    /// Runs `pending` so that a body that throws undoes only its own changes. Throws (and
    /// so fails the whole batch) when the savepoint itself fails, or when SQLite ended the
    /// transaction on its own (it does on some I/O errors): what follows must not run
    /// outside the batch's transaction.
    private static func runInSavepoint(_ pending: Pending, _ db: Database) throws {
        guard db.isInsideTransaction else { throw DatabaseError(message: "the group's transaction was rolled back") }
        try db.execute(sql: "SAVEPOINT write")
        if !pending.run(db) {
            guard db.isInsideTransaction else { throw DatabaseError(message: "the group's transaction was rolled back") }
            try db.execute(sql: "ROLLBACK TO SAVEPOINT write")
        }
        try db.execute(sql: "RELEASE SAVEPOINT write")
    }
}

/// A write's result, set by the writer before the caller is answered.
private final class ResultBox<T>: @unchecked Sendable {
    var value: Result<T, any Error>?
}
