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
    private let parallel: Int
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
        self.parallel = parallel
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
        let logger = context.logger
        repeat {
            again = false
            let free = max(0, parallel - (await attempts.count))
            let result: ClaimResult
            do {
                result = try await context.store.claim(limit: free, worker: context.worker, now: context.clock.now())
            } catch {
                logger.error("claim failed", metadata: ["error": "\(error)"])
                break
            }
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
                await attempts.launch(job)
            }
            for (queue, command) in result.preflightsDue { preflights.request(queue: queue, command: command) }
            if let next = result.nextWake { await wakeUps.request(next) }
            if free > 0, result.claimed.count == free { again = true }
        } while again
    }
}
