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

    @Option(parsing: .unconditional, help: "Stop the job after this long: SIGTERM to its tree, SIGKILL 10s later; `wait` exits 124 (e.g. 90, 1.5s, 10m, 2h).")
    var timeout: String?

    @Option(name: .customLong("output-cap"), parsing: .unconditional, help: "Output kept on disk per job: the head and a rolling tail (default 64MiB; 0: no cap).")
    var outputCap: String?

    @Flag(help: "Add the job held: it runs only after `stint release ID`.")
    var hold = false

    @Option(help: "Queue to run in (default: default). A new name creates the queue with default settings.")
    var queue: String?

    @Option(parsing: .unconditional, help: "Higher runs first, then oldest first (default 0).")
    var priority: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Run no earlier than DUR from now (e.g. 30s, 10m).", valueName: "DUR"))
    var delay: String?

    @Option(help: ArgumentHelp("Run no earlier than TIME: 18:30, 2026-11-21 18:30 (local) or RFC 3339.", valueName: "TIME"))
    var at: String?

    @Option(help: ArgumentHelp("Run only after these jobs succeeded; if one fails or is cancelled, this job is cancelled.", valueName: "ID,…"))
    var after: [String] = []

    @Option(help: ArgumentHelp("While a job with KEY is held, queued or running, return its id instead of adding another.", valueName: "KEY"))
    var unique: String?

    @Option(parsing: .unconditional, help: "Retries after the first attempt, for transient failures only (default 0).")
    var retries: Int?

    @Option(name: .customLong("retry-on"), help: ArgumentHelp("Exit codes that are transient besides 75 (EX_TEMPFAIL).", valueName: "CODES"))
    var retryOn: String?

    @Option(name: .customLong("transient-pattern"), help: ArgumentHelp("A failure whose last 50 output lines match REGEX is transient.", valueName: "REGEX"))
    var transientPattern: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Retry delays: exponential from MIN, doubling, at most MAX, with jitter (default 1s..5m).", valueName: "MIN..MAX"))
    var backoff: String?

    @Option(name: .customLong("stall-after"), parsing: .unconditional, help: ArgumentHelp("Flag the job stalled when its output has not grown for DUR and ends at a prompt (default 45s; 0: off).", valueName: "DUR"))
    var stallAfter: String?

    @Option(help: ArgumentHelp("POST every notification of the job (ended, stalled, breaker opened) to this http(s) URL, with retries.", valueName: "URL"))
    var notify: String?

    @Option(name: .customLong("on-end"), help: ArgumentHelp("Run this shell command when the job ends, with STINT_JOB_ID, STINT_STATE, STINT_EXIT_CODE… set.", valueName: "CMD"))
    var onEnd: String?

    /// These options as plain values.
    var flags: JobFlags {
        JobFlags(
            cwd: cwd, env: env, labels: labels, timeout: timeout, outputCap: outputCap, hold: hold, queue: queue,
            priority: priority, delay: delay, at: at, after: after, unique: unique, retries: retries, retryOn: retryOn,
            transientPattern: transientPattern, backoff: backoff, stallAfter: stallAfter, notify: notify, onEnd: onEnd)
    }

    /// A spec with these options for `argv` or `shell`.
    func spec(argv: [String]?, shell: String?) throws(StintError) -> JobSpec {
        try flags.spec(argv: argv, shell: shell)
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
