import Foundation
import Logging
public import ServiceLifecycle
public import StintCore
import StintStore

/// Deletes ended jobs, with their logs and run folders, once they are older than the
/// retention. On a store shared by several daemons, only the holder of the maintenance
/// role prunes (``ClusterService``).
public struct RetentionService: Service {
    /// How long ended jobs are kept, and how often the service looks.
    public struct Options: Sendable {
        /// Seconds an ended job is kept after it ended; 0 keeps jobs forever. Default 7 days
        /// (``Retention/defaultSeconds``).
        public var retention: Double
        /// Seconds between two prunes. Default 3600 (hourly).
        public var interval: Double

        /// Creates options.
        public init(retention: Double = Retention.defaultSeconds, interval: Double = 3600) {
            self.retention = retention
            self.interval = max(0.001, interval)
        }
    }

    let options: Options
    let context: EngineContext
    /// Whether this daemon runs the cluster's maintenance now (always, on a store of one host).
    let leadership: Leadership

    /// Prunes every ``Options/interval`` seconds on the engine's clock, until a graceful
    /// shutdown or cancellation: it returns then. It never throws; a prune that fails is
    /// logged and tried at the next interval. (The engine prunes once at start-up too,
    /// before the API answers.)
    public func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            while true {
                do {
                    try await context.clock.sleep(for: options.interval)
                } catch {
                    return
                }
                await pruneExpired()
            }
        }
    }

    /// Deletes the jobs that ended longer than the retention ago.
    func pruneExpired() async {
        guard leadership.holds else { return }
        guard let cutoff = Retention.cutoff(now: context.clock.now(), retention: options.retention) else { return }
        do {
            let removed = try await context.store.prune(endedBefore: cutoff)
            for id in removed { context.processes.removeFiles(ofJob: id) }
            if !removed.isEmpty {
                context.logger.info("pruned ended jobs past the retention", metadata: ["count": "\(removed.count)"])
            }
        } catch {
            context.logger.error("retention prune failed", metadata: ["error": "\(error)"])
        }
    }
}
