import Foundation
import Logging
import StintCore
import StintStore

/// Claims queued jobs into the free slots and hands them to the attempt supervisor.
///
/// Wake-ups are pushed: an `add`, an attempt's end or a queue change calls ``dispatch()``,
/// and the claim tells the next moment something becomes claimable, which the
/// ``WakeUpService`` sleeps until. The store decides what may be claimed (queue limits,
/// breaker, preflight, `run_at`, dependencies); the dispatcher decides how many.
actor Dispatcher {
    private let context: EngineContext
    private let attempts: AttemptSupervisor
    private let settlement: Settlement
    private let wakeUps: WakeSchedule
    private let preflights: PreflightRequests
    private var dispatching = false
    private var again = false

    init(
        context: EngineContext, parallel: Int, attempts: AttemptSupervisor, settlement: Settlement,
        wakeUps: WakeSchedule, preflights: PreflightRequests
    ) {
        self.context = context
        slots = SlotReservations(parallel: parallel)
        self.attempts = attempts
        self.settlement = settlement
        self.wakeUps = wakeUps
        self.preflights = preflights
    }

    /// Starts queued jobs while slots are free. Re-entrant calls fold into the running one.
    func dispatch() async {
        guard !dispatching else {
            again = true
            return
        }
        dispatching = true
        defer { dispatching = false }
        repeat {
            again = false
            let free = await reserveSlots()
            let result: ClaimResult
            do {
                result = try await context.store.claim(limit: free, worker: context.worker, now: context.clock.now())
            } catch {
                _ = handBack(free)
                context.logger.error("claim failed", metadata: ["error": "\(error)"])
                break
            }
            await start(result)
            if handBack(free) { again = true }
            if free > 0, result.claimed.count == free { again = true }
        } while again
    }

    /// The slots held by claims under way: this dispatcher's, or one inside an add's, an
    /// ending's or a fire's transaction.
    private var slots: SlotReservations

    /// Reserves every slot free now for a claim about to be made; the caller hands them
    /// back with ``claimed(_:reserved:)`` (or, here, after its own claim).
    func reserveSlots() async -> Int {
        let running = await attempts.count
        return slots.reserve(running: running)
    }

    /// Hands `count` reserved slots back; true when a dispatch must look again (see
    /// ``SlotReservations``).
    private func handBack(_ count: Int) -> Bool {
        slots.handBack(count)
    }

    /// Starts what a claim made inside another write's transaction claimed with `count`
    /// reserved slots (`nil`: that write failed), and hands the slots back.
    func claimed(_ result: ClaimResult?, reserved count: Int) async {
        if let result { await start(result) }
        let lookAgain = handBack(count)
        // All the slots were used: more may be claimable once others free up, which their
        // endings will claim; none was reserved: a claim under way may have missed this write;
        // a claim short-changed while these were held: its write may not have been claimed.
        if count == 0 || result == nil || lookAgain { await dispatch() }
    }

    /// Launches what a claim claimed, and acts on what else it found.
    private func start(_ result: ClaimResult) async {
        let logger = context.logger
        for (queue, transition) in result.transitions {
            logger.notice(
                "breaker \(transition.from.rawValue) → \(transition.to.rawValue)",
                metadata: ["queue": "\(queue)", "reason": "\(transition.reason)"])
        }
        for failed in result.failed {
            logger.error(
                "failed a job whose stored row cannot be read",
                metadata: ["job": "\(failed.job.id)", "reason": "\(failed.job.endReason ?? "")"])
            await settlement.settled(failed)
        }
        for job in result.claimed {
            context.mark(.claimed, job: job.id, attempt: job.attempt)
            context.metrics?.attemptClaimed(job)
            await attempts.launch(job)
        }
        for (queue, command) in result.preflightsDue { preflights.request(queue: queue, command: command) }
        if let next = result.nextWake { await wakeUps.request(next) }
    }
}
