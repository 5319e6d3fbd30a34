import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import StintCore
import Synchronization

/// The dashboard's listener on 127.0.0.1, started on the first `POST /v1/ui` (what
/// `stint ui` sends) and kept until the daemon stops; its login codes and sessions.
final class DashboardServer: Sendable {
    let sessions = DashboardSessions()

    /// A request to start listening, answered once the listener is up (or failed).
    struct Start: Sendable {
        let port: Int
        let reply: Reply
    }

    /// Answers a ``Start`` once.
    final class Reply: Sendable {
        private let continuation = Mutex<CheckedContinuation<HostPort, any Error>?>(nil)
        init(_ continuation: CheckedContinuation<HostPort, any Error>) { self.continuation.withLock { $0 = continuation } }
        func resume(_ result: Result<HostPort, any Error>) {
            continuation.withLock { $0.take() }?.resume(with: result)
        }
    }

    private let address = Mutex<HostPort?>(nil)
    private let starting = Mutex<Bool>(false)
    let starts: AsyncStream<Start>
    private let feed: AsyncStream<Start>.Continuation

    init() {
        (starts, feed) = AsyncStream<Start>.makeStream()
    }

    /// Where the dashboard listens, started on `port` (0: a free one) if it is not yet.
    /// A dashboard already running on another port than the one asked is `E_CONFLICT`.
    func open(port: Int) async throws -> HostPort {
        if let running = address.withLock({ $0 }) {
            guard port == 0 || port == running.port else {
                throw StintError(
                    .conflict, "the dashboard already runs on \(running)", hint: "use `stint ui` without --port, or --port \(running.port)")
            }
            return running
        }
        guard starting.withLock({ started in
            defer { started = true }
            return !started
        }) else {
            throw StintError(.conflict, "the dashboard is starting; try again in a moment")
        }
        do {
            let bound = try await withCheckedThrowingContinuation { continuation in
                feed.yield(Start(port: port, reply: Reply(continuation)))
            }
            address.withLock { $0 = bound }
            starting.withLock { $0 = false }
            return bound
        } catch {
            starting.withLock { $0 = false }
            throw error
        }
    }

    /// Ends the stream of starts, for a daemon that stops.
    func finish() { feed.finish() }
}

/// Runs the dashboard's listener when ``DashboardServer/open(port:)`` asks, until the
/// daemon's graceful shutdown.
struct DashboardService: Service {
    let server: DashboardServer
    let router: @Sendable () -> Router<StintRequestContext>
    let idleTimeout: Double
    let logger: Logger

    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for await start in server.starts.cancelOnGracefulShutdown() {
                let reply = start.reply
                let app = Application(
                    router: router(),
                    server: .http1(configuration: .init(idleTimeout: .milliseconds(Int64(idleTimeout * 1000)))),
                    configuration: .init(address: .hostname("127.0.0.1", port: start.port), serverName: nil),
                    onServerRunning: { [logger] channel in
                        let bound = HostPort(host: "127.0.0.1", port: channel.localAddress?.port ?? start.port)
                        logger.info("the dashboard listens", metadata: ["url": "http://\(bound)"])
                        reply.resume(.success(bound))
                    },
                    logger: logger)
                group.addTask {
                    do {
                        try await app.run()
                    } catch {
                        reply.resume(.failure(StintError(.unavailable, "cannot serve the dashboard on 127.0.0.1:\(start.port): \(error)")))
                    }
                }
            }
        }
    }
}
