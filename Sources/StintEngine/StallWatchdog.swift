import Foundation
import Logging
public import ServiceLifecycle
import StintCore
import StintStore
import StintRunner

/// Flags running jobs whose output stopped growing at an interactive prompt (a password,
/// a `[y/N]`), once per attempt, with a `stalled` event and notification.
public struct StallWatchdog: Service {
    /// How the watchdog looks.
    public struct Options: Sendable {
        /// Seconds between two looks at running jobs' output sizes. Default 1.
        public var interval: Double

        /// Creates options.
        public init(interval: Double = 1) {
            self.interval = max(0.001, interval)
        }
    }

    let options: Options
    let context: EngineContext
    let attempts: AttemptSupervisor
    let settlement: Settlement

    /// Looks at every running attempt's output every ``Options/interval`` seconds on the
    /// engine's clock, until a graceful shutdown or cancellation: it returns then. It never
    /// throws; a stall the store cannot record is logged and looked at again.
    public func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            // Per attempt, what its output did so far; attempts that ended are dropped.
            var trackers: [AttemptID: StallTracker] = [:]
            while true {
                do {
                    try await context.clock.sleep(for: options.interval)
                } catch {
                    return
                }
                await look(&trackers)
            }
        }
    }

    private func look(_ trackers: inout [AttemptID: StallTracker]) async {
        let now = context.clock.now()
        let running = await attempts.snapshot().values
        let ids = Set(running.map(\.id))
        trackers = trackers.filter { ids.contains($0.key) }
        for entry in running {
            var tracker =
                trackers[entry.id]
                ?? StallTracker(stallAfter: entry.spec.stallAfter ?? PromptDetector.defaultStallAfter, now: now)
            guard tracker.stallAfter > 0 else { continue }
            let log = context.processes.log(entry.id, cap: entry.spec.outputCap ?? JobSpec.defaultOutputCap)
            guard tracker.observe(size: log.streamLength(), now: now) else {
                trackers[entry.id] = tracker
                continue
            }
            let line = PromptDetector.lastLine(of: String(decoding: log.tail(lines: 1), as: UTF8.self))
            let stalled = tracker.check(lastLine: line)
            trackers[entry.id] = tracker
            guard stalled, let line else { continue }
            context.logger.notice("job stalled at a prompt", metadata: ["job": "\(entry.id.job)", "line": "\(line)"])
            do {
                let notifications = try await context.store.markStalled(
                    job: entry.id.job, attempt: entry.id.attempt, at: now, line: line)
                // A stall may have queued a webhook delivery (the job's or its queue's): the worker looks.
                await settlement.published(notifications)
            } catch {
                context.logger.error("cannot record a stall", metadata: ["job": "\(entry.id.job)", "error": "\(error)"])
            }
        }
    }
}
