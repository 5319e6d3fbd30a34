import Foundation
import Logging
public import ServiceLifecycle
public import StintCore
import StintStore

/// Fires schedules: sleeps until the nearest fire time of all of them, fires what is due,
/// and starts the jobs in the same transaction when slots are free.
///
/// The nearest fire time is read from the store's index on `next_fire` (O(log n) in the
/// number of schedules), so thousands of idle schedules cost one indexed read per fire.
/// Nothing polls: a change to a schedule (add, resume, run) pokes the service, and it
/// looks again at least every ``Options/maxSleep`` so that a step of the wall clock is
/// noticed. The first look, at start, catches up what was missed while no daemon ran. On a
/// store shared by several daemons only the holder of the maintenance role fires; the
/// cluster's poll pokes the service, so a new leader takes over within a poll.
public struct ScheduleService: Service {
    /// How the scheduler sleeps.
    public struct Options: Sendable {
        /// The longest the scheduler sleeps without looking at the store. Default 60 s.
        public var maxSleep: Double

        /// Creates options.
        public init(maxSleep: Double = 60) {
            self.maxSleep = max(0.01, maxSleep)
        }
    }

    let options: Options
    let context: EngineContext
    let dispatcher: Dispatcher
    let settlement: Settlement
    /// Whether this daemon runs the cluster's maintenance now (always, on a store of one host).
    let leadership: Leadership
    /// The next moment to look.
    let wake: WakeSchedule

    /// Looks once, then at every fire time and poke, until a graceful shutdown or
    /// cancellation: it returns then. It never throws; a look that fails is logged and
    /// tried again a second later.
    public func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            await look()
            while true {
                do {
                    try await wake.untilDue()
                } catch {
                    return
                }
                await look()
            }
        }
    }

    /// Makes the scheduler look now (a schedule changed).
    func poke() async {
        await wake.request(context.clock.now())
    }

    /// Fires what is due now and sets the next moment to look.
    func look() async {
        let now = context.clock.now()
        var next = now.addingTimeInterval(options.maxSleep)
        if leadership.holds {
            // Most looks (a poke, the cluster's poll) find nothing due: one indexed read.
            let due: Date?
            do {
                due = try await context.store.nextScheduleFire()
            } catch {
                context.logger.error("reading schedules failed; trying again", metadata: ["error": "\(error)"])
                await wake.request(now.addingTimeInterval(1))
                return
            }
            guard let due, due <= now else {
                await wake.request(due.map { min(next, $0) } ?? next)
                return
            }
            let slots = await dispatcher.reserveSlots()
            do {
                let (firing, claim) = try await context.store.fireDueSchedules(
                    now: now, thenClaim: slots > 0 ? ClaimRequest(limit: slots, worker: context.worker, now: now) : nil)
                // Starts what the firing claimed (or, without a claim, dispatches).
                await dispatcher.claimed(claim, reserved: slots)
                if !firing.created.isEmpty {
                    context.logger.debug("schedules fired", metadata: ["jobs": "\(firing.created.count)"])
                }
                if firing.deliveriesQueued { await settlement.deliveries.ring() }
                if let nextFire = firing.nextFire { next = min(next, max(nextFire, now)) }
            } catch {
                await dispatcher.claimed(nil, reserved: slots)
                context.logger.error("firing schedules failed; trying again", metadata: ["error": "\(error)"])
                next = min(next, now.addingTimeInterval(1))
            }
        }
        await wake.request(next)
    }
}
