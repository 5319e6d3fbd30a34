import Synchronization

/// The queues whose preflight must run before they may claim, as the dispatcher finds
/// them, for the ``PreflightService``: each queue once until its run has finished.
final class PreflightRequests: Sendable {
    /// One queue's preflight to run.
    struct Request: Sendable {
        var queue: String
        var command: String
    }

    /// What the service reads; the dispatcher only adds.
    let stream: AsyncStream<Request>
    private let continuation: AsyncStream<Request>.Continuation
    /// Queues asked for and not finished yet.
    private let pending = Mutex<Set<String>>([])

    init() {
        (stream, continuation) = AsyncStream.makeStream()
    }

    /// Asks for `queue`'s preflight `command` to run, unless it is asked for already.
    func request(queue: String, command: String) {
        guard pending.withLock({ $0.insert(queue).inserted }) else { return }
        continuation.yield(Request(queue: queue, command: command))
    }

    /// `queue`'s preflight has finished (or was given up): it may be asked for again.
    func finished(queue: String) {
        _ = pending.withLock { $0.remove(queue) }
    }
}
