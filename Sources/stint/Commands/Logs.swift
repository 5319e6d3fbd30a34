import ArgumentParser
import Foundation
import StintClient
import StintCore

struct Logs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a job's output (stdout and stderr together).",
        discussion: "Past the output cap the log keeps its head and its last lines, with a marker saying how many bytes were dropped between them.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The job id.")
    var id: String

    @Flag(name: .shortAndLong, help: "Follow the output until the job ends.")
    var follow = false

    @Option(parsing: .unconditional, help: "Only the last N lines (with -f: then follow).")
    var tail: Int?

    @Option(parsing: .unconditional, help: "Only the first N lines.")
    var head: Int?

    @Option(parsing: .unconditional, help: "Which attempt (default: the last).")
    var attempt: Int?

    func run() throws {
        let id = try ValueParsing.ids([id])[0]
        try ValueParsing.atLeast(tail, 0, flag: "--tail")
        try ValueParsing.atLeast(head, 0, flag: "--head")
        if head != nil, tail != nil || follow { throw StintError(.usage, "--head cannot be combined with --tail or --follow") }
        try ValueParsing.atLeast(attempt, 1, flag: "--attempt")
        let client = CLIEnvironment.client
        let output = Output(format: global.output)
        if output.format == .text {
            try client.log(id, attempt: attempt, head: head, tail: tail, follow: follow) {
                FileHandle.standardOutput.write($0)
            }
            return
        }
        var collected = Data()
        try client.log(id, attempt: attempt, head: head, tail: tail, follow: follow) { collected.append($0) }
        let text = String(decoding: collected, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        output.emit(LogText(job: id, text: text), ndjson: lines.map { ["line": $0] }, meta: ["count": lines.count]) { text }
    }
}

/// `-o json` of `stint logs`.
struct LogText: Codable, Sendable {
    var job: Int64
    var text: String
}

struct Wait: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Block until jobs end; exit with the job's code.",
        discussion: """
            One job: its exit code; 124 after a timeout, 125 after a stop, 128+N after signal N, \
            127 when it could not start, 1 when lost. Several jobs: 0 when all succeeded, 6 \
            otherwise. With --any: the code of the first job to end. 75 when --timeout runs out.

            --until stall|idle:DUR|output:REGEX returns as soon as the job is waiting at a \
            prompt, its output has been quiet for DUR, or a line of its output matches \
            REGEX (output already written counts): exit 0 then. A job that ends first exits \
            as above. The reason (succeeded, failed, cancelled, timeout, stalled, idle, \
            matched, wait_timeout) is printed, and is `reason` in JSON.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Job ids (space- or comma-separated).")
    var ids: [String] = []

    @Option(parsing: .unconditional, help: "Give up after this long and exit 75 (e.g. 30, 1.5s, 10m).")
    var timeout: String?

    @Flag(help: "Return when the first of the jobs ends (or meets --until).")
    var any = false

    @Option(help: ArgumentHelp("What to wait for: end (default), stall, idle:DUR, output:REGEX.", valueName: "CONDITION"))
    var until: String?

    func run() throws {
        let ids = try ValueParsing.ids(ids)
        let seconds = try timeout.map { text throws(StintError) in try ValueParsing.duration(text, flag: "--timeout") }
        let condition = try until.map { text throws(StintError) in try WaitUntil(parsing: text) }
        let output = Output(format: global.output)
        let response = try CLIEnvironment.client.wait(ids, any: any, timeout: seconds, until: condition)
        let rows = response.jobs.enumerated().map { index, job in
            WaitRow(job: job, waitReason: response.reasons.flatMap { index < $0.count ? $0[index] : nil })
        }
        let meta = WaitMeta(count: rows.count, done: response.done, reason: response.reason, match: response.match)
        let outcome = WaitOutcome(response)
        output.emit(response, ndjson: rows, metaObject: meta) { Self.text(outcome) }
        throw CLIExit(status: Self.status(outcome, any: any))
    }

    /// What `wait` prints in text mode.
    static func text(_ response: WaitOutcome) -> String {
        var lines: [String] = []
        for (index, job) in response.jobs.enumerated() {
            let reason = response.reasons?[index] ?? nil
            if let reason, !reason.isEnd {
                var line = "job \(job.id) \(reason.rawValue)"
                if reason == .matched, let match = response.match { line += ": \(match)" }
                if reason == .stalled, let prompt = job.stallLine { line += " at \"\(prompt)\"" }
                lines.append(line)
            } else {
                lines.append(job.waitCode == nil ? "job \(job.id) \(job.state.rawValue)" : WaitSummary.line(job))
            }
        }
        if response.reason == .waitTimeout { lines.append("wait timed out (exit 75); the job goes on") }
        return lines.joined(separator: "\n")
    }

    static func status(_ response: WaitOutcome, any: Bool) -> Int32 {
        if let reasons = response.reasons, reasons.contains(where: { $0.map { !$0.isEnd } ?? false }) || response.reason.map({ !$0.isEnd && $0 != .waitTimeout }) ?? false {
            guard response.done else { return 75 }
            let codes = zip(reasons, response.jobs).map { reason, job -> Int32? in
                guard let reason else { return nil }
                return reason.isEnd ? job.waitCode : 0
            }
            if any { return codes.compactMap { $0 }.first ?? 75 }
            if codes.count == 1 { return codes[0] ?? 75 }
            return codes.allSatisfy { $0 == 0 } ? 0 : 6
        }
        if any {
            return response.jobs.first { $0.waitCode != nil }?.waitCode ?? 75
        }
        guard response.done, response.jobs.allSatisfy({ $0.waitCode != nil }) else { return 75 }
        if response.jobs.count == 1 { return response.jobs[0].waitCode ?? 75 }
        return response.jobs.allSatisfy { $0.waitCode == 0 } ? 0 : 6
    }
}

/// One line of `wait -o ndjson`: the job, and why its wait returned (`-o json`'s `reasons`).
private struct WaitRow: Encodable {
    let job: JobView
    let waitReason: WaitReason?

    private enum CodingKeys: String, CodingKey { case waitReason }

    func encode(to encoder: any Encoder) throws {
        try job.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(waitReason, forKey: .waitReason)
    }
}

/// The `_meta` line of `wait -o ndjson`: the count, and `-o json`'s `done`, `reason` and `match`.
private struct WaitMeta: Encodable {
    let count: Int
    let done: Bool
    let reason: WaitReason?
    let match: String?
}
