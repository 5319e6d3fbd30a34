import Foundation
import StintCore
import StintEngine
import StintStore
import Testing

/// A queue's circuit breaker through the engine: it opens after its threshold of transient
/// failures, and once its pause is over exactly one probe runs, whatever the free slots.
@Suite("Circuit breaker")
struct BreakerTests {
    /// Opens queue `flaky`'s breaker (threshold 2, pause 30 s) with two transient failures,
    /// then queues `waiting` more jobs; returns their ids.
    private func openBreaker(_ fixture: EngineFixture, waiting: Int) async throws -> [Int64] {
        _ = try await fixture.engine.updateQueue("flaky", QueueUpdate(breakerThreshold: 2, breakerPause: 30))
        let failing = [
            try await fixture.add(EngineFixture.spec(queue: "flaky")), try await fixture.add(EngineFixture.spec(queue: "flaky")),
        ]
        try await fixture.untilLaunched(2)
        for id in failing { fixture.processes.exit(AttemptID(job: id, attempt: 1), code: RetryPolicy.temporaryFailureExitCode) }
        for id in failing { try await fixture.until(id, is: .failed) }
        #expect(try await breaker(fixture).state == .open)
        var ids: [Int64] = []
        for _ in 0..<waiting { ids.append(try await fixture.add(EngineFixture.spec(queue: "flaky"))) }
        return ids
    }

    private func breaker(_ fixture: EngineFixture) async throws -> BreakerView {
        try #require(try await fixture.engine.queues().first { $0.name == "flaky" }).breaker
    }

    @Test("after the pause one probe runs alone; its success closes the breaker and the rest run")
    func probeSucceeds() async throws {
        try await EngineFixture.with(.init(parallel: 4)) { fixture in
            let waiting = try await openBreaker(fixture, waiting: 3)
            await fixture.engine.dispatch()
            #expect(fixture.launched.count == 2, "nothing claimed while the breaker is open")

            fixture.clock.advance(29)
            await fixture.engine.dispatch()
            #expect(fixture.launched.count == 2, "nothing claimed before the pause is over")

            fixture.clock.advance(1)
            try await fixture.untilLaunched(3)
            // Three free slots, three runnable jobs: still one probe only.
            await fixture.engine.dispatch()
            #expect(fixture.launched.count == 3)
            let probe = try #require(fixture.launched.last)
            #expect(probe == AttemptID(job: waiting[0], attempt: 1))
            #expect(try await breaker(fixture).state == .half_open)
            #expect(try await breaker(fixture).probeJob == probe.job)

            fixture.processes.exit(probe)
            try await fixture.until(probe.job, is: .succeeded)
            try await fixture.untilLaunched(5)
            #expect(try await breaker(fixture).state == .closed)
            #expect(Set(fixture.launched.suffix(2).map(\.job)) == Set(waiting.dropFirst()))
        }
    }

    @Test("a probe that fails transiently opens the breaker again; the others keep waiting")
    func probeFails() async throws {
        try await EngineFixture.with(.init(parallel: 4)) { fixture in
            _ = try await openBreaker(fixture, waiting: 3)
            fixture.clock.advance(30)
            try await fixture.untilLaunched(3)
            let probe = try #require(fixture.launched.last)
            fixture.processes.exit(probe, code: RetryPolicy.temporaryFailureExitCode)
            try await fixture.until(probe.job, is: .failed)
            #expect(try await breaker(fixture).state == .open)

            fixture.clock.advance(10)
            await fixture.engine.dispatch()
            #expect(fixture.launched.count == 3)
            // A second pause, then a second single probe.
            fixture.clock.advance(20)
            try await fixture.untilLaunched(4)
            await fixture.engine.dispatch()
            #expect(fixture.launched.count == 4)
        }
    }
}
