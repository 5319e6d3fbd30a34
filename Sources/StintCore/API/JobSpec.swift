import Foundation

/// What a caller asks to run: the body of one job in `POST /v1/jobs`.
///
/// The CLI fills it from flags (or from one NDJSON line of `add --from`); the daemon
/// validates it before anything is stored.
public struct JobSpec: Sendable, Hashable, Codable {
    /// The program and its arguments, run directly without a shell.
    public var argv: [String]?
    /// A shell string, run as `/bin/sh -c STRING`. Exactly one of `argv` and `shell` is set.
    public var shell: String?
    /// The working directory; the caller's at `add`. Must be absolute.
    public var cwd: String
    /// The environment the command runs with; the caller's at `add`, plus `--env`.
    public var env: [String: String]
    /// Free-form `key=value` labels for filtering.
    public var labels: [String: String]
    /// The owner scope (`--session` or `STINT_SESSION`).
    public var session: String?
    /// Seconds after which the shim terminates the job (reason `timeout`); `nil`: none.
    public var timeout: Double?
    /// Bytes of output kept on disk; `nil`: the default (64 MiB); `0`: no cap.
    public var outputCap: Int64?
    /// Add the job `held`: it waits for `stint release`.
    public var hold: Bool?
    /// The queue; `nil`: `default`. A new name creates the queue with default settings.
    public var queue: String?
    /// Higher runs first; then oldest first. Default 0.
    public var priority: Int?
    /// Run no earlier than this moment (`--at`).
    public var runAt: Date?
    /// Run no earlier than this many seconds after the daemon stored the job (`--delay`).
    public var delay: Double?
    /// Run only after all of these jobs succeeded (`--after`).
    public var after: [Int64]?
    /// While a job with this key is held, queued or running, an `add` with the same key
    /// returns that job instead of adding one (`--unique`).
    public var unique: String?
    /// Retries after the first attempt for transient failures (`--retries`); default 0.
    public var retries: Int?
    /// Exit codes that count as transient besides 75 (`--retry-on`).
    public var retryOn: [Int]?
    /// A regular expression; a failure whose output tail matches it is transient.
    public var transientPattern: String?
    /// The first retry delay in seconds (`--backoff MIN..MAX`); default 1.
    public var backoffMin: Double?
    /// The longest retry delay in seconds; default 300.
    public var backoffMax: Double?
    /// Seconds of silence at an interactive prompt before the job is flagged stalled
    /// (`--stall-after`); default 45; 0 turns detection off.
    public var stallAfter: Double?
    /// A webhook: the daemon POSTs every notification of this job to it (`--notify`).
    public var notify: String?
    /// A shell command run when the job ends, with `STINT_*` variables describing it (`--on-end`).
    public var onEnd: String?

    /// The default output cap, 64 MiB per job.
    public static let defaultOutputCap: Int64 = 64 << 20

    /// Creates a spec.
    public init(
        argv: [String]? = nil, shell: String? = nil, cwd: String, env: [String: String] = [:],
        labels: [String: String] = [:], session: String? = nil, timeout: Double? = nil,
        outputCap: Int64? = nil, hold: Bool? = nil, queue: String? = nil, priority: Int? = nil,
        runAt: Date? = nil, delay: Double? = nil, after: [Int64]? = nil, unique: String? = nil,
        retries: Int? = nil, retryOn: [Int]? = nil, transientPattern: String? = nil,
        backoffMin: Double? = nil, backoffMax: Double? = nil, stallAfter: Double? = nil
    ) {
        self.argv = argv
        self.shell = shell
        self.cwd = cwd
        self.env = env
        self.labels = labels
        self.session = session
        self.timeout = timeout
        self.outputCap = outputCap
        self.hold = hold
        self.queue = queue
        self.priority = priority
        self.runAt = runAt
        self.delay = delay
        self.after = after
        self.unique = unique
        self.retries = retries
        self.retryOn = retryOn
        self.transientPattern = transientPattern
        self.backoffMin = backoffMin
        self.backoffMax = backoffMax
        self.stallAfter = stallAfter
    }

    /// The queue the job runs in.
    public var queueName: String { queue ?? QueueName.default }

    /// The job's retry policy.
    public var retryPolicy: RetryPolicy {
        RetryPolicy(
            retries: retries ?? 0, backoffMin: backoffMin ?? RetryPolicy.defaultBackoffMin,
            backoffMax: backoffMax ?? RetryPolicy.defaultBackoffMax, retryOn: retryOn ?? [],
            transientPattern: transientPattern)
    }

    /// The argv the shim runs: `argv`, or `/bin/sh -c shell`.
    public var resolvedArgv: [String] {
        if let shell { return ["/bin/sh", "-c", shell] }
        return argv ?? []
    }

    /// The command as people read it: the shell string, or argv joined with shell quoting.
    public var displayCommand: String {
        shell ?? ShellQuoting.join(argv ?? [])
    }

    /// Checks what can be checked without touching the machine; throws `E_USAGE`.
    public func validate() throws(StintError) {
        switch (argv, shell) {
        case (let argv?, nil):
            guard let first = argv.first, !first.isEmpty else {
                throw StintError(.usage, "empty command", hint: "give a command after `--`")
            }
        case (nil, let shell?):
            guard !shell.allSatisfy(\.isWhitespace) else {
                throw StintError(.usage, "empty shell command")
            }
        case (nil, nil):
            throw StintError(.usage, "no command given", hint: "usage: stint add [options] -- CMD ARGS…")
        case (_?, _?):
            throw StintError(.usage, "give either argv or shell, not both")
        }
        guard cwd.hasPrefix("/") else {
            throw StintError(.usage, "cwd must be an absolute path: \(cwd)")
        }
        if let timeout, !(timeout > 0 && timeout.isFinite) {
            throw StintError(.usage, "timeout must be a positive duration")
        }
        if let outputCap, outputCap < 0 {
            throw StintError(.usage, "output cap must not be negative")
        }
        if (argv ?? []).contains(where: { $0.contains("\0") }) || (shell ?? "").contains("\0") {
            throw StintError(.usage, "command contains a NUL byte")
        }
        if let queue { try QueueName.validate(queue) }
        if let delay, !(delay >= 0 && delay.isFinite) {
            throw StintError(.usage, "delay must be zero or a positive duration")
        }
        if delay != nil, runAt != nil {
            throw StintError(.usage, "give either a delay or a time to run at, not both")
        }
        if let after, after.contains(where: { $0 <= 0 }) {
            throw StintError(.usage, "--after takes job ids (positive integers)")
        }
        if let unique, unique.isEmpty || unique.count > 512 {
            throw StintError(.usage, "the unique key must be 1 to 512 characters")
        }
        if let retries, !(0...1000).contains(retries) {
            throw StintError(.usage, "retries must be between 0 and 1000")
        }
        if let retryOn, retryOn.contains(where: { !(1...255).contains($0) }) {
            throw StintError(.usage, "--retry-on takes exit codes from 1 to 255")
        }
        if let transientPattern, !RetryPolicy.isValidPattern(transientPattern) {
            throw StintError(.usage, "--transient-pattern is not a valid regular expression: \(transientPattern)")
        }
        let policy = retryPolicy
        guard policy.backoffMin > 0, policy.backoffMin.isFinite, policy.backoffMax.isFinite,
            policy.backoffMax >= policy.backoffMin
        else {
            throw StintError(.usage, "--backoff needs 0 < MIN <= MAX", hint: "for example --backoff 1s..5m")
        }
        if let stallAfter, !(stallAfter >= 0 && stallAfter.isFinite) {
            throw StintError(.usage, "--stall-after must be zero (off) or a positive duration")
        }
        if let notify { try Hooks.validateURL(notify) }
        if let onEnd { try Hooks.validateCommand(onEnd) }
    }
}
