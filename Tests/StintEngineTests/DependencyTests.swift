import Foundation
import StintCore
import StintEngine
import StintStore
import Testing

/// `--after`: a success lets its dependents run; a failure cancels them, down the chain.
@Suite("Dependencies")
struct DependencyTests {
    @Test("a dependent waits for its dependency and starts once it succeeded")
    func successUnblocks() async throws {
        try await EngineFixture.with { fixture in
            let first = try await fixture.add()
            let second = try await fixture.add(EngineFixture.spec(after: [first]))
            try await fixture.untilLaunched(1)
            await fixture.engine.dispatch()
            #expect(fixture.launched == [AttemptID(job: first, attempt: 1)])
            #expect(try await fixture.job(second).pendingDependencies == 1)

            fixture.processes.exit(AttemptID(job: first, attempt: 1))
            try await fixture.untilLaunched(2)
            #expect(fixture.launched.last == AttemptID(job: second, attempt: 1))
            fixture.processes.exit(AttemptID(job: second, attempt: 1))
            try await fixture.until(second, is: .succeeded)
        }
    }

    @Test("a failure cancels its dependents and theirs; none of them ever starts; waiters learn it")
    func failureCascades() async throws {
        try await EngineFixture.with { fixture in
            let root = try await fixture.add()
            let child = try await fixture.add(EngineFixture.spec(after: [root]))
            let grandchild = try await fixture.add(EngineFixture.spec(after: [child]))
            try await fixture.untilLaunched(1)
            // Answered by the cascade, not by a timeout (the clock does not move).
            async let waited = fixture.engine.wait(WaitRequest(ids: [grandchild], timeout: 60))

            fixture.processes.exit(AttemptID(job: root, attempt: 1), code: 1)
            try await fixture.until(grandchild, is: .cancelled)
            #expect(try await fixture.job(root).state == .failed)
            #expect(try await fixture.job(child).state == .cancelled)
            #expect(try await fixture.job(child).endReason?.contains("\(root)") == true)
            #expect(try await fixture.job(child).attemptCount == 0)
            #expect(try await fixture.job(grandchild).attemptCount == 0)
            let response = try await waited
            #expect(response.done)
            #expect(response.jobs.first?.state == .cancelled)
            await fixture.engine.dispatch()
            #expect(fixture.launched == [AttemptID(job: root, attempt: 1)])
        }
    }
}
