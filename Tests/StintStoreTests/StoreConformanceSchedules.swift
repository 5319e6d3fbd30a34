import Foundation
import StintCore
import StintStore
import Testing

/// Schedules in every backend: a fire time creates its job at most once, in the transaction
/// that advances the schedule; catch-up and overlap policies; a run's end counting failures,
/// pausing, and starting the fire time that waited. Time is passed in, never slept.
@Suite("StoreConformance: schedules")
final class StoreConformanceSchedules: Sendable {
    let fixture: StoreFixture
    var store: JobLedger { fixture.store }

    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    static let worker = WorkerIdentity(node: "box")
    static func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    init() async throws {
        fixture = try await StoreFixture()
    }

    static func spec(
        _ name: String = "tick", every: Double = 60, session: String? = nil, overlap: OverlapPolicy = .skip,
        catchUp: CatchUpPolicy = .last, catchUpMax: Int = 100, pauseAfterFailures: Int? = nil
    ) -> ScheduleSpec {
        ScheduleSpec(
            name: name, every: every, anchor: t0, overlap: overlap, catchUp: catchUp, catchUpMax: catchUpMax,
            pauseAfterFailures: pauseAfterFailures,
            job: JobSpec(argv: ["true"], cwd: "/tmp", env: ["PATH": "/usr/bin:/bin"], session: session))
    }

    /// The jobs of schedule `name`, by id.
    func jobs(_ name: String = "tick") async throws -> [StoredJob] {
        try await store.list(JobFilter(limit: 1000)).filter { $0.spec.labels[ScheduleRules.scheduleLabel] == name }
    }

    /// Claims job `id` (the only ready one) and ends it with `code`.
    func run(_ id: Int64, exit code: Int, at seconds: Double) async throws {
        let claimed = try await store.claim(limit: 10, worker: Self.worker, now: Self.at(seconds))
        #expect(claimed.claimed.map(\.id).contains(id))
        _ = try await store.finish(
            AttemptEnding(
                jobID: id, attempt: 1,
                outcome: AttemptOutcome(reason: .exited, exitCode: code, endedAt: Self.at(seconds + 1))))
    }

    @Test("a name is unique per session; the next fire time is stored with the schedule")
    func addAndNames() async throws {
        let added = try await store.addSchedule(Self.spec(), now: Self.t0)
        #expect(added.state.nextFire == Self.at(60))
        await #expect(throws: StintError.self) { try await self.store.addSchedule(Self.spec(), now: Self.t0) }
        _ = try await store.addSchedule(Self.spec(session: "other"), now: Self.t0)
        #expect(try await store.schedules(session: nil).count == 2)
        #expect(try await store.schedules(session: "other").count == 1)
        // By name without a session: two match.
        await #expect(throws: StintError.self) { try await self.store.schedule(named: "tick", session: nil, runs: 5) }
        let (other, _) = try await store.schedule(named: "tick", session: "other", runs: 5)
        #expect(other.spec.session == "other")
        #expect(try await store.nextScheduleFire() == Self.at(60))
    }

    @Test("a due fire time creates one labelled job; firing again at the same moment creates none")
    func firesOnce() async throws {
        _ = try await store.addSchedule(Self.spec(), now: Self.t0)
        #expect(try await store.fireDueSchedules(now: Self.at(59)).firing.created.isEmpty)
        let first = try await store.fireDueSchedules(now: Self.at(60.2)).firing
        #expect(first.created.count == 1)
        #expect(first.nextFire == Self.at(120))
        #expect(try await store.fireDueSchedules(now: Self.at(60.2)).firing.created.isEmpty)
        let job = try #require(try await jobs().first)
        #expect(job.spec.labels[ScheduleRules.fireTimeLabel] == RFC3339.format(Self.at(60)))
        #expect(job.spec.labels[ScheduleRules.catchUpLabel] == nil)
        #expect(job.state == .queued)
        let (_, fires) = try await store.schedule(named: "tick", session: nil, runs: 10)
        #expect(fires.map(\.job) == [job.id])
    }

    @Test("concurrent firings at one moment create each fire time's job once")
    func concurrentFirings() async throws {
        _ = try await store.addSchedule(Self.spec(every: 1, overlap: .allow, catchUp: .all), now: Self.t0)
        let store = store
        let created = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for _ in 0..<8 { group.addTask { try await store.fireDueSchedules(now: Self.at(5.5)).firing.created } }
            var all: [Int64] = []
            for try await ids in group { all += ids }
            return all
        }
        #expect(created.count == 5)
        let fireTimes = try await jobs().compactMap { $0.spec.labels[ScheduleRules.fireTimeLabel] }
        #expect(fireTimes.count == 5)
        #expect(Set(fireTimes).count == 5)
    }

    @Test(
        "after downtime: none runs nothing, last runs the latest, all the latest N, each labelled caught up",
        arguments: [CatchUpPolicy.none, .last, .all])
    func catchUp(policy: CatchUpPolicy) async throws {
        _ = try await store.addSchedule(
            Self.spec(every: 600, overlap: .allow, catchUp: policy, catchUpMax: 3), now: Self.t0)
        // Down from before 600 until 6100: fire times 600 … 6000 were missed, the latest by
        // more than the minute a fire time may be late and still be on time.
        let firing = try await store.fireDueSchedules(now: Self.at(6100)).firing
        #expect(firing.nextFire == Self.at(6600))
        let jobs = try await jobs()
        let times = jobs.compactMap { $0.spec.labels[ScheduleRules.fireTimeLabel] }
        switch policy {
        case .none: #expect(times.isEmpty)
        case .last: #expect(times == [RFC3339.format(Self.at(6000))])
        case .all: #expect(times == [4800, 5400, 6000].map { RFC3339.format(Self.at($0)) })
        }
        #expect(jobs.allSatisfy { $0.spec.labels[ScheduleRules.catchUpLabel] == "true" })
        let events = try await store.events(job: nil, queue: nil, limit: 50)
        #expect(events.contains { $0.kind == "schedule_missed" })
    }

    @Test("on time, none still runs the latest fire time")
    func noneOnTime() async throws {
        _ = try await store.addSchedule(Self.spec(catchUp: .none), now: Self.t0)
        #expect(try await store.fireDueSchedules(now: Self.at(61)).firing.created.count == 1)
    }

    @Test("overlap skip: a fire time while the last run is queued or running creates nothing and says so")
    func overlapSkip() async throws {
        _ = try await store.addSchedule(Self.spec(), now: Self.t0)
        let first = try #require(try await store.fireDueSchedules(now: Self.at(60)).firing.created.first)
        #expect(try await store.fireDueSchedules(now: Self.at(120)).firing.created.isEmpty)
        let skipped = try await store.events(job: nil, queue: nil, limit: 50).filter { $0.kind == "schedule_skipped" }
        #expect(skipped.count == 1)
        #expect(skipped.first?.job == first)
        try await run(first, exit: 0, at: 130)
        #expect(try await store.fireDueSchedules(now: Self.at(180)).firing.created.count == 1)
    }

    @Test("overlap queue: a fire time waits for the run before and starts when it ends; allow runs both")
    func overlapQueueAndAllow() async throws {
        _ = try await store.addSchedule(Self.spec("q", overlap: .queue), now: Self.t0)
        _ = try await store.addSchedule(Self.spec("a", overlap: .allow), now: Self.t0)
        _ = try await store.fireDueSchedules(now: Self.at(60)).firing
        _ = try await store.fireDueSchedules(now: Self.at(120)).firing
        #expect(try await jobs("a").count == 2)
        let queued = try await jobs("q")
        #expect(queued.count == 1)
        let (_, fires) = try await store.schedule(named: "q", session: nil, runs: 10)
        #expect(fires.count == 2)
        #expect(fires.first?.job == nil)
        // The first run ends (a failure counts the same): the waiting fire time gets its job.
        let claimed = try await store.claim(limit: 10, worker: Self.worker, now: Self.at(121))
        let first = try #require(queued.first).id
        #expect(claimed.claimed.map(\.id).contains(first))
        let ended = try await store.finish(
            AttemptEnding(jobID: first, attempt: 1, outcome: AttemptOutcome(reason: .exited, exitCode: 1, endedAt: Self.at(125))))
        let after = try await jobs("q")
        #expect(after.count == 2)
        #expect(ended.unblocked == [after[1].id])
        #expect(after[1].spec.labels[ScheduleRules.fireTimeLabel] == RFC3339.format(Self.at(120)))
    }

    @Test("N failed runs in a row pause the schedule, with an event and a notification to its session")
    func pauseAfterFailures() async throws {
        _ = try await store.addSchedule(Self.spec(session: "s", pauseAfterFailures: 2), now: Self.t0)
        let first = try #require(try await store.fireDueSchedules(now: Self.at(60)).firing.created.first)
        try await run(first, exit: 1, at: 61)
        let second = try #require(try await store.fireDueSchedules(now: Self.at(120)).firing.created.first)
        try await run(second, exit: 3, at: 121)
        let (record, _) = try await store.schedule(named: "tick", session: "s", runs: 5)
        #expect(record.state.paused)
        #expect(record.state.failures == 2)
        #expect(record.state.lastFailedJob == second)
        #expect(try await store.fireDueSchedules(now: Self.at(180)).firing.created.isEmpty)
        #expect(try await store.nextScheduleFire() == nil)
        let pending = try await store.notifications(session: "s", after: 0, limit: 100).notifications
        #expect(pending.filter { $0.kind == .schedulePaused }.map(\.job) == [second])
        #expect(try await store.events(job: second, queue: nil, limit: 10).contains { $0.kind == "schedule_paused" })
        // Resumed: fires from the next fire time after now, failures forgotten.
        let resumed = try await store.setSchedulePaused("tick", session: "s", paused: false, now: Self.at(200))
        #expect(!resumed.state.paused)
        #expect(resumed.state.nextFire == Self.at(240))
        #expect(resumed.state.failures == 0)
    }

    @Test("a success resets the failures in a row")
    func successResets() async throws {
        _ = try await store.addSchedule(Self.spec(pauseAfterFailures: 2), now: Self.t0)
        try await run(try #require(try await store.fireDueSchedules(now: Self.at(60)).firing.created.first), exit: 1, at: 61)
        try await run(try #require(try await store.fireDueSchedules(now: Self.at(120)).firing.created.first), exit: 0, at: 121)
        try await run(try #require(try await store.fireDueSchedules(now: Self.at(180)).firing.created.first), exit: 1, at: 181)
        let (record, _) = try await store.schedule(named: "tick", session: nil, runs: 5)
        #expect(!record.state.paused)
        #expect(record.state.failures == 1)
    }

    @Test("run fires once now whatever the fire times; pause stops fires; rm forgets the schedule, not its jobs")
    func runPauseRemove() async throws {
        _ = try await store.addSchedule(Self.spec(), now: Self.t0)
        let (_, inserted) = try await store.runSchedule("tick", session: nil, now: Self.at(10))
        #expect(inserted.state == .queued)
        let paused = try await store.setSchedulePaused("tick", session: nil, paused: true, now: Self.at(20))
        #expect(paused.state.paused)
        #expect(try await store.fireDueSchedules(now: Self.at(3600)).firing.created.isEmpty)
        _ = try await store.removeSchedule("tick", session: nil, now: Self.at(30))
        #expect(try await store.schedules(session: nil).isEmpty)
        await #expect(throws: StintError.self) { try await self.store.removeSchedule("tick", session: nil, now: Self.at(31)) }
        #expect(try await jobs().map(\.id) == [inserted.id])
    }
}
