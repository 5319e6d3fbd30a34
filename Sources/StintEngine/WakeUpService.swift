public import ServiceLifecycle

/// Dispatches when a delayed job, a retry's backoff, a breaker's pause or a preflight
/// result comes due, on the engine's clock.
///
/// Every other dispatch is pushed (an `add`, an attempt's end, a queue change); this is
/// the one for moments in the future. It has no settings: the moments are the jobs' and
/// queues' own.
public struct WakeUpService: Service {
    let schedule: WakeSchedule
    let dispatcher: Dispatcher

    /// Sleeps until the next moment a dispatch is due, dispatches, and again, until a
    /// graceful shutdown or cancellation: it returns then (claims stop; running jobs go on).
    /// It never throws.
    public func run() async throws {
        await cancelWhenGracefulShutdown { [schedule, dispatcher] in
            while true {
                do {
                    try await schedule.untilDue()
                } catch {
                    return
                }
                await dispatcher.dispatch()
            }
        }
    }
}
