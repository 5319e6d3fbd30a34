import Dispatch

/// Runs the blocking ``StintClient`` calls off Swift concurrency's cooperative pool.
///
/// Every client call blocks its thread on a socket, a `wait` for up to ten minutes. On
/// the cooperative pool (one thread per core) two such waits would stall every other
/// task of the server, including reading stdin; so each call runs on a thread of a
/// concurrent dispatch queue, and the caller awaits a continuation.
struct BlockingCalls: Sendable {
    private let queue = DispatchQueue(label: "stint.mcp.client", attributes: .concurrent)

    /// Runs `body` on the queue and returns (or throws) what it did.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}
