import Foundation
import StintCore
import StintStore
import Testing

/// Batch checkpoints and locks: one row per (command, target), a lock that a live holder
/// keeps and a dead one loses, and queues a batch excludes. For backends that have the ability (BatchStore); run against the one
/// `STINT_TEST_STORE` names (see ``StoreKind``).
@Suite("StoreConformance: batch checkpoints and locks", .enabled(if: StoreKind.current.keepsBatchStore))
final class StoreConformanceBatches: Sendable {
    let fixture: StoreFixture
    var store: JobLedger { fixture.store }

    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    static let alive: @Sendable (BatchHolder, Date?) -> Bool = { _, _ in true }
    static let dead: @Sendable (BatchHolder, Date?) -> Bool = { _, _ in false }

    init() async throws {
        fixture = try await StoreFixture()
    }

    private func request(total: Int64 = 100, pid: Int32 = 10, allowConcurrent: Bool = false, exclusiveWith: [String] = []) -> BatchAcquireRequest {
        BatchAcquireRequest(
            command: "./resync.sh {}", target: "range 1-100 in /w", total: total,
            holder: BatchHolder(pid: pid, started: "1", host: "h"), allowConcurrent: allowConcurrent,
            exclusiveWith: exclusiveWith)
    }

    private func save(_ completed: Int64, token: String?, failed: [String] = [], release: Bool = false, finished: Bool = false) -> BatchSaveRequest {
        BatchSaveRequest(
            token: token, completed: completed, resumeFrom: String(completed + 1), succeeded: completed - Int64(failed.count),
            failed: Int64(failed.count), failedUnits: failed, stoppedBy: release ? "signal" : nil, release: release, finished: finished)
    }

    @Test("a live holder refuses a second run with E_CONFLICT naming its pid; its checkpoint is what a later run gets")
    func liveHolderConflicts() async throws {
        let first = try await store.acquireBatch(request(), session: nil, token: "A", now: Self.t0, isAlive: Self.alive)
        #expect(first.token == "A")
        #expect(first.completed == 0)
        _ = try await store.saveBatch(first.id, save(40, token: "A", failed: ["7"]), now: Self.t0)
        do {
            _ = try await store.acquireBatch(request(pid: 11), session: nil, token: "B", now: Self.t0, isAlive: Self.alive)
            Issue.record("a second holder was let in")
        } catch let error as StintError {
            #expect(error.code == .conflict)
            #expect(error.message.contains("pid 10"))
            #expect(error.hint != nil)
        }
        // Released, the checkpoint stays and the next run gets it with a new lock.
        _ = try await store.saveBatch(first.id, save(50, token: "A", failed: ["7"], release: true), now: Self.t0)
        let listed = try await store.batches(session: nil, isAlive: Self.alive)
        #expect(listed.map(\.state) == ["stopped"])
        #expect(listed.first?.stoppedBy == "signal")
        let second = try await store.acquireBatch(request(pid: 11), session: nil, token: "B", now: Self.t0, isAlive: Self.alive)
        #expect(second.id == first.id)
        #expect(second.completed == 50)
        #expect(second.failed == 1)
        #expect(second.failedUnits == ["7"])
        #expect(second.resumeFrom == "51")
    }

    @Test("a dead holder's lock is taken over with a warning; its old token can no longer write")
    func staleTakeover() async throws {
        let first = try await store.acquireBatch(request(), session: nil, token: "A", now: Self.t0, isAlive: Self.alive)
        _ = try await store.saveBatch(first.id, save(20, token: "A"), now: Self.t0)
        #expect(try await store.batches(session: nil, isAlive: Self.dead).first?.stoppedBy == "lost")
        let second = try await store.acquireBatch(request(pid: 12), session: nil, token: "B", now: Self.t0, isAlive: Self.dead)
        #expect(second.completed == 20)
        #expect(second.warnings?.contains { $0.contains("pid 10") && $0.contains("taking it over") } == true)
        await #expect(throws: StintError.self) { try await self.store.saveBatch(first.id, self.save(30, token: "A"), now: Self.t0) }
        await #expect(throws: StintError.self) { try await self.store.heartbeatBatch(first.id, token: "A", now: Self.t0) }
        #expect(try await store.batches(session: nil, isAlive: Self.alive).first?.completed == 20)
        #expect(try await store.batches(session: nil, isAlive: Self.alive).first?.holder?.pid == 12)
    }

    @Test("--exclusive-with refuses while the queue is not paused; --allow-concurrent takes no lock")
    func exclusiveAndConcurrent() async throws {
        await #expect(throws: StintError.self) {
            try await self.store.acquireBatch(self.request(exclusiveWith: ["sync"]), session: nil, token: "A", now: Self.t0, isAlive: Self.alive)
        }
        #expect(try await store.batches(session: nil, isAlive: Self.alive).isEmpty, "a refusal writes nothing")
        _ = try await store.updateQueue("sync", QueueUpdate(paused: true), now: Self.t0)
        let held = try await store.acquireBatch(request(exclusiveWith: ["sync"]), session: nil, token: "A", now: Self.t0, isAlive: Self.alive)
        #expect(held.token == "A")
        let beside = try await store.acquireBatch(request(pid: 13, allowConcurrent: true), session: nil, token: "C", now: Self.t0, isAlive: Self.alive)
        #expect(beside.token == nil)
        // A lockless run touches nothing of a held batch: neither its checkpoint nor its row.
        _ = try await store.saveBatch(held.id, save(60, token: nil), now: Self.t0)
        #expect(try await store.saveBatch(held.id, save(100, token: nil, finished: true), now: Self.t0) != nil)
        let after = try #require(try await store.batches(session: nil, isAlive: Self.alive).first)
        #expect(after.holder?.pid == 10)
        #expect(after.completed == 0)
        // Once nobody holds it, a lockless run's checkpoint is recorded.
        _ = try await store.saveBatch(held.id, save(10, token: "A", release: true), now: Self.t0)
        _ = try await store.saveBatch(held.id, save(20, token: nil), now: Self.t0)
        #expect(try await store.batches(session: nil, isAlive: Self.alive).first?.completed == 20)
    }

    @Test("a finished batch is forgotten; a changed unit count starts over; forget refuses a live holder")
    func finishChangeForget() async throws {
        let first = try await store.acquireBatch(request(), session: "s", token: "A", now: Self.t0, isAlive: Self.alive)
        #expect(try await store.saveBatch(first.id, save(100, token: "A", release: true, finished: true), now: Self.t0) == nil)
        #expect(try await store.batches(session: nil, isAlive: Self.alive).isEmpty)

        let second = try await store.acquireBatch(request(), session: "s", token: "B", now: Self.t0, isAlive: Self.alive)
        _ = try await store.saveBatch(second.id, save(30, token: "B", release: true), now: Self.t0)
        let changed = try await store.acquireBatch(request(total: 120), session: "s", token: "C", now: Self.t0, isAlive: Self.alive)
        #expect(changed.completed == 0)
        #expect(changed.total == 120)
        #expect(changed.warnings?.contains { $0.contains("units changed") } == true)

        await #expect(throws: StintError.self) { try await self.store.forgetBatches([changed.id], session: nil, isAlive: Self.alive) }
        await #expect(throws: StintError.self) { try await self.store.forgetBatches([changed.id], session: "other", isAlive: Self.dead) }
        #expect(try await store.batches(session: "other", isAlive: Self.alive).isEmpty)
        #expect(try await store.forgetBatches([changed.id], session: "s", isAlive: Self.dead).map(\.id) == [changed.id])
        #expect(try await store.batches(session: nil, isAlive: Self.alive).isEmpty)
    }
}
