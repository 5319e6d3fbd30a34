import ArgumentParser
import Foundation
import StintClient
import StintCore

struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Enqueue a job and print its id.",
        discussion: """
            stint add [options] -- CMD ARGS…     run CMD directly (no shell)
            stint add [options] 'shell string'   run with /bin/sh -c
            stint add --from FILE|-              one job per line: a shell string, or an NDJSON \
            object with the fields of the flags (command or argv, cwd, env, labels, session, \
            timeout, output_cap, hold, queue, priority, delay, at, after, unique, retries, \
            retry_on, transient_pattern, backoff, stall_after); all in one transaction, ids \
            printed one per line.

            Retries: only transient failures are retried — timeouts, lost jobs, launch \
            errors, signals from outside, exit 75 (EX_TEMPFAIL), and what --retry-on and \
            --transient-pattern add. Other non-zero exits are permanent.

            The job runs with the current directory and environment as captured now, plus \
            STINT_JOB_ID, STINT_ATTEMPT and STINT_QUEUE.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var job: JobOptions

    @Option(help: ArgumentHelp("Enqueue one job per line of FILE (`-`: standard input).", valueName: "FILE"))
    var from: String?

    @Flag(help: "Wait for the job to end and exit like `stint wait`.")
    var wait = false

    @Flag(help: "Print the job's output as it runs, then exit like `stint wait`.")
    var follow = false

    @Option(name: .customLong("yield"), parsing: .unconditional, help: ArgumentHelp("Follow for at most DUR; if the job still runs, print its id and exit 75 (it goes on in the background).", valueName: "DUR"))
    var yieldAfter: String?

    @Flag(name: .customShort("p"), help: "Print only the id.")
    var printID = false

    @OptionGroup var command: CommandArguments

    func run() throws {
        let output = Output(format: global.output)
        let specs: [JobSpec]
        if let from {
            guard command.isEmpty else { throw StintError(.usage, "give either --from or a command, not both") }
            specs = try BatchFile.specs(from: from, defaults: job.flags)
        } else {
            guard !command.isEmpty else {
                throw StintError(.usage, "no command given", hint: "usage: stint add [options] -- CMD ARGS…  or  stint add 'shell string'")
            }
            specs = [try job.spec(argv: command.argv.isEmpty ? nil : command.argv, shell: command.shell)]
        }
        let yieldSeconds = try yieldAfter.map { text throws(StintError) in try ValueParsing.duration(text, flag: "--yield") }
        let client = CLIEnvironment.client
        let response = try client.add(specs)
        let ids = response.ids
        if let only = ids.first, ids.count == 1, wait || follow || yieldSeconds != nil {
            if follow || yieldSeconds != nil, global.output == .text {
                output.note("job \(only) queued")
            }
            try JobCompletion(client: client, output: output).finish(
                only, follow: follow || yieldSeconds != nil, yieldAfter: yieldSeconds)
        }
        output.emit(response, ndjson: ids.map { AddRow(id: $0, duplicate: response.duplicates.contains($0)) }) {
            Self.text(response, onlyIDs: printID || from != nil, held: job.hold)
        }
    }

    /// What `add` prints in text mode: the ids alone (`-p`, `--from`), or a line per job.
    static func text(_ response: AddResponse, onlyIDs: Bool, held: Bool) -> String {
        let ids = response.ids
        if onlyIDs { return ids.map(String.init).joined(separator: "\n") }
        return ids.indices.map { index in
            let id = ids[index]
            if response.duplicates.contains(id) { return "job \(id) already exists (duplicate unique key)" }
            let state = index < response.states.count ? response.states[index].rawValue : (held ? "held" : "queued")
            return "job \(id) \(state)"
        }.joined(separator: "\n")
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Enqueue a job, print its output as it runs, and exit like `stint wait`.",
        discussion: "The job runs under the daemon: interrupting `stint run` leaves it running (see `stint stop`).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var job: JobOptions
    @OptionGroup var command: CommandArguments

    func run() throws {
        guard !command.isEmpty else {
            throw StintError(.usage, "no command given", hint: "usage: stint run [options] -- CMD ARGS…  or  stint run 'shell string'")
        }
        let spec = try job.spec(argv: command.argv.isEmpty ? nil : command.argv, shell: command.shell)
        let client = CLIEnvironment.client
        guard let id = try client.add([spec]).ids.first else { throw StintError(.internal, "the daemon returned no id") }
        try JobCompletion(client: client, output: Output(format: global.output)).finish(id, follow: true, yieldAfter: nil)
    }
}

/// Follows and/or waits for one job, then exits with its wait code.
struct JobCompletion {
    let client: StintClient
    let output: Output

    func finish(_ id: Int64, follow: Bool, yieldAfter: Double?) throws -> Never {
        let deadline = yieldAfter.map { Date().addingTimeInterval($0) }
        if follow, output.format == .text {
            do {
                try client.log(id, follow: true, deadline: deadline) { FileHandle.standardOutput.write($0) }
            } catch is DeadlineReached {
                // Still running: the job goes on in the background.
            }
        }
        let remaining = deadline.map { max(0, $0.timeIntervalSinceNow) }
        let response = try client.wait([id], any: false, timeout: remaining)
        guard let job = response.jobs.first, let code = job.waitCode else {
            output.emit(response) { "\(id)" }
            switch response.jobs.first?.state {
            case .queued?, .held?:
                let state = response.jobs.first?.state.rawValue ?? "queued"
                output.note("job \(id) is still \(state) (it has not started); `stint wait \(id)` or `stint logs -f \(id)`")
            default:
                output.note("job \(id) still running; `stint wait \(id)` or `stint logs -f \(id)`")
            }
            throw CLIExit(status: 75)
        }
        output.emit(job) { "" }
        output.note(WaitSummary.line(job))
        throw CLIExit(status: code)
    }
}

/// One line of `add -o ndjson`.
private struct AddRow: Encodable {
    var id: Int64
    var duplicate: Bool
}
