public import Foundation
public import Logging
public import ServiceLifecycle
public import StintCore
public import StintStore

/// The daemon's heart, as the API sees it: one façade over the engine's types, each with
/// one job.
///
/// ``Dispatcher`` claims queued jobs into free slots; ``AttemptSupervisor`` launches and
/// watches them through the ``ProcessSupervisor``; ``OutcomeRecorder`` stores how each
/// attempt ended; ``Reconciler`` rebuilds the truth at start-up; ``WaitCoordinator``
/// answers `wait`; ``JobCommands`` and ``JobQueries`` change and read jobs. The loops are
/// ``services`` for the daemon's `ServiceGroup`: ``WakeUpService``, ``StallWatchdog``,
/// ``RetentionService`` and ``PreflightService``.
///
/// Wake-ups are pushed: an `add` dispatches in-process and an attempt's end arrives from
/// the process supervisor, so nothing polls. The engine keeps no truth of its own that the
/// store and the processes cannot rebuild: ``start()`` reconciles after a crash, and
/// stopping the engine leaves running jobs running.
public final class Engine: Sendable {
    /// How the engine runs.
    public struct Configuration: Sendable {
        /// How many jobs run at once. Default: the number of cores.
        public var parallel: Int
        /// How the stall watchdog looks. Default: ``StallWatchdog/Options``'s defaults.
        public var stalls: StallWatchdog.Options
        /// How long ended jobs are kept. Default: ``RetentionService/Options``'s defaults.
        public var retention: RetentionService.Options
        /// How preflights run. Default: ``PreflightService/Options``'s defaults.
        public var preflight: PreflightService.Options
        /// Who this engine claims as. Default: the host name as the node, and a new instance id.
        public var worker: WorkerIdentity
        /// Where each attempt's steps are stamped (``HandOffTrace``). Default: `nil`, nowhere.
        public var trace: HandOffTrace?
        /// How this daemon takes part in a store shared by several (``ClusterService``);
        /// used only when the store is one (``ClusterStore``). Default: its defaults.
        public var cluster: ClusterService.Options
        /// How the scheduler sleeps. Default: ``ScheduleService/Options``'s defaults.
        public var schedules: ScheduleService.Options
        /// Where attempts, latencies and preflight results are counted for `/metrics`;
        /// `nil` (the default): nowhere.
        public var metrics: EngineMetrics?

        /// Creates a configuration.
        public init(
            parallel: Int = ProcessInfo.processInfo.activeProcessorCount, stalls: StallWatchdog.Options = .init(),
            retention: RetentionService.Options = .init(), preflight: PreflightService.Options = .init(),
            worker: WorkerIdentity = WorkerIdentity(node: ProcessInfo.processInfo.hostName), trace: HandOffTrace? = nil,
            cluster: ClusterService.Options = .init(), schedules: ScheduleService.Options = .init(),
            metrics: EngineMetrics? = nil
        ) {
            self.metrics = metrics
            self.cluster = cluster
            self.schedules = schedules
            self.worker = worker
            self.trace = trace
            self.parallel = max(1, parallel)
            self.stalls = stalls
            self.retention = retention
            self.preflight = preflight
        }
    }

    /// The engine's configuration.
    public let configuration: Configuration
    /// The state folder layout.
    public let paths: StintPaths

    private let wakeUps: WakeUpService
    private let stallWatchdog: StallWatchdog
    private let retention: RetentionService
    private let preflights: PreflightService
    private let clusterService: ClusterService?
    let scheduler: ScheduleService
    /// When this engine was created (its daemon's start).
    private let startedAt = Date()
    private let attempts: AttemptSupervisor
    let store: JobLedger
    let clock: any StintClock
    private let settlement: Settlement
    private let dispatcher: Dispatcher
    private let recorder: OutcomeRecorder
    private let reconciler: Reconciler
    private let queries: JobQueries
    private let commands: JobCommands
    private let waits: WaitCoordinator
    private let summaries: SessionSummary

    /// Creates an engine over `store`, whose jobs run as `processes` starts them.
    public init(
        store: JobLedger, paths: StintPaths, processes: any ProcessSupervisor, configuration: Configuration = .init(),
        clock: any StintClock = SystemClock(), logger: Logger
    ) {
        let cluster = store.store as? any ClusterStore
        let context = EngineContext(
            store: store, worker: configuration.worker, processes: processes, clock: clock, paths: paths, logger: logger,
            trace: configuration.trace, cluster: cluster, metrics: configuration.metrics)
        self.store = store
        self.clock = clock
        self.paths = paths
        self.configuration = configuration
        let settlement = Settlement(
            waiters: JobWaiters(clock: clock), hub: NotificationHub(), deliveries: Doorbell(), dispatch: Doorbell())
        let slots = SlotLine()
        let recorder = OutcomeRecorder(context: context, settlement: settlement, slots: slots)
        let attempts = AttemptSupervisor(context: context, recorder: recorder)
        self.attempts = attempts
        let schedule = WakeSchedule(clock: clock)
        let requests = PreflightRequests()
        let dispatcher = Dispatcher(
            context: context, parallel: configuration.parallel, attempts: attempts, settlement: settlement,
            wakeUps: schedule, preflights: requests)
        // Weakly: the dispatcher holds what rings this doorbell.
        settlement.dispatch.connect { [weak dispatcher] in await dispatcher?.dispatch() }
        slots.connect(
            reserve: { [weak dispatcher] in await dispatcher?.reserveSlots() ?? 0 },
            claimed: { [weak dispatcher] result, count in await dispatcher?.claimed(result, reserved: count) })
        let queries = JobQueries(context: context, attempts: attempts)
        self.settlement = settlement
        self.dispatcher = dispatcher
        self.recorder = recorder
        self.queries = queries
        reconciler = Reconciler(context: context, attempts: attempts, recorder: recorder)
        commands = JobCommands(
            context: context, queries: queries, attempts: attempts, settlement: settlement, dispatcher: dispatcher)
        waits = WaitCoordinator(context: context, queries: queries, waiters: settlement.waiters, hub: settlement.hub)
        summaries = SessionSummary(context: context)
        wakeUps = WakeUpService(schedule: schedule, dispatcher: dispatcher)
        stallWatchdog = StallWatchdog(
            options: configuration.stalls, context: context, attempts: attempts, settlement: settlement)
        // Retention runs on one node at a time: here until the first heartbeat says otherwise.
        let leadership = Leadership(holds: cluster == nil)
        retention = RetentionService(options: configuration.retention, context: context, leadership: leadership)
        let scheduler = ScheduleService(
            options: configuration.schedules, context: context, dispatcher: dispatcher, settlement: settlement,
            leadership: leadership, wake: WakeSchedule(clock: clock))
        self.scheduler = scheduler
        clusterService = cluster.map { cluster in
            ClusterService(
                options: configuration.cluster, cluster: cluster, context: context, dispatcher: dispatcher,
                attempts: attempts, recorder: recorder, waiters: settlement.waiters, leadership: leadership,
                deliveries: settlement.deliveries, scheduler: scheduler)
        }
        preflights = PreflightService(
            options: configuration.preflight, context: context, requests: requests, dispatcher: dispatcher)
    }

    /// The engine's loops, for the daemon's `ServiceGroup`: wake-ups, the stall watchdog,
    /// retention, preflights and the scheduler, and on a shared store the cluster's. Each returns on
    /// graceful shutdown; none throws.
    public var services: [any Service] {
        [wakeUps, stallWatchdog, retention, preflights, scheduler] + (clusterService.map { [$0] } ?? [])
    }

    /// Calls `observer` whenever a change queues deliveries (the delivery worker's poke).
    public func setDeliveryObserver(_ observer: @escaping @Sendable () -> Void) {
        settlement.deliveries.connect { observer() }
    }

    /// The store's location, for `daemon status`.
    public var storeLocation: String { store.location }

    // MARK: - Lifetime

    /// Rebuilds the truth after a (re)start (``Reconciler``), prunes what the retention
    /// lets go, then fills the free slots. Call it before serving the API and before running
    /// ``services``.
    public func start() async throws {
        if let clusterService {
            // Attempts claimed from now on get this node's lease.
            try await clusterService.cluster.registerNode(
                configuration.worker, address: configuration.cluster.address, lease: configuration.cluster.lease,
                version: StintVersion.current, pid: Int64(ProcessInfo.processInfo.processIdentifier))
        }
        try await reconciler.reconcile()
        await retention.pruneExpired()
        await dispatcher.dispatch()
    }

    /// Stops retrying the outcomes the store could not take yet (the next start reads them
    /// again). The loops end with the `ServiceGroup`'s graceful shutdown; running jobs go on
    /// under their processes.
    public func shutdown() async {
        await recorder.shutdown()
    }

    /// Releases everyone waiting, for shutdown: they reconnect to the next daemon.
    public func releaseWaiters() async {
        await waits.releaseAll()
    }

    // MARK: - Jobs

    /// Validates and stores `specs` in one transaction, then wakes the dispatcher. A
    /// client scoped to a session adds jobs to that session only.
    public func add(_ specs: [JobSpec], scope: String? = nil) async throws -> AddResponse {
        try await commands.add(specs, scope: scope)
    }

    /// Starts queued jobs while slots are free. Re-entrant calls fold into the running one.
    public func dispatch() async {
        await dispatcher.dispatch()
    }

    /// One job with all its attempts.
    public func show(_ id: Int64, scope: String? = nil) async throws -> JobView {
        try await queries.show(id, scope: scope)
    }

    /// Jobs matching `filter`; a scoped client sees only its session's.
    public func list(_ filter: JobFilter, scope: String? = nil) async throws -> [JobView] {
        try await queries.list(filter, scope: scope)
    }

    /// How many jobs match `filter`, its limit aside, scoped as ``list(_:scope:)``.
    public func count(_ filter: JobFilter, scope: String? = nil) async throws -> Int {
        try await queries.count(filter, scope: scope)
    }

    /// The log of a job's attempt (the latest by default), for the API's log endpoint.
    public func logSource(_ id: Int64, attempt: Int?, scope: String? = nil) async throws -> LogSource {
        try await queries.logSource(id, attempt: attempt, scope: scope)
    }

    /// The daemons sharing the store; on a store of one host, this daemon alone.
    public func nodes() async throws -> NodesResponse {
        if let cluster = clusterService?.cluster { return NodesResponse(nodes: try await cluster.nodes(), shared: true) }
        let running = await attempts.count
        let now = clock.now()
        return NodesResponse(
            nodes: [
                NodeView(
                    node: configuration.worker.node, instance: configuration.worker.instance, address: configuration.cluster.address,
                    version: StintVersion.current, pid: Int64(ProcessInfo.processInfo.processIdentifier), startedAt: startedAt,
                    heartbeatAt: now, lease: 0, alive: true, stoppedAt: nil, running: running,
                    roles: [ClusterService.maintenanceRole])
            ], shared: false)
    }

    /// Whether job `id` has ended (or no longer exists).
    public func hasEnded(_ id: Int64) async -> Bool {
        await queries.hasEnded(id)
    }

    /// Jobs per state, for `daemon status`; a scoped client counts only its session's.
    public func counts(scope: String? = nil) async throws -> [String: Int] {
        try await queries.counts(scope: scope)
    }

    /// Returns when all of `ids` have ended or met `until` (one of them, with `any`), or
    /// when `timeout` runs out, with the reason.
    public func wait(_ request: WaitRequest, scope: String? = nil) async throws -> WaitResponse {
        try await waits.wait(request, scope: scope)
    }

    /// Cancels jobs: held or queued at once; running through their processes, which
    /// send SIGTERM to the whole tree and SIGKILL after `grace` seconds.
    public func stop(_ ids: [Int64], grace: Double?, scope: String? = nil) async -> [IDResult] {
        await commands.stop(ids, grace: grace, scope: scope)
    }

    /// Sends `signal` to every process of a running job's tree; the state does not change.
    public func signal(_ id: Int64, signal: Int32, scope: String? = nil) async throws -> JobView {
        try await commands.signal(id, signal: signal, scope: scope)
    }

    /// Applies `release` (held → queued) or `retry` (ended → queued) to each job.
    public func requeue(_ ids: [Int64], event: JobEvent, scope: String? = nil) async -> [IDResult] {
        await commands.requeue(ids, event: event, scope: scope)
    }

    /// Deletes ended jobs with their logs and run folders.
    public func remove(_ ids: [Int64], scope: String? = nil) async -> [IDResult] {
        await commands.remove(ids, scope: scope)
    }

    /// Deletes every job that ended at least `olderThan` seconds ago.
    public func prune(olderThan: Double?) async throws -> [Int64] {
        try await commands.prune(olderThan: olderThan)
    }

    /// Records a running job's progress.
    public func setProgress(_ id: Int64, _ request: ProgressRequest, scope: String?) async throws -> JobView {
        try await commands.setProgress(id, request, scope: scope)
    }

    /// Records a running job's checkpoint.
    public func setCheckpoint(_ id: Int64, _ request: CheckpointRequest, scope: String?) async throws -> JobView {
        try await commands.setCheckpoint(id, request, scope: scope)
    }

    // MARK: - Queues and events

    /// Every queue with its counts, breaker and preflight; scoped clients see no secrets.
    public func queues(scope: String? = nil) async throws -> [QueueView] {
        try await queries.queues(scope: scope)
    }

    /// Changes a queue's settings (creating it), then claims what the change allows.
    public func updateQueue(_ name: String, _ update: QueueUpdate) async throws -> QueueView {
        try await commands.updateQueue(name, update)
    }

    /// Recent events of a job, a queue, or all.
    public func events(job: Int64?, queue: String?, limit: Int) async throws -> [EventView] {
        try await queries.events(job: job, queue: queue, limit: limit)
    }

    /// Events above id `after`, oldest first; of `session`'s jobs only, when given. What the
    /// live stream (`GET /v1/events` as server-sent events) reads.
    public func events(after: Int64, session: String?, limit: Int) async throws -> [EventView] {
        try await store.events(after: after, session: session, limit: limit)
    }

    /// The id of the newest event; 0 when there is none.
    public func lastEventID() async throws -> Int64 {
        try await store.lastEventID()
    }

    /// Each queue's jobs by state, ready count and oldest ready time, for `/metrics`.
    public func queueGauges() async throws -> [String: QueueGauges] {
        try await store.queueGauges()
    }

    /// How many notifications wait to be acknowledged, in every session, for `/metrics`.
    public func pendingNotificationTotal() async throws -> Int {
        try await store.pendingNotificationTotal()
    }

    // MARK: - The outbox

    /// Pending notifications of `session` (all, with `nil`) above `after`, oldest first.
    public func notifications(session: String?, after: Int64, limit: Int) async throws -> NotificationList {
        try await store.notifications(session: session, after: after, limit: max(1, min(limit, 100_000)))
    }

    /// Acknowledges notifications; a scoped client only its session's.
    public func ack(_ ids: [Int64], scope: String?) async throws -> AckResponse {
        guard !ids.isEmpty else { throw StintError(.usage, "no notification ids to acknowledge") }
        return try await store.ack(ids, session: scope, now: clock.now())
    }

    /// A wake-up each time notifications of `session` (all, with `nil`) are written.
    public func subscribe(session: String?) async -> AsyncStream<Void> {
        await settlement.hub.subscribe(session: session)
    }

    /// A compact, bounded picture of a session for an agent's prompt.
    public func summary(session: String?) async throws -> SummaryView {
        try await summaries.summary(session: session)
    }
}
