public import Foundation
public import StintCore

extension JobLedger {
    /// Ends a running attempt and moves the job to the state that implies, as
    /// ``AttemptSettlement`` decides: a failure with a `retryAt` goes back to `queued`
    /// (unless a stop was requested), others end it. Also updates the queue's breaker, the
    /// job's dependents and the outbox, in the same transaction. Ending an attempt that
    /// has already ended changes nothing.
    public func finish(_ ending: AttemptEnding) async throws -> FinishResult {
        try await finish(ending, thenClaim: nil).finish
    }

    /// ``finish(_:)``, then, in the same transaction, the claim `claim` asks for (see
    /// ``claim(limit:worker:now:)``): the slot an attempt frees is filled with one commit.
    public func finish(
        _ ending: AttemptEnding, thenClaim claim: ClaimRequest?
    ) async throws -> (finish: FinishResult, claim: ClaimResult?) {
        let cap = notificationCap
        return try await write { tx in
            let finished = try Self.finish(ending, cap: cap, tx)
            let claimed = try claim.map { try Self.claim(limit: $0.limit, worker: $0.worker, now: $0.now, cap: cap, tx) }
            return (finished, claimed)
        }
    }

    private static func finish(_ ending: AttemptEnding, cap: Int, _ tx: any StoreTransaction) throws -> FinishResult {
        let id = ending.jobID
        guard let job = try tx.job(id, attempts: false) else { throw StintError.jobNotFound(id) }
        guard let open = try tx.attemptIsOpen(job: id, number: ending.attempt) else {
            throw StintError(.notFound, "job \(id) has no attempt \(ending.attempt)")
        }
        guard open else { return FinishResult(job: try Self.fetch(id, tx)) }
        // A state that does not read makes this ending throw, and the engine fails the job with the reason.
        guard let state = job.damage == nil ? job.state : try tx.state(of: id) else {
            throw StintError(.internal, "job \(id)'s stored state does not decode")
        }
        let queue = try tx.queue(job.queue)
        let decision = try AttemptSettlement.settle(
            ending, state: state, stopRequested: job.stopRequested, queue: queue, queueName: job.queue)
        try tx.endAttempt(ending, retryAt: decision.retryAt)
        let endedAt = ending.outcome.endedAt
        if let retryAt = decision.retryAt {
            try tx.updateJob(id, JobChange(state: .queued, ready: false, endedAt: .some(nil), runAt: retryAt))
        } else {
            try tx.updateJob(id, JobChange(state: decision.next, endedAt: .some(endedAt)))
        }
        if let breaker = decision.breaker { try tx.saveBreaker(job.queue, breaker) }
        for event in decision.events { try tx.appendEvent(event) }
        var result = FinishResult(job: try Self.fetch(id, tx))
        result.transition = decision.transition
        if result.job.state.isTerminal {
            try Self.tellEnded(
                attempt: ending.attempt, tail: ending.outputTail, log: ending.logPath, now: endedAt, cap: cap, tx,
                queue: queue, into: &result)
        }
        if let transition = decision.transition, transition.to == .open {
            let notification = NotificationComposer.breakerOpened(
                result.job, attempt: ending.attempt, reason: transition.reason, tail: ending.outputTail,
                log: ending.logPath, now: endedAt)
            try Self.tell(notification, about: result.job, queue: queue, cap: cap, tx, into: &result)
        }
        try Self.settleDependents(of: id, state: result.job.state, now: endedAt, cap: cap, tx, into: &result)
        return result
    }

    /// Applies `event` to a job that is not running: `release`, `cancel` (held or queued)
    /// or `retry` (ended). Any other event, or a running job, throws `E_CONFLICT`; an
    /// unknown id throws `E_NOT_FOUND`. A cancel also cancels the job's dependents.
    public func apply(_ event: JobEvent, to id: Int64, now: Date) async throws -> FinishResult {
        let cap = notificationCap
        return try await write { tx in
            guard let job = try tx.job(id, attempts: false) else { throw StintError.jobNotFound(id) }
            let state = try tx.state(of: id) ?? .failed
            // Starting and ending attempts go through claim and finish, which keep the
            // attempt rows in step; here only a job without a running attempt may change.
            guard [.release, .cancel, .retry].contains(event), state != .running else {
                throw StintError(.conflict, "job \(id) is \(state.rawValue); cannot \(event.rawValue) it here")
            }
            let next = try Self.check(state, event, id: id)
            switch event {
            case .cancel:
                try tx.updateJob(id, JobChange(state: next, ready: false, endedAt: .some(now)))
            case .release:
                let ready = JobAdmission.isReady(
                    state: .queued, pendingDependencies: job.pendingDependencies, runAt: job.runAt, now: now)
                try tx.updateJob(id, JobChange(state: .queued, ready: ready))
            default:
                // A retry runs now, without waiting for dependencies again.
                try tx.updateJob(
                    id,
                    JobChange(
                        state: .queued, ready: true, endedAt: .some(nil), runAt: now, pendingDependencies: 0,
                        endReason: .some(nil), stopRequested: false))
                try tx.removeDependencies(of: id)
            }
            var result = FinishResult(job: try Self.fetch(id, tx))
            if event == .release || event == .retry {
                try tx.appendEvent(LiveEvents.requeued(id, queue: job.queue, by: event, now: now))
            }
            if next.isTerminal {
                // Keyed on the attempt that will never run, so that a job retried and then
                // stopped is told of again.
                try Self.tellEnded(
                    attempt: result.job.attemptCount + 1, tail: [], log: nil, now: now, cap: cap, tx, into: &result)
                try Self.settleDependents(of: id, state: next, now: now, cap: cap, tx, into: &result)
            }
            return result
        }
    }

    /// Flags a running attempt as stalled at a prompt (once) and records the event;
    /// returns the notification written (none when already flagged or without a session).
    public func markStalled(job id: Int64, attempt: Int, at: Date, line: String) async throws -> [NotificationView] {
        let cap = notificationCap
        return try await write { tx in
            guard try tx.markStalled(job: id, number: attempt, at: at, line: line) else { return [] }
            var result = FinishResult(job: try Self.fetch(id, tx))
            try tx.appendEvent(
                EventRecord(
                    job: id, queue: result.job.queue, kind: "stalled",
                    message: "attempt \(attempt) is waiting at a prompt: \(line)", at: at))
            let notification = NotificationComposer.stalled(result.job, attempt: attempt, line: line, now: at)
            try Self.tell(notification, about: result.job, queue: try tx.queue(result.job.queue), cap: cap, tx, into: &result)
            return result.notifications
        }
    }

    /// Ends a job the engine cannot process (a row that does not decode, an outcome that
    /// cannot be stored): its open attempt `attempt` (if given and still open) is closed as
    /// `lost` with `reason`, and the job, unless it has ended already, becomes `failed` with
    /// `reason` as its end reason, with its notification and dependents as for any failure.
    public func failUnprocessable(job id: Int64, attempt: Int?, reason: String, now: Date) async throws -> FinishResult {
        let cap = notificationCap
        return try await write { tx in
            var result = FinishResult(job: try Self.fetch(id, tx))
            try Self.failUnprocessable(id, attempt: attempt, reason: reason, now: now, cap: cap, tx, into: &result)
            return result
        }
    }

    /// See ``failUnprocessable(job:attempt:reason:now:)``. This is the one change of state
    /// that does not go through ``JobStateMachine``: a job whose row cannot be read has left
    /// the lifecycle, and `failed` is the only true thing left to say of it.
    static func failUnprocessable(
        _ id: Int64, attempt: Int?, reason: String, now: Date, cap: Int, _ tx: any StoreTransaction,
        into result: inout FinishResult
    ) throws {
        if let attempt, try tx.attemptIsOpen(job: id, number: attempt) == true {
            try tx.abandonAttempt(job: id, number: attempt, message: reason, now: now)
        }
        guard try tx.state(of: id)?.isTerminal != true else {
            result.job = try fetch(id, tx)
            return
        }
        try tx.updateJob(id, JobChange(state: .failed, ready: false, endedAt: .some(now), endReason: .some(reason)))
        result.job = try fetch(id, tx)
        try tx.appendEvent(EventRecord(job: id, queue: result.job.queue, kind: "unprocessable", message: reason, at: now))
        try tellEnded(attempt: attempt ?? result.job.attemptCount + 1, tail: [], log: nil, now: now, cap: cap, tx, into: &result)
        try settleDependents(of: id, state: .failed, now: now, cap: cap, tx, into: &result)
    }

    /// After a job reached `state`, what ``DependencyCascade`` says of its dependents: a
    /// success counts down their pending dependencies (making them runnable at zero); a
    /// failure or cancellation cancels them, and theirs in turn.
    static func settleDependents(
        of id: Int64, state: JobState, now: Date, cap: Int, _ tx: any StoreTransaction, into result: inout FinishResult
    ) throws {
        switch DependencyCascade.effect(of: state) {
        case .none:
            return
        case .countDown:
            let dependents = try tx.dependents(of: id)
            try tx.removeDependents(of: id)
            for dependent in dependents {
                guard let job = try tx.job(dependent, attempts: false) else { continue }
                let pending = max(job.pendingDependencies - 1, 0)
                let unblocked = pending == 0 && job.state == .queued
                let ready = JobAdmission.isReady(state: job.state, pendingDependencies: pending, runAt: job.runAt, now: now)
                try tx.updateJob(dependent, JobChange(ready: unblocked ? ready : nil, pendingDependencies: pending))
                if unblocked { result.unblocked.append(dependent) }
            }
        case .cancel(let how):
            var told = result
            result.cascaded += try DependencyCascade.cancelDependents(
                of: id, how: how,
                dependents: { broken in
                    let dependents = try tx.dependents(of: broken)
                    try tx.removeDependents(of: broken)
                    return dependents
                },
                cancel: { dependent, reason in
                    guard let state = try tx.state(of: dependent), state == .held || state == .queued else { return false }
                    try tx.updateJob(
                        dependent,
                        JobChange(
                            state: .cancelled, ready: false, endedAt: .some(now), pendingDependencies: 0,
                            endReason: .some(reason)))
                    try tx.removeDependencies(of: dependent)
                    var cancelled = FinishResult(job: try fetch(dependent, tx))
                    try tx.appendEvent(
                        EventRecord(
                            job: dependent, queue: cancelled.job.queue, kind: "dependency_failed", message: reason, at: now))
                    try tellEnded(
                        attempt: cancelled.job.attemptCount + 1, tail: [], log: nil, now: now, cap: cap, tx,
                        into: &cancelled)
                    told.notifications += cancelled.notifications
                    told.deliveriesQueued = told.deliveriesQueued || cancelled.deliveriesQueued
                    return true
                })
            result.notifications = told.notifications
            result.deliveriesQueued = told.deliveriesQueued
        }
    }
}
