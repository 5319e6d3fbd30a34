public import Foundation
public import StintCore

/// What one look of the scheduler did.
public struct ScheduleFiring: Sendable {
    /// The jobs it created, in order.
    public var created: [Int64] = []
    /// Whether it queued deliveries (a job that ended at once, told of).
    public var deliveriesQueued = false
    /// The earliest next fire time of all schedules after it.
    public var nextFire: Date?
}

extension JobLedger {
    /// The most schedules one transaction fires; more due ones are fired by the next.
    public static let schedulesPerFiring = 100

    /// Stores a new schedule, its next fire time the first after `now`. A schedule of the
    /// same name in the same session throws `E_CONFLICT` and stores nothing.
    public func addSchedule(_ spec: ScheduleSpec, now: Date) async throws -> ScheduleRecord {
        try await write { tx in
            if try tx.schedules(named: spec.name).contains(where: { $0.spec.session == spec.session }) {
                throw StintError(
                    .conflict, "a schedule named \(spec.name) exists", hint: "remove it first with `stint schedule rm \(spec.name)`")
            }
            try tx.ensureQueue(spec.job.queueName, now: now)
            let state = ScheduleState(nextFire: spec.nextFire(after: now))
            let id = try tx.insertSchedule(spec, state, now: now)
            try tx.appendEvent(
                EventRecord(
                    job: nil, queue: spec.job.queueName, kind: "schedule_added",
                    message: "schedule \(spec.name) added: \(spec.expression)", at: now))
            return ScheduleRecord(id: id, spec: spec, state: state, createdAt: now)
        }
    }

    /// Every schedule (of `session` only, when given), by id.
    public func schedules(session: String?) async throws -> [ScheduleRecord] {
        try await read { tx in
            try tx.schedules().filter { session == nil || $0.spec.session == session }
        }
    }

    /// The schedule `name` as `session` sees it (see ``findSchedule(_:session:_:)``), with
    /// its newest `runs` fire times.
    public func schedule(
        named name: String, session: String?, runs: Int
    ) async throws -> (ScheduleRecord, [ScheduleFire]) {
        try await read { tx in
            let record = try Self.findSchedule(name, session: session, tx)
            return (record, try tx.fires(schedule: record.id, limit: runs))
        }
    }

    /// Pauses or resumes a schedule. A paused schedule fires nothing, and the fire times
    /// that waited are dropped; a resumed one fires next at its first fire time after `now`
    /// (what came due while paused is not caught up).
    public func setSchedulePaused(
        _ name: String, session: String?, paused: Bool, now: Date
    ) async throws -> ScheduleRecord {
        try await write { tx in
            var record = try Self.findSchedule(name, session: session, tx)
            guard record.state.paused != paused else { return record }
            record.state.paused = paused
            if paused {
                try Self.dropWaiting(record, why: "the schedule was paused", now: now, tx)
            } else {
                record.state.nextFire = record.spec.nextFire(after: now)
                record.state.failures = 0
            }
            try tx.updateSchedule(record.id, record.state, now: now)
            try tx.appendEvent(
                EventRecord(
                    job: nil, queue: record.spec.job.queueName, kind: paused ? "schedule_paused" : "schedule_resumed",
                    message: "schedule \(record.spec.name) \(paused ? "paused" : "resumed")", at: now))
            return record
        }
    }

    /// Deletes a schedule with its fire times; the jobs it created stay.
    public func removeSchedule(_ name: String, session: String?, now: Date) async throws -> ScheduleRecord {
        try await write { tx in
            let record = try Self.findSchedule(name, session: session, tx)
            try tx.deleteSchedule(record.id)
            try tx.appendEvent(
                EventRecord(
                    job: nil, queue: record.spec.job.queueName, kind: "schedule_removed",
                    message: "schedule \(record.spec.name) removed", at: now))
            return record
        }
    }

    /// Fires a schedule once now (`schedule run`), whatever its fire times, pause and
    /// overlap policy: a job labelled with `now` as its fire time.
    public func runSchedule(_ name: String, session: String?, now: Date) async throws -> (ScheduleRecord, InsertedJob) {
        let cap = notificationCap
        return try await write { tx in
            var record = try Self.findSchedule(name, session: session, tx)
            let fire = ScheduleRules.Fire(at: now, catchUp: false)
            guard try tx.fire(schedule: record.id, at: now) == nil else {
                throw StintError(.conflict, "schedule \(name) already fired at this millisecond; try again")
            }
            let inserted = try Self.createRun(record, fire, now: now, cap: cap, tx)
            record.state.lastJob = inserted.id
            try tx.updateSchedule(record.id, record.state, now: now)
            return (record, inserted)
        }
    }

    /// Fires what is due at `now`: for each due schedule (at most ``schedulesPerFiring``),
    /// in one transaction, the jobs its catch-up and overlap policies give, each keyed by
    /// (schedule, fire time), and its next fire time. Returns the earliest next fire time of
    /// all; one at or before `now` means more were due than one firing takes.
    ///
    /// Then, in the same transaction, the claim `claim` asks for (see
    /// ``claim(limit:worker:now:)``): a fired job starts with one commit when a slot is free.
    public func fireDueSchedules(
        now: Date, thenClaim claim: ClaimRequest? = nil
    ) async throws -> (firing: ScheduleFiring, claim: ClaimResult?) {
        let cap = notificationCap
        return try await write { tx in
            var firing = ScheduleFiring()
            for record in try tx.dueSchedules(now: now, limit: Self.schedulesPerFiring) {
                try Self.fire(record, now: now, cap: cap, tx, into: &firing)
            }
            firing.nextFire = try tx.nextScheduleFire()
            let claimed =
                firing.created.isEmpty
                ? nil : try claim.map { try Self.claim(limit: $0.limit, worker: $0.worker, now: $0.now, cap: cap, tx) }
            return (firing, claimed)
        }
    }

    /// The earliest next fire time of a schedule that is not paused.
    public func nextScheduleFire() async throws -> Date? {
        try await read { tx in try tx.nextScheduleFire() }
    }

    // MARK: - In the transactions

    /// The schedule `name` of `session`; with no session given, the one schedule of that
    /// name in any session. None: `E_NOT_FOUND`; several: `E_CONFLICT`.
    static func findSchedule(_ name: String, session: String?, _ tx: any StoreReading) throws -> ScheduleRecord {
        let named = try tx.schedules(named: name)
        let visible = session.map { session in named.filter { $0.spec.session == session } } ?? named
        guard let first = visible.first else {
            throw StintError(.notFound, "no schedule named \(name)", hint: "see `stint schedule ls`")
        }
        guard visible.count == 1 else {
            let sessions = visible.map { $0.spec.session ?? "(none)" }.joined(separator: ", ")
            throw StintError(
                .conflict, "schedules named \(name) exist in several sessions: \(sessions)",
                hint: "give the session with --session")
        }
        return first
    }

    /// One schedule's due fire times, as ``ScheduleRules`` decide: jobs created, fire times
    /// that wait or are skipped, and its next fire time.
    private static func fire(
        _ record: ScheduleRecord, now: Date, cap: Int, _ tx: any StoreTransaction, into firing: inout ScheduleFiring
    ) throws {
        let spec = record.spec
        let plan = ScheduleRules.plan(spec, nextFire: record.state.nextFire, now: now)
        var state = record.state
        state.nextFire = plan.nextFire
        let queue = spec.job.queueName
        if plan.missed > 0 {
            try tx.appendEvent(
                EventRecord(
                    job: nil, queue: queue, kind: "schedule_missed",
                    message: "schedule \(spec.name): \(plan.missed) missed fire time\(plan.missed == 1 ? "" : "s") not run (--catch-up \(spec.catchUp.rawValue))",
                    at: now))
        }
        var waiting = try tx.waitingFires(schedule: record.id).count
        var previousLive = try state.lastJob.map { try tx.state(of: $0).map { !$0.isTerminal } ?? false } ?? false
        for (index, fire) in plan.fires.enumerated() {
            guard try tx.fire(schedule: record.id, at: fire.at) == nil else { continue }
            // The jobs of one catch-up go one after the other, unless they may overlap.
            let overlap = index > 0 && spec.overlap == .skip ? OverlapPolicy.queue : spec.overlap
            switch ScheduleRules.action(overlap, previousLive: previousLive, waiting: waiting, limit: spec.catchUpMax) {
            case .create:
                let inserted = try createRun(record, fire, now: now, cap: cap, tx)
                state.lastJob = inserted.id
                state.lastFire = fire.at
                previousLive = !inserted.state.isTerminal
                firing.created.append(inserted.id)
            case .wait:
                _ = try tx.insertFire(ScheduleFire(schedule: record.id, at: fire.at, job: nil, catchUp: fire.catchUp))
                waiting += 1
            case .skip:
                let reason = previousLive ? "job \(state.lastJob ?? 0) is still \(try state.lastJob.flatMap { try tx.state(of: $0) }?.rawValue ?? "running")" : "\(waiting) fire times wait already"
                try tx.appendEvent(
                    EventRecord(
                        job: state.lastJob, queue: queue, kind: "schedule_skipped",
                        message: "schedule \(spec.name): fire time \(RFC3339.format(fire.at)) skipped: \(reason)", at: now))
            }
        }
        try tx.updateSchedule(record.id, state, now: now)
    }

    /// Creates the job of `fire` and its key (or, for a fire time that `waited` behind the
    /// run `after`, fills in its key); the job is an ordinary one (its queue, retries,
    /// hooks), labelled with the schedule and the fire time.
    @discardableResult
    static func createRun(
        _ record: ScheduleRecord, _ fire: ScheduleRules.Fire, waitedFor after: Int64? = nil, now: Date, cap: Int,
        _ tx: any StoreTransaction
    ) throws -> InsertedJob {
        let spec = ScheduleRules.job(of: record.spec, fire: fire)
        guard let inserted = try insert([spec], now: now, cap: cap, tx).first else {
            throw StintError(.internal, "schedule \(record.spec.name): no job was created")
        }
        if after != nil {
            try tx.setFireJob(schedule: record.id, at: fire.at, job: inserted.id)
        } else if !(try tx.insertFire(ScheduleFire(schedule: record.id, at: fire.at, job: inserted.id, catchUp: fire.catchUp))) {
            throw StintError(.conflict, "schedule \(record.spec.name) fired \(RFC3339.format(fire.at)) already")
        }
        let how = after.map { " after job \($0) ended" } ?? (fire.catchUp ? " (caught up)" : "")
        try tx.appendEvent(
            EventRecord(
                job: inserted.id, queue: spec.queueName, kind: "schedule_fired",
                message: "schedule \(record.spec.name) fired for \(RFC3339.format(fire.at))\(how)", at: now))
        return inserted
    }

    /// Drops the fire times of `record` that wait, with an event.
    private static func dropWaiting(_ record: ScheduleRecord, why: String, now: Date, _ tx: any StoreTransaction) throws {
        let waiting = try tx.waitingFires(schedule: record.id)
        guard !waiting.isEmpty else { return }
        for fire in waiting { try tx.deleteFire(schedule: record.id, at: fire.at) }
        try tx.appendEvent(
            EventRecord(
                job: nil, queue: record.spec.job.queueName, kind: "schedule_skipped",
                message: "schedule \(record.spec.name): \(waiting.count) waiting fire time\(waiting.count == 1 ? "" : "s") dropped: \(why)",
                at: now))
    }

    /// A schedule's run ended (called for every job that ends, doing nothing for jobs of no
    /// schedule): counts its failure or success, pauses the schedule after too many failures
    /// in a row (event, notification, hooks), and else creates the job of the next fire time
    /// that waited for it.
    static func scheduleRunEnded(
        _ job: StoredJob, attempt: Int, now: Date, cap: Int, _ tx: any StoreTransaction, into result: inout FinishResult
    ) throws {
        guard let name = job.spec.labels[ScheduleRules.scheduleLabel],
            let fireText = job.spec.labels[ScheduleRules.fireTimeLabel], let fireTime = RFC3339.parse(fireText),
            var record = try tx.schedules(named: name).first(where: { $0.spec.session == job.spec.session }),
            try tx.fire(schedule: record.id, at: fireTime)?.job == job.id
        else { return }
        let (state, pausedNow) = ScheduleRules.runEnded(
            record.state, job: job.id, ended: job.state, pauseAfterFailures: record.spec.pauseAfterFailures)
        record.state = state
        if pausedNow {
            try tx.appendEvent(
                EventRecord(
                    job: job.id, queue: job.queue, kind: "schedule_paused",
                    message: "schedule \(name) paused after \(state.failures) failed runs in a row", at: now))
            try dropWaiting(record, why: "the schedule was paused", now: now, tx)
            let notification = NotificationComposer.schedulePaused(
                job, attempt: attempt, schedule: name, failures: state.failures, now: now)
            try tell(notification, about: job, queue: try tx.queue(job.queue), cap: cap, tx, into: &result)
        } else if !state.paused, record.state.lastJob == job.id, let next = try tx.waitingFires(schedule: record.id).first {
            let fire = ScheduleRules.Fire(at: next.at, catchUp: next.catchUp)
            let inserted = try createRun(record, fire, waitedFor: job.id, now: now, cap: cap, tx)
            record.state.lastJob = inserted.id
            record.state.lastFire = next.at
            result.unblocked.append(inserted.id)
        }
        try tx.updateSchedule(record.id, record.state, now: now)
    }
}
