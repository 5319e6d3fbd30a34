import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Schedules against the real daemon and CLI: fire times become jobs, once each, through
/// a SIGKILL and a restart; `run`, `pause`, `resume`, `rm`; bad input stores nothing.
@Suite("Schedules: durable fire times through crashes", .serialized)
struct ScheduleTests {
    /// The jobs of schedule `name`, by id.
    private func runs(_ stint: StintHarness, _ name: String) throws -> [JobView] {
        try stint.run("ls", "-o", "json", "--limit", "1000").data([JobView].self)
            .filter { $0.labels[ScheduleRules.scheduleLabel] == name }
    }

    private func schedules(_ stint: StintHarness, session: String? = nil) throws -> [ScheduleView] {
        var arguments = ["schedule", "ls", "-o", "json"]
        if let session { arguments += ["--session", session] }
        return try stint.run(arguments).data([ScheduleView].self)
    }

    @Test("--every 1s creates a job per fire time, labelled, with STINT_SCHEDULE and STINT_FIRE_TIME set")
    func everySecond() throws {
        let stint = try StintHarness(parallel: 2)
        defer { stint.shutDown() }
        let added = try stint.run(
            "schedule", "add", "tick", "--every", "1s", "--label", "team=ops", "-o", "json", "--",
            "sh", "-c", "echo \"$STINT_SCHEDULE $STINT_FIRE_TIME\"")
        #expect(added.status == 0, "\(added.stderr)")
        let view = try added.data(ScheduleView.self)
        #expect(view.every == 1)
        #expect(view.nextFires.count == 3)
        #expect(try stint.eventually(10) { try runs(stint, "tick").filter { $0.state == .succeeded }.count >= 3 })
        let jobs = try runs(stint, "tick").filter { $0.state == .succeeded }
        for job in jobs.prefix(3) {
            let fireTime = try #require(job.labels[ScheduleRules.fireTimeLabel])
            #expect(job.labels["team"] == "ops")
            #expect(try stint.run("logs", "\(job.id)").stdout == "tick \(fireTime)\n")
        }
        let fireTimes = jobs.compactMap { $0.labels[ScheduleRules.fireTimeLabel] }
        #expect(Set(fireTimes).count == fireTimes.count)
        let listed = try #require(try schedules(stint).first)
        #expect(listed.name == "tick")
        #expect(listed.lastJob != nil)
        let shown = try stint.run("schedule", "show", "tick", "-o", "json").data(ScheduleView.self)
        #expect((shown.runs ?? []).count >= 3)
        #expect(try stint.run("schedule", "ls").stdout.contains("every 1s"))
    }

    @Test("a SIGKILLed daemon, restarted, creates no fire time's job twice and catches up the latest")
    func crashDuplicatesNothing() throws {
        let stint = try StintHarness(parallel: 4)
        defer { stint.shutDown() }
        #expect(try stint.run("schedule", "add", "beat", "--every", "1s", "--overlap", "allow", "--", "true").status == 0)
        #expect(try stint.eventually(10) { try runs(stint, "beat").count >= 3 })
        stint.killDaemon()
        usleep(3_500_000)
        try stint.startDaemon(parallel: 4)
        let count = try runs(stint, "beat").count
        #expect(try stint.eventually(10) { try runs(stint, "beat").count >= count + 3 })
        let jobs = try runs(stint, "beat")
        let fireTimes = jobs.compactMap { $0.labels[ScheduleRules.fireTimeLabel] }
        #expect(fireTimes.count == jobs.count)
        #expect(Set(fireTimes).count == fireTimes.count, "a fire time created two jobs: \(fireTimes.sorted())")
        // About three fire times passed while it was down; --catch-up last runs one of them.
        let times = fireTimes.compactMap(RFC3339.parse).sorted()
        let gaps = zip(times, times.dropFirst()).map { $1.timeIntervalSince($0) }
        #expect(gaps.contains { $0 >= 2.5 }, "no gap for the downtime: \(gaps)")
    }

    @Test("run fires once now; pause stops fires and resume restarts them; rm keeps the jobs")
    func runPauseResumeRemove() throws {
        let stint = try StintHarness(parallel: 2)
        defer { stint.shutDown() }
        #expect(try stint.run("schedule", "add", "yearly", "--cron", "@yearly", "--tz", "Europe/Berlin", "echo hi").status == 0)
        let fired = try stint.run("schedule", "run", "yearly", "-o", "json").data(ScheduleFireResponse.self)
        #expect(try stint.run("wait", "\(fired.job)").status == 0)
        #expect(try stint.run("logs", "\(fired.job)").stdout == "hi\n")
        #expect(try stint.run("schedule", "pause", "yearly").status == 0)
        #expect(try schedules(stint).first?.paused == true)
        #expect(try schedules(stint).first?.nextFires == [])
        #expect(try stint.run("schedule", "resume", "yearly").status == 0)
        let resumed = try #require(try schedules(stint).first)
        #expect(!resumed.paused)
        #expect(resumed.lastJob == fired.job)
        #expect(resumed.lastState == .succeeded)
        #expect(try stint.run("schedule", "rm", "yearly").status == 0)
        #expect(try schedules(stint).isEmpty)
        #expect(try stint.run("schedule", "show", "yearly").status == 3)
        #expect(try stint.show(fired.job).state == .succeeded)
    }

    @Test(
        "bad expressions, zones, durations and options exit 64 naming the field, and store nothing",
        arguments: [
            (["--cron", "61 * * * *"], "minute"),
            (["--cron", "* * 32 * *"], "day-of-month"),
            (["--cron", "* * * *"], "five fields"),
            (["--cron", "@fortnightly"], "macro"),
            (["--cron", "0 3 * * *", "--tz", "Mars/Olympus"], "--tz"),
            (["--every", "0.5s"], "--every"),
            (["--every", "soon"], "--every"),
            (["--every", "1m", "--overlap", "sometimes"], "--overlap"),
            (["--every", "1m", "--catch-up", "most"], "--catch-up"),
            (["--every", "1m", "--catch-up-max", "0"], "--catch-up-max"),
            (["--every", "1m", "--hold"], "--hold"),
            (["--every", "1m", "--label", "stint.schedule=x"], "reserved"),
            (["--every", "1m", "--cron", "* * * * *"], "not both"),
        ])
    func badInput(arguments: [String], names field: String) throws {
        let stint = try StintHarness(parallel: 1)
        defer { stint.shutDown() }
        let result = try stint.run(["schedule", "add", "bad"] + arguments + ["-o", "json", "--", "true"])
        #expect(result.status == 64)
        let error = try result.error()
        #expect(error.code == .usage)
        #expect((error.message + (error.hint ?? "")).contains(field), "\(error.message)")
        #expect(try schedules(stint).isEmpty)
        #expect(try stint.run("schedule", "add", "a b", "--every", "1m", "true").status == 64)
    }

    @Test("preview prints fire times strictly after --from, across DST, as RFC 3339 UTC in data.times")
    func preview() throws {
        let stint = try StintHarness(parallel: 1, start: false)
        defer { stint.shutDown() }
        let result = try stint.run(
            "schedule", "preview", "30 2 * * *", "--tz", "Europe/Berlin", "--from", "2026-03-28T01:30:00Z", "--count", "3",
            "-o", "json")
        #expect(result.status == 0, "\(result.stderr)")
        let preview = try result.data(SchedulePreview.self)
        #expect(preview.times.map(RFC3339.format) == [
            "2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z", "2026-03-31T00:30:00.000Z",
        ])
        #expect(result.stdout.contains("\"2026-03-29T01:00:00.000Z\""))
        #expect(try stint.run("schedule", "preview", "0 0 30 2 *", "-o", "json").data(SchedulePreview.self).times == [])
        #expect(try stint.run("schedule", "preview", "nonsense").status == 64)
    }

    @Test("N failed runs in a row pause the schedule, notify its session and record the event")
    func pauseAfterFailures() throws {
        let stint = try StintHarness(parallel: 2)
        defer { stint.shutDown() }
        #expect(
            try stint.run(
                "schedule", "add", "flaky", "--every", "1s", "--pause-after-failures", "2", "--session", "ops", "--",
                "sh", "-c", "exit 3"
            ).status == 0)
        #expect(try stint.eventually(15) { try schedules(stint, session: "ops").first?.paused == true })
        let schedule = try #require(try schedules(stint, session: "ops").first)
        #expect(schedule.failures == 2)
        let failed = try #require(schedule.lastFailedJob)
        #expect(try runs(stint, "flaky").filter { $0.state == .failed }.count == 2)
        let notifications = try stint.run("notifications", "--session", "ops", "-o", "json").data(NotificationList.self)
        #expect(notifications.notifications.filter { $0.kind == .schedulePaused }.map(\.job) == [failed])
        #expect(try stint.events(job: failed).contains { $0.kind == "schedule_paused" })
        // Paused: nothing more fires.
        #expect(try stint.holds(for: 2.5) { try runs(stint, "flaky").count == 2 })
        let summary = try stint.run("summary", "--session", "ops", "-o", "json")
        #expect(summary.stdout.contains("flaky"))
    }
}
