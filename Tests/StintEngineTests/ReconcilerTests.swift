import Foundation
import StintCore
import StintEngine
import StintStore
import Testing
import Synchronization

/// A daemon's start-up over attempts the store shows running, as a crash left them: each
/// kind of what its process left behind, and what the engine makes of it.
@Suite("Reconciler")
struct ReconcilerTests {
    /// Claims `specs` in the store as a daemon that then died would have (an earlier
    /// instance on this node, or one on `node`); returns their ids.
    private func claimed(
        _ fixture: EngineFixture, _ specs: [JobSpec], node: String = EngineFixture.node
    ) async throws -> [Int64] {
        let now = fixture.clock.now().addingTimeInterval(-60)
        let ids = try await fixture.store.insert(specs, now: now).map(\.id)
        let worker = WorkerIdentity(node: node, instance: "crashed")
        let claims = try await fixture.store.claim(limit: specs.count, worker: worker, now: now).claimed
        try #require(claims.map(\.id).sorted() == ids.sorted())
        return ids
    }

    @Test("an exit record gives the true outcome")
    func exitRecord() async throws {
        let ids = Box()
        try await EngineFixture.with(before: { fixture in
            ids.value = try await claimed(fixture, [EngineFixture.spec()])
            let end = fixture.clock.now().addingTimeInterval(-10)
            fixture.processes.state.withLock {
                $0.records[AttemptID(job: ids.value[0], attempt: 1)] = AttemptOutcome(
                    reason: .exited, exitCode: 7, startedAt: end.addingTimeInterval(-30), endedAt: end)
            }
        }) { fixture in
            let job = try await fixture.job(ids.value[0])
            #expect(job.state == .failed)
            #expect(job.attempts.first?.outcome?.exitCode == 7)
            #expect(job.attempts.first?.outcome?.endedAt == fixture.clock.now().addingTimeInterval(-10))
            #expect(fixture.launched.isEmpty)
        }
    }

    @Test("a process still running is re-attached and recorded when it ends")
    func reattach() async throws {
        let ids = Box()
        try await EngineFixture.with(before: { fixture in
            ids.value = try await claimed(fixture, [EngineFixture.spec()])
            fixture.processes.keepRunning(AttemptID(job: ids.value[0], attempt: 1), pid: 4242)
        }) { fixture in
            let attempt = AttemptID(job: ids.value[0], attempt: 1)
            #expect(fixture.processes.now.watched[attempt] == 4242)
            #expect(try await fixture.job(attempt.job).state == .running)
            #expect(try await fixture.engine.show(attempt.job).attemptList?.first?.shimPid == 4242)
            #expect(fixture.launched.isEmpty)
            // The re-attached attempt holds its slot.
            _ = try await fixture.add()
            _ = try await fixture.add()
            try await fixture.untilLaunched(1)
            await fixture.engine.dispatch()
            #expect(fixture.launched.count == 1)

            fixture.processes.exit(attempt)
            try await fixture.until(attempt.job, is: .succeeded)
            try await fixture.untilLaunched(2)
        }
    }

    @Test("an attempt whose process never started goes back to the queue without using a retry, and runs again")
    func neverStarted() async throws {
        let ids = Box()
        try await EngineFixture.with(before: { fixture in
            ids.value = try await claimed(fixture, [EngineFixture.spec(retries: 1, backoff: 1)])
            fixture.processes.state.withLock { $0.found[AttemptID(job: ids.value[0], attempt: 1)] = .neverStarted }
        }) { fixture in
            let id = ids.value[0]
            #expect(fixture.processes.now.discarded == [AttemptID(job: id, attempt: 1)])
            // Unclaimed, then claimed again at once: the same attempt number.
            try await fixture.untilLaunched(1)
            #expect(fixture.launched == [AttemptID(job: id, attempt: 1)])
            let job = try await fixture.job(id)
            #expect(job.state == .running)
            #expect(job.attemptCount == 1)
            let events = try await fixture.engine.events(job: id, queue: nil, limit: 100)
            #expect(events.contains { $0.kind == "requeued" && $0.message.contains("never started") })

            // Its one retry is still there.
            fixture.processes.exit(AttemptID(job: id, attempt: 1), code: RetryPolicy.temporaryFailureExitCode)
            try await fixture.until("attempt 1 is recorded") { try await fixture.job(id).attempts.first?.outcome != nil }
            #expect(try await fixture.job(id).state == .queued)
            fixture.clock.advance(1)
            try await fixture.untilLaunched(2)
            #expect(fixture.launched.last == AttemptID(job: id, attempt: 2))
        }
    }

    @Test("a process gone without an exit record is lost, never a success; lost is transient and retried")
    func lost() async throws {
        let ids = Box()
        try await EngineFixture.with(before: { fixture in
            ids.value = try await claimed(fixture, [EngineFixture.spec(), EngineFixture.spec(retries: 1, backoff: 1)])
        }) { fixture in
            let final = try await fixture.job(ids.value[0])
            #expect(final.state == .failed)
            #expect(final.attempts.first?.outcome?.reason == .lost)
            #expect(final.attempts.first?.outcome?.message?.contains("no process of the job was left") == true)

            let retried = try await fixture.job(ids.value[1])
            #expect(retried.state == .queued)
            #expect(retried.attempts.first?.outcome?.reason == .lost)
            fixture.clock.advance(1)
            try await fixture.untilLaunched(1)
            #expect(fixture.launched == [AttemptID(job: ids.value[1], attempt: 2)])
        }
    }

    @Test("another node's running attempts are left alone: neither re-attached, nor concluded, nor counted")
    func otherNodes() async throws {
        let ids = Box()
        try await EngineFixture.with(before: { fixture in
            ids.value = try await claimed(fixture, [EngineFixture.spec()], node: "elsewhere")
            ids.value += try await claimed(fixture, [EngineFixture.spec()])
        }) { fixture in
            // Ours, with no process left, is lost; theirs still runs on its node.
            #expect(try await fixture.job(ids.value[1]).attempts.first?.outcome?.reason == .lost)
            let theirs = try await fixture.job(ids.value[0])
            #expect(theirs.state == .running)
            #expect(theirs.attempts.first?.outcome == nil)
            #expect(theirs.attempts.first?.host == "elsewhere")
            #expect(fixture.processes.now.watched.isEmpty)
        }
    }
}

/// Ids made in a fixture's `before`, read in its body.
private final class Box: @unchecked Sendable {
    var value: [Int64] = []
}
