import ArgumentParser
import Foundation
import StintClient
import StintCore

/// The job a `progress` or `checkpoint` call is about: `--job`, else `$STINT_JOB_ID`.
private func reportingJob(_ option: String?) throws -> Int64 {
    if let option { return try ValueParsing.ids([option])[0] }
    guard let text = CLIEnvironment.environment["STINT_JOB_ID"], let id = Int64(text), id > 0 else {
        throw StintError(.usage, "not inside a stint job", hint: "run it from a job's command, or name the job with --job ID")
    }
    return id
}

struct ProgressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "progress",
        abstract: "From inside a job, report how far it has come; `ls` and `show` display it.",
        discussion: """
            `stint progress 1234/50000 --message 'mail 1234'` shows as `running 1,234/50,000 \
            (2.5%)` in `stint ls`. Prints nothing in text mode, so the job's log stays its own.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("Units done, and the total when known.", valueName: "N[/TOTAL]"))
    var value: String

    @Option(help: "A short note, such as the unit at hand (at most 500 bytes).")
    var message: String?

    @Option(help: "The job (default: $STINT_JOB_ID, set in every job).")
    var job: String?

    func run() throws {
        let request = try ProgressRequest.parse(value, message: message)
        let view = try CLIEnvironment.client.progress(try reportingJob(job), request)
        Output(format: global.output).emit(view) { "" }
    }
}

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "From inside a job, record where to resume; its next attempt gets it as $STINT_CHECKPOINT.",
        discussion: """
            A retried job (`stint retry`, or a retry after a transient failure) starts with \
            STINT_CHECKPOINT set to the last value recorded, so it can skip what is done. Prints \
            nothing in text mode.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Whatever lets the job resume: a unit number, a cursor, a file name (at most 4096 bytes).")
    var value: String

    @Option(help: "The job (default: $STINT_JOB_ID, set in every job).")
    var job: String?

    func run() throws {
        try CheckpointRequest(value: value).validate()
        let view = try CLIEnvironment.client.checkpoint(try reportingJob(job), value)
        Output(format: global.output).emit(view) { "" }
    }
}
