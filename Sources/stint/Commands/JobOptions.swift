import ArgumentParser
import Foundation
import StintCore

/// The options of `add` and `run` that shape a job.
struct JobOptions: ParsableArguments {
    @Option(help: "Working directory of the job (default: the current one).")
    var cwd: String?

    @Option(name: .customLong("env"), help: ArgumentHelp("Set an environment variable for the job (repeatable).", valueName: "KEY=VALUE"))
    var env: [String] = []

    @Option(name: .customLong("label"), help: ArgumentHelp("Attach a label (repeatable).", valueName: "KEY=VALUE"))
    var labels: [String] = []

    @Option(help: "Owner scope of the job (default: $STINT_SESSION).")
    var session: String?

    @Option(help: "Stop the job after this long: SIGTERM to its tree, SIGKILL 10s later; `wait` exits 124 (e.g. 90, 1.5s, 10m, 2h).")
    var timeout: String?

    @Option(name: .customLong("output-cap"), help: "Output kept on disk per job: the head and a rolling tail (default 64MiB; 0: no cap).")
    var outputCap: String?

    @Flag(help: "Add the job held: it runs only after `stint release ID`.")
    var hold = false

    /// A spec with these options for `argv` or `shell`.
    func spec(argv: [String]?, shell: String?) throws(StintError) -> JobSpec {
        var environment = CLIEnvironment.capturedEnvironment
        environment.merge(try ValueParsing.pairs(env, flag: "--env")) { $1 }
        let directory = try resolvedDirectory()
        return JobSpec(
            argv: argv, shell: shell, cwd: directory, env: environment,
            labels: try ValueParsing.pairs(labels, flag: "--label"),
            session: session ?? CLIEnvironment.environment["STINT_SESSION"].flatMap { $0.isEmpty ? nil : $0 },
            timeout: try timeout.map { text throws(StintError) in
                let seconds = try ValueParsing.duration(text, flag: "--timeout")
                guard seconds > 0 else { throw StintError(.usage, "--timeout must be greater than zero") }
                return seconds
            },
            outputCap: try outputCap.map { text throws(StintError) in try ValueParsing.size(text, flag: "--output-cap") },
            hold: hold ? true : nil)
    }

    private func resolvedDirectory() throws(StintError) -> String {
        let current = FileManager.default.currentDirectoryPath
        guard let cwd else { return current }
        let absolute = cwd.hasPrefix("/") ? cwd : current + "/" + cwd
        return URL(fileURLWithPath: absolute).standardizedFileURL.path
    }
}

/// The command of `add` and `run`: `-- CMD ARGS…` or one shell string.
struct CommandArguments: ParsableArguments {
    @Argument(help: ArgumentHelp("A shell string, run with /bin/sh -c.", valueName: "shell-string"))
    var shell: String?

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The command and its arguments after `--`, run directly.", valueName: "command"))
    var argv: [String] = []

    var isEmpty: Bool { shell == nil && argv.isEmpty }

    func validate() throws {
        if shell != nil, !argv.isEmpty {
            throw ValidationError("give either a shell string or `-- CMD ARGS…`, not both")
        }
    }
}
