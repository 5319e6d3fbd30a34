import Foundation
import StintCore
import Testing

@Suite("ClaimPlanner")
struct ClaimPlannerTests {
    let now = RuleFixtures.clock.now()

    @Test("a paused queue is not admitted; a queue at its concurrency is not; the others get what is left")
    func pauseAndConcurrency() {
        let plan = ClaimPlanner.plan(
            queues: [RuleFixtures.queue("a", concurrency: 3), RuleFixtures.queue("b", paused: true), RuleFixtures.queue("c", concurrency: 1)],
            running: ["a": 1, "c": 1], limit: 5, now: now)
        #expect(plan.admissions.map(\.queue) == ["a"])
        #expect(plan.admissions.first?.allowance == 2)
    }

    @Test("the global limit goes to the most urgent work: priority first, then age, across queues")
    func priorityThenAge() {
        let plan = ClaimPlanner.plan(queues: [RuleFixtures.queue("a"), RuleFixtures.queue("b")], running: [:], limit: 2, now: now)
        let candidates = [
            RuleFixtures.job(1, queue: "a"), RuleFixtures.job(2, queue: "a", priority: 5), RuleFixtures.job(3, queue: "b"),
            RuleFixtures.job(4, queue: "b", priority: 5),
        ]
        let selection = ClaimPlanner.select(candidates, plan: plan, limit: 2)
        #expect(selection.starts.map(\.job.id) == [2, 4])
        #expect(selection.starts.map(\.attempt) == [1, 1])
    }

    @Test("an open breaker admits nothing and asks to be woken when its pause is over")
    func openBreaker() {
        let until = now.addingTimeInterval(30)
        let plan = ClaimPlanner.plan(
            queues: [RuleFixtures.queue("a", threshold: 1, breaker: CircuitBreaker(state: .open, openUntil: until))],
            running: [:], limit: 4, now: now)
        #expect(plan.admissions.isEmpty)
        #expect(plan.nextWake == until)
        #expect(plan.transitions.isEmpty)
    }

    @Test("after the pause exactly one probe is admitted, whatever the concurrency; the second claim admits none")
    func singleProbe() {
        let breaker = CircuitBreaker(state: .open, openUntil: now.addingTimeInterval(-1))
        let queue = RuleFixtures.queue("a", concurrency: 10, threshold: 1, breaker: breaker)
        let plan = ClaimPlanner.plan(queues: [queue], running: [:], limit: 4, now: now)
        #expect(plan.transitions.map(\.transition.to) == [.half_open])
        #expect(plan.admissions.first?.allowance == 1)
        let selection = ClaimPlanner.select(
            [RuleFixtures.job(1, queue: "a"), RuleFixtures.job(2, queue: "a")], plan: plan, limit: 4)
        #expect(selection.starts.map(\.job.id) == [1])
        #expect(selection.probes.map(\.breaker.probeJob) == [1])

        // The breaker as the claim saved it: half-open with its probe out.
        var saved = queue
        saved.breaker = selection.probes[0].breaker
        let again = ClaimPlanner.plan(queues: [saved], running: ["a": 1], limit: 4, now: now)
        #expect(again.admissions.isEmpty)
        #expect(again.transitions.isEmpty)
    }

    @Test("a preflight without a result holds the queue and asks for a run; a fresh failure holds it until it expires")
    func preflights() {
        let failed = PreflightStatus(passed: false, checkedAt: now.addingTimeInterval(-10), reason: "down")
        let plan = ClaimPlanner.plan(
            queues: [
                RuleFixtures.queue("unchecked", preflight: "check"),
                RuleFixtures.queue("failing", preflight: "check", preflightStatus: failed),
                RuleFixtures.queue("passing", preflight: "check", preflightStatus: PreflightStatus(passed: true, checkedAt: now)),
            ], running: [:], limit: 4, now: now)
        #expect(plan.admissions.map(\.queue) == ["passing"])
        var result = ClaimResult()
        for hold in plan.holds { ClaimPlanner.apply(hold, hasReadyJobs: true, to: &result) }
        #expect(result.preflightsDue.map(\.queue) == ["unchecked"])
        #expect(result.nextWake == now.addingTimeInterval(20))
        var idle = ClaimResult()
        for hold in plan.holds { ClaimPlanner.apply(hold, hasReadyJobs: false, to: &idle) }
        #expect(idle.preflightsDue.isEmpty)
        #expect(idle.nextWake == nil)
    }

    @Test("a job that does not read in full takes no slot and is set aside to be failed")
    func damagedTakesNoSlot() {
        let plan = ClaimPlanner.plan(queues: [RuleFixtures.queue("a")], running: [:], limit: 1, now: now)
        let selection = ClaimPlanner.select(
            [RuleFixtures.job(1, queue: "a", damage: "argv is not JSON"), RuleFixtures.job(2, queue: "a")], plan: plan, limit: 1)
        #expect(selection.unreadable.map(\.id) == [1])
        #expect(selection.starts.map(\.job.id) == [2])
    }

    @Test("a retried job starts its next attempt, resuming from its checkpoint")
    func nextAttemptWithCheckpoint() {
        var job = RuleFixtures.job(7, attempts: 2)
        job.checkpoint = "line 40"
        let plan = ClaimPlanner.plan(queues: [RuleFixtures.queue("default")], running: [:], limit: 1, now: now)
        let start = try? #require(ClaimPlanner.select([job], plan: plan, limit: 1).starts.first)
        #expect(start?.attempt == 3)
        #expect(start?.job.spec.env["STINT_CHECKPOINT"] == "line 40")
    }

    @Test("no free slot plans nothing")
    func noSlots() {
        let plan = ClaimPlanner.plan(queues: [RuleFixtures.queue("a")], running: [:], limit: 0, now: now)
        #expect(plan.admissions.isEmpty)
    }
}
