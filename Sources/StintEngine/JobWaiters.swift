import Foundation
import StintCore

/// The callers blocked in `wait`, each woken the moment its jobs end.
actor JobWaiters {
    private struct Waiter {
        var pending: Set<Int64>
        var any: Bool
        var continuation: CheckedContinuation<Bool, Never>
    }

    private var waiters: [UUID: Waiter] = [:]

    /// Suspends until every job of `pending` has ended (one, with `any`): returns `true`;
    /// or until `timeout` seconds pass or ``cancelAll()``: returns `false`.
    func wait(for pending: Set<Int64>, any: Bool, timeout: Double?) async -> Bool {
        let token = UUID()
        return await withCheckedContinuation { continuation in
            waiters[token] = Waiter(pending: pending, any: any, continuation: continuation)
            if let timeout {
                // Unstructured: the timer must not hold the waiter's own task. It only
                // resumes a waiter that is still registered; nobody awaits it.
                Task { [weak self] in
                    try? await Task.sleep(for: .seconds(timeout))
                    await self?.resume(token, done: false)
                }
            }
        }
    }

    /// Job `id` has ended: wakes the waiters it completes.
    func jobEnded(_ id: Int64, views: @Sendable ([Int64]) async -> [JobView]) {
        for (token, var waiter) in waiters where waiter.pending.contains(id) {
            waiter.pending.remove(id)
            if waiter.any || waiter.pending.isEmpty {
                resume(token, done: true)
            } else {
                waiters[token] = waiter
            }
        }
    }

    /// Wakes every waiter with "not done", as the daemon shuts down.
    func cancelAll() {
        for token in waiters.keys { resume(token, done: false) }
    }

    private func resume(_ token: UUID, done: Bool) {
        guard let waiter = waiters.removeValue(forKey: token) else { return }
        waiter.continuation.resume(returning: done)
    }
}
