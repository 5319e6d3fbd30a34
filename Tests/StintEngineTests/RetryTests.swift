import Foundation
import StintCore
import StintEngine
import StintStore
import Testing

/// Retries and their backoff on the engine's clock: a failed attempt goes back to the
/// queue and starts again only once the clock has passed its retry time.
@Suite("Retries")
struct RetryTests {
    @Test("a transient failure is retried once the clock passes the backoff, not before")
    func backoff() async throws {
        try await EngineFixture.with { fixture in
            let id = try await fixture.add(EngineFixture.spec(retries: 2, backoff: 10))
            try await fixture.untilLaunched(1)
            let failedAt = fixture.clock.now()
            fixture.processes.exit(AttemptID(job: id, attempt: 1), code: RetryPolicy.temporaryFailureExitCode)
            try await fixture.until("attempt 1 is recorded") { try await fixture.job(id).attempts.first?.outcome != nil }

            let waiting = try await fixture.job(id)
            #expect(waiting.state == .queued)
            #expect(waiting.attemptCount == 1)
            #expect(waiting.attempts.first?.verdict?.failureClass == .transient)
            // backoff 10..10: the delay is 10 s whatever the jitter.
            #expect(waiting.attempts.first?.retryAt == failedAt.addingTimeInterval(10))

            fixture.clock.advance(9.5)
            await fixture.engine.dispatch()
            #expect(fixture.launched.count == 1)
            #expect(try await fixture.job(id).state == .queued)

            // The wake-up service, asleep until the retry time, dispatches by itself.
            fixture.clock.advance(0.5)
            try await fixture.untilLaunched(2)
            #expect(fixture.launched.last == AttemptID(job: id, attempt: 2))
            fixture.processes.exit(AttemptID(job: id, attempt: 2))
            try await fixture.until(id, is: .succeeded)
            #expect(try await fixture.job(id).attemptCount == 2)
        }
    }

    @Test("a permanent failure is not retried, whatever the retries left")
    func permanentFailure() async throws {
        try await EngineFixture.with { fixture in
            let id = try await fixture.add(EngineFixture.spec(retries: 3, backoff: 1))
            try await fixture.untilLaunched(1)
            fixture.processes.exit(AttemptID(job: id, attempt: 1), code: 2)
            try await fixture.until(id, is: .failed)
            let job = try await fixture.job(id)
            #expect(job.attempts.first?.verdict?.failureClass == .permanent)
            #expect(job.attempts.first?.retryAt == nil)

            fixture.clock.advance(3600)
            await fixture.engine.dispatch()
            #expect(fixture.launched.count == 1)
        }
    }

    @Test("retries run out: the last transient failure ends the job failed")
    func retriesRunOut() async throws {
        try await EngineFixture.with { fixture in
            let id = try await fixture.add(EngineFixture.spec(retries: 1, backoff: 1))
            try await fixture.untilLaunched(1)
            fixture.processes.exit(AttemptID(job: id, attempt: 1), reason: .timeout)
            try await fixture.until("attempt 1 is recorded") { try await fixture.job(id).attempts.first?.outcome != nil }
            fixture.clock.advance(1)
            try await fixture.untilLaunched(2)
            fixture.processes.exit(AttemptID(job: id, attempt: 2), reason: .timeout)
            try await fixture.until(id, is: .failed)
            #expect(try await fixture.job(id).attempts.map { $0.outcome?.reason } == [.timeout, .timeout])
            fixture.clock.advance(3600)
            await fixture.engine.dispatch()
            #expect(fixture.launched.count == 2)
        }
    }
}
