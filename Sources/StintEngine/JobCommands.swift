import Foundation
import StintCore
import StintPattern
import StintStore

#if canImport(Glibc)
    import Glibc
#endif

/// What the API asks the engine to change: jobs added, stopped, signalled, requeued,
/// removed; queues set; progress and checkpoints recorded.
struct JobCommands: Sendable {
    let context: EngineContext
    let queries: JobQueries
    let attempts: AttemptSupervisor
    let settlement: Settlement
    let dispatcher: Dispatcher

    /// The kernel's room for argv and the environment of one `execve` (`ARG_MAX`).
    static let argumentSpace: Int = {
        let value = sysconf(Int32(_SC_ARG_MAX))
        return value > 0 ? value : 131_072
    }()

    /// Validates and stores `specs` in one transaction, then wakes the dispatcher. A
    /// client scoped to a session adds jobs to that session only.
    func add(_ specs: [JobSpec], scope: String?) async throws -> AddResponse {
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
                    for dependency in after { _ = try await queries.visibleJob(dependency, scope: scope) }
                }
                try validate(specs[index])
            } catch let error as StintError {
                guard specs.count > 1 else { throw error }
                throw StintError(error.code, "job \(index + 1) of \(specs.count): \(error.message)", hint: error.hint)
            }
        }
        // The slots free now are claimed in the insert's own transaction: a job added while
        // one is free starts with one commit.
        let dispatcher = dispatcher
        let slots = await dispatcher.reserveSlots()
        let now = context.clock.now()
        let inserted: [InsertedJob]
        let claim: ClaimResult?
        do {
            (inserted, claim) = try await context.store.insert(
                specs, now: now, thenClaim: slots > 0 ? ClaimRequest(limit: slots, worker: context.worker, now: now) : nil)
        } catch {
            Task { await dispatcher.claimed(nil, reserved: slots) }
            throw error
        }
        // A job whose dependency had already failed ended at once, notified in the insert.
        let endedAtOnce = zip(specs, inserted).filter { !$0.1.duplicate && $0.1.state == .cancelled }
        if !endedAtOnce.isEmpty {
            await settlement.hub.wake(sessions: Set(endedAtOnce.map { $0.0.session }))
            await settlement.deliveries.ring()
        }
        // The caller gets its ids as soon as they are durable; spawning happens right after,
        // without holding up the answer. Nobody awaits this task: launches record their
        // own failures.
        Task { await dispatcher.claimed(claim, reserved: slots) }
        return AddResponse(
            ids: inserted.map(\.id), duplicates: inserted.filter(\.duplicate).map(\.id), states: inserted.map(\.state))
    }

    private func validate(_ spec: JobSpec) throws(StintError) {
        try spec.validate(now: context.clock.now(), argumentSpace: Self.argumentSpace)
        if let pattern = spec.transientPattern { _ = try BoundedPattern(pattern, option: "--transient-pattern") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: spec.cwd, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StintError(.usage, "working directory does not exist: \(spec.cwd)")
        }
    }

    /// Cancels jobs: held or queued at once; running through their processes, which
    /// send SIGTERM to the whole tree and SIGKILL after `grace` seconds.
    func stop(_ ids: [Int64], grace: Double?, scope: String?) async -> [IDResult] {
        var results: [IDResult] = []
        for id in ids {
            results.append(await result(id) { try await stop(id, grace: grace, scope: scope) })
        }
        return results
    }

    private func stop(_ id: Int64, grace: Double?, scope: String?) async throws -> JobView {
        _ = try await queries.visibleJob(id, scope: scope)
        let store = context.store
        // A job the store shows running may be between its claim and its process's start,
        // or between its process's exit and its recorded outcome: give those steps a moment
        // to finish. They run on the engine's actors, not on a clock, so this waits in
        // elapsed time (at most 5 s).
        for _ in 0..<500 {
            if let entry = await attempts.entry(id) {
                // Durable first: however the attempt ends now, it is not retried.
                try await store.requestStop(id)
                do {
                    try context.processes.stop(entry.id, pid: entry.pid, grace: grace)
                } catch where !context.processes.isAlive(entry.id) {
                    // The process exited a moment ago and its outcome is on its way to the
                    // store, where the stop request turns a failure into a cancellation:
                    // nothing left to signal.
                }
                return try await queries.show(id, scope: nil)
            }
            guard let job = try await store.job(id) else { throw StintError.jobNotFound(id) }
            if let (cluster, attempt) = remoteAttempt(of: job) {
                // Another node runs it: the stop is durable here, the signal goes through the
                // store to that node (or, if it is down, its attempt is rescued as cancelled).
                try await store.requestStop(id)
                try await cluster.requestControl(
                    ControlRequest(node: attempt.host, job: id, attempt: attempt.number, action: .stop(grace: grace)))
                return try await queries.show(id, scope: nil)
            }
            if job.state != .running {
                do {
                    let cancelled = try await store.apply(.cancel, to: id, now: context.clock.now())
                    await settlement.settled(cancelled)
                    return queries.view(cancelled.job, withAttempts: false, running: nil)
                } catch let error as StintError where error.code == .conflict {
                    // Claimed between the read and the cancel: stop it as a running job.
                    guard try await store.job(id)?.state == .running else { throw error }
                }
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw StintError(.conflict, "job \(id) is starting or ending; try again")
    }

    /// Sends `signal` to every process of a running job's tree; the state does not change.
    func signal(_ id: Int64, signal: Int32, scope: String?) async throws -> JobView {
        _ = try await queries.visibleJob(id, scope: scope)
        guard let entry = await attempts.entry(id) else {
            guard let job = try await context.store.job(id) else { throw StintError.jobNotFound(id) }
            if let (cluster, attempt) = remoteAttempt(of: job) {
                try await cluster.requestControl(
                    ControlRequest(node: attempt.host, job: id, attempt: attempt.number, action: .signal(signal)))
                return try await queries.show(id, scope: nil)
            }
            throw StintError(.conflict, "job \(id) is \(job.state.rawValue), not running")
        }
        try context.processes.signal(entry.id, pid: entry.pid, signal: signal)
        return try await queries.show(id, scope: nil)
    }

    /// The open attempt of a running job that another node runs, on a shared store.
    private func remoteAttempt(of job: StoredJob) -> (any ClusterStore, StoredAttempt)? {
        guard job.state == .running, let cluster = context.cluster, let attempt = job.attempts.last, attempt.outcome == nil,
            attempt.host != context.worker.node
        else { return nil }
        return (cluster, attempt)
    }

    /// Applies `release` (held → queued) or `retry` (ended → queued) to each job.
    func requeue(_ ids: [Int64], event: JobEvent, scope: String?) async -> [IDResult] {
        var results: [IDResult] = []
        for id in ids {
            results.append(
                await result(id) {
                    _ = try await queries.visibleJob(id, scope: scope)
                    let changed = try await context.store.apply(event, to: id, now: context.clock.now())
                    return queries.view(changed.job, withAttempts: false, running: nil)
                })
        }
        await dispatcher.dispatch()
        return results
    }

    /// Deletes ended jobs with their logs and run folders.
    func remove(_ ids: [Int64], scope: String?) async -> [IDResult] {
        var results: [IDResult] = []
        for id in ids {
            results.append(
                await result(id) {
                    let job = try await queries.visibleJob(id, scope: scope)
                    try await context.store.delete(id)
                    context.processes.removeFiles(ofJob: job.id)
                    return nil
                })
        }
        return results
    }

    /// Deletes every job that ended at least `olderThan` seconds ago, with its files.
    func prune(olderThan: Double?) async throws -> [Int64] {
        let cutoff = context.clock.now().addingTimeInterval(-(olderThan ?? 0))
        let removed = try await context.store.prune(endedBefore: cutoff)
        for id in removed { context.processes.removeFiles(ofJob: id) }
        return removed
    }

    /// Changes a queue's settings (creating it), then claims what the change allows.
    func updateQueue(_ name: String, _ update: QueueUpdate) async throws -> QueueView {
        try QueueName.validate(name)
        try update.validate()
        let view = try await context.store.updateQueue(name, update, now: context.clock.now())
        await dispatcher.dispatch()
        return view
    }

    /// Records a running job's progress.
    func setProgress(_ id: Int64, _ request: ProgressRequest, scope: String?) async throws -> JobView {
        try request.validate()
        _ = try await queries.visibleJob(id, scope: scope)
        try await context.store.setProgress(id, request, now: context.clock.now())
        return try await queries.show(id, scope: scope)
    }

    /// Records a running job's checkpoint.
    func setCheckpoint(_ id: Int64, _ request: CheckpointRequest, scope: String?) async throws -> JobView {
        try request.validate()
        _ = try await queries.visibleJob(id, scope: scope)
        try await context.store.setCheckpoint(id, request.value, now: context.clock.now())
        return try await queries.show(id, scope: scope)
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
}
