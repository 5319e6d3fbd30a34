import Foundation
import Logging
public import ServiceLifecycle
public import StintCore
import StintStore

/// Runs queues' preflight commands as the dispatcher finds them due, records each result,
/// and lets the claims it allows start.
public struct PreflightService: Service {
    /// How preflights run.
    public struct Options: Sendable {
        /// Seconds a preflight may run before it is killed and fails. Default 60
        /// (``PreflightStatus/runTimeout``).
        public var timeout: Double

        /// Creates options.
        public init(timeout: Double = PreflightStatus.runTimeout) {
            self.timeout = timeout
        }
    }

    let options: Options
    let context: EngineContext
    let requests: PreflightRequests
    let dispatcher: Dispatcher

    /// Runs each requested preflight as it comes, side by side, until a graceful shutdown
    /// or cancellation: it returns then, once the preflights running are killed; their
    /// results are not recorded, and the next daemon runs them again. It never throws.
    public func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            await withDiscardingTaskGroup { group in
                for await request in requests.stream {
                    group.addTask { await preflight(request) }
                }
            }
        }
    }

    private func preflight(_ request: PreflightRequests.Request) async {
        let result = await context.processes.runPreflight(request.command, queue: request.queue, timeout: options.timeout)
        guard !Task.isCancelled else {
            requests.finished(queue: request.queue)
            return
        }
        context.metrics?.preflightChecked(passed: result.passed)
        if !result.passed {
            context.logger.notice(
                "preflight failed", metadata: ["queue": "\(request.queue)", "reason": "\(result.reason ?? "")"])
        }
        do {
            try await context.store.recordPreflight(
                queue: request.queue,
                status: PreflightStatus(passed: result.passed, checkedAt: context.clock.now(), reason: result.reason))
        } catch {
            context.logger.error("cannot record a preflight", metadata: ["queue": "\(request.queue)", "error": "\(error)"])
        }
        // Only now: a dispatch before the result is stored would find the preflight due again.
        requests.finished(queue: request.queue)
        await dispatcher.dispatch()
    }
}
