import Foundation
import Logging
import StintCore
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
        /// Creates a configuration.
        public init(parallel: Int = ProcessInfo.processInfo.activeProcessorCount, killGrace: Double = 10) {
            self.parallel = max(1, parallel)
            self.killGrace = killGrace
        }
    }

    private struct RunningAttempt {
        var attempt: Int
        var shimPid: Int32
        var handle: ShimHandle
    }

    private let store: any JobStore
    private let launcher: ShimLauncher
    private let watcher = ShimWatcher()
    private let waiters = JobWaiters()
    private let logger: Logger
    private let host: String
    /// The engine's configuration.
    public nonisolated let configuration: Configuration
    /// The state folder layout.
    public nonisolated let paths: StintPaths

    private var running: [Int64: RunningAttempt] = [:]
    private var dispatching = false
    private var dispatchAgain = false

    /// Creates an engine over `store`, starting shims from `shimPath`.
    public init(
        store: any JobStore, paths: StintPaths, shimPath: String, configuration: Configuration,
        logger: Logger
    ) {
        self.store = store
        self.paths = paths
        self.configuration = configuration
        self.launcher = ShimLauncher(shimPath: shimPath, paths: paths, killGrace: configuration.killGrace)
        self.logger = logger
        self.host = ProcessInfo.processInfo.hostName
    }

    /// The store's location, for `daemon status`.
    public nonisolated var storeLocation: String { store.location }

    // MARK: - Start-up

    /// Rebuilds the truth after a (re)start, then fills the free slots.
    ///
    /// For each attempt the store still shows running: an exit record gives its true
    /// outcome; a shim that still holds its lock is re-attached; otherwise the attempt
    /// is `lost` — never a success.
    public func start() async throws {
        for claimed in try await store.runningAttempts() {
            let handle = ShimHandle(runDirectory: paths.runDirectory(job: claimed.id, attempt: claimed.attempt))
            if let pid = await Self.livePid(handle) {
                logger.info("re-attached to running job", metadata: ["job": "\(claimed.id)", "shim": "\(pid)"])
                track(job: claimed.id, attempt: claimed.attempt, shimPid: pid, handle: handle)
            } else {
                await conclude(job: claimed.id, attempt: claimed.attempt, handle: handle, shimPid: claimed.shimPid)
            }
        }
        await dispatch()
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

    /// Validates and stores `specs` in one transaction, then wakes the dispatcher.
    public func add(_ specs: [JobSpec]) async throws -> [Int64] {
        guard !specs.isEmpty else { throw StintError(.usage, "no jobs to add") }
        for (index, spec) in specs.enumerated() {
            do {
                try Self.validate(spec)
            } catch {
                guard specs.count > 1 else { throw error }
                throw StintError(error.code, "job \(index + 1) of \(specs.count): \(error.message)", hint: error.hint)
            }
        }
        let ids = try await store.insert(specs, now: Date())
        // The caller gets its ids as soon as they are durable; claiming and spawning
        // happen right after, on the engine, without holding up the answer. Nobody
        // awaits this task: `dispatch` records its own failures.
        Task { await self.dispatch() }
        return ids
    }

    private static func validate(_ spec: JobSpec) throws(StintError) {
        try spec.validate()
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
            let free = configuration.parallel - running.count
            guard free > 0 else { break }
            let claimed: [ClaimedJob]
            do {
                claimed = try await store.claim(limit: free, host: host, now: Date())
            } catch {
                logger.error("claim failed", metadata: ["error": "\(error)"])
                break
            }
            for job in claimed { await launch(job) }
            if claimed.count == free { dispatchAgain = true }
        } while dispatchAgain
    }

    private func launch(_ job: ClaimedJob) async {
        let handle = ShimHandle(runDirectory: paths.runDirectory(job: job.id, attempt: job.attempt))
        do {
            let pid = try launcher.launch(job: job.id, attempt: job.attempt, queue: job.queue, spec: job.spec)
            track(job: job.id, attempt: job.attempt, shimPid: pid, handle: handle)
        } catch {
            logger.error("cannot start shim", metadata: ["job": "\(job.id)", "error": "\(error)"])
            let outcome = AttemptOutcome(
                reason: .launch_error, endedAt: Date(), message: "cannot start stint-shim: \(error)")
            await record(job: job.id, attempt: job.attempt, outcome: outcome, shimPid: nil)
        }
    }

    private func track(job: Int64, attempt: Int, shimPid: Int32, handle: ShimHandle) {
        running[job] = RunningAttempt(attempt: attempt, shimPid: shimPid, handle: handle)
        watcher.watch(pid: shimPid) { [weak self] in
            guard let self else { return }
            // Unstructured on purpose: the watcher's queue must not wait for the store.
            // The engine awaits nothing here; `shimExited` records the outcome itself.
            Task { await self.shimExited(job: job, attempt: attempt) }
        }
    }

    private func shimExited(job: Int64, attempt: Int) async {
        guard let entry = running[job], entry.attempt == attempt else { return }
        running[job] = nil
        await conclude(job: job, attempt: attempt, handle: entry.handle, shimPid: entry.shimPid)
        await dispatch()
    }

    /// Records the outcome of an attempt whose shim is gone: its exit record, or `lost`.
    private func conclude(job: Int64, attempt: Int, handle: ShimHandle, shimPid: Int32?) async {
        let outcome: AttemptOutcome
        do {
            if let record = try handle.exitRecord() {
                outcome = record.outcome
            } else {
                outcome = AttemptOutcome(
                    reason: .lost, endedAt: Date(),
                    message: "the shim exited without an exit record; the true outcome is unknown")
            }
        } catch {
            outcome = AttemptOutcome(
                reason: .lost, endedAt: Date(), message: "unreadable exit record: \(error)")
        }
        await record(job: job, attempt: attempt, outcome: outcome, shimPid: shimPid ?? handle.pids?.shim)
    }

    private func record(job: Int64, attempt: Int, outcome: AttemptOutcome, shimPid: Int32?) async {
        do {
            let stored = try await store.finish(jobID: job, attempt: attempt, outcome: outcome, shimPid: shimPid)
            logger.debug("job ended", metadata: ["job": "\(job)", "state": "\(stored.state.rawValue)"])
            if stored.state.isTerminal { await jobEnded(stored) }
        } catch {
            logger.error("cannot record outcome", metadata: ["job": "\(job)", "error": "\(error)"])
        }
    }

    private func jobEnded(_ job: StoredJob) async {
        await waiters.jobEnded(job.id)
    }

    // MARK: - Queries

    /// One job with all its attempts.
    public func show(_ id: Int64) async throws -> JobView {
        guard let job = try await store.job(id) else { throw StintError.jobNotFound(id) }
        return view(job, withAttempts: true)
    }

    /// Jobs matching `filter`.
    public func list(_ filter: JobFilter) async throws -> [JobView] {
        try await store.list(filter).map { view($0, withAttempts: false) }
    }

    /// What the log of a job's attempt needs: where it is, its cap, and whether it ended.
    public func logSource(_ id: Int64, attempt: Int?) async throws -> LogSource {
        guard let job = try await store.job(id) else { throw StintError.jobNotFound(id) }
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

    /// Jobs per state, for `daemon status`.
    public func counts() async throws -> [String: Int] {
        var result: [String: Int] = [:]
        for state in JobState.allCases { result[state.rawValue] = 0 }
        for (state, count) in try await store.counts() { result[state.rawValue] = count }
        return result
    }

    // MARK: - Waiting

    /// Returns when all of `ids` have ended (or one, with `any`), or when `timeout` runs out.
    public func wait(_ request: WaitRequest) async throws -> WaitResponse {
        guard !request.ids.isEmpty else { throw StintError(.usage, "no job ids to wait for") }
        for id in request.ids where try await store.job(id) == nil { throw StintError.jobNotFound(id) }
        // Register before looking at the states, so an end in between is not missed.
        let token = await waiters.register(Set(request.ids), any: request.any)
        for id in request.ids where try await store.job(id)?.state.isTerminal ?? true {
            await waiters.jobEnded(id)
        }
        let done = await waiters.wait(token, timeout: request.timeout)
        return WaitResponse(done: done, jobs: try await views(request.ids))
    }

    /// Releases everyone waiting, for shutdown: they reconnect to the next daemon.
    public func releaseWaiters() async {
        await waiters.cancelAll()
    }

    // MARK: - Changing jobs

    /// Cancels jobs: held or queued at once; running through their shims, which
    /// send SIGTERM to the whole tree and SIGKILL after `grace` seconds.
    public func stop(_ ids: [Int64], grace: Double?) async -> [IDResult] {
        var results: [IDResult] = []
        for id in ids {
            results.append(await result(id) {
                // A job the store shows running may be between its claim and its shim's
                // start, or between its shim's exit and its recorded outcome: give those
                // steps (which run on this actor while we sleep) a moment to finish.
                for _ in 0..<500 {
                    if let entry = running[id] {
                        try entry.handle.stop(shimPid: entry.shimPid, grace: grace ?? configuration.killGrace)
                        return try await show(id)
                    }
                    guard let job = try await store.job(id) else { throw StintError.jobNotFound(id) }
                    if job.state != .running {
                        let cancelled = try await store.apply(.cancel, to: id, now: Date())
                        await jobEnded(cancelled)
                        return view(cancelled, withAttempts: false)
                    }
                    try await Task.sleep(for: .milliseconds(10))
                }
                throw StintError(.conflict, "job \(id) is starting or ending; try again")
            })
        }
        return results
    }

    /// Sends `signal` to every process of a running job's tree; the state does not change.
    public func signal(_ id: Int64, signal: Int32) async throws -> JobView {
        guard let entry = running[id] else {
            guard let job = try await store.job(id) else { throw StintError.jobNotFound(id) }
            throw StintError(.conflict, "job \(id) is \(job.state.rawValue), not running")
        }
        try entry.handle.forward(signal: signal, shimPid: entry.shimPid)
        return try await show(id)
    }

    /// Applies `release` (held → queued) or `retry` (ended → queued) to each job.
    public func requeue(_ ids: [Int64], event: JobEvent) async -> [IDResult] {
        var results: [IDResult] = []
        for id in ids {
            results.append(await result(id) {
                view(try await store.apply(event, to: id, now: Date()), withAttempts: false)
            })
        }
        await dispatch()
        return results
    }

    /// Deletes ended jobs with their logs and run folders.
    public func remove(_ ids: [Int64]) async -> [IDResult] {
        var results: [IDResult] = []
        for id in ids {
            results.append(await result(id) {
                guard let job = try await store.job(id) else { throw StintError.jobNotFound(id) }
                try await store.delete(id)
                removeFiles(of: job.id)
                return nil
            })
        }
        return results
    }

    /// Deletes every job that ended at least `olderThan` seconds ago.
    public func prune(olderThan: Double?) async throws -> [Int64] {
        let cutoff = Date().addingTimeInterval(-(olderThan ?? 0))
        let removed = try await store.prune(endedBefore: cutoff)
        for id in removed { removeFiles(of: id) }
        return removed
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
        let now = Date()
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
            } : nil
        return JobView(
            id: job.id, state: job.state, queue: job.queue, command: job.spec.displayCommand,
            argv: job.spec.resolvedArgv, shell: job.spec.shell != nil, cwd: job.spec.cwd,
            labels: job.spec.labels, session: job.spec.session, timeout: job.spec.timeout,
            outputCap: job.spec.outputCap ?? JobSpec.defaultOutputCap, createdAt: job.createdAt,
            startedAt: last?.startedAt, endedAt: last?.outcome?.endedAt ?? (job.state.isTerminal ? job.endedAt : nil),
            duration: duration, attempts: job.attemptCount, exitCode: last?.outcome?.exitCode,
            signal: last?.outcome?.signal, reason: last?.outcome?.reason,
            log: job.attemptCount > 0 ? paths.log(job: job.id, attempt: job.attemptCount) : nil,
            attemptList: attempts)
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
