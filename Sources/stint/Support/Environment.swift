import Foundation
import StintClient
import StintCore

/// What every command needs from the process environment.
enum CLIEnvironment {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    static var paths: StintPaths { StintPaths(environment: environment) }

    /// `--session`, once parsed.
    nonisolated(unsafe) static var sessionOption: String?

    /// The session this command is scoped to: `--session`, else `$STINT_SESSION`.
    static var session: String? {
        sessionOption ?? environment[Session.environmentVariable].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A client that starts the daemon when nothing answers, unless `STINT_NO_AUTOSTART=1`,
    /// scoped to ``session``.
    static var client: StintClient {
        let autostart = !autostartDisabled && remote == nil
        var client = StintClient(paths: paths, autostartExecutable: autostart ? executablePath : nil, session: session)
        client.remote = remote
        client.autostartDisabledByUser = autostartDisabled
        client.timeout = (try? timeout()) ?? StintClient.defaultTimeout
        return client
    }

    /// A client that never starts a daemon (`daemon status`, `daemon stop`), else as ``client``.
    static var clientWithoutAutostart: StintClient {
        var client = client
        client.autostartExecutable = nil
        return client
    }

    /// Whether the user turned auto-start off (`STINT_NO_AUTOSTART=1`).
    static var autostartDisabled: Bool { environment["STINT_NO_AUTOSTART"] == "1" }

    /// `STINT_TIMEOUT`: how long connecting, and each silence of the daemon while it
    /// answers, may last; default ``StintClient/defaultTimeout``. An invalid value is a usage error.
    static func timeout() throws(StintError) -> Double {
        guard let text = environment["STINT_TIMEOUT"], !text.isEmpty else { return StintClient.defaultTimeout }
        if text.hasPrefix("-") { throw StintError(.usage, "STINT_TIMEOUT must not be negative: \(text)") }
        guard let seconds = DurationParser.seconds(text), seconds > 0 else {
            throw StintError(
                .usage, "invalid STINT_TIMEOUT: '\(text)'", hint: "a duration above zero such as 30s, 2m or 1.5s; the default is 30s")
        }
        return seconds
    }

    /// `STINT_URL` and `STINT_TOKEN`: a daemon to reach over TCP instead of the local socket.
    static var remote: StintClient.Remote? {
        guard let url = environment["STINT_URL"], !url.isEmpty else { return nil }
        return StintClient.Remote(url: url, token: environment["STINT_TOKEN"])
    }

    /// This executable's path.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Variables the daemon sets for each job; a job that enqueues a job must not pass its own on.
    static let jobVariables: Set<String> = ["STINT_JOB_ID", "STINT_ATTEMPT", "STINT_QUEUE", "STINT_CHECKPOINT", "STINT_RUN_DIR"]

    /// The caller's environment as a job should see it.
    static var capturedEnvironment: [String: String] {
        environment.filter { !jobVariables.contains($0.key) }
    }
}

/// Parses the values users type into flags, as usage errors.
enum ValueParsing {
    static func duration(_ text: String, flag: String) throws(StintError) -> Double {
        try UserValue.duration(text, flag: flag)
    }

    /// Refuses a value written with a leading minus, saying so (rather than "invalid").
    static func notNegative(_ text: String, flag: String) throws(StintError) {
        try UserValue.notNegative(text, flag: flag)
    }

    /// A whole number of at least `minimum`, for flags ArgumentParser reads as `Int`.
    static func atLeast<N: BinaryInteger>(_ value: N?, _ minimum: N, flag: String) throws(StintError) {
        guard let value, value < minimum else { return }
        if value < 0 { throw StintError(.usage, "\(flag) must not be negative: \(value)") }
        throw StintError(.usage, "\(flag) must be at least \(minimum): \(value)")
    }

    static func size(_ text: String, flag: String) throws(StintError) -> Int64 {
        try UserValue.size(text, flag: flag)
    }

    static func pairs(_ items: [String], flag: String) throws(StintError) -> [String: String] {
        var result: [String: String] = [:]
        for item in items {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw StintError(.usage, "\(flag) takes KEY=VALUE, not '\(item)'")
            }
            result[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        return result
    }

    static func ids(_ texts: [String]) throws(StintError) -> [Int64] {
        var result: [Int64] = []
        for text in texts {
            for part in text.split(separator: ",") {
                if part.hasPrefix("-") { throw StintError(.usage, "job ids must not be negative: \(part)") }
                guard let id = Int64(part), id > 0 else {
                    throw StintError(.usage, "not a job id: '\(part)'", hint: "job ids are positive integers, as `stint ls` shows")
                }
                result.append(id)
            }
        }
        guard !result.isEmpty else { throw StintError(.usage, "no job id given") }
        return result
    }

    /// `MIN..MAX` durations, such as `1s..5m`.
    static func backoff(_ text: String, flag: String) throws(StintError) -> (Double, Double) {
        try UserValue.backoff(text, flag: flag)
    }

    /// A comma-separated list of exit codes, such as `3,75`.
    static func exitCodes(_ text: String, flag: String) throws(StintError) -> [Int] {
        var codes: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let code = Int(part.trimmingCharacters(in: .whitespaces)), (1...255).contains(code) else {
                throw StintError(.usage, "invalid exit code for \(flag): '\(part)'", hint: "use codes from 1 to 255, such as 3,75")
            }
            codes.append(code)
        }
        return codes
    }

    /// A moment for `--at`.
    static func moment(_ text: String, flag: String) throws(StintError) -> Date {
        try UserValue.moment(text, flag: flag, now: Date())
    }

    static func signal(_ text: String) throws(StintError) -> Int32 {
        try notNegative(text, flag: "--signal")
        if let number = Int32(text), number > 0, number < 65 { return number }
        let names: [String: Int32] = [
            "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "KILL": SIGKILL, "USR1": SIGUSR1, "USR2": SIGUSR2,
            "TERM": SIGTERM, "CONT": SIGCONT, "STOP": SIGSTOP, "TSTP": SIGTSTP, "ALRM": SIGALRM, "WINCH": SIGWINCH,
        ]
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        guard let number = names[name] else {
            throw StintError(.usage, "unknown signal: '\(text)'", hint: "use a number or one of \(names.keys.sorted().joined(separator: ", "))")
        }
        return number
    }
}
