import Foundation
import Logging
import ServiceLifecycle
import StintCore
import StintEngine
import StintStore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The scheduler inside the engine, on a manual clock and fake processes: it fires when the
/// clock reaches a fire time (it sleeps until then, it does not poll), and an engine that
/// starts over the same store after a stop catches up by each policy.
@Suite("ScheduleService")
struct ScheduleServiceTests {
    /// 2027-01-15 08:00:00 UTC, on a whole minute.
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// One engine's life over `store`: started, its services running while `body` runs.
    static func engine(
        store: JobLedger, clock: ManualClock, _ body: (Engine, FakeProcesses) async throws -> Void
    ) async throws {
        var template = Array("/tmp/stint-schedule-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw StintError(.internal, "mkdtemp failed") }
        let paths = StintPaths(home: String(cString: made))
        defer { try? FileManager.default.removeItem(atPath: paths.home) }
        for folder in [paths.logs, paths.run] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let processes = FakeProcesses(paths: paths, clock: clock)
        let engine = Engine(
            store: store, paths: paths, processes: processes,
            configuration: .init(parallel: 4, worker: WorkerIdentity(node: EngineFixture.node)), clock: clock,
            logger: Logger(label: "stint.test.schedules", factory: { _ in SwiftLogNoOpLogHandler() }))
        try await engine.start()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in engine.services { group.addTask { try await service.run() } }
            do {
                try await body(engine, processes)
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
        await engine.releaseWaiters()
        await engine.shutdown()
    }

    static func schedule(
        _ name: String, cron: String? = nil, every: Double? = nil, catchUp: CatchUpPolicy = .last,
        overlap: OverlapPolicy = .skip, pauseAfterFailures: Int? = nil
    ) -> ScheduleSpec {
        ScheduleSpec(
            name: name, cron: cron, every: every, timeZone: "UTC", anchor: t0, overlap: overlap, catchUp: catchUp,
            pauseAfterFailures: pauseAfterFailures, job: JobSpec(argv: ["true"], cwd: "/tmp"))
    }

    /// The fire times of schedule `name`'s jobs, and which were caught up.
    static func fires(_ store: JobLedger, _ name: String) async throws -> [(String, Bool)] {
        try await store.list(JobFilter(limit: 1000)).filter { $0.spec.labels[ScheduleRules.scheduleLabel] == name }
            .map { ($0.spec.labels[ScheduleRules.fireTimeLabel] ?? "", $0.spec.labels[ScheduleRules.catchUpLabel] == "true") }
    }

    /// Waits (in elapsed time, up to five minutes: only a hang should reach it) until `condition`.
    static func until(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(300)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw StintError(.internal, "timed out waiting until \(what)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Lets the engine's tasks run for a moment of elapsed time (the clock stays).
    static func settle() async throws { try await Task.sleep(for: .milliseconds(200)) }

    @Test("fires when the clock reaches the fire time, not before, and starts the job")
    func firesOnTime() async throws {
        let clock = ManualClock(Self.t0)
        let store = JobLedger(MemoryJobStore())
        try await Self.engine(store: store, clock: clock) { engine, processes in
            let added = try await engine.addSchedule(Self.schedule("minutely", cron: "* * * * *"), scope: nil)
            #expect(added.nextFires.first == Self.t0.addingTimeInterval(60))
            clock.advance(59)
            try await Self.settle()
            #expect(try await Self.fires(store, "minutely").isEmpty)
            clock.advance(1)
            try await Self.until("the 08:01 fire time started its job") { processes.now.launched.count == 1 }
            #expect(try await Self.fires(store, "minutely").map(\.0) == ["2027-01-15T08:01:00.000Z"])
        }
    }

    @Test(
        "stopped at 08:00:30 and started at 08:03:30: none runs 08:03 only, last 08:03, all 08:01-08:03",
        arguments: [CatchUpPolicy.none, .last, .all])
    func restartMidMinute(policy: CatchUpPolicy) async throws {
        let clock = ManualClock(Self.t0.addingTimeInterval(-30))
        let store = JobLedger(MemoryJobStore())
        try await Self.engine(store: store, clock: clock) { engine, processes in
            _ = try await engine.addSchedule(
                Self.schedule("m", cron: "* * * * *", catchUp: policy, overlap: .allow), scope: nil)
            clock.advance(30)
            try await Self.until("08:00 fired") { try await Self.fires(store, "m").count == 1 }
            clock.advance(30)
            try await Self.settle()
        }
        // Down for three minutes: 08:01, 08:02 and 08:03 pass with no daemon.
        clock.advance(180)
        try await Self.engine(store: store, clock: clock) { _, _ in
            let expected: [(String, Bool)] =
                switch policy {
                // 08:03 was due 30 s ago: within the minute a fire time may be late, so on time.
                case .none: [("2027-01-15T08:03:00.000Z", false)]
                case .last: [("2027-01-15T08:03:00.000Z", false)]
                case .all:
                    [("2027-01-15T08:01:00.000Z", true), ("2027-01-15T08:02:00.000Z", true), ("2027-01-15T08:03:00.000Z", false)]
                }
            try await Self.until("the catch-up fired") { try await Self.fires(store, "m").count == 1 + expected.count }
            try await Self.settle()
            let fires = try await Self.fires(store, "m").dropFirst()
            #expect(fires.map(\.0) == expected.map(\.0))
            #expect(fires.map(\.1) == expected.map(\.1))
        }
    }

    @Test("overlap queue: the fire time that came while a run was going starts when it ends")
    func overlapQueue() async throws {
        let clock = ManualClock(Self.t0)
        let store = JobLedger(MemoryJobStore())
        try await Self.engine(store: store, clock: clock) { engine, processes in
            _ = try await engine.addSchedule(Self.schedule("q", every: 60, overlap: .queue), scope: nil)
            clock.advance(60)
            try await Self.until("the first run started") { processes.now.launched.count == 1 }
            clock.advance(60)
            try await Self.settle()
            #expect(processes.now.launched.count == 1)
            let first = try #require(processes.now.launched.first)
            processes.exit(AttemptID(job: first.id, attempt: first.attempt), code: 0)
            try await Self.until("the waiting fire time started") { processes.now.launched.count == 2 }
            #expect(try await Self.fires(store, "q").map(\.0) == ["2027-01-15T08:01:00.000Z", "2027-01-15T08:02:00.000Z"])
        }
    }

    @Test("two failed runs in a row pause the schedule: nothing fires after")
    func pauseAfterFailures() async throws {
        let clock = ManualClock(Self.t0)
        let store = JobLedger(MemoryJobStore())
        try await Self.engine(store: store, clock: clock) { engine, processes in
            _ = try await engine.addSchedule(Self.schedule("f", every: 60, pauseAfterFailures: 2), scope: nil)
            for run in 1...2 {
                clock.advance(60)
                try await Self.until("run \(run) started") { processes.now.launched.count == run }
                let attempt = processes.now.launched[run - 1]
                processes.exit(AttemptID(job: attempt.id, attempt: attempt.attempt), code: 1)
                try await Self.until("run \(run) failed") { try await store.job(attempt.id)?.state == .failed }
            }
            #expect(try await engine.schedules(scope: nil).first?.paused == true)
            clock.advance(600)
            try await Self.settle()
            #expect(processes.now.launched.count == 2)
        }
    }
}
