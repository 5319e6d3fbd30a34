import Foundation
import StintCore

/// The next moment a dispatch is due: the earliest delayed job, backoff, end of a breaker
/// pause or preflight expiry the dispatcher has been told of.
///
/// The dispatcher asks for moments; ``WakeUpService`` sleeps until the earliest on the
/// engine's clock. An earlier moment interrupts the sleep at once, so nothing polls.
actor WakeSchedule {
    private let clock: any StintClock
    private var due: Date?
    /// The sleep in progress, cancelled when an earlier moment is asked for.
    private var sleeper: Task<Void, any Error>?

    init(clock: any StintClock) {
        self.clock = clock
    }

    /// Makes sure ``untilDue()`` returns at `date` or earlier.
    func request(_ date: Date) {
        if let due, due <= date { return }
        due = date
        sleeper?.cancel()
    }

    /// Returns once the earliest moment asked for has come, and forgets it. Throws
    /// `CancellationError` when the caller is cancelled.
    func untilDue() async throws {
        while true {
            try Task.checkCancellation()
            let target = due ?? .distantFuture
            // Awaited right below; a task of its own so that `request` can cut it short.
            let sleep = Task { [clock] in try await clock.sleep(until: target) }
            sleeper = sleep
            let slept: Bool
            do {
                try await withTaskCancellationHandler {
                    try await sleep.value
                } onCancel: {
                    sleep.cancel()
                }
                slept = true
            } catch {
                // Cancelled: the caller is (and we end), or an earlier moment came in.
                try Task.checkCancellation()
                slept = false
            }
            if sleeper == sleep { sleeper = nil }
            if slept, let due, due <= clock.now() {
                self.due = nil
                return
            }
        }
    }
}
