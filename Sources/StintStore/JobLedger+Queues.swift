public import Foundation
public import StintCore

extension JobLedger {
    /// Every queue with its breaker and preflight, by name, and its counts of held,
    /// queued and running jobs (of `session`'s jobs only, when given).
    public func queues(now: Date, session: String?) async throws -> [QueueView] {
        try await read { tx in
            let counts = try tx.liveCounts(queue: nil, session: session)
            return try tx.queues().map { $0.view(counts: counts[$0.name] ?? [:], now: now) }
        }
    }

    /// Changes a queue's settings, creating it if needed. A new preflight command has no
    /// result yet; turning the breaker off closes it.
    public func updateQueue(_ name: String, _ update: QueueUpdate, now: Date) async throws -> QueueView {
        try await write { tx in
            try tx.ensureQueue(name, now: now)
            guard let current = try tx.queue(name) else { throw StintError(.internal, "queue \(name) vanished") }
            let settings = update.applied(to: current.settings)
            try tx.saveQueueSettings(name, settings, resetPreflight: settings.preflight != current.settings.preflight)
            if settings.breaker.threshold == 0, current.breaker.state != .closed {
                try tx.saveBreaker(name, CircuitBreaker())
                try tx.appendEvent(
                    EventRecord(job: nil, queue: name, kind: "breaker_closed", message: "the breaker was turned off", at: now))
            }
            if update.paused != nil, update.paused != current.settings.paused {
                try tx.appendEvent(
                    EventRecord(
                        job: nil, queue: name, kind: settings.paused ? "queue_paused" : "queue_resumed",
                        message: settings.paused ? "paused" : "resumed", at: now))
            }
            guard let stored = try tx.queue(name) else { throw StintError(.internal, "queue \(name) vanished") }
            return stored.view(counts: try tx.liveCounts(queue: name, session: nil)[name] ?? [:], now: now)
        }
    }

    /// Stores the result of a queue's preflight and records an event when it changed.
    public func recordPreflight(queue: String, status: PreflightStatus) async throws {
        try await write { tx in
            let previous = try tx.queue(queue)?.preflight?.passed
            try tx.savePreflight(queue, status)
            if previous != status.passed {
                try tx.appendEvent(
                    EventRecord(
                        job: nil, queue: queue, kind: status.passed ? "preflight_passed" : "preflight_failed",
                        message: status.passed ? "preflight passed" : "preflight failed: \(status.reason ?? "")",
                        at: status.checkedAt))
            }
        }
    }
}
