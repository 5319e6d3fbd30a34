import ArgumentParser
import Foundation
import StintClient
import StintCore

struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Run a command on a cron expression or every DUR, durably.",
        discussion: """
            A schedule is a row in the daemon's store. Each fire time creates an ordinary job \
            (its queue, retries, breaker, notifications and hooks apply), at most once whatever \
            restarts; the job's labels name the schedule (stint.schedule) and the fire time \
            (stint.fire_time), and it runs with STINT_SCHEDULE and STINT_FIRE_TIME set.
            """,
        subcommands: [
            ScheduleAdd.self, ScheduleList.self, ScheduleShow.self, SchedulePause.self, ScheduleResume.self,
            ScheduleRemove.self, ScheduleRun.self, SchedulePreviewCommand.self,
        ],
        defaultSubcommand: ScheduleList.self)

    /// A time for people, in `zone`: `2026-12-01 03:00:00 +01:00`.
    static func local(_ date: Date, zone: TimeZone = .current) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss xxx"
        return formatter.string(from: date)
    }

    /// The latest run: `job 12 succeeded`, `job 13 failed (exit 2)`, or `-`.
    static func lastRun(_ schedule: ScheduleView) -> String {
        guard let job = schedule.lastJob else { return "-" }
        var text = "job \(job)"
        if let state = schedule.lastState { text += " \(state.rawValue)" }
        if let code = schedule.lastExitCode, code != 0 { text += " (exit \(code))" }
        return text
    }
}

struct ScheduleAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a schedule: NAME (--cron 'EXPR' | --every DUR) [options] -- CMD ARGS… (or a shell string).",
        discussion: """
            Cron: five fields (minute hour day-of-month month day-of-week) with lists, ranges, \
            steps and names; when both day fields are restricted, either matching fires. Also \
            @hourly @daily @weekly @monthly @yearly @annually. Fire times are computed in --tz \
            (default: the daemon's zone): a time a DST change skips fires once at the first \
            instant after the gap; a time it repeats fires once, at its first occurrence. \
            --every DUR (1s to 366 days) fires every DUR from the second it was added.

            The job's working directory and environment are captured now, as for `add`. \
            --hold, --delay, --at, --after and --unique do not apply to a schedule.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The schedule's name: letters, digits, '.', '_' and '-'.")
    var name: String

    @Option(help: ArgumentHelp("Fire on this cron expression (quote it).", valueName: "EXPR"))
    var cron: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Fire every DUR (e.g. 30s, 10m, 1h).", valueName: "DUR"))
    var every: String?

    @Option(help: ArgumentHelp("The zone cron fire times are computed in (default: the daemon's).", valueName: "ZONE"))
    var tz: String?

    @Option(help: "A fire time while the last run is still queued or running: skip (an event says so), queue (runs after it) or allow (runs alongside).")
    var overlap: String = OverlapPolicy.skip.rawValue

    @Option(name: .customLong("catch-up"), help: "Fire times missed while no daemon ran: none, last (one job for the latest) or all (one job each, at most --catch-up-max).")
    var catchUp: String = CatchUpPolicy.last.rawValue

    @Option(name: .customLong("catch-up-max"), parsing: .unconditional, help: "The most jobs one catch-up creates, and the most fire times that wait with --overlap queue (1 to 10000).")
    var catchUpMax: Int = ScheduleSpec.defaultCatchUpMax

    @Option(name: .customLong("pause-after-failures"), parsing: .unconditional, help: ArgumentHelp("Pause the schedule after N failed runs in a row, with a notification and its hooks.", valueName: "N"))
    var pauseAfterFailures: Int?

    @OptionGroup var job: JobOptions
    @OptionGroup var command: CommandArguments

    func run() throws {
        guard !command.isEmpty else {
            throw StintError(
                .usage, "no command given",
                hint: "usage: stint schedule add NAME --every 1h -- CMD ARGS…  or  stint schedule add NAME --cron '0 3 * * *' 'shell string'")
        }
        let spec = ScheduleSpec(
            name: name, cron: cron,
            every: try every.map { text throws(StintError) in try ValueParsing.duration(text, flag: "--every") }, timeZone: tz,
            anchor: Date(), overlap: try policy(overlap, flag: "--overlap"),
            catchUp: try policy(catchUp, flag: "--catch-up"), catchUpMax: catchUpMax, pauseAfterFailures: pauseAfterFailures,
            job: try job.spec(argv: command.argv.isEmpty ? nil : command.argv, shell: command.shell))
        // Checked here too, so that a bad expression fails without a daemon.
        try spec.validate()
        let added = try CLIEnvironment.client.addSchedule(spec)
        Output(format: global.output).emit(added) {
            let next = added.nextFires.first.map { "; next \(ScheduleCommand.local($0, zone: TimeZone(identifier: added.timeZone) ?? .current))" } ?? "; it never fires"
            return "schedule \(added.name) added: \(added.expression)\(next)"
        }
    }
}

/// `value` of `flag` as one of `T`'s cases; a usage error listing them otherwise.
private func policy<T: RawRepresentable & CaseIterable>(_ value: String, flag: String) throws(StintError) -> T
where T.RawValue == String {
    guard let policy = T(rawValue: value) else {
        let names = T.allCases.map(\.rawValue).joined(separator: ", ")
        throw StintError(.usage, "invalid value for \(flag): '\(value)'", hint: "use one of \(names)")
    }
    return policy
}

struct ScheduleList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "Show every schedule: expression, zone, next three fire times, last run, paused.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let schedules = try CLIEnvironment.client.schedules()
        Output(format: global.output).emit(schedules, ndjson: schedules) { Self.render(schedules) }
    }

    static func render(_ schedules: [ScheduleView]) -> String {
        guard !schedules.isEmpty else { return "no schedules" }
        let palette = Palette.stdout
        var table = Table(header: ["NAME", "SCHEDULE", "ZONE", "NEXT", "LAST", "PAUSED"])
        for schedule in schedules {
            let zone = TimeZone(identifier: schedule.timeZone) ?? .current
            let next = schedule.nextFires.map { ScheduleCommand.local($0, zone: zone) }.joined(separator: ", ")
            let last = ScheduleCommand.lastRun(schedule)
            table.rows.append([
                (schedule.name, schedule.name), (schedule.expression, schedule.expression),
                (schedule.timeZone, schedule.timeZone), (next.isEmpty ? "-" : next, next.isEmpty ? "-" : next),
                (last, last), (schedule.paused ? "yes" : "no", schedule.paused ? palette.bold("yes") : "no"),
            ])
        }
        return table.render(palette: palette, width: terminalWidth())
    }
}

struct ScheduleShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one schedule and the jobs it created, newest first.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The schedule's name.")
    var name: String

    @Option(parsing: .unconditional, help: "How many runs to list (at most 1000).")
    var runs: Int = 20

    func run() throws {
        try ValueParsing.atLeast(runs, 0, flag: "--runs")
        let schedule = try CLIEnvironment.client.schedule(name, runs: runs)
        Output(format: global.output).emit(schedule) { Self.render(schedule) }
    }

    static func render(_ schedule: ScheduleView) -> String {
        let zone = TimeZone(identifier: schedule.timeZone) ?? .current
        var lines = [
            "schedule   \(schedule.name)\(schedule.paused ? " (paused)" : "")",
            "when       \(schedule.expression) in \(schedule.timeZone)",
            "command    \(schedule.command)",
            "queue      \(schedule.queue)",
            "policies   overlap \(schedule.overlap.rawValue), catch-up \(schedule.catchUp.rawValue) (max \(schedule.catchUpMax))"
                + (schedule.pauseAfterFailures.map { ", pause after \($0) failures" } ?? ""),
            "next       " + (schedule.nextFires.isEmpty ? "-" : schedule.nextFires.map { ScheduleCommand.local($0, zone: zone) }.joined(separator: ", ")),
            "last       \(ScheduleCommand.lastRun(schedule))",
        ]
        if schedule.failures > 0 { lines.append("failures   \(schedule.failures) in a row") }
        if let failed = schedule.lastFailedJob { lines.append("last fail  job \(failed)") }
        if let session = schedule.session { lines.append("session    \(session)") }
        let runs = schedule.runs ?? []
        guard !runs.isEmpty else { return (lines + ["", "no runs yet"]).joined(separator: "\n") }
        var table = Table(header: ["FIRE TIME", "JOB", "STATE", "EXIT", "NOTE"])
        for run in runs {
            let job = run.job.map(String.init) ?? "-"
            let state = run.state?.rawValue ?? (run.job == nil ? "waiting" : "removed")
            let exit = run.exitCode.map(String.init) ?? "-"
            let note = run.catchUp ? "caught up" : ""
            let time = ScheduleCommand.local(run.fireTime, zone: zone)
            table.rows.append([(time, time), (job, job), (state, state), (exit, exit), (note, note)])
        }
        return (lines + [""]).joined(separator: "\n") + table.render(palette: Palette.stdout, width: terminalWidth())
    }
}

/// `pause`, `resume` and `rm`: one name, one change, the schedule as it is after.
private protocol ScheduleChange: ParsableCommand {
    var global: GlobalOptions { get }
    var name: String { get }
    static var action: String { get }
    static var done: String { get }
}

extension ScheduleChange {
    func run() throws {
        let schedule = try CLIEnvironment.client.changeSchedule(name, Self.action)
        Output(format: global.output).emit(schedule) { "schedule \(schedule.name) \(Self.done)" }
    }
}

struct SchedulePause: ScheduleChange {
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Stop a schedule firing (fire times that wait for a run are dropped).")
    static let action = "pause"
    static let done = "paused"
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The schedule's name.") var name: String
}

struct ScheduleResume: ScheduleChange {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Resume a schedule from its next fire time (what came due while paused does not run).")
    static let action = "resume"
    static let done = "resumed"
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The schedule's name.") var name: String
}

struct ScheduleRemove: ScheduleChange {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Remove a schedule; the jobs it created stay.")
    static let action = "rm"
    static let done = "removed"
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The schedule's name.") var name: String
}

struct ScheduleRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Fire a schedule once now (paused or not), and print the job's id.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The schedule's name.") var name: String

    func run() throws {
        let fired = try CLIEnvironment.client.runSchedule(name)
        Output(format: global.output).emit(fired) { "job \(fired.job) \(fired.state.rawValue)" }
    }
}

struct SchedulePreviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Print the next fire times of a cron expression (or @every DUR) without storing anything.",
        discussion: """
            Computed here, without the daemon. Times print in the zone; with -o json, data.times \
            is the list of RFC 3339 UTC strings.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("A cron expression (quote it), or `@every DUR`.", valueName: "EXPR"))
    var expression: String

    @Option(help: ArgumentHelp("The zone (default: this machine's).", valueName: "ZONE"))
    var tz: String?

    @Option(help: ArgumentHelp("Fire times strictly after TIME (default: now): 18:30, 2026-11-21 18:30 (local) or RFC 3339.", valueName: "TIME"))
    var from: String?

    @Option(parsing: .unconditional, help: "How many fire times (1 to 1000).")
    var count: Int = 5

    func run() throws {
        guard (1...1000).contains(count) else { throw StintError(.usage, "--count must be between 1 and 1000") }
        if let tz { try ScheduleSpec.validate(timeZone: tz) }
        let start = try from.map { text throws(StintError) in try ValueParsing.moment(text, flag: "--from") } ?? Date()
        var spec = ScheduleSpec(name: "preview", timeZone: tz, anchor: start, job: JobSpec(shell: "true", cwd: "/"))
        let trimmed = expression.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased().hasPrefix("@every") {
            let text = trimmed.dropFirst("@every".count).trimmingCharacters(in: .whitespaces)
            spec.every = try ValueParsing.duration(text, flag: "@every")
        } else {
            spec.cron = trimmed
        }
        try spec.validate()
        let zone = spec.zone
        let preview = SchedulePreview(
            expression: trimmed, timeZone: zone.identifier, times: spec.fireTimes(after: start, count: count))
        Output(format: global.output).emit(preview, ndjson: preview.times.map { RFC3339.format($0) }) {
            preview.times.map { ScheduleCommand.local($0, zone: zone) }.joined(separator: "\n")
        }
    }
}
