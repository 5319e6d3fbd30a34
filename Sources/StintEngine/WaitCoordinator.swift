import Foundation
import StintCore
import StintStore
import Synchronization

/// Answers `wait`: until jobs end (woken by their ends, through ``JobWaiters``), or until
/// a condition on their state and output holds (`--until stall|idle|output`).
final class WaitCoordinator: Sendable {
    private let context: EngineContext
    private let queries: JobQueries
    private let waiters: JobWaiters
    private let hub: NotificationHub
    /// Set at shutdown: condition waits return at once.
    private let released = Atomic<Bool>(false)

    init(context: EngineContext, queries: JobQueries, waiters: JobWaiters, hub: NotificationHub) {
        self.context = context
        self.queries = queries
        self.waiters = waiters
        self.hub = hub
    }

    /// Seconds between two looks at a job's state and log for `wait --until` conditions.
    static let conditionTick = 0.05

    /// Returns when all of `ids` have ended or met `until` (one of them, with `any`), or
    /// when `timeout` runs out, with the reason.
    func wait(_ request: WaitRequest, scope: String?) async throws -> WaitResponse {
        try request.validate()
        _ = try await queries.visibleJobs(request.ids, scope: scope)
        let until = request.until ?? .end
        guard until != .end else { return try await waitForEnd(request) }
        return try await waitForCondition(request, until: until)
    }

    /// Releases everyone waiting, for shutdown: they reconnect to the next daemon.
    func releaseAll() async {
        released.store(true, ordering: .relaxed)
        await waiters.cancelAll()
        await hub.finishAll()
    }

    /// Waits for a condition off every actor of the engine: reading logs and matching a
    /// user's pattern never hold it, so other clients are answered meanwhile.
    @concurrent
    private func waitForCondition(_ request: WaitRequest, until: WaitUntil) async throws -> WaitResponse {
        let clock = context.clock
        var probes = try request.ids.map { id throws(StintError) in try ConditionProbe(id: id, until: until) }
        let deadline = request.timeout.map { clock.now().addingTimeInterval($0) }
        var reasons = [WaitReason?](repeating: nil, count: request.ids.count)
        while true {
            let now = clock.now()
            for index in probes.indices where reasons[index] == nil {
                guard let job = try await context.store.job(probes[index].id) else {
                    throw StintError.jobNotFound(probes[index].id)
                }
                reasons[index] = try probes[index].check(job, processes: context.processes, now: now)
            }
            let met = reasons.compactMap { $0 }
            if request.any ? !met.isEmpty : met.count == reasons.count {
                let jobs = try await queries.views(request.ids)
                let first = reasons.firstIndex { $0 != nil } ?? 0
                return WaitResponse(
                    done: true, jobs: jobs, reason: request.any ? reasons[first] : Self.overall(reasons),
                    reasons: reasons, match: probes.compactMap(\.match).first)
            }
            if let deadline, clock.now() >= deadline { break }
            if released.load(ordering: .relaxed) || Task.isCancelled { break }
            let pause = min(
                Self.conditionTick, deadline.map { max(0.001, $0.timeIntervalSince(clock.now())) } ?? Self.conditionTick)
            try? await clock.sleep(for: pause)
        }
        return WaitResponse(
            done: false, jobs: try await queries.views(request.ids), reason: .waitTimeout, reasons: reasons,
            match: probes.compactMap(\.match).first)
    }

    private func waitForEnd(_ request: WaitRequest) async throws -> WaitResponse {
        // Register before looking at the states, so an end in between is not missed.
        let token = await waiters.register(Set(request.ids), any: request.any)
        for (id, job) in zip(request.ids, try await context.store.jobs(request.ids)) where job?.state.isTerminal ?? true {
            await waiters.jobEnded(id)
        }
        let done = await waiters.wait(token, timeout: request.timeout)
        let jobs = try await queries.views(request.ids)
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
}
