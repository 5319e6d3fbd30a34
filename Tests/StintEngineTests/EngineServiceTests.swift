import Foundation
import StintCore
import StintEngine
import StintStore
import Synchronization
import Testing

/// The engine's loops as services on the manual clock: the stall watchdog, retention,
/// preflights, and the timeout of a wait.
@Suite("Engine services")
struct EngineServiceTests {
    @Test("the stall watchdog flags a job quiet at a prompt once its stall time has passed, and notifies its session")
    func stallWatchdog() async throws {
        try await EngineFixture.with { fixture in
            var spec = EngineFixture.spec(stallAfter: 5)
            spec.session = "agent"
            let id = try await fixture.add(spec)
            try await fixture.untilLaunched(1)
            try fixture.processes.write("Password: ", to: AttemptID(job: id, attempt: 1))
            let quietSince = fixture.clock.now()

            try await fixture.advance(by: 1, until: "the job is flagged stalled") {
                try await fixture.job(id).attempts.last?.stalledAt != nil
            }
            let attempt = try #require(try await fixture.job(id).attempts.last)
            #expect(attempt.stallLine == "Password: ")
            let stalledAt = try #require(attempt.stalledAt)
            #expect(stalledAt.timeIntervalSince(quietSince) >= 5)
            let notifications = try await fixture.engine.notifications(session: "agent", after: 0, limit: 10)
            #expect(notifications.notifications.map(\.kind) == [.stalled])
            #expect(try await fixture.engine.events(job: id, queue: nil, limit: 10).filter { $0.kind == "stalled" }.count == 1)
        }
    }

    @Test("retention deletes jobs that ended longer ago than it, with their files, and keeps the others")
    func retention() async throws {
        let configuration = Engine.Configuration(parallel: 2, retention: .init(retention: 60, interval: 3600))
        try await EngineFixture.with(configuration) { fixture in
            let ended = try await fixture.add()
            let running = try await fixture.add()
            try await fixture.untilLaunched(2)
            fixture.processes.exit(AttemptID(job: ended, attempt: 1))
            try await fixture.until(ended, is: .succeeded)

            try await fixture.advance(by: 3600, until: "the ended job is pruned") {
                try await fixture.store.job(ended) == nil
            }
            #expect(fixture.processes.now.removed == [ended])
            #expect(try await fixture.job(running).state == .running)
        }
    }

    @Test("a failed preflight holds the queue's jobs back; once its result runs out it runs again, passes, and they start")
    func preflight() async throws {
        try await EngineFixture.with { fixture in
            fixture.processes.state.withLock { $0.preflightResult = (false, "exit 1: the service is down") }
            _ = try await fixture.engine.updateQueue("gated", QueueUpdate(preflight: "check-service", preflightTTL: 60))
            let id = try await fixture.add(EngineFixture.spec(queue: "gated"))
            try await fixture.until("the preflight failed") {
                try await fixture.engine.queues().first { $0.name == "gated" }?.preflight?.status == "failed"
            }
            await fixture.engine.dispatch()
            #expect(fixture.launched.isEmpty)
            #expect(try await fixture.job(id).attemptCount == 0)

            fixture.processes.state.withLock { $0.preflightResult = (true, nil) }
            fixture.clock.advance(60)
            try await fixture.untilLaunched(1)
            #expect(fixture.processes.now.preflights == ["gated", "gated"])
            #expect(try await fixture.engine.queues().first { $0.name == "gated" }?.preflight?.status == "passed")
        }
    }

    @Test("a wait's timeout runs on the engine's clock")
    func waitTimeout() async throws {
        try await EngineFixture.with { fixture in
            let id = try await fixture.add()
            try await fixture.untilLaunched(1)
            let answer = Mutex<WaitResponse?>(nil)
            // Awaited below, once the clock has moved past its timeout.
            let waiting = Task {
                let response = try await fixture.engine.wait(WaitRequest(ids: [id], timeout: 30))
                answer.withLock { $0 = response }
            }
            try await fixture.advance(by: 10, until: "the wait timed out") { answer.withLock { $0 != nil } }
            try await waiting.value
            let response = try #require(answer.withLock { $0 })
            #expect(!response.done)
            #expect(response.reason == .waitTimeout)
            #expect(fixture.clock.now().timeIntervalSince(try await fixture.job(id).attempts[0].startedAt) >= 30)
        }
    }
}
