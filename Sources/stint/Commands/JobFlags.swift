import Foundation
import StintCore

/// The values of ``JobOptions`` as typed, without ArgumentParser's property wrappers, so
/// that the parsed command line and the hand-written fast path (``FastCommandLine``)
/// build a job's spec with the same code.
struct JobFlags {
    var cwd: String?
    var env: [String] = []
    var labels: [String] = []
    var timeout: String?
    var outputCap: String?
    var hold = false
    var queue: String?
    var priority: Int?
    var delay: String?
    var at: String?
    var after: [String] = []
    var unique: String?
    var retries: Int?
    var retryOn: String?
    var transientPattern: String?
    var backoff: String?
    var stallAfter: String?
    var notify: String?
    var onEnd: String?

    /// A spec with these options for `argv` or `shell`.
    func spec(argv: [String]?, shell: String?) throws(StintError) -> JobSpec {
        try ValueParsing.atLeast(retries, 0, flag: "--retries")
        var environment = CLIEnvironment.capturedEnvironment
        environment.merge(try ValueParsing.pairs(env, flag: "--env")) { $1 }
        let directory = try resolvedDirectory()
        var spec = JobSpec(
            argv: argv, shell: shell, cwd: directory, env: environment,
            labels: try ValueParsing.pairs(labels, flag: "--label"),
            session: CLIEnvironment.session,
            timeout: try timeout.map { text throws(StintError) in
                let seconds = try ValueParsing.duration(text, flag: "--timeout")
                guard seconds > 0 else { throw StintError(.usage, "--timeout must be greater than zero") }
                return seconds
            },
            outputCap: try outputCap.map { text throws(StintError) in try ValueParsing.size(text, flag: "--output-cap") },
            hold: hold ? true : nil, queue: queue, priority: priority,
            runAt: try at.map { text throws(StintError) in try ValueParsing.moment(text, flag: "--at") },
            delay: try delay.map { text throws(StintError) in try ValueParsing.duration(text, flag: "--delay") },
            after: after.isEmpty ? nil : try ValueParsing.ids(after), unique: unique, retries: retries,
            retryOn: try retryOn.map { text throws(StintError) in try ValueParsing.exitCodes(text, flag: "--retry-on") },
            transientPattern: transientPattern,
            backoffMin: try backoffRange?.0, backoffMax: try backoffRange?.1,
            stallAfter: try stallAfter.map { text throws(StintError) in try ValueParsing.duration(text, flag: "--stall-after") })
        spec.notify = notify
        spec.onEnd = onEnd
        return spec
    }

    private var backoffRange: (Double, Double)? {
        get throws(StintError) { try backoff.map { text throws(StintError) in try ValueParsing.backoff(text, flag: "--backoff") } }
    }

    private func resolvedDirectory() throws(StintError) -> String {
        let current = FileManager.default.currentDirectoryPath
        guard let cwd else { return current }
        let absolute = cwd.hasPrefix("/") ? cwd : current + "/" + cwd
        return URL(fileURLWithPath: absolute).standardizedFileURL.path
    }
}
