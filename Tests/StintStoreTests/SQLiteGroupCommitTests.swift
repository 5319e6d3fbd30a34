import Foundation
import GRDB
import Synchronization
import Testing

@testable import StintStore

/// The SQLite store's writer groups the writes that wait for it into one transaction,
/// each in its own savepoint.
@Suite("SQLiteGroupCommit")
final class SQLiteGroupCommitTests: Sendable {
    let directory: URL
    let store: SQLiteJobStore

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("stint-group-commit-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteJobStore(path: directory.appendingPathComponent("stint.db").path)
        try store.pool.write { db in try db.execute(sql: "CREATE TABLE t (n INTEGER)") }
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    struct Refused: Error {}

    /// An atomic the writes' bodies share.
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    @Test("writes queued behind a busy writer commit together; one that throws undoes only itself")
    func groupsWaitingWrites() async throws {
        let started = Atomic<Bool>(false)
        let release = DispatchSemaphore(value: 0)
        let writer = store.writer
        let before = writer.commits
        // A write that holds the writer until released: the next ones queue behind it.
        let blocker = Task {
            try await writer.write { db in
                started.store(true, ordering: .releasing)
                // Blocks GRDB's writer queue, not a task's thread.
                release.wait()
                try db.execute(sql: "INSERT INTO t VALUES (0)")
            }
        }
        while !started.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(1)) }
        let writes = (1...10).map { n in
            Task { () -> Result<Int, any Error> in
                do {
                    return .success(
                        try await writer.write { db in
                            try db.execute(sql: "INSERT INTO t VALUES (?)", arguments: [n])
                            if n % 4 == 0 { throw Refused() }
                            return n
                        })
                } catch {
                    return .failure(error)
                }
            }
        }
        // Every write is queued before the writer is let go (they cannot commit before).
        while writer.queued < 10 { try await Task.sleep(for: .milliseconds(1)) }
        release.signal()
        try await blocker.value
        var answered: [Int] = []
        for (index, write) in writes.enumerated() {
            switch await write.value {
            case .success(let n): answered.append(n)
            case .failure(let error):
                #expect(error is Refused)
                #expect((index + 1) % 4 == 0)
            }
        }
        #expect(answered == [1, 2, 3, 5, 6, 7, 9, 10])
        // The blocker's transaction, then one for the ten.
        #expect(writer.commits - before == 2)
        let stored = try await store.pool.read { db in try Int.fetchAll(db, sql: "SELECT n FROM t ORDER BY n") }
        #expect(stored == [0, 1, 2, 3, 5, 6, 7, 9, 10])
    }

    /// Ten rounds at once: the eight writers arrive together, and a bound checked apart from
    /// the queueing let four in (CI, 2026-12-02), so every round must hold it.
    @Test("past the queue's bound, a writer waits for room instead of queueing", arguments: 1...10)
    func backPressure(round: Int) async throws {
        let writer = SQLiteGroupCommit(pool: store.pool, options: .init(batchLimit: 2, queueLimit: 3))
        let started = Atomic<Bool>(false)
        let release = DispatchSemaphore(value: 0)
        let blocker = Task {
            try await writer.write { _ in
                started.store(true, ordering: .releasing)
                // Blocks GRDB's writer queue, not a task's thread.
                release.wait()
            }
        }
        while !started.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(1)) }
        let mostQueued = Counter()
        let writes = (1...8).map { (n: Int) in
            Task {
                try await writer.write { db in
                    // The queue never holds more than its bound, also while waiters are let in.
                    mostQueued.value.max(writer.queued, ordering: .relaxed)
                    try db.execute(sql: "INSERT INTO t VALUES (?)", arguments: [n])
                }
            }
        }
        while writer.queued + writer.waitingForRoom < 8 { try await Task.sleep(for: .milliseconds(1)) }
        #expect(writer.queued == 3)
        #expect(writer.waitingForRoom == 5)
        release.signal()
        try await blocker.value
        for write in writes { try await write.value }
        let count = try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") }
        #expect(count == 8)
        #expect(mostQueued.value.load(ordering: .relaxed) <= 3)
    }
}
