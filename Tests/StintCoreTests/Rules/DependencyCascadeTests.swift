import Foundation
import StintCore
import Testing

@Suite("DependencyCascade and JobAdmission")
struct DependencyCascadeTests {
    let now = RuleFixtures.clock.now()

    @Test("a success counts down, a failure or cancellation cancels, a live state does nothing")
    func effects() {
        #expect(DependencyCascade.effect(of: .succeeded) == .countDown)
        #expect(DependencyCascade.effect(of: .failed) == .cancel(how: "failed"))
        #expect(DependencyCascade.effect(of: .cancelled) == .cancel(how: "was cancelled"))
        #expect(DependencyCascade.effect(of: .running) == DependencyCascade.Effect.none)
    }

    @Test("the cancellation walks the graph transitively, each dependent naming the job that broke its chain")
    func transitive() {
        // 1 ← 2 ← 3, 1 ← 4; 5 waits for 4 but already runs.
        var links: [Int64: [Int64]] = [1: [2, 4], 2: [3], 4: [5]]
        var waiting: Set<Int64> = [2, 3, 4]
        var reasons: [Int64: String] = [:]
        let cancelled = DependencyCascade.cancelDependents(
            of: 1, how: "failed",
            dependents: { job in
                defer { links[job] = nil }
                return links[job] ?? []
            },
            cancel: { job, reason in
                guard waiting.remove(job) != nil else { return false }
                reasons[job] = reason
                return true
            })
        #expect(Set(cancelled) == [2, 3, 4])
        #expect(reasons[2] == "dependency 1 failed")
        #expect(reasons[4] == "dependency 1 failed")
        #expect(reasons[3] == "dependency 2 was cancelled")
        #expect(links.isEmpty)
    }

    @Test("a new job: succeeded dependencies are satisfied, live ones counted, a failed one cancels it at once")
    func admission() throws {
        let spec = JobSpec(argv: ["true"], cwd: "/", env: [:])
        let waiting = try JobAdmission.admit(spec, dependencies: [(1, .succeeded), (2, .running)], now: now)
        #expect(waiting.state == .queued)
        #expect(waiting.pending == [2])
        #expect(!waiting.ready)
        let broken = try JobAdmission.admit(spec, dependencies: [(3, .cancelled), (1, .failed)], now: now)
        #expect(broken.state == .cancelled)
        #expect(broken.brokenBy == "dependency 1 failed")
        #expect(broken.pending.isEmpty)
        #expect(throws: StintError.self) { try JobAdmission.admit(spec, dependencies: [(9, nil)], now: now) }
    }

    @Test("a delayed job is not ready until its time; a held one never is")
    func readiness() throws {
        var spec = JobSpec(argv: ["true"], cwd: "/", env: [:])
        spec.delay = 10
        let delayed = try JobAdmission.admit(spec, dependencies: [], now: now)
        #expect(delayed.runAt == now.addingTimeInterval(10))
        #expect(!delayed.ready)
        #expect(JobAdmission.isReady(state: .queued, pendingDependencies: 0, runAt: delayed.runAt, now: now.addingTimeInterval(10)))
        spec.delay = nil
        spec.hold = true
        let held = try JobAdmission.admit(spec, dependencies: [], now: now)
        #expect(held.state == .held)
        #expect(!held.ready)
    }
}
