import Foundation
import StintCore
import StintEngine
import StintStore
import Testing
import Synchronization

/// Claims into free slots, with fake processes: what starts, how many at once, in which order.
@Suite("Dispatcher")
struct DispatcherTests {
    @Test("never more jobs run than --parallel allows; an ending frees its slot for the next")
    func slots() async throws {
        try await EngineFixture.with(.init(parallel: 2)) { fixture in
            var ids: [Int64] = []
            for _ in 0..<3 { ids.append(try await fixture.add()) }
            try await fixture.untilLaunched(2)
            // A dispatch of its own finds no free slot.
            await fixture.engine.dispatch()
            #expect(fixture.launched == [AttemptID(job: ids[0], attempt: 1), AttemptID(job: ids[1], attempt: 1)])
            #expect(try await fixture.job(ids[0]).state == .running)
            #expect(try await fixture.job(ids[1]).state == .running)
            #expect(try await fixture.job(ids[2]).state == .queued)

            fixture.processes.exit(AttemptID(job: ids[0], attempt: 1))
            try await fixture.until(ids[0], is: .succeeded)
            try await fixture.untilLaunched(3)
            #expect(fixture.launched.last == AttemptID(job: ids[2], attempt: 1))
            #expect(try await fixture.job(ids[2]).state == .running)

            fixture.processes.exit(AttemptID(job: ids[1], attempt: 1))
            fixture.processes.exit(AttemptID(job: ids[2], attempt: 1), code: 3)
            try await fixture.until(ids[1], is: .succeeded)
            try await fixture.until(ids[2], is: .failed)
            #expect(try await fixture.job(ids[2]).attempts.last?.outcome?.exitCode == 3)
            #expect(fixture.processes.now.mostAtOnce == 2)
            #expect(fixture.launched.count == 3)
        }
    }

    /// CI, 2026-12-02: an add's claim was given no slot while an earlier add's claim held
    /// them all, and the earlier one handed them back without looking again, so the job
    /// stayed queued beside free slots until something else woke the dispatcher (here,
    /// with a manual clock and no endings, never). That interleaving depends on how tasks
    /// are scheduled, so this only exercises it; `SlotReservationsTests` scripts it.
    @Test("jobs added while other adds' claims hold the slots all start, with nothing else to wake the dispatcher", arguments: 1...20)
    func addsWhileSlotsAreHeld(round: Int) async throws {
        try await EngineFixture.with(.init(parallel: 8)) { fixture in
            // One after another (the earlier add's claim is still being started), then together.
            for _ in 0..<3 { _ = try await fixture.add() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<3 { group.addTask { _ = try await fixture.add() } }
                try await group.waitForAll()
            }
            try await fixture.untilLaunched(6)
            #expect(fixture.processes.now.mostAtOnce <= 8)
        }
    }

    @Test("a free slot goes to the highest priority, then the oldest")
    func priorityThenAge() async throws {
        try await EngineFixture.with(.init(parallel: 1)) { fixture in
            let first = try await fixture.add()
            try await fixture.untilLaunched(1)
            let low = try await fixture.add()
            let high = try await fixture.add(EngineFixture.spec(priority: 5))
            let alsoHigh = try await fixture.add(EngineFixture.spec(priority: 5))

            for (index, id) in [first, high, alsoHigh].enumerated() {
                fixture.processes.exit(AttemptID(job: id, attempt: 1))
                try await fixture.untilLaunched(index + 2)
            }
            #expect(fixture.launched.map(\.job) == [first, high, alsoHigh, low])
        }
    }

    @Test("a process that cannot start is a transient launch error, retried after its backoff")
    func launchError() async throws {
        try await EngineFixture.with { fixture in
            fixture.processes.state.withLock { $0.launchError = StintError(.internal, "no shim here") }
            let id = try await fixture.add(EngineFixture.spec(retries: 1, backoff: 5))
            try await fixture.until("the launch error is recorded") { try await fixture.job(id).attempts.first?.outcome != nil }
            let failed = try await fixture.job(id)
            #expect(failed.state == .queued)
            #expect(failed.attempts.first?.outcome?.reason == .launch_error)
            #expect(failed.attempts.first?.outcome?.message?.contains("no shim here") == true)
            #expect(failed.attempts.first?.verdict?.failureClass == .transient)

            fixture.processes.state.withLock { $0.launchError = nil }
            fixture.clock.advance(5)
            try await fixture.untilLaunched(1)
            #expect(fixture.launched == [AttemptID(job: id, attempt: 2)])
        }
    }
}
