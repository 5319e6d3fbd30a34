public import Foundation
public import StintCore

extension JobLedger {
    /// Moves runnable queued jobs to `running`, starting a new attempt for each, claimed by
    /// `worker`: at most `limit` in all, as ``ClaimPlanner`` plans. Delayed and retried
    /// jobs whose time has come become runnable here. A job found that cannot be read in
    /// full is failed (``ClaimResult/failed``) instead of started.
    public func claim(limit: Int, worker: WorkerIdentity, now: Date) async throws -> ClaimResult {
        let cap = notificationCap
        return try await write { tx in try Self.claim(limit: limit, worker: worker, now: now, cap: cap, tx) }
    }

    /// The claim of ``claim(limit:worker:now:)`` inside another write's transaction (an
    /// insert's, an ending's), so that the job it makes runnable starts without a second commit.
    static func claim(
        limit: Int, worker: WorkerIdentity, now: Date, cap: Int, _ tx: any StoreTransaction
    ) throws -> ClaimResult {
        var result = ClaimResult()
        try tx.promoteDueJobs(now: now)
        result.nextWake = try tx.nextRunAt()
        guard limit > 0 else { return result }
        let plan = ClaimPlanner.plan(queues: try tx.queues(), running: try tx.runningCounts(), limit: limit, now: now)
        for (queue, breaker, transition) in plan.transitions {
            try tx.saveBreaker(queue, breaker)
            try tx.appendEvent(
                EventRecord(
                    job: nil, queue: queue, kind: "breaker_\(transition.to.rawValue)", message: transition.reason, at: now))
            result.transitions.append((queue, transition))
        }
        if let wake = plan.nextWake { result.nextWake = ClaimPlanner.earliest(result.nextWake, wake) }
        for hold in plan.holds {
            ClaimPlanner.apply(hold, hasReadyJobs: try tx.hasReadyJobs(queue: hold.queue), to: &result)
        }
        var candidates: [StoredJob] = []
        for admission in plan.admissions {
            candidates += try tx.readyJobs(queue: admission.queue, limit: admission.allowance)
        }
        let selection = ClaimPlanner.select(candidates, plan: plan, limit: limit)
        for job in selection.unreadable {
            // It can never run as it was added: fail it, once, and claim the next one.
            var failed = FinishResult(job: job)
            try Self.failUnprocessable(
                job.id, attempt: nil, reason: job.damage ?? "job \(job.id) cannot start", now: now, cap: cap, tx,
                into: &failed)
            result.failed.append(failed)
        }
        for (job, number) in selection.starts {
            try tx.updateJob(job.id, JobChange(state: .running, ready: false, endedAt: .some(nil), attemptCount: number))
            try tx.startAttempt(job: job.id, number: number, worker: worker, now: now)
            try tx.appendEvent(LiveEvents.started(job.id, queue: job.queue, attempt: number, node: worker.node, now: now))
            result.claimed.append(
                ClaimedJob(
                    id: job.id, attempt: number, queue: job.queue, spec: job.spec, shimPid: nil, startedAt: now,
                    node: worker.node, readyAt: max(job.createdAt, job.runAt ?? job.createdAt)))
        }
        for (queue, breaker) in selection.probes { try tx.saveBreaker(queue, breaker) }
        return result
    }

    /// Every attempt still open that `node` claimed (and those stored before attempts
    /// recorded their node), for reconciliation after a restart; every open attempt when
    /// `node` is `nil`. A job whose row cannot be read in full is returned all the same,
    /// with its ``ClaimedJob/damage``: one bad row must not keep the others from being reconciled.
    public func runningAttempts(node: String? = nil) async throws -> [ClaimedJob] {
        try await read { tx in
            try tx.openAttempts().filter { attempt in node == nil || attempt.node == nil || attempt.node == node }
        }
    }

    /// Undoes the claim of an attempt that never started (the daemon stopped between the
    /// claim and the shim's start): deletes attempt `attempt` and puts the job back in the
    /// queue as it was before the claim, so its attempt count and retries are untouched, and
    /// records the event. Throws `E_CONFLICT` unless `attempt` is the job's latest attempt,
    /// still open, of a running job.
    public func unclaim(job id: Int64, attempt: Int, now: Date) async throws -> FinishResult {
        try await write { tx in
            guard let job = try tx.job(id, attempts: false) else { throw StintError.jobNotFound(id) }
            let state = try tx.state(of: id) ?? .failed
            let open = try tx.attemptIsOpen(job: id, number: attempt)
            guard state == .running, job.attemptCount == attempt, open == true else {
                throw StintError(
                    .conflict,
                    "job \(id) is \(state.rawValue) at attempt \(job.attemptCount); cannot undo the claim of attempt \(attempt)")
            }
            // Back to the queue as the claim found it: the claim only took a ready job.
            try Self.check(state, .reschedule, id: id)
            try tx.deleteAttempt(job: id, number: attempt)
            try tx.updateJob(id, JobChange(state: .queued, ready: true, endedAt: .some(nil), attemptCount: attempt - 1))
            try tx.appendEvent(
                EventRecord(
                    job: id, queue: job.queue, kind: "requeued",
                    message: "attempt \(attempt) was claimed but never started; back in the queue, no retry used", at: now))
            return FinishResult(job: try Self.fetch(id, tx))
        }
    }
}
