import ArgumentParser
import Foundation
import StintClient
import StintCore

struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cancel jobs: queued ones at once, running ones by SIGTERM to the whole process tree and SIGKILL after the grace.",
        discussion: "Waits until the jobs have ended (use --no-wait to return at once).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Job ids.")
    var ids: [String] = []

    @Option(parsing: .unconditional, help: "Time between SIGTERM and SIGKILL (default 10s).")
    var grace: String?

    @Flag(name: .customLong("no-wait"), help: "Return once the stop was requested.")
    var noWait = false

    func run() throws {
        let ids = try ValueParsing.ids(ids)
        let grace = try grace.map { text throws(StintError) in try ValueParsing.duration(text, flag: "--grace") }
        let client = CLIEnvironment.client
        var results = try client.stop(ids, grace: grace)
        let stopping = results.compactMap { $0.job?.state.isTerminal == false ? $0.id : nil }
        if !noWait, !stopping.isEmpty {
            let response = try client.wait(stopping, any: false, timeout: nil)
            let ended = Dictionary(uniqueKeysWithValues: response.jobs.map { ($0.id, $0) })
            results = results.map { result in
                var updated = result
                if let job = ended[result.id] { updated.job = job }
                return updated
            }
        }
        try IDResults.report(results, format: global.output) { job in
            job.state.isTerminal ? "job \(job.id) \(job.state.rawValue)" : "job \(job.id) stopping"
        }
    }
}

struct Kill: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a signal to every process of a running job's tree; the job's state does not change.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The job id.")
    var id: String

    @Option(name: .shortAndLong, parsing: .unconditional, help: "The signal: a number or a name such as TERM, INT, HUP, KILL, USR1.")
    var signal: String = "TERM"

    func run() throws {
        let id = try ValueParsing.ids([id])[0]
        let number = try ValueParsing.signal(signal)
        let job = try CLIEnvironment.client.signal(id, signal: number)
        Output(format: global.output).emit(job) { "sent signal \(number) to job \(id)" }
    }
}

struct Retry: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start a new attempt of ended jobs.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Job ids.")
    var ids: [String] = []

    func run() throws {
        let results = try CLIEnvironment.client.retry(try ValueParsing.ids(ids))
        try IDResults.report(results, format: global.output) { "job \($0.id) queued for attempt \($0.attempts + 1)" }
    }
}

struct Release: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Let held jobs (added with --hold) run.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Job ids.")
    var ids: [String] = []

    func run() throws {
        let results = try CLIEnvironment.client.release(try ValueParsing.ids(ids))
        try IDResults.report(results, format: global.output) { "job \($0.id) \($0.state.rawValue)" }
    }
}

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete ended jobs with their logs.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Job ids.")
    var ids: [String] = []

    func run() throws {
        let results = try CLIEnvironment.client.remove(try ValueParsing.ids(ids))
        try IDResults.report(results, format: global.output) { "job \($0.id) removed" } removed: { "job \($0) removed" }
    }
}

struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete ended jobs with their logs (all of them, or those older than --older-than).")

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("older-than"), parsing: .unconditional, help: "Only jobs that ended at least this long ago (e.g. 7d, 12h).")
    var olderThan: String?

    func run() throws {
        let seconds = try olderThan.map { text throws(StintError) in try ValueParsing.duration(text, flag: "--older-than") }
        let removed = try CLIEnvironment.client.prune(olderThan: seconds)
        Output(format: global.output).emit(PruneResponse(removed: removed), ndjson: removed.map { ["id": $0] }) {
            "removed \(removed.count) job\(removed.count == 1 ? "" : "s")"
        }
    }
}

/// Prints per-id results and exits 0 (all ok), with the error's own code (one id), or 6 (some failed).
enum IDResults {
    static func report(
        _ results: [IDResult], format: OutputFormat, line: (JobView) -> String,
        removed: ((Int64) -> String)? = nil
    ) throws {
        let output = Output(format: format)
        let failures = results.filter { $0.error != nil }
        if results.count == 1, let error = failures.first?.error { output.fail(error) }
        output.emit(results, ndjson: results) {
            results.map { result in
                if let error = result.error { return "job \(result.id): \(error.description)" }
                if let job = result.job { return line(job) }
                return removed?(result.id) ?? "job \(result.id)"
            }.joined(separator: "\n")
        }
        if !failures.isEmpty {
            for failure in failures where format == .text {
                Output.err("stint: job \(failure.id): \(failure.error?.description ?? "")\n")
            }
            throw CLIExit(status: failures.count == results.count ? (failures[0].error?.code.exitStatus ?? 1) : 6)
        }
    }
}
