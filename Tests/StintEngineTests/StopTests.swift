import Foundation
import StintCore
import StintEngine
import StintStore
import Testing
import Synchronization

/// `stop` against the engine's own steps: a stop beats a retry, whether it comes while the
/// attempt runs, while the job waits for its retry, or while that retry is being claimed.
@Suite("Stop")
struct StopTests {
    @Test("a stop while the attempt runs turns its failure into a cancellation, never retried")
    func stopBeatsRetryOfRunningAttempt() async throws {
        try await EngineFixture.with { fixture in
            fixture.processes.state.withLock { $0.exitOnStop = false }
            let id = try await fixture.add(EngineFixture.spec(retries: 3, backoff: 1))
            try await fixture.untilLaunched(1)
            let results = await fixture.engine.stop([id], grace: 2)
            #expect(results.first?.error == nil)
            #expect(results.first?.job?.stopRequested == true)
            #expect(fixture.processes.now.stops == [AttemptID(job: id, attempt: 1)])

            // The process fails as it is torn down (a transient failure, retries left).
            fixture.processes.exit(AttemptID(job: id, attempt: 1), code: RetryPolicy.temporaryFailureExitCode)
            try await fixture.until(id, is: .cancelled)
            fixture.clock.advance(3600)
            await fixture.engine.dispatch()
            #expect(fixture.launched.count == 1)
            #expect(try await fixture.job(id).state == .cancelled)
        }
    }

    @Test("a stop while the job waits for its retry cancels it at once; the retry never starts")
    func stopDuringBackoff() async throws {
        try await EngineFixture.with { fixture in
            let id = try await fixture.add(EngineFixture.spec(retries: 3, backoff: 10))
            try await fixture.untilLaunched(1)
            fixture.processes.exit(AttemptID(job: id, attempt: 1), code: RetryPolicy.temporaryFailureExitCode)
            try await fixture.until("attempt 1 is recorded") { try await fixture.job(id).attempts.first?.outcome != nil }
            #expect(try await fixture.job(id).state == .queued)

            let results = await fixture.engine.stop([id], grace: nil)
            #expect(results.first?.job?.state == .cancelled)
            fixture.clock.advance(60)
            await fixture.engine.dispatch()
            #expect(fixture.launched.count == 1)
            #expect(try await fixture.job(id).state == .cancelled)
            #expect(try await fixture.job(id).attemptCount == 1)
        }
    }

    @Test("stops racing the claims of due retries: every job ends cancelled, and nothing starts after its stop")
    func stopRacesClaim() async throws {
        try await EngineFixture.with(.init(parallel: 8)) { fixture in
            var ids: [Int64] = []
            for _ in 0..<8 { ids.append(try await fixture.add(EngineFixture.spec(retries: 3, backoff: 5))) }
            try await fixture.untilLaunched(8)
            for id in ids { fixture.processes.exit(AttemptID(job: id, attempt: 1), code: RetryPolicy.temporaryFailureExitCode) }
            for id in ids {
                try await fixture.until("job \(id) waits for its retry") {
                    let job = try await fixture.job(id)
                    return job.state == .queued && job.attemptCount == 1
                }
            }

            // The retries come due while the stops go out: some are claimed (and launched)
            // before their stop, some after it is recorded.
            async let stopped = fixture.engine.stop(ids, grace: 1)
            fixture.clock.advance(5)
            let results = await stopped
            #expect(results.allSatisfy { $0.error == nil }, "\(results.compactMap(\.error))")
            let launchesAtStop = fixture.launched.count

            for id in ids { try await fixture.until(id, is: .cancelled) }
            fixture.clock.advance(3600)
            await fixture.engine.dispatch()
            #expect(fixture.launched.count == launchesAtStop, "an attempt started after its job's stop returned")
            let now = fixture.processes.now
            for id in ids {
                let job = try await fixture.job(id)
                #expect(job.state == .cancelled)
                #expect(job.attemptCount <= 2)
                if job.attemptCount == 2 {
                    // Its retry was claimed first: the stop reached that attempt's process.
                    #expect(now.stops.contains(AttemptID(job: id, attempt: 2)))
                    #expect(job.attempts.last?.outcome?.reason == .cancelled)
                }
            }
            #expect(now.running.isEmpty)
        }
    }

    @Test("signal reaches a running job's process; a job that is not running is a conflict")
    func signal() async throws {
        try await EngineFixture.with { fixture in
            let id = try await fixture.add()
            try await fixture.untilLaunched(1)
            _ = try await fixture.engine.signal(id, signal: 10)
            #expect(fixture.processes.now.signals.map(\.1) == [10])
            fixture.processes.exit(AttemptID(job: id, attempt: 1))
            try await fixture.until(id, is: .succeeded)
            await #expect(throws: StintError.self) { try await fixture.engine.signal(id, signal: 10) }
        }
    }
}
