import Dispatch
import StintClient

/// Runs the blocking ``StintClient`` calls off Swift concurrency's cooperative pool.
///
/// Every client call blocks its thread on a socket, a `wait` for up to ten minutes. On
/// the cooperative pool (one thread per core) two such waits would stall every other
/// task of the server, including reading stdin; so each call runs on a thread of a
/// concurrent dispatch queue, and the caller awaits a continuation.
///
/// Cancelling the awaiting task (the client sent `notifications/cancelled`) ends the
/// blocked call at once: its connection closes, so the daemon drops a wait it held.
struct BlockingCalls: Sendable {
    private let queue = DispatchQueue(label: "stint.mcp.client", attributes: .concurrent)

    /// Runs `body` on the queue with `client` made cancellable, and returns (or throws)
    /// what it did; `CancellationError` when the task was cancelled.
    func run<T: Sendable>(
        _ client: StintClient, _ body: @escaping @Sendable (StintClient) throws -> T
    ) async throws -> T {
        try Task.checkCancellation()
        let cancellation = RequestCancellation()
        var cancellable = client
        cancellable.cancellation = cancellation
        let scoped = cancellable
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    queue.async { continuation.resume(with: Result { try body(scoped) }) }
                }
            } onCancel: {
                cancellation.cancel()
            }
        } catch is RequestCancelled {
            throw CancellationError()
        }
    }
}
