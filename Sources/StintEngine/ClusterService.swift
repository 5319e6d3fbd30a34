import Foundation
import Logging
public import ServiceLifecycle
import StintCore
import StintStore
import Synchronization

/// A daemon's part in a store shared by several nodes (PostgreSQL): it registers the node,
/// renews the leases of the attempts it runs, rescues the attempts of nodes whose leases
/// ran out, holds the once-per-cluster roles in turn, and turns what other daemons announce
/// into dispatches, wait wake-ups and stop or kill requests for its own attempts.
///
/// Notifications arrive through the store (LISTEN/NOTIFY); a jittered poll covers those lost
/// with a dropped connection or a pooler that does not pass LISTEN, and lets the delivery
/// worker look for deliveries other nodes queued.
public struct ClusterService: Service {
    /// How often the service renews, rescues and polls.
    public struct Options: Sendable, Codable {
        /// Seconds between two heartbeats, each renewing the node's lease and its
        /// attempts', looking for expired attempts to rescue and for the roles. Default 5.
        public var heartbeat: Double
        /// Seconds a heartbeat's lease lasts: a node silent this long is down, and its open
        /// attempts are rescued. Default 15 (three heartbeats).
        public var lease: Double
        /// Seconds between two polls of the store for work, ended jobs being waited for and
        /// control requests, in case a notification was lost; each is jittered by ±20 %. Default 1.
        public var poll: Double
        /// This daemon's API address (`--listen`), registered for other nodes. Default `nil`.
        public var address: String?

        /// The default of ``heartbeat``: 5 s.
        public static let defaultHeartbeat: Double = 5
        /// The default of ``lease``: 15 s.
        public static let defaultLease: Double = 15
        /// The default of ``poll``: 1 s.
        public static let defaultPoll: Double = 1

        /// Creates options.
        public init(
            heartbeat: Double = Self.defaultHeartbeat, lease: Double = Self.defaultLease, poll: Double = Self.defaultPoll,
            address: String? = nil
        ) {
            self.heartbeat = max(0.01, heartbeat)
            self.lease = max(self.heartbeat, lease)
            self.poll = max(0.01, poll)
            self.address = address
        }
    }

    /// The role whose holder runs retention and the scheduler.
    public static let maintenanceRole = "maintenance"

    let options: Options
    let cluster: any ClusterStore
    let context: EngineContext
    let dispatcher: Dispatcher
    let attempts: AttemptSupervisor
    let recorder: OutcomeRecorder
    let waiters: JobWaiters
    let leadership: Leadership
    /// Rings the delivery worker: deliveries another node queued are this node's to send too.
    let deliveries: Doorbell
    /// Schedules another node changed, and the leadership this node may have gained, are
    /// the scheduler's to look at.
    let scheduler: ScheduleService

    /// Registers the node, then heartbeats, listens and polls until a graceful shutdown or
    /// cancellation; on a graceful shutdown, records that the node stopped. Never throws: a
    /// store that cannot be reached is logged and tried again at the next beat.
    public func run() async throws {
        await register()
        await cancelWhenGracefulShutdown { [self] in
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.beats() }
                group.addTask { await self.polls() }
                group.addTask {
                    await cluster.listen(node: context.worker.node) { signal in
                        Task { await self.handle(signal) }
                    }
                }
                await group.waitForAll()
            }
        }
        leadership.holds = false
        try? await cluster.stopNode(context.worker)
    }

    private func register() async {
        var delay = 0.1
        while !Task.isCancelled {
            do {
                try await cluster.registerNode(
                    context.worker, address: options.address, lease: options.lease, version: StintVersion.current,
                    pid: Int64(ProcessInfo.processInfo.processIdentifier))
                return
            } catch {
                context.logger.error("cannot register this node in the store; trying again", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(delay))
                delay = min(delay * 2, options.heartbeat)
            }
        }
    }

    private func beats() async {
        while !Task.isCancelled {
            await beat()
            do {
                try await Task.sleep(for: .seconds(options.heartbeat))
            } catch {
                return
            }
        }
    }

    /// One heartbeat: renew, end what another node rescued, rescue, hold the roles.
    func beat() async {
        let logger = context.logger
        do {
            let running = await attempts.snapshot().values.map { AttemptKey(job: $0.id.job, attempt: $0.id.attempt) }
            for orphan in try await cluster.heartbeat(context.worker, running: running) {
                // Its lease ran out (this node was cut off from the store) and another node
                // concluded it: its processes end, and its exit record will be refused.
                guard let entry = await attempts.entry(orphan.job), entry.id.attempt == orphan.attempt else { continue }
                logger.warning(
                    "an attempt of this node was rescued by another node after its lease ran out; ending its processes",
                    metadata: ["job": "\(orphan.job)", "attempt": "\(orphan.attempt)"])
                try? context.processes.stop(entry.id, pid: entry.pid, grace: 1)
            }
            for lost in try await cluster.expiredAttempts(excluding: context.worker, limit: 100) {
                logger.warning(
                    "rescuing an attempt whose node stopped renewing its lease",
                    metadata: ["job": "\(lost.id)", "attempt": "\(lost.attempt)", "node": "\(lost.node ?? "?")"])
                let outcome = AttemptOutcome(
                    reason: .lost, endedAt: context.clock.now(),
                    message: "node \(lost.node ?? "?") stopped renewing its lease (\(DurationText.short(options.lease))); "
                        + "rescued by node \(context.worker.node)")
                await recorder.record(lost, outcome: outcome, pid: nil)
            }
            leadership.holds = try await cluster.holdRole(Self.maintenanceRole, worker: context.worker, lease: options.lease)
            if let clock = context.clock as? OffsetClock {
                // Half the round trip of the read is the error of the measure.
                let before = Date()
                let storeNow = try await cluster.now()
                clock.seconds = storeNow.timeIntervalSince(before.addingTimeInterval(Date().timeIntervalSince(before) / 2))
            }
        } catch {
            logger.error("heartbeat failed; trying again", metadata: ["error": "\(error)"])
        }
    }

    private func polls() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .seconds(options.poll * Double.random(in: 0.8...1.2)))
            } catch {
                return
            }
            await handle(.reconnected)
        }
    }

    /// Acts on what another daemon announced (or on a poll, as `.reconnected`: anything).
    func handle(_ signal: ClusterSignal) async {
        switch signal {
        case .work:
            await dispatcher.dispatch()
        case .ended(let id):
            await waiters.jobEnded(id)
        case .control:
            await takeControls()
        case .reconnected:
            await dispatcher.dispatch()
            await takeControls()
            await wakeEndedWaiters()
            // Deliveries another node queued (or left behind when it died) are due here too;
            // the lease on each keeps two nodes from sending one.
            await deliveries.ring()
            await scheduler.poke()
        }
    }

    /// Wakes the waiters of jobs that ended on another node (a notification may have been missed).
    private func wakeEndedWaiters() async {
        let pending = await waiters.pendingJobs()
        guard !pending.isEmpty else { return }
        guard let jobs = try? await context.store.jobs(Array(pending)) else { return }
        for (id, job) in zip(pending, jobs) where job?.state.isTerminal ?? true {
            await waiters.jobEnded(id)
        }
    }

    /// Stops or signals this node's attempts as other nodes asked.
    private func takeControls() async {
        let requests: [ControlRequest]
        do {
            requests = try await cluster.takeControls(node: context.worker.node)
        } catch {
            context.logger.error("cannot read control requests", metadata: ["error": "\(error)"])
            return
        }
        for request in requests {
            guard let entry = await attempts.entry(request.job), entry.id.attempt == request.attempt else { continue }
            do {
                switch request.action {
                case .stop(let grace): try context.processes.stop(entry.id, pid: entry.pid, grace: grace)
                case .signal(let signal): try context.processes.signal(entry.id, pid: entry.pid, signal: signal)
                }
                context.logger.info(
                    "acted on a request from another node", metadata: ["job": "\(request.job)", "action": "\(request.actionText)"])
            } catch {
                context.logger.warning(
                    "cannot act on a request from another node", metadata: ["job": "\(request.job)", "error": "\(error)"])
            }
        }
    }
}

/// Whether this daemon holds the maintenance role now: always on a store of one host;
/// on a shared store, as the last heartbeat found.
final class Leadership: Sendable {
    private let state: Atomic<Bool>

    init(holds: Bool) {
        state = Atomic(holds)
    }

    var holds: Bool {
        get { state.load(ordering: .relaxed) }
        set { state.store(newValue, ordering: .relaxed) }
    }
}
