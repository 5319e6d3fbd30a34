import Foundation
import StintCore

/// Wakes live readers of the outbox (`notifications --watch`, and through it the MCP
/// server) when notifications of their session were written.
///
/// A wake-up carries no notification: the reader then reads the store for ids above the
/// last one it sent. Notifications are published by several tasks, not always in id
/// order, and the store's order is the only one to trust.
actor NotificationHub {
    private struct Subscriber {
        var session: String?
        var continuation: AsyncStream<Void>.Continuation
    }

    private var subscribers: [UUID: Subscriber] = [:]

    /// Wake-ups for notifications of `session` (all, with `nil`), until the caller stops
    /// iterating or the hub finishes it.
    func subscribe(session: String?) -> AsyncStream<Void> {
        let token = UUID()
        // One pending wake-up is enough: the reader reads everything new when it wakes.
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        subscribers[token] = Subscriber(session: session, continuation: continuation)
        continuation.onTermination = { [weak self] _ in
            Task { await self?.remove(token) }
        }
        return stream
    }

    /// Wakes the subscribers of the sessions of `notifications`.
    func publish(_ notifications: [NotificationView]) {
        wake(sessions: Set(notifications.map(\.session)))
    }

    /// Wakes the subscribers of `sessions`, and those of every session.
    func wake(sessions: Set<String?>) {
        guard !sessions.isEmpty else { return }
        for subscriber in subscribers.values where subscriber.session == nil || sessions.contains(subscriber.session) {
            subscriber.continuation.yield()
        }
    }

    /// Ends every stream, as the daemon shuts down.
    func finishAll() {
        for subscriber in subscribers.values { subscriber.continuation.finish() }
        subscribers = [:]
    }

    private func remove(_ token: UUID) {
        subscribers[token] = nil
    }
}
