import Foundation
import StintClient
import StintCore

/// Follows the session's notification stream on a thread of its own and hands every
/// notification to ``notifications``, in id order, each once.
///
/// The stream starts with the pending notifications, then carries new ones as the
/// daemon writes them. When the daemon goes away (stopped, restarted, killed), the
/// watcher reconnects with the last id it saw, so nothing is missed or repeated. It
/// never starts a daemon itself: a `stint daemon stop` must stay stopped until a tool
/// call or another command needs one.
actor NotificationWatcher {
    /// Notifications as they arrive; never finishes while the process lives.
    nonisolated let notifications: AsyncStream<NotificationView>
    private let continuation: AsyncStream<NotificationView>.Continuation
    private let client: StintClient
    private var started = false

    /// Shortest and longest pause before reconnecting to an absent daemon.
    static let reconnectDelays = (first: 0.1, longest: 2.0)

    /// Creates a watcher for `client`'s session; ``start()`` starts it.
    init(client: StintClient) {
        var watching = client
        watching.autostartExecutable = nil
        self.client = watching
        (notifications, continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// Starts the thread, once.
    func start() {
        guard !started else { return }
        started = true
        let thread = Thread { [client, continuation] in Self.follow(client, into: continuation) }
        thread.name = "stint-mcp-notifications"
        thread.start()
    }

    /// The thread's body: watch, and on every disconnect watch again from the last id.
    private static func follow(_ client: StintClient, into continuation: AsyncStream<NotificationView>.Continuation) {
        var last: Int64 = 0
        var delay = reconnectDelays.first
        while true {
            do {
                try client.watchNotifications(after: last) { notification in
                    guard notification.id > last else { return true }
                    last = notification.id
                    continuation.yield(notification)
                    return true
                }
                // The daemon closed the stream: it is stopping. Reconnect soon.
                delay = reconnectDelays.first
            } catch {
                // Nothing listens (yet, or any more): try again, less and less often.
                delay = min(delay * 2, reconnectDelays.longest)
            }
            Thread.sleep(forTimeInterval: delay)
        }
    }
}
