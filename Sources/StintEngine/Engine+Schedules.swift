import Foundation
public import StintCore
import StintPattern
import StintStore

extension Engine {
    /// The most runs `schedule show` lists.
    public static let maxScheduleRuns = 1000

    /// Validates and stores a schedule, anchored at this second, in the daemon's zone unless
    /// it names one; a client scoped to a session adds it to that session only.
    public func addSchedule(_ spec: ScheduleSpec, scope: String?) async throws -> ScheduleView {
        var spec = spec
        if let scope {
            if let session = spec.job.session, session != scope {
                throw StintError(.usage, "this client is scoped to session \(scope); cannot add a schedule to session \(session)")
            }
            spec.job.session = scope
        }
        let now = clock.now()
        // Whole seconds: `--every 1h` added at 10:17:33.4 fires at 11:17:33, 12:17:33, …
        spec.anchor = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        if spec.timeZone == nil, spec.cron != nil { spec.timeZone = TimeZone.current.identifier }
        try spec.validate()
        try spec.job.validate(now: now, argumentSpace: JobCommands.argumentSpace)
        if let pattern = spec.job.transientPattern { _ = try BoundedPattern(pattern, option: "--transient-pattern") }
        let record = try await store.addSchedule(spec, now: now)
        await scheduler.poke()
        return ScheduleView(record, lastJob: nil)
    }

    /// Every schedule `scope` sees, by id.
    public func schedules(scope: String?) async throws -> [ScheduleView] {
        let records = try await store.schedules(session: scope)
        let lastJobs = try await store.jobs(records.compactMap(\.state.lastJob))
        var byID: [Int64: StoredJob] = [:]
        for job in lastJobs.compactMap({ $0 }) { byID[job.id] = job }
        return records.map { ScheduleView($0, lastJob: $0.state.lastJob.flatMap { byID[$0] }) }
    }

    /// One schedule with its newest `runs` fire times and their jobs.
    public func schedule(_ name: String, runs: Int, scope: String?) async throws -> ScheduleView {
        try ScheduleSpec.validate(name: name)
        let (record, fires) = try await store.schedule(
            named: name, session: scope, runs: min(max(0, runs), Self.maxScheduleRuns))
        let ids = fires.compactMap(\.job) + (record.state.lastJob.map { [$0] } ?? [])
        var byID: [Int64: StoredJob] = [:]
        for job in try await store.jobs(ids).compactMap({ $0 }) { byID[job.id] = job }
        let runs = fires.map { fire in
            let job = fire.job.flatMap { byID[$0] }
            return ScheduleRunView(
                fireTime: fire.at, job: fire.job, state: job?.state, exitCode: job?.attempts.last?.outcome?.exitCode,
                catchUp: fire.catchUp)
        }
        return ScheduleView(record, lastJob: record.state.lastJob.flatMap { byID[$0] }, runs: runs)
    }

    /// Pauses (`true`) or resumes a schedule.
    public func setSchedulePaused(_ name: String, paused: Bool, scope: String?) async throws -> ScheduleView {
        try ScheduleSpec.validate(name: name)
        let record = try await store.setSchedulePaused(name, session: scope, paused: paused, now: clock.now())
        if !paused { await scheduler.poke() }
        var lastJob: StoredJob?
        if let id = record.state.lastJob { lastJob = try await store.job(id) }
        return ScheduleView(record, lastJob: lastJob)
    }

    /// Deletes a schedule; its jobs stay.
    public func removeSchedule(_ name: String, scope: String?) async throws -> ScheduleView {
        try ScheduleSpec.validate(name: name)
        let record = try await store.removeSchedule(name, session: scope, now: clock.now())
        return ScheduleView(record, lastJob: nil)
    }

    /// Fires a schedule once now, whatever its fire times and pause, and starts the job.
    public func runSchedule(_ name: String, scope: String?) async throws -> ScheduleFireResponse {
        try ScheduleSpec.validate(name: name)
        let (record, inserted) = try await store.runSchedule(name, session: scope, now: clock.now())
        await dispatch()
        return ScheduleFireResponse(schedule: record.spec.name, job: inserted.id, state: inserted.state)
    }
}
