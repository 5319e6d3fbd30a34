import Foundation
import StintCore

/// Live subscribers to new notifications (`notifications --watch`, the MCP server).
///
/// The hub only hurries news along: the outbox in the store is the truth, and a
/// subscriber first reads what is pending there, then takes what the hub pushes.
actor NotificationHub {
    private struct Subscriber {
        var session: String?
        var continuation: AsyncStream<NotificationView>.Continuation
    }

    private var subscribers: [UUID: Subscriber] = [:]

    /// A stream of new notifications of `session` (all, with `nil`), until the caller
    /// stops iterating or the hub finishes it.
    func subscribe(session: String?) -> AsyncStream<NotificationView> {
        let token = UUID()
        let (stream, continuation) = AsyncStream<NotificationView>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        subscribers[token] = Subscriber(session: session, continuation: continuation)
        continuation.onTermination = { [weak self] _ in
            Task { await self?.remove(token) }
        }
        return stream
    }

    /// Hands `notifications` to every subscriber of their sessions.
    func publish(_ notifications: [NotificationView]) {
        for notification in notifications {
            for subscriber in subscribers.values where subscriber.session == nil || subscriber.session == notification.session {
                subscriber.continuation.yield(notification)
            }
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
