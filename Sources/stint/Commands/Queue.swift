import ArgumentParser
import Foundation
import StintClient
import StintCore

struct QueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "List, pause, resume and configure queues.",
        discussion: """
            A queue has a concurrency limit, a pause switch, a circuit breaker and an optional \
            preflight command. `add --queue NAME` creates a queue with the defaults: no limit \
            beyond the daemon's --parallel, not paused, breaker off (threshold 0; pause 60s \
            once a threshold is set), no preflight (TTL 30s once one is set).
            """,
        subcommands: [QueueList.self, QueuePause.self, QueueResume.self, QueueSet.self],
        defaultSubcommand: QueueList.self)
}

struct QueueList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "Show every queue: running and queued counts, pause, breaker, preflight.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let queues = try CLIEnvironment.client.queues()
        Output(format: global.output).emit(queues, ndjson: queues) { Self.render(queues) }
    }

    static func render(_ queues: [QueueView]) -> String {
        guard !queues.isEmpty else { return "no queues" }
        let palette = Palette.stdout
        var table = Table(header: ["QUEUE", "RUNNING", "QUEUED", "HELD", "LIMIT", "PAUSED", "BREAKER", "PREFLIGHT"])
        for queue in queues {
            let breaker = breakerText(queue.breaker)
            let preflight = preflightText(queue.preflight)
            table.rows.append([
                (queue.name, queue.name),
                ("\(queue.running)", "\(queue.running)"),
                ("\(queue.queued)", "\(queue.queued)"),
                ("\(queue.held)", "\(queue.held)"),
                (queue.concurrency == 0 ? "-" : "\(queue.concurrency)", queue.concurrency == 0 ? "-" : "\(queue.concurrency)"),
                (queue.paused ? "yes" : "no", queue.paused ? palette.bold("yes") : "no"),
                (breaker, breaker),
                (preflight, preflight),
            ])
        }
        var text = table.render(palette: palette, width: terminalWidth())
        for queue in queues where queue.notify != nil || queue.onEnd != nil {
            var hooks: [String] = []
            if let notify = queue.notify { hooks.append("notify \(notify)") }
            if let onEnd = queue.onEnd { hooks.append("on-end \(onEnd)") }
            text += "\nqueue \(queue.name) hooks: \(hooks.joined(separator: ", "))"
        }
        return text
    }

    static func breakerText(_ breaker: BreakerView) -> String {
        guard breaker.threshold > 0 || breaker.state != .closed else { return "off" }
        switch breaker.state {
        case .closed:
            return "closed (\(breaker.streak)/\(breaker.threshold))"
        case .open:
            return "open, \(DurationText.short(breaker.secondsLeft ?? 0)) left"
        case .half_open:
            return breaker.probeJob.map { "half-open, probing with job \($0)" } ?? "half-open"
        }
    }

    static func preflightText(_ preflight: PreflightView?) -> String {
        guard let preflight else { return "-" }
        switch preflight.status {
        case "failed": return "failing: \(preflight.reason ?? "")".truncated(to: 60)
        default: return preflight.status
        }
    }
}

struct QueuePause: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Stop claiming jobs from queues (creating them); running jobs go on.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Queue names.")
    var names: [String] = []

    func run() throws {
        try QueueSwitch.apply(names, paused: true, format: global.output)
    }
}

struct QueueResume: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Let paused queues claim jobs again.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Queue names.")
    var names: [String] = []

    func run() throws {
        try QueueSwitch.apply(names, paused: false, format: global.output)
    }
}

enum QueueSwitch {
    static func apply(_ names: [String], paused: Bool, format: OutputFormat) throws {
        guard !names.isEmpty else { throw StintError(.usage, "no queue name given") }
        for name in names { try QueueName.validate(name) }
        let client = CLIEnvironment.client
        let views = try names.map { try client.updateQueue($0, QueueUpdate(paused: paused)) }
        Output(format: format).emit(views, ndjson: views) {
            views.map { "queue \($0.name) \(paused ? "paused" : "resumed")" }.joined(separator: "\n")
        }
    }
}

struct QueueSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Change a queue's settings (creating it); unnamed settings keep their values.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The queue name.")
    var name: String

    @Option(parsing: .unconditional, help: "The most jobs of this queue running at once (0: no limit beyond the daemon's --parallel).")
    var concurrency: Int?

    @Option(name: .customLong("breaker-threshold"), parsing: .unconditional, help: "Consecutive transient failures that open the breaker (0: off).")
    var breakerThreshold: Int?

    @Option(name: .customLong("breaker-pause"), parsing: .unconditional, help: ArgumentHelp("How long an open breaker claims nothing before one probe job (default 60s).", valueName: "DUR"))
    var breakerPause: String?

    @Option(help: ArgumentHelp("A shell command that must exit 0 before jobs are claimed ('' removes it).", valueName: "CMD"))
    var preflight: String?

    @Option(name: .customLong("preflight-ttl"), parsing: .unconditional, help: ArgumentHelp("How long a preflight result is trusted (default 30s; at least 1s).", valueName: "DUR"))
    var preflightTTL: String?

    @Option(help: ArgumentHelp("POST every notification of the queue's jobs to this http(s) URL ('' removes it).", valueName: "URL"))
    var notify: String?

    @Option(name: .customLong("on-end"), help: ArgumentHelp("Run this shell command when any job of the queue ends ('' removes it).", valueName: "CMD"))
    var onEnd: String?

    func run() throws {
        try QueueName.validate(name)
        try ValueParsing.atLeast(concurrency, 0, flag: "--concurrency")
        try ValueParsing.atLeast(breakerThreshold, 0, flag: "--breaker-threshold")
        let update = QueueUpdate(
            concurrency: concurrency, breakerThreshold: breakerThreshold,
            breakerPause: try breakerPause.map { text throws(StintError) in try ValueParsing.duration(text, flag: "--breaker-pause") },
            preflight: preflight,
            preflightTTL: try preflightTTL.map { text throws(StintError) in try ValueParsing.duration(text, flag: "--preflight-ttl") },
            notify: notify, onEnd: onEnd)
        try update.validate()
        let view = try CLIEnvironment.client.updateQueue(name, update)
        Output(format: global.output).emit(view) { QueueList.render([view]) }
    }
}

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show recent events, or follow them live: jobs added, started and ended, progress, retries, breaker transitions, stalls, preflight results, notifications, schedule fires.",
        discussion: """
            With --follow, prints each event as the daemon stores it, until interrupted: one line each, or one \
            JSON object per line with -o json or -o ndjson. It reconnects by itself when the daemon restarts and \
            resumes after the last event it printed, so none is missed. Without --job, a client scoped to a \
            session sees only its session's jobs' events when following, and may not list every job's.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(parsing: .unconditional, help: "Only events of this job.")
    var job: String?

    @Option(help: "Only events of this queue.")
    var queue: String?

    @Option(parsing: .unconditional, help: "Show at most this many, the newest (not with --follow).")
    var limit: Int = 100

    @Flag(name: [.short, .long], help: "Follow: print events as they are stored, until interrupted.")
    var follow = false

    @Option(parsing: .unconditional, help: "With --follow: start after this event id (0: every event kept) instead of at the newest.")
    var after: String?

    func run() throws {
        try ValueParsing.atLeast(limit, 0, flag: "--limit")
        let jobID = try job.map { text throws(StintError) in try ValueParsing.ids([text])[0] }
        let start = try after.map { text throws(StintError) in
            guard let value = Int64(text), value >= 0 else { throw StintError(.usage, "--after takes an event id (0 or more), not \(text)") }
            return value
        }
        guard follow else {
            if start != nil { throw StintError(.usage, "--after goes with --follow") }
            let events = try CLIEnvironment.client.events(job: jobID, queue: queue, limit: limit)
            Output(format: global.output).emit(events, ndjson: events) {
                guard !events.isEmpty else { return "no events" }
                return events.map(Self.line).joined(separator: "\n")
            }
            return
        }
        try followEvents(job: jobID, after: start)
    }

    /// Prints events as they come, reconnecting after the last one printed whenever the
    /// stream ends (the daemon stopped or cut this client off) or the daemon is away.
    private func followEvents(job: Int64?, after start: Int64?) throws {
        let client = CLIEnvironment.client
        let json = global.output == .json || global.output == .ndjson
        let encoder = StintJSON.encoder()
        var last = start
        var announced = false
        while true {
            do {
                let reached = try client.watchEvents(job: job, queue: queue, after: last) { event in
                    last = event.id
                    if json {
                        Output.out(String(decoding: try encoder.encode(event), as: UTF8.self) + "\n")
                    } else {
                        Output.out(Self.line(event) + "\n")
                    }
                    announced = false
                    return true
                }
                last = reached ?? last
            } catch let error as StintError where error.code == .unavailable {
                if !announced {
                    Output.err("stint: daemon unavailable; reconnecting…\n")
                    announced = true
                }
            }
            // The stream ended: come back after the last event it gave (the stream's first
            // line says where it starts, so none stored meanwhile is missed).
            usleep(200_000)
        }
    }

    static func line(_ event: EventView) -> String {
        var subject = event.queue.map { "queue \($0)" } ?? ""
        if let job = event.job { subject += (subject.isEmpty ? "" : ", ") + "job \(job)" }
        return "\(RFC3339.format(event.at))  \(event.kind)  \(subject): \(event.message)"
    }
}
