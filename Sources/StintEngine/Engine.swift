import Foundation
import Logging
import StintCore
import StintPattern
import StintRunner
import StintStore

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's heart: claims queued jobs into free slots, starts their shims, learns
/// their outcomes, and wakes whoever waits for them.
///
/// Wake-ups are pushed: an `add` calls ``dispatch()`` in-process and a shim's exit
/// arrives through a pidfd, so nothing polls. The engine keeps no truth of its own
/// that the store and the shims' run folders cannot rebuild: ``start()`` reconciles
/// after a crash, and stopping the engine leaves running jobs running.
public actor Engine {
    /// How the engine runs.
    public struct Configuration: Sendable {
        /// How many jobs run at once. Default: the number of cores.
        public var parallel: Int
        /// Seconds between SIGTERM and SIGKILL for a timeout or a stop without `--grace`. Default 10.
        public var killGrace: Double
        /// Ended jobs are pruned this many seconds after they ended; 0 keeps them. Default 7 days.
        public var retention: Double
        /// Seconds between two looks at running jobs' output for stalls. Default 1.
        public var stallCheckInterval: Double
        /// The umask jobs start with; `nil`: the daemon's own. Default `nil`.
        public var jobUmask: mode_t?
        /// Creates a configuration.
        public init(
            parallel: Int = ProcessInfo.processInfo.activeProcessorCount, killGrace: Double = 10,
            retention: Double = Retention.defaultSeconds, stallCheckInterval: Double = 1, jobUmask: mode_t? = nil
        ) {
            self.parallel = max(1, parallel)
            self.killGrace = killGrace
            self.retention = retention
            self.stallCheckInterval = stallCheckInterval
            self.jobUmask = jobUmask
        }
    }

    private struct RunningAttempt {
        var attempt: Int
        var shimPid: Int32
        var handle: ShimHandle
        var spec: JobSpec
        var stall: StallTracker
    }

    let store: JobLedger
    private let launcher: ShimLauncher
    private let watcher = ShimWatcher()
    private let waiters = JobWaiters()
    private let notificationHub = NotificationHub()
    private let logger: Logger
    /// Recorded on every attempt this engine claims; only its node's attempts are reconciled.
    private let worker: WorkerIdentity
    /// The engine's configuration.
    public nonisolated let configuration: Configuration
    /// The state folder layout.
    public nonisolated let paths: StintPaths

    let clock: any StintClock
    private var running: [Int64: RunningAttempt] = [:]
    private var dispatching = false
    private var dispatchAgain = false
    /// The pending wake-up for the next delayed job, backoff, breaker pause or preflight expiry.
    private var wakeTask: Task<Void, Never>?
    private var wakeAt: Date?
    /// Queues whose preflight is running now.
    private var preflightsRunning: Set<String> = []
    private var maintenanceTask: Task<Void, Never>?
    private var lastRetentionRun: Date?
    /// Set at shutdown: condition waits return at once.
    private var waitersReleased = false
    /// Told when a change queued webhook or command-hook deliveries.
    private var deliveryObserver: (@Sendable () -> Void)?

    /// Creates an engine over `store`, starting shims from `shimPath`.
    public init(
        store: JobLedger, paths: StintPaths, shimPath: String, configuration: Configuration,
        clock: any StintClock = SystemClock(), logger: Logger
    ) {
        self.store = store
        self.clock = clock
        self.paths = paths
        self.configuration = configuration
        self.launcher = ShimLauncher(
            shimPath: shimPath, paths: paths, killGrace: configuration.killGrace, jobUmask: configuration.jobUmask)
        self.logger = logger
        self.worker = WorkerIdentity(node: ProcessInfo.processInfo.hostName)
    }

    /// Calls `observer` whenever a change queues deliveries (the delivery worker's poke).
    public func setDeliveryObserver(_ observer: @escaping @Sendable () -> Void) {
        deliveryObserver = observer
    }

    /// The store's location, for `daemon status`.
    public nonisolated var storeLocation: String { store.location }

    // MARK: - Start-up

    /// Rebuilds the truth after a (re)start, then fills the free slots.
    ///
    /// For each attempt the store still shows running: a shim that still holds its lock is
    /// re-attached; an attempt whose shim never ran (no run folder) goes back to the queue
    /// without using a retry; an exit record gives the true outcome; otherwise the job's
    /// leftover processes are ended and the attempt is `lost` — never a success. A job the
    /// engine cannot process is failed with the reason; it never keeps the daemon from
    /// starting.
    public func start() async throws {
        for claimed in try await store.runningAttempts(node: worker.node) {
            if let damage = claimed.damage {
                // Reconciled all the same (its processes are real), but never retried.
                logger.error("a running job's stored row cannot be read in full", metadata: ["job": "\(claimed.id)", "damage": "\(damage)"])
            }
            let handle = ShimHandle(runDirectory: paths.runDirectory(job: claimed.id, attempt: claimed.attempt))
            if let pid = await Self.livePid(handle) {
                logger.info("re-attached to running job", metadata: ["job": "\(claimed.id)", "shim": "\(pid)"])
                track(claimed, shimPid: pid, handle: handle)
            } else if await handle.neverStarted() {
                await unclaim(claimed, handle: handle)
            } else {
                await conclude(claimed, handle: handle, shimPid: claimed.shimPid)
            }
        }
        await pruneExpired()
        await dispatch()
        startMaintenance()
    }

    /// Puts a claimed attempt that never started back in the queue, its number and the
    /// job's retries untouched.
    private func unclaim(_ job: ClaimedJob, handle: ShimHandle) async {
        do {
            _ = try await store.unclaim(job: job.id, attempt: job.attempt, now: clock.now())
            try? FileManager.default.removeItem(atPath: handle.runDirectory)
            logger.notice(
                "claimed job never started; back in the queue", metadata: ["job": "\(job.id)", "attempt": "\(job.attempt)"])
        } catch {
            logger.error("cannot requeue a job that never started", metadata: ["job": "\(job.id)", "error": "\(error)"])
            await failUnprocessable(
                job.id, attempt: job.attempt, reason: "attempt \(job.attempt) never started and cannot be requeued: \(error)")
        }
    }

    /// Stops the engine's timers (the stall watchdog, retention and wake-ups). Running
    /// jobs go on under their shims.
    public func shutdown() {
        maintenanceTask?.cancel()
        wakeTask?.cancel()
        for task in pendingEndings.values { task.cancel() }
    }

    /// The pid of the shim still running in `handle`'s folder, if one is.
    private static func livePid(_ handle: ShimHandle) async -> Int32? {
        guard handle.isAlive else { return nil }
        // A shim writes its pid file right after starting the command; give a shim
        // caught in that instant a moment.
        for _ in 0..<100 {
            if let pids = handle.pids { return pids.shim }
            guard handle.isAlive else { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    // MARK: - Adding and dispatching

    /// Validates and stores `specs` in one transaction, then wakes the dispatcher. A
    /// client scoped to a session adds jobs to that session only.
    public func add(_ specs: [JobSpec], scope: String? = nil) async throws -> AddResponse {
        try AddRequest(jobs: specs).validate()
        var specs = specs
        for (index, spec) in specs.enumerated() {
            do {
                if let scope {
                    if let session = spec.session, session != scope {
                        throw StintError(.usage, "this client is scoped to session \(scope); cannot add a job to session \(session)")
                    }
                    specs[index].session = scope
                }
                if let after = spec.after, scope != nil {
                    for dependency in after { _ = try await visibleJob(dependency, scope: scope) }
                }
                try validate(specs[index])
            } catch let error as StintError {
                guard specs.count > 1 else { throw error }
                throw StintError(error.code, "job \(index + 1) of \(specs.count): \(error.message)", hint: error.hint)
            }
        }
        let inserted = try await store.insert(specs, now: clock.now())
        // A job whose dependency had already failed ended at once, notified in the insert.
        let endedAtOnce = zip(specs, inserted).filter { !$0.1.duplicate && $0.1.state == .cancelled }
        if !endedAtOnce.isEmpty {
            await notificationHub.wake(sessions: Set(endedAtOnce.map { $0.0.session }))
            deliveryObserver?()
        }
        // The caller gets its ids as soon as they are durable; claiming and spawning
        // happen right after, on the engine, without holding up the answer. Nobody
        // awaits this task: `dispatch` records its own failures.
        Task { await self.dispatch() }
        return AddResponse(
            ids: inserted.map(\.id), duplicates: inserted.filter(\.duplicate).map(\.id),
            states: inserted.map(\.state))
    }

    private func validate(_ spec: JobSpec) throws(StintError) {
        try spec.validate(now: clock.now(), argumentSpace: Self.argumentSpace)
        if let pattern = spec.transientPattern { _ = try BoundedPattern(pattern, option: "--transient-pattern") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: spec.cwd, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw StintError(.usage, "working directory does not exist: \(spec.cwd)")
        }
    }

    /// Starts queued jobs while slots are free. Re-entrant calls fold into the running one.
    public func dispatch() async {
        guard !dispatching else {
            dispatchAgain = true
            return
        }
        dispatching = true
        defer { dispatching = false }
        repeat {
            dispatchAgain = false
            let free = max(0, configuration.parallel - running.count)
            let result: ClaimResult
            do {
                result = try await store.claim(limit: free, worker: worker, now: clock.now())
            } catch {
                logger.error("claim failed", metadata: ["error": "\(error)"])
                break
            }
            for (queue, transition) in result.transitions {
                logger.notice(
                    "breaker \(transition.from.rawValue) → \(transition.to.rawValue)",
                    metadata: ["queue": "\(queue)", "reason": "\(transition.reason)"])
            }
            for failed in result.failed {
                logger.error(
                    "failed a job whose stored row cannot be read",
                    metadata: ["job": "\(failed.job.id)", "reason": "\(failed.job.endReason ?? "")"])
                await settled(failed)
            }
            for job in result.claimed { await launch(job) }
            for (queue, command) in result.preflightsDue { startPreflight(queue: queue, command: command) }
            scheduleWake(at: result.nextWake)
            if free > 0, result.claimed.count == free { dispatchAgain = true }
        } while dispatchAgain
    }

    /// The kernel's room for argv and the environment of one `execve` (`ARG_MAX`).
    static let argumentSpace: Int = {
        let value = sysconf(Int32(_SC_ARG_MAX))
        return value > 0 ? value : 131_072
    }()

    /// Makes sure ``dispatch()`` runs again at `date` (or earlier).
    private func scheduleWake(at date: Date?) {
        guard let date else { return }
        if let wakeAt, wakeAt <= date, wakeTask != nil { return }
        wakeTask?.cancel()
        wakeAt = date
        // Far-off wake-ups are taken a day at a time: a dispatch on waking sets the next.
        let delay = max(0.001, Limits.sleepable(date.timeIntervalSince(clock.now())))
        wakeTask = Task { [weak self] in
            try? await Task.sleep(for: .seconds(delay))
            guard !Task.isCancelled, let self else { return }
            await self.woke()
        }
    }

    private func woke() async {
        wakeTask = nil
        wakeAt = nil
        await dispatch()
    }

    private func launch(_ job: ClaimedJob) async {
        let handle = ShimHandle(runDirectory: paths.runDirectory(job: job.id, attempt: job.attempt))
        do {
            let pid = try launcher.launch(job: job.id, attempt: job.attempt, queue: job.queue, spec: job.spec)
            track(job, shimPid: pid, handle: handle)
        } catch {
            logger.error("cannot start shim", metadata: ["job": "\(job.id)", "error": "\(error)"])
            let outcome = AttemptOutcome(
                reason: .launch_error, endedAt: clock.now(), message: "cannot start stint-shim: \(error)")
            await record(job, outcome: outcome, shimPid: nil)
        }
    }

    private func track(_ job: ClaimedJob, shimPid: Int32, handle: ShimHandle) {
        let id = job.id
        let attempt = job.attempt
        running[id] = RunningAttempt(
            attempt: attempt, shimPid: shimPid, handle: handle, spec: job.spec,
            stall: StallTracker(stallAfter: job.spec.stallAfter ?? PromptDetector.defaultStallAfter, now: clock.now()))
        watcher.watch(pid: shimPid) { [weak self] status in
            guard let self else { return }
            // Unstructured on purpose: the watcher's queue must not wait for the store.
            // The engine awaits nothing here; `shimExited` records the outcome itself.
            Task { await self.shimExited(job: id, attempt: attempt, status: status) }
        }
    }

    private func shimExited(job: Int64, attempt: Int, status: ShimExitStatus?) async {
        guard let entry = running[job], entry.attempt == attempt else { return }
        running[job] = nil
        let claimed = ClaimedJob(id: job, attempt: attempt, queue: entry.spec.queueName, spec: entry.spec, shimPid: entry.shimPid, startedAt: clock.now())
        await conclude(claimed, handle: entry.handle, shimPid: entry.shimPid, status: status)
        await dispatch()
    }

    /// Records the outcome of an attempt whose shim is gone: its exit record, or `lost` once
    /// the job's leftover processes are ended (``LostAttempt``). If some cannot be ended, the
    /// attempt is not retried.
    private func conclude(_ job: ClaimedJob, handle: ShimHandle, shimPid: Int32?, status: ShimExitStatus? = nil) async {
        let missing: String
        do {
            if let exit = try handle.exitRecord() {
                await record(job, outcome: exit.outcome, shimPid: shimPid ?? handle.pids?.shim)
                return
            }
            missing = ShimExitStatus.describe(status)
        } catch {
            missing = "the shim's exit record is unreadable: \(error)"
        }
        let lost = await LostAttempt.investigate(handle, shimPid: shimPid, missing: missing)
        if let report = lost.report, !report.survivors.isEmpty {
            logger.error(
                "leftover processes of a job survived SIGKILL", metadata: ["job": "\(job.id)", "pids": "\(report.survivors)"])
        } else if let report = lost.report, !report.killed.isEmpty {
            logger.notice(
                "killed leftover processes of a job whose shim died", metadata: ["job": "\(job.id)", "pids": "\(report.killed)"])
        }
        let outcome = AttemptOutcome(reason: .lost, endedAt: clock.now(), message: lost.message)
        await record(job, outcome: outcome, shimPid: shimPid ?? handle.pids?.shim, retry: lost.mayRetry)
    }

    /// Classifies the attempt's outcome (transient or permanent), decides on a retry,
    /// and stores it all in one transaction with the breaker and the dependents.
    ///
    /// A store that cannot take the write now (`E_UNAVAILABLE`: a full disk) is tried again
    /// until it can (``retryRecord(_:queue:)``); a write the store refuses for good fails the
    /// job with the reason rather than leave it running.
    private func record(_ job: ClaimedJob, outcome: AttemptOutcome, shimPid: Int32?, retry: Bool = true) async {
        let policy = job.spec.retryPolicy
        let logPath = paths.log(job: job.id, attempt: job.attempt)
        let reader = LogReader(path: logPath, cap: job.spec.outputCap ?? JobSpec.defaultOutputCap)
        var transientMatch: PatternResult?
        if policy.needsPatternMatch(outcome), let pattern = policy.transientPattern {
            transientMatch = await Self.match(pattern, againstTailOf: reader)
        }
        let lastLines = Self.lines(reader.tail(lines: NotificationView.tailLines))
        let verdict = policy.classify(outcome, transientMatch: transientMatch)
        // A job whose row did not decode in full is not retried: its retry settings may be
        // among what was lost.
        let retryAt = retry && job.damage == nil
            ? verdict.flatMap {
                policy.retryAt(after: job.attempt, verdict: $0, now: clock.now(), jitter: Double.random(in: 0...1))
            } : nil
        let ending = AttemptEnding(
            jobID: job.id, attempt: job.attempt, outcome: outcome, verdict: verdict, retryAt: retryAt,
            shimPid: shimPid, outputTail: lastLines,
            logPath: FileManager.default.fileExists(atPath: logPath) ? logPath : nil)
        do {
            await finished(try await store.finish(ending), queue: job.queue)
        } catch let error as StintError where error.code == .unavailable {
            logger.error(
                "cannot record outcome yet; trying again until the store takes it",
                metadata: ["job": "\(job.id)", "error": "\(error)"])
            retryRecord(ending, queue: job.queue)
        } catch {
            logger.error("cannot record outcome", metadata: ["job": "\(job.id)", "error": "\(error)"])
            await failUnprocessable(
                job.id, attempt: job.attempt, reason: "the outcome of attempt \(job.attempt) (\(outcome.reason.rawValue)) cannot be stored: \(error)")
        }
    }

    /// After a stored ending: log, then wake whoever waits.
    private func finished(_ result: FinishResult, queue: String) async {
        logger.debug("attempt ended", metadata: ["job": "\(result.job.id)", "state": "\(result.job.state.rawValue)"])
        if let transition = result.transition {
            logger.notice(
                "breaker \(transition.from.rawValue) → \(transition.to.rawValue)",
                metadata: ["queue": "\(queue)", "reason": "\(transition.reason)"])
        }
        await settled(result)
    }

    /// Outcomes the store could not take yet, by job, each retried by its own task.
    private var pendingEndings: [Int64: Task<Void, Never>] = [:]

    /// Tries `ending` again, after 0.1 s, then twice as long each time up to 5 s
    /// (``StoreRetryBackoff``), until the store takes it. The job stays `running` meanwhile (which is true: its end is not on
    /// disk), so `wait` goes on waiting and returns the true outcome once it is stored.
    /// Nothing is lost if the daemon stops first: the exit record stays in the run folder and
    /// the next start's reconciliation reads it again (a `lost` outcome is found again the
    /// same way).
    private func retryRecord(_ ending: AttemptEnding, queue: String) {
        guard pendingEndings[ending.jobID] == nil else { return }
        // Unstructured: nobody awaits it. It ends when the ending is stored, or when the
        // engine shuts down (cancelled; the next start redoes it).
        let backoff = StoreRetryBackoff()
        pendingEndings[ending.jobID] = Task { [weak self] in
            var failures = 1
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(backoff.delay(afterFailures: failures)))
                guard let self, !Task.isCancelled else { return }
                if await self.retryFinish(ending, queue: queue) { return }
                failures += 1
            }
        }
    }

    /// One more try of a pending ending; true when it is settled (stored, or given up on).
    private func retryFinish(_ ending: AttemptEnding, queue: String) async -> Bool {
        do {
            let result = try await store.finish(ending)
            pendingEndings[ending.jobID] = nil
            logger.notice("recorded an outcome the store could not take before", metadata: ["job": "\(ending.jobID)"])
            await finished(result, queue: queue)
            await dispatch()
            return true
        } catch let error as StintError where error.code == .unavailable {
            return false
        } catch {
            pendingEndings[ending.jobID] = nil
            logger.error("cannot record outcome", metadata: ["job": "\(ending.jobID)", "error": "\(error)"])
            await failUnprocessable(
                ending.jobID, attempt: ending.attempt,
                reason: "the outcome of attempt \(ending.attempt) (\(ending.outcome.reason.rawValue)) cannot be stored: \(error)")
            return true
        }
    }

    /// Fails a job the engine cannot process, with `reason`, so that it neither runs with
    /// what could not be read nor stays `running` for ever.
    private func failUnprocessable(_ id: Int64, attempt: Int, reason: String) async {
        do {
            let result = try await store.failUnprocessable(job: id, attempt: attempt, reason: reason, now: clock.now())
            await settled(result)
        } catch {
            logger.error("cannot fail an unprocessable job", metadata: ["job": "\(id)", "error": "\(error)"])
        }
    }

    /// The lines of output matched against `--transient-pattern`.
    static let patternTailLines = 50

    /// Matches `--transient-pattern` against the last lines of the output, off the
    /// engine's executor and within the pattern's step budget.
    @concurrent
    private nonisolated static func match(_ pattern: String, againstTailOf reader: LogReader) async -> PatternResult {
        // Checked at `add`; a row from before that check that does not compile matches nothing.
        guard let compiled = try? BoundedPattern(pattern, option: "--transient-pattern") else { return .notMatched }
        return reader.tail(lines: patternTailLines).withUnsafeBytes { compiled.firstMatch(in: $0) }
    }

    /// Output bytes as lines, without the last line's newline and without empty trailing lines.
    static func lines(_ bytes: Data) -> [String] {
        var lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    /// Wakes the waiters of every job a change ended, and lets newly runnable jobs start.
    private func settled(_ result: FinishResult) async {
        if result.job.state.isTerminal { await waiters.jobEnded(result.job.id) }
        for id in result.cascaded { await waiters.jobEnded(id) }
        if result.deliveriesQueued { deliveryObserver?() }
        if !result.notifications.isEmpty { await notificationHub.publish(result.notifications) }
        if result.job.state == .queued || !result.unblocked.isEmpty { Task { await self.dispatch() } }
    }

    // MARK: - Queries

    /// Job `id`, when it exists and a client scoped to `scope` may see it; otherwise
    /// `E_NOT_FOUND`, so that a scoped client cannot even learn that it exists.
    func visibleJob(_ id: Int64, scope: String?) async throws -> StoredJob {
        guard let job = try await store.job(id), scope == nil || job.spec.session == scope else {
            throw StintError.jobNotFound(id)
        }
        return job
    }

    /// One job with all its attempts.
    public func show(_ id: Int64, scope: String? = nil) async throws -> JobView {
        view(try await visibleJob(id, scope: scope), withAttempts: true)
    }

    /// Jobs matching `filter`; a scoped client sees only its session's.
    public func list(_ filter: JobFilter, scope: String? = nil) async throws -> [JobView] {
        var filter = filter
        if let scope {
            if let session = filter.session, session != scope { return [] }
            filter.session = scope
        }
        return try await store.list(filter).map { view($0, withAttempts: false) }
    }

    /// How many jobs match `filter`, its limit aside, scoped as ``list(_:scope:)``.
    public func count(_ filter: JobFilter, scope: String? = nil) async throws -> Int {
        var filter = filter
        if let scope {
            if let session = filter.session, session != scope { return 0 }
            filter.session = scope
        }
        return try await store.count(filter)
    }

    /// What the log of a job's attempt needs: where it is, its cap, and whether it ended.
    public func logSource(_ id: Int64, attempt: Int?, scope: String? = nil) async throws -> LogSource {
        let job = try await visibleJob(id, scope: scope)
        let number = attempt ?? job.attemptCount
        guard number >= 1, number <= job.attemptCount else {
            if job.attemptCount == 0 {
                return LogSource(job: id, attempt: 0, reader: nil, runDirectory: nil)
            }
            throw StintError(.notFound, "job \(id) has no attempt \(number)")
        }
        return LogSource(
            job: id, attempt: number,
            reader: LogReader(path: paths.log(job: id, attempt: number), cap: job.spec.outputCap ?? 0),
            runDirectory: paths.runDirectory(job: id, attempt: number))
    }

    /// Whether job `id` has ended (or no longer exists).
    public func hasEnded(_ id: Int64) async -> Bool {
        if running[id] != nil { return false }
        guard let job = try? await store.job(id) else { return true }
        return job.state.isTerminal
    }

    /// Jobs per state, for `daemon status`; a scoped client counts only its session's.
    public func counts(scope: String? = nil) async throws -> [String: Int] {
        var result: [String: Int] = [:]
        for state in JobState.allCases { result[state.rawValue] = 0 }
        for (state, count) in try await store.counts(session: scope) { result[state.rawValue] = count }
        return result
    }

    // MARK: - Waiting

    /// Seconds between two looks at a job's state and log for `wait --until` conditions.
    static let conditionTick = 0.05

    /// Returns when all of `ids` have ended or met `until` (one of them, with `any`), or
    /// when `timeout` runs out, with the reason.
    public func wait(_ request: WaitRequest, scope: String? = nil) async throws -> WaitResponse {
        try request.validate()
        for id in request.ids { _ = try await visibleJob(id, scope: scope) }
        let until = request.until ?? .end
        guard until != .end else { return try await waitForEnd(request) }
        return try await waitForCondition(request, until: until)
    }

    /// Waits for a condition off the engine's executor: reading logs and matching a
    /// user's pattern never hold the engine, so other clients are answered meanwhile.
    @concurrent
    private nonisolated func waitForCondition(_ request: WaitRequest, until: WaitUntil) async throws -> WaitResponse {
        var probes = try request.ids.map { id throws(StintError) in try ConditionProbe(id: id, until: until) }
        let deadline = request.timeout.map { clock.now().addingTimeInterval($0) }
        var reasons = [WaitReason?](repeating: nil, count: request.ids.count)
        while true {
            let now = clock.now()
            for index in probes.indices where reasons[index] == nil {
                guard let job = try await store.job(probes[index].id) else {
                    throw StintError.jobNotFound(probes[index].id)
                }
                reasons[index] = try probes[index].check(job, paths: paths, now: now)
            }
            let met = reasons.compactMap { $0 }
            if request.any ? !met.isEmpty : met.count == reasons.count {
                let jobs = try await views(request.ids)
                let first = reasons.firstIndex { $0 != nil } ?? 0
                return WaitResponse(
                    done: true, jobs: jobs, reason: request.any ? reasons[first] : Self.overall(reasons),
                    reasons: reasons, match: probes.compactMap(\.match).first)
            }
            if let deadline, clock.now() >= deadline { break }
            if await waitersReleased || Task.isCancelled { break }
            let pause = min(Self.conditionTick, deadline.map { max(0.001, $0.timeIntervalSince(clock.now())) } ?? Self.conditionTick)
            try? await Task.sleep(for: .seconds(pause))
        }
        return WaitResponse(
            done: false, jobs: try await views(request.ids), reason: .waitTimeout, reasons: reasons,
            match: probes.compactMap(\.match).first)
    }

    private func waitForEnd(_ request: WaitRequest) async throws -> WaitResponse {
        // Register before looking at the states, so an end in between is not missed.
        let token = await waiters.register(Set(request.ids), any: request.any)
        for id in request.ids where try await store.job(id)?.state.isTerminal ?? true {
            await waiters.jobEnded(id)
        }
        let done = await waiters.wait(token, timeout: request.timeout)
        let jobs = try await views(request.ids)
        let reasons = jobs.map { job in
            job.state.isTerminal ? WaitReason.ended(state: job.state, reason: job.reason) : nil
        }
        let reason: WaitReason
        if !done {
            reason = .waitTimeout
        } else if request.any {
            reason = reasons.compactMap { $0 }.first ?? .waitTimeout
        } else {
            reason = Self.overall(reasons)
        }
        return WaitResponse(done: done, jobs: jobs, reason: reason, reasons: reasons)
    }

    /// The reason of a wait on several jobs: the first one (in the order asked) that is
    /// not `succeeded`, else `succeeded`.
    static func overall(_ reasons: [WaitReason?]) -> WaitReason {
        for reason in reasons {
            guard let reason else { return .waitTimeout }
            if reason != .succeeded { return reason }
        }
        return .succeeded
    }

    /// Releases everyone waiting, for shutdown: they reconnect to the next daemon.
    public func releaseWaiters() async {
        waitersReleased = true
        await waiters.cancelAll()
        await notificationHub.finishAll()
    }

    // MARK: - Changing jobs

    /// Cancels jobs: held or queued at once; running through their shims, which
    /// send SIGTERM to the whole tree and SIGKILL after `grace` seconds.
    public func stop(_ ids: [Int64], grace: Double?, scope: String? = nil) async -> [IDResult] {
        var results: [IDResult] = []
        for id in ids {
            results.append(await result(id) {
                _ = try await visibleJob(id, scope: scope)
                // A job the store shows running may be between its claim and its shim's
                // start, or between its shim's exit and its recorded outcome: give those
                // steps (which run on this actor while we sleep) a moment to finish.
                for _ in 0..<500 {
                    if let entry = running[id] {
                        // Durable first: however the attempt ends now, it is not retried.
                        try await store.requestStop(id)
                        do {
                            try entry.handle.stop(shimPid: entry.shimPid, grace: grace ?? configuration.killGrace)
                        } catch where !entry.handle.isAlive {
                            // The shim exited a moment ago and its outcome is on its way to
                            // the store, where the stop request turns a failure into a
                            // cancellation: nothing left to signal.
                        }
                        return try await show(id)
                    }
                    guard let job = try await store.job(id) else { throw StintError.jobNotFound(id) }
                    if job.state != .running {
                        do {
                            let cancelled = try await store.apply(.cancel, to: id, now: clock.now())
                            await settled(cancelled)
                            return view(cancelled.job, withAttempts: false)
                        } catch let error as StintError where error.code == .conflict {
                            // Claimed between the read and the cancel: stop it as a running job.
                            guard try await store.job(id)?.state == .running else { throw error }
                        }
                    }
                    try await Task.sleep(for: .milliseconds(10))
                }
                throw StintError(.conflict, "job \(id) is starting or ending; try again")
            })
        }
        return results
    }

    /// Sends `signal` to every process of a running job's tree; the state does not change.
    public func signal(_ id: Int64, signal: Int32, scope: String? = nil) async throws -> JobView {
        _ = try await visibleJob(id, scope: scope)
        guard let entry = running[id] else {
            guard let job = try await store.job(id) else { throw StintError.jobNotFound(id) }
            throw StintError(.conflict, "job \(id) is \(job.state.rawValue), not running")
        }
        try entry.handle.forward(signal: signal, shimPid: entry.shimPid)
        return try await show(id)
    }

    /// Applies `release` (held → queued) or `retry` (ended → queued) to each job.
    public func requeue(_ ids: [Int64], event: JobEvent, scope: String? = nil) async -> [IDResult] {
        var results: [IDResult] = []
        for id in ids {
            results.append(await result(id) {
                _ = try await visibleJob(id, scope: scope)
                return view(try await store.apply(event, to: id, now: clock.now()).job, withAttempts: false)
            })
        }
        await dispatch()
        return results
    }

    /// Deletes ended jobs with their logs and run folders.
    public func remove(_ ids: [Int64], scope: String? = nil) async -> [IDResult] {
        var results: [IDResult] = []
        for id in ids {
            results.append(await result(id) {
                let job = try await visibleJob(id, scope: scope)
                try await store.delete(id)
                removeFiles(of: job.id)
                return nil
            })
        }
        return results
    }

    /// Deletes every job that ended at least `olderThan` seconds ago.
    public func prune(olderThan: Double?) async throws -> [Int64] {
        let cutoff = clock.now().addingTimeInterval(-(olderThan ?? 0))
        let removed = try await store.prune(endedBefore: cutoff)
        for id in removed { removeFiles(of: id) }
        return removed
    }

    /// Prunes jobs that ended longer than the retention ago.
    private func pruneExpired() async {
        let now = clock.now()
        lastRetentionRun = now
        guard let cutoff = Retention.cutoff(now: now, retention: configuration.retention) else { return }
        do {
            let removed = try await store.prune(endedBefore: cutoff)
            for id in removed { removeFiles(of: id) }
            if !removed.isEmpty {
                logger.info("pruned ended jobs past the retention", metadata: ["count": "\(removed.count)"])
            }
        } catch {
            logger.error("retention prune failed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Maintenance: stalls and retention

    /// How often the retention prune runs: hourly.
    static let retentionInterval: Double = 3600

    private func startMaintenance() {
        maintenanceTask?.cancel()
        let interval = configuration.stallCheckInterval
        maintenanceTask = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(interval))
                guard let self else { return }
                await self.maintain()
            }
        }
    }

    private func maintain() async {
        await checkStalls()
        if let last = lastRetentionRun, clock.now().timeIntervalSince(last) < Self.retentionInterval { return }
        await pruneExpired()
    }

    /// Flags running jobs whose output stopped growing at an interactive prompt.
    private func checkStalls() async {
        let now = clock.now()
        for (id, entry) in running {
            var tracker = entry.stall
            guard tracker.stallAfter > 0 else { continue }
            let reader = LogReader(
                path: paths.log(job: id, attempt: entry.attempt), cap: entry.spec.outputCap ?? JobSpec.defaultOutputCap)
            guard tracker.observe(size: reader.streamLength(), now: now) else {
                running[id]?.stall = tracker
                continue
            }
            let line = PromptDetector.lastLine(of: String(decoding: reader.tail(lines: 1), as: UTF8.self))
            let stalled = tracker.check(lastLine: line)
            running[id]?.stall = tracker
            guard stalled, let line else { continue }
            logger.notice("job stalled at a prompt", metadata: ["job": "\(id)", "line": "\(line)"])
            do {
                let notifications = try await store.markStalled(job: id, attempt: entry.attempt, at: now, line: line)
                await notificationHub.publish(notifications)
                // A stall may have queued a webhook delivery (the job's or its queue's): the worker looks.
                deliveryObserver?()
            } catch {
                logger.error("cannot record a stall", metadata: ["job": "\(id)", "error": "\(error)"])
            }
        }
    }

    // MARK: - Queues

    /// Every queue with its counts, breaker and preflight. A client scoped to a session
    /// counts only its session's jobs and sees no hook, preflight command or output, nor
    /// the breaker's probe (a job of whatever session): these may carry secrets.
    public func queues(scope: String? = nil) async throws -> [QueueView] {
        let queues = try await store.queues(now: clock.now(), session: scope)
        guard scope != nil else { return queues }
        return queues.map { queue in
            var queue = queue
            queue.notify = queue.notify.map { _ in "(hidden)" }
            queue.onEnd = queue.onEnd.map { _ in "(hidden)" }
            if var preflight = queue.preflight {
                preflight.command = "(hidden)"
                preflight.reason = preflight.reason.map { _ in "(hidden)" }
                queue.preflight = preflight
            }
            queue.breaker.probeJob = nil
            return queue
        }
    }

    /// Changes a queue's settings (creating it), then claims what the change allows.
    public func updateQueue(_ name: String, _ update: QueueUpdate) async throws -> QueueView {
        try QueueName.validate(name)
        try update.validate()
        let view = try await store.updateQueue(name, update, now: clock.now())
        await dispatch()
        return view
    }

    /// Recent events of a job, a queue, or all.
    public func events(job: Int64?, queue: String?, limit: Int) async throws -> [EventView] {
        try await store.events(job: job, queue: queue, limit: limit)
    }

    /// Runs a queue's preflight in the background; its result is stored, then claims resume.
    private func startPreflight(queue: String, command: String) {
        guard !preflightsRunning.contains(queue) else { return }
        preflightsRunning.insert(queue)
        let directory = paths.home
        let scratch = "\(paths.run)/preflight-\(queue).out"
        Task { [weak self] in
            let result = await PreflightRunner.run(command, directory: directory, scratch: scratch)
            await self?.preflightFinished(queue: queue, passed: result.passed, reason: result.reason)
        }
    }

    private func preflightFinished(queue: String, passed: Bool, reason: String?) async {
        preflightsRunning.remove(queue)
        if !passed {
            logger.notice("preflight failed", metadata: ["queue": "\(queue)", "reason": "\(reason ?? "")"])
        }
        do {
            try await store.recordPreflight(
                queue: queue, status: PreflightStatus(passed: passed, checkedAt: clock.now(), reason: reason))
        } catch {
            logger.error("cannot record a preflight", metadata: ["queue": "\(queue)", "error": "\(error)"])
        }
        await dispatch()
    }

    /// Deletes every attempt's log (with any tail segments) and run folder of job `id`.
    private func removeFiles(of id: Int64) {
        let manager = FileManager.default
        for folder in [paths.logs, paths.run] {
            let names = (try? manager.contentsOfDirectory(atPath: folder)) ?? []
            for name in names where name.hasPrefix("\(id).") {
                try? manager.removeItem(atPath: "\(folder)/\(name)")
            }
        }
    }

    private func result(_ id: Int64, _ body: () async throws -> JobView?) async -> IDResult {
        do {
            return IDResult(id: id, job: try await body())
        } catch let error as StintError {
            return IDResult(id: id, error: error)
        } catch {
            return IDResult(id: id, error: StintError(.internal, "\(error)"))
        }
    }

    // MARK: - Views

    private func views(_ ids: [Int64]) async throws -> [JobView] {
        var result: [JobView] = []
        for id in ids {
            guard let job = try await store.job(id) else { throw StintError.jobNotFound(id) }
            result.append(view(job, withAttempts: false))
        }
        return result
    }

    private func view(_ job: StoredJob, withAttempts: Bool) -> JobView {
        let last = job.attempts.last
        let now = clock.now()
        let duration = last.map { attempt in
            (attempt.outcome?.endedAt ?? now).timeIntervalSince(attempt.outcome?.startedAt ?? attempt.startedAt)
        }
        let attempts = withAttempts
            ? job.attempts.map { attempt in
                AttemptView(
                    number: attempt.number, startedAt: attempt.startedAt, endedAt: attempt.outcome?.endedAt,
                    exitCode: attempt.outcome?.exitCode, signal: attempt.outcome?.signal,
                    reason: attempt.outcome?.reason, message: attempt.outcome?.message, host: attempt.host,
                    shimPid: attempt.shimPid ?? (running[job.id]?.attempt == attempt.number ? running[job.id]?.shimPid : nil),
                    peakRssBytes: attempt.outcome?.peakRssBytes, outputBytes: attempt.outcome?.outputBytes,
                    droppedBytes: attempt.outcome?.droppedBytes,
                    log: paths.log(job: job.id, attempt: attempt.number))
                    .with(attempt)
            } : nil
        var view = JobView(
            id: job.id, state: job.state, queue: job.queue, command: job.spec.displayCommand,
            argv: job.spec.resolvedArgv, shell: job.spec.shell != nil, cwd: job.spec.cwd,
            labels: job.spec.labels, session: job.spec.session, timeout: job.spec.timeout,
            outputCap: job.spec.outputCap ?? JobSpec.defaultOutputCap, createdAt: job.createdAt,
            startedAt: last?.startedAt, endedAt: last?.outcome?.endedAt ?? (job.state.isTerminal ? job.endedAt : nil),
            duration: duration, attempts: job.attemptCount, exitCode: last?.outcome?.exitCode,
            signal: last?.outcome?.signal, reason: last?.outcome?.reason,
            log: job.attemptCount > 0 ? paths.log(job: job.id, attempt: job.attemptCount) : nil,
            attemptList: attempts)
        view.priority = job.priority
        if !job.state.isTerminal, job.state != .running, let runAt = job.runAt, runAt > now { view.runAt = runAt }
        view.after = job.spec.after
        if job.pendingDependencies > 0, !job.state.isTerminal { view.waitingFor = job.pendingDependencies }
        view.unique = job.spec.unique
        view.retries = job.spec.retries ?? 0
        view.endReason = job.endReason
        view.progress = job.progress
        view.checkpoint = job.checkpoint
        view.failureClass = last?.verdict?.failureClass
        view.classReason = last?.verdict?.reason
        if job.state == .running {
            view.stalledAt = last?.stalledAt
            view.stallLine = last?.stallLine
            if job.stopRequested { view.stopRequested = true }
            if let entry = running[job.id], entry.handle.stopDeferred { view.stopDeferred = true }
        }
        return view
    }
}

extension AttemptView {
    fileprivate func with(_ attempt: StoredAttempt) -> AttemptView {
        var view = self
        view.failureClass = attempt.verdict?.failureClass
        view.classReason = attempt.verdict?.reason
        view.retryAt = attempt.retryAt
        view.stalledAt = attempt.stalledAt
        view.stallLine = attempt.stallLine
        return view
    }
}

/// Where one attempt's log is, for the API's log endpoint.
public struct LogSource: Sendable {
    /// The job.
    public var job: Int64
    /// The attempt (0: the job has not started yet).
    public var attempt: Int
    /// Reads the log; `nil` before the first attempt.
    public var reader: LogReader?
    /// The attempt's run folder, where the exit record appears.
    public var runDirectory: String?
}

// MARK: - Progress and checkpoints

extension Engine {
    /// Records a running job's progress.
    public func setProgress(_ id: Int64, _ request: ProgressRequest, scope: String?) async throws -> JobView {
        try request.validate()
        _ = try await visibleJob(id, scope: scope)
        try await store.setProgress(id, request, now: clock.now())
        return try await show(id, scope: scope)
    }

    /// Records a running job's checkpoint.
    public func setCheckpoint(_ id: Int64, _ request: CheckpointRequest, scope: String?) async throws -> JobView {
        try request.validate()
        _ = try await visibleJob(id, scope: scope)
        try await store.setCheckpoint(id, request.value, now: clock.now())
        return try await show(id, scope: scope)
    }
}

// MARK: - The outbox

extension Engine {
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
        await notificationHub.subscribe(session: session)
    }
}
