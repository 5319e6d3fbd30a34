import ArgumentParser
import Foundation
import StintClient
import StintCore

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List jobs (the newest, oldest first).",
        discussion: """
            Columns: ID, STATE, QUEUE, SESSION (only when jobs of more than one session are \
            shown), EXIT, DURATION, AGE, COMMAND, LABELS.

            STATE adds what a job waits for: `queued (in 12s)` for a later run time, `queued \
            (waiting for 2 jobs)` for --after dependencies not yet succeeded, `(stalled)` at a \
            prompt, and the progress of a running job.

            EXIT is the code `stint wait` exits with. A `*` marks a code Stint computed because \
            the job did not exit by itself: 124 timeout, 125 cancelled, 128+N killed by signal \
            N, 127 could not start, 1 lost.

            When more jobs match than --limit, a last line says how many are left out.
            """,
        aliases: ["status"])

    @OptionGroup var global: GlobalOptions

    @Option(help: "Only jobs in these states (comma-separated: held, queued, running, succeeded, failed, cancelled).")
    var state: String?

    @Option(help: "Only jobs of this queue.")
    var queue: String?

    @Option(name: .customLong("label"), help: ArgumentHelp("Only jobs with this label (repeatable).", valueName: "KEY=VALUE"))
    var labels: [String] = []

    @Option(parsing: .unconditional, help: "Show at most this many jobs, the newest.")
    var limit: Int = 100

    func run() throws {
        try ValueParsing.atLeast(limit, 0, flag: "--limit")
        guard limit <= Limits.maxListLimit else {
            throw StintError(.usage, "--limit is at most \(Limits.maxListLimit), not \(limit)")
        }
        var states: [JobState] = []
        for name in (state ?? "").split(separator: ",") {
            guard let parsed = JobState(rawValue: String(name)) else {
                throw StintError(.usage, "unknown state: '\(name)'", hint: "one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            states.append(parsed)
        }
        _ = try ValueParsing.pairs(labels, flag: "--label")
        let client = CLIEnvironment.client
        // One more than asked for says whether any were left out, even from a daemon that gives no total.
        var (jobs, total) = try client.listCounting(
            states: states, queue: queue, labels: labels, limit: min(limit + 1, Int(Limits.maxListLimit)))
        let leftOut = jobs.count > limit || (total ?? 0) > jobs.count
        if leftOut { jobs.removeFirst(max(0, jobs.count - limit)) }
        if !leftOut { total = nil }
        var meta = ["count": jobs.count]
        if leftOut { meta["more"] = 1 }
        if let total { meta["total"] = total }
        let output = Output(format: global.output)
        output.emit(jobs, ndjson: jobs, meta: meta) { render(jobs) }
        if leftOut {
            let shown = "showing the newest \(jobs.count) of \(total.map(String.init) ?? "more") matching jobs"
            output.note("stint: \(shown); --limit N shows more")
        }
    }

    private func render(_ jobs: [JobView]) -> String {
        guard !jobs.isEmpty else { return "no jobs" }
        let palette = Palette.stdout
        // A SESSION column only when it tells jobs apart.
        let showSession = Set(jobs.map { $0.session ?? "" }).count > 1
        var header = ["ID", "STATE", "QUEUE", "EXIT", "DURATION", "AGE", "COMMAND", "LABELS"]
        if showSession { header.insert("SESSION", at: 3) }
        var table = Table(header: header)
        let width = terminalWidth()
        for job in jobs {
            let exit = job.waitCode.map { code in job.reason == .exited ? "\(code)" : "\(code)*" } ?? ""
            let labels = job.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            let command = job.command.replacingOccurrences(of: "\n", with: " ").truncated(to: max(20, width - 50 - labels.count))
            let state = JobText.stateLabel(job)
            var row: [(text: String, styled: String)] = [
                ("\(job.id)", "\(job.id)"),
                (state, palette.state(state, job.state)),
                (job.queue, palette.dim(job.queue)),
                (exit, exit),
                (job.duration.map(DurationText.short) ?? "", job.duration.map(DurationText.short) ?? ""),
                (JobText.age(job.createdAt), palette.dim(JobText.age(job.createdAt))),
                (command, command),
                (labels, palette.dim(labels)),
            ]
            if showSession { row.insert((job.session ?? "-", palette.dim(job.session ?? "-")), at: 3) }
            table.rows.append(row)
        }
        return table.render(palette: palette, width: width)
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show one job: options, attempts, log paths.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The job id.")
    var id: String

    func run() throws {
        let id = try ValueParsing.ids([id])[0]
        let job = try CLIEnvironment.client.show(id)
        Output(format: global.output).emit(job) { render(job) }
    }

    private func render(_ job: JobView) -> String {
        let palette = Palette.stdout
        var lines: [(String, String)] = [
            ("id", "\(job.id)"),
            ("state", palette.state(job.state.rawValue, job.state)),
            ("command", job.command),
            ("cwd", job.cwd),
            ("queue", job.queue),
        ]
        if let outcome = JobText.outcome(job) { lines.append(("outcome", outcome)) }
        if let failureClass = job.failureClass {
            lines.append(("failure", "\(failureClass.rawValue): \(job.classReason ?? "")"))
        }
        if let reason = job.endReason { lines.append(("why", reason)) }
        if let progress = job.progress {
            lines.append(("progress", progress.text + (progress.message.map { " — \($0)" } ?? "")))
        }
        if let checkpoint = job.checkpoint { lines.append(("checkpoint", checkpoint)) }
        if let stalledAt = job.stalledAt {
            lines.append(("stalled", "since \(RFC3339.format(stalledAt)) at the prompt: \(job.stallLine ?? "")"))
        }
        if job.stopDeferred == true {
            lines.append(("stop", "deferred: a critical section (`stint critical`) is running; the stop follows when it ends"))
        } else if job.stopRequested == true {
            lines.append(("stop", "requested; the job is being terminated"))
        }
        if job.priority != 0 { lines.append(("priority", "\(job.priority)")) }
        if let runAt = job.runAt { lines.append(("run at", RFC3339.format(runAt))) }
        if let after = job.after, !after.isEmpty {
            var text = after.map(String.init).joined(separator: ",")
            if let waiting = job.waitingFor { text += " (\(waiting) not succeeded yet)" }
            lines.append(("after", text))
        }
        if let unique = job.unique { lines.append(("unique", unique)) }
        if job.retries > 0 {
            lines.append(("retries", "\(job.retries) (attempt \(job.attempts) of at most \(job.retries + 1))"))
        }
        if let code = job.waitCode { lines.append(("wait code", "\(code)")) }
        if let session = job.session { lines.append(("session", session)) }
        if !job.labels.isEmpty {
            lines.append(("labels", job.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")))
        }
        if let timeout = job.timeout { lines.append(("timeout", DurationText.short(timeout))) }
        lines.append(("output cap", job.outputCap == 0 ? "none" : ByteSizeParser.format(job.outputCap)))
        lines.append(("created", RFC3339.format(job.createdAt)))
        if let duration = job.duration { lines.append(("duration", DurationText.short(duration))) }
        if let log = job.log { lines.append(("log", log)) }
        var text = lines.map { "\($0.0.padding(toLength: 11, withPad: " ", startingAt: 0)) \($0.1)" }.joined(separator: "\n")
        for attempt in job.attemptList ?? [] {
            var parts = ["attempt \(attempt.number)", "started \(RFC3339.format(attempt.startedAt))", "node \(attempt.node)"]
            if let ended = attempt.endedAt { parts.append("ended \(RFC3339.format(ended))") }
            if let reason = attempt.reason { parts.append("reason \(reason.rawValue)") }
            if let code = attempt.exitCode { parts.append("exit \(code)") }
            if let signal = attempt.signal { parts.append("signal \(signal)") }
            if let rss = attempt.peakRssBytes { parts.append("peak rss \(ByteSizeParser.format(rss))") }
            if let bytes = attempt.outputBytes { parts.append("output \(ByteSizeParser.format(bytes))") }
            if let dropped = attempt.droppedBytes, dropped > 0 { parts.append("dropped \(ByteSizeParser.format(dropped))") }
            if let failureClass = attempt.failureClass { parts.append(failureClass.rawValue) }
            text += "\n" + parts.joined(separator: ", ")
            if let reason = attempt.classReason { text += "\n  " + reason }
            if let retryAt = attempt.retryAt { text += "\n  retried at \(RFC3339.format(retryAt))" }
            if let stalledAt = attempt.stalledAt {
                text += "\n  stalled at \(RFC3339.format(stalledAt)): \(attempt.stallLine ?? "")"
            }
            if let message = attempt.message { text += "\n  " + message }
        }
        return text
    }
}
