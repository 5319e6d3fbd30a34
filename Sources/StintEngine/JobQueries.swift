import Foundation
import StintCore
import StintStore

/// What the API reads: jobs as views, counts, queues, events and where logs are, each
/// scoped to the caller's session.
struct JobQueries: Sendable {
    let context: EngineContext
    let attempts: AttemptSupervisor

    /// Job `id`, when it exists and a client scoped to `scope` may see it; otherwise
    /// `E_NOT_FOUND`, so that a scoped client cannot even learn that it exists.
    func visibleJob(_ id: Int64, scope: String?) async throws -> StoredJob {
        guard let job = try await context.store.job(id), scope == nil || job.spec.session == scope else {
            throw StintError.jobNotFound(id)
        }
        return job
    }

    /// The jobs `ids`, read at once, when all exist and a client scoped to `scope` may see
    /// them; otherwise `E_NOT_FOUND` for the first that does not or may not.
    func visibleJobs(_ ids: [Int64], scope: String?) async throws -> [StoredJob] {
        let jobs = try await context.store.jobs(ids)
        return try zip(ids, jobs).map { id, job in
            guard let job, scope == nil || job.spec.session == scope else { throw StintError.jobNotFound(id) }
            return job
        }
    }

    /// One job with all its attempts.
    func show(_ id: Int64, scope: String?) async throws -> JobView {
        let job = try await visibleJob(id, scope: scope)
        return view(job, withAttempts: true, running: await attempts.entry(id))
    }

    /// Jobs matching `filter`; a scoped client sees only its session's.
    func list(_ filter: JobFilter, scope: String?) async throws -> [JobView] {
        var filter = filter
        if let scope {
            if let session = filter.session, session != scope { return [] }
            filter.session = scope
        }
        let jobs = try await context.store.list(filter)
        let running = await attempts.snapshot()
        return jobs.map { view($0, withAttempts: false, running: running[$0.id]) }
    }

    /// How many jobs match `filter`, its limit aside, scoped as ``list(_:scope:)``.
    func count(_ filter: JobFilter, scope: String?) async throws -> Int {
        var filter = filter
        if let scope {
            if let session = filter.session, session != scope { return 0 }
            filter.session = scope
        }
        return try await context.store.count(filter)
    }

    /// The log of a job's attempt (the latest by default).
    func logSource(_ id: Int64, attempt: Int?, scope: String?) async throws -> LogSource {
        let job = try await visibleJob(id, scope: scope)
        let number = attempt ?? job.attemptCount
        guard number >= 1, number <= job.attemptCount else {
            if job.attemptCount == 0 { return LogSource(job: id, attempt: 0, log: nil) }
            throw StintError(.notFound, "job \(id) has no attempt \(number)")
        }
        if let cluster = context.cluster, let attempt = job.attempts.first(where: { $0.number == number }),
            attempt.host != context.worker.node
        {
            return LogSource(job: id, attempt: number, log: nil, peer: try await peer(attempt.host, cluster))
        }
        let attemptID = AttemptID(job: id, attempt: number)
        return LogSource(
            job: id, attempt: number,
            log: AttemptLog(
                id: attemptID, reader: context.processes.log(attemptID, cap: job.spec.outputCap ?? 0),
                processes: context.processes))
    }

    /// The path of an attempt's log in this node's state folder; `nil` for an attempt
    /// another node of a shared store ran (its log is in that node's folder: `logs` fetches it).
    private func localLog(_ job: Int64, _ attempt: StoredAttempt) -> String? {
        guard context.cluster == nil || attempt.host == context.worker.node else { return nil }
        return context.paths.log(job: job, attempt: attempt.number)
    }

    /// Node `name` of the shared store, when its daemon is up and serves an API others can reach.
    private func peer(_ name: String, _ cluster: any ClusterStore) async throws -> PeerNode {
        guard let node = try await cluster.nodes().first(where: { $0.node == name }) else {
            throw StintError(.unavailable, "the log is on node \(name), which is not registered in the store")
        }
        guard node.alive else {
            throw StintError(
                .unavailable,
                "the log is on node \(name), whose daemon is down (last heartbeat \(RFC3339.format(node.heartbeatAt)))",
                hint: "start the daemon on \(name) again, or read the log in its state folder")
        }
        guard let address = node.address else {
            throw StintError(
                .unavailable, "the log is on node \(name), whose daemon serves no API to other nodes",
                hint: "start the daemon on \(name) with --listen HOST:PORT")
        }
        return PeerNode(node: name, address: address)
    }

    /// Whether job `id` has ended (or no longer exists).
    func hasEnded(_ id: Int64) async -> Bool {
        if await attempts.entry(id) != nil { return false }
        guard let job = try? await context.store.job(id) else { return true }
        return job.state.isTerminal
    }

    /// Jobs per state; a scoped client counts only its session's.
    func counts(scope: String?) async throws -> [String: Int] {
        var result: [String: Int] = [:]
        for state in JobState.allCases { result[state.rawValue] = 0 }
        for (state, count) in try await context.store.counts(session: scope) { result[state.rawValue] = count }
        return result
    }

    /// Every queue with its counts, breaker and preflight. A client scoped to a session
    /// counts only its session's jobs and sees no hook, preflight command or output, nor
    /// the breaker's probe (a job of whatever session): these may carry secrets.
    func queues(scope: String?) async throws -> [QueueView] {
        let queues = try await context.store.queues(now: context.clock.now(), session: scope)
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

    /// Recent events of a job, a queue, or all.
    func events(job: Int64?, queue: String?, limit: Int) async throws -> [EventView] {
        try await context.store.events(job: job, queue: queue, limit: limit)
    }

    /// The jobs `ids`, in order, without their attempts.
    func views(_ ids: [Int64]) async throws -> [JobView] {
        let running = await attempts.snapshot()
        return try await visibleJobs(ids, scope: nil).map { job in view(job, withAttempts: false, running: running[job.id]) }
    }

    /// `job` as the API shows it; `running` is its attempt running now, if any.
    func view(_ job: StoredJob, withAttempts: Bool, running: AttemptSupervisor.Running?) -> JobView {
        let paths = context.paths
        let last = job.attempts.last
        let now = context.clock.now()
        let duration = last.map { attempt in
            (attempt.outcome?.endedAt ?? now).timeIntervalSince(attempt.outcome?.startedAt ?? attempt.startedAt)
        }
        let attempts =
            withAttempts
            ? job.attempts.map { attempt in
                AttemptView(
                    number: attempt.number, startedAt: attempt.startedAt, endedAt: attempt.outcome?.endedAt,
                    exitCode: attempt.outcome?.exitCode, signal: attempt.outcome?.signal,
                    reason: attempt.outcome?.reason, message: attempt.outcome?.message, host: attempt.host,
                    shimPid: attempt.shimPid ?? (running?.id.attempt == attempt.number ? running?.pid : nil),
                    peakRssBytes: attempt.outcome?.peakRssBytes, outputBytes: attempt.outcome?.outputBytes,
                    droppedBytes: attempt.outcome?.droppedBytes,
                    log: localLog(job.id, attempt)
                )
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
            log: job.attemptCount == 0
                ? nil : last.map { localLog(job.id, $0) } ?? paths.log(job: job.id, attempt: job.attemptCount),
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
            if let running, context.processes.isStopDeferred(running.id) { view.stopDeferred = true }
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
        view.instance = attempt.instance
        return view
    }
}
