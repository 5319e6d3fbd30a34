import Foundation
import StintCore

/// The callers blocked in `wait`, each woken the moment its jobs end.
///
/// Registering and suspending are separate steps so that the engine can register
/// first and only then look at the jobs' current states: a job that ends in between
/// is then seen by one or the other, never by neither.
actor JobWaiters {
    private struct Waiter {
        var pending: Set<Int64>
        var any: Bool
        var done = false
        var continuation: CheckedContinuation<Bool, Never>?
    }

    private var waiters: [UUID: Waiter] = [:]
    private let clock: any StintClock

    /// Creates a registry whose timeouts run on `clock`.
    init(clock: any StintClock) {
        self.clock = clock
    }

    /// Registers interest in `pending` (all of them, or one with `any`); returns the token
    /// to pass to ``wait(_:timeout:)``.
    func register(_ pending: Set<Int64>, any: Bool) -> UUID {
        let token = UUID()
        waiters[token] = Waiter(pending: pending, any: any, done: pending.isEmpty)
        return token
    }

    /// Suspends until the registered jobs have ended: returns `true`; or until `timeout`
    /// seconds pass or ``cancelAll()``: returns `false`.
    func wait(_ token: UUID, timeout: Double?) async -> Bool {
        guard let waiter = waiters[token] else { return false }
        if waiter.done {
            waiters[token] = nil
            return true
        }
        return await withCheckedContinuation { continuation in
            waiters[token]?.continuation = continuation
            if let timeout {
                // Unstructured: the timer must not hold the waiter's own task. It only
                // resumes a waiter that is still registered; nobody awaits it.
                Task { [weak self, clock] in
                    try? await clock.sleep(for: timeout)
                    await self?.finish(token, done: false)
                }
            }
        }
    }

    /// Job `id` has ended: wakes the waiters it completes.
    func jobEnded(_ id: Int64) {
        for (token, var waiter) in waiters where waiter.pending.contains(id) {
            waiter.pending.remove(id)
            waiters[token] = waiter
            if waiter.any || waiter.pending.isEmpty { finish(token, done: true) }
        }
    }

    /// Every job some waiter still waits for.
    func pendingJobs() -> [Int64] {
        Array(Set(waiters.values.filter { !$0.done }.flatMap(\.pending))).sorted()
    }

    /// Wakes every waiter with "not done", as the daemon shuts down.
    func cancelAll() {
        for token in waiters.keys { finish(token, done: false) }
    }

    private func finish(_ token: UUID, done: Bool) {
        guard var waiter = waiters[token] else { return }
        guard let continuation = waiter.continuation else {
            // Not suspended yet: remember, and `wait` returns at once.
            waiter.done = waiter.done || done
            waiters[token] = waiter
            return
        }
        waiters[token] = nil
        continuation.resume(returning: done)
    }
}
