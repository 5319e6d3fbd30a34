import Foundation
import StintCore
import Testing

@Suite("AttemptSettlement")
struct AttemptSettlementTests {
    let now = RuleFixtures.clock.now()

    @Test("a success ends the job succeeded and resets the breaker's streak")
    func success() throws {
        var queue = RuleFixtures.queue("q", threshold: 3)
        queue.breaker.streak = 2
        let decision = try AttemptSettlement.settle(
            RuleFixtures.ending(1, exit: 0), state: .running, stopRequested: false, queue: queue, queueName: "q")
        #expect(decision.next == .succeeded)
        #expect(decision.retryAt == nil)
        #expect(decision.breaker?.streak == 0)
        #expect(decision.events.isEmpty)
    }

    @Test("a failure with a retry time goes back to the queue, with a retry_scheduled event")
    func retry() throws {
        let at = now.addingTimeInterval(5)
        let decision = try AttemptSettlement.settle(
            RuleFixtures.ending(1, exit: 75, transient: true, retryAt: at), state: .running, stopRequested: false,
            queue: RuleFixtures.queue("q"), queueName: "q")
        #expect(decision.next == .queued)
        #expect(decision.retryAt == at)
        #expect(decision.events.map(\.kind) == ["retry_scheduled"])
    }

    @Test("a stop beats a retry: the job ends cancelled and is never requeued")
    func stopBeatsRetry() throws {
        let decision = try AttemptSettlement.settle(
            RuleFixtures.ending(1, exit: 75, transient: true, retryAt: now.addingTimeInterval(5)), state: .running,
            stopRequested: true, queue: RuleFixtures.queue("q"), queueName: "q")
        #expect(decision.next == .cancelled)
        #expect(decision.retryAt == nil)
        #expect(decision.events.isEmpty)
    }

    @Test("transient failures up to the threshold open the breaker, with its event")
    func opensBreaker() throws {
        var queue = RuleFixtures.queue("q", threshold: 2)
        queue.breaker.streak = 1
        let decision = try AttemptSettlement.settle(
            RuleFixtures.ending(4, exit: 1, transient: true), state: .running, stopRequested: false, queue: queue,
            queueName: "q")
        #expect(decision.next == .failed)
        #expect(decision.transition?.to == .open)
        #expect(decision.breaker?.state == .open)
        #expect(decision.events.map(\.kind) == ["breaker_open"])
    }

    @Test("a permanent failure tells the breaker nothing")
    func permanentIsNeutral() throws {
        var queue = RuleFixtures.queue("q", threshold: 2)
        queue.breaker.streak = 1
        let decision = try AttemptSettlement.settle(
            RuleFixtures.ending(4, exit: 2), state: .running, stopRequested: false, queue: queue, queueName: "q")
        #expect(decision.breaker == nil)
        #expect(decision.transition == nil)
    }

    @Test("the half-open probe's success closes the breaker; another job's success does not")
    func probeDecides() throws {
        let halfOpen = RuleFixtures.queue("q", threshold: 1, breaker: CircuitBreaker(state: .half_open, probeJob: 9))
        let other = try AttemptSettlement.settle(
            RuleFixtures.ending(8, exit: 0), state: .running, stopRequested: false, queue: halfOpen, queueName: "q")
        #expect(other.transition == nil)
        let probe = try AttemptSettlement.settle(
            RuleFixtures.ending(9, exit: 0), state: .running, stopRequested: false, queue: halfOpen, queueName: "q")
        #expect(probe.transition?.to == .closed)
        #expect(probe.breaker?.state == .closed)
    }

    @Test("an ending of a job that is not running is a conflict")
    func notRunning() {
        #expect(throws: StintError.self) {
            try AttemptSettlement.settle(
                RuleFixtures.ending(1, exit: 0), state: .succeeded, stopRequested: false, queue: nil, queueName: "q")
        }
    }
}
