public import Foundation

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
    ///
    /// Every number and string is held to ``Limits``. With `now`, `runAt` is checked too;
    /// with `argumentSpace` (the kernel's `ARG_MAX`), so is the room argv and the
    /// environment take in `execve`, so a command too large to start is refused here
    /// rather than stored and failed later.
    public func validate(now: Date? = nil, argumentSpace: Int? = nil) throws(StintError) {
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
        if (argv ?? []).contains(where: { $0.utf8.contains(0) }) || (shell ?? "").utf8.contains(0) {
            throw StintError(.usage, "command contains a NUL byte")
        }
        for (index, argument) in (argv ?? []).enumerated() where argument.utf8.count > Limits.maxArgumentBytes {
            throw StintError(
                .usage, "argument \(index + 1) is \(argument.utf8.count) bytes; the kernel takes at most \(Limits.maxArgumentBytes) per argument")
        }
        try Limits.checkText(shell, "the shell command", maximum: Limits.maxArgumentBytes)
        try Limits.checkText(cwd, "cwd", maximum: Limits.maxPathBytes)
        guard cwd.hasPrefix("/") else {
            throw StintError(.usage, "cwd must be an absolute path: \(cwd)")
        }
        try Self.validate(environment: env)
        try Limits.checkLength(labels.count, "labels", maximum: Limits.maxLabels)
        for (key, value) in labels {
            guard !key.isEmpty, !key.contains("=") else { throw StintError(.usage, "a label key is not empty and has no '='") }
            guard !key.hasPrefix(ScheduleRules.reservedLabelPrefix) else {
                throw StintError(.usage, "label keys starting with 'stint.' are reserved (the scheduler's): \(key.prefix(40))")
            }
            try Limits.checkText(key, "label key \(key.prefix(40))", maximum: Limits.maxLabelKeyBytes)
            try Limits.checkText(value, "the value of label \(key.prefix(40))", maximum: Limits.maxLabelValueBytes)
        }
        if let session { try Session.validate(session) }
        try Limits.checkDuration(timeout, "--timeout", exclusive: true)
        if let outputCap, outputCap < 0 { throw StintError(.usage, "the output cap must not be negative") }
        try Limits.checkCount(outputCap, "--output-cap", 0...Limits.maxOutputCap)
        if let queue { try QueueName.validate(queue) }
        try Limits.checkCount(priority, "--priority", Limits.priorities)
        try Limits.checkDuration(delay, "--delay")
        if delay != nil, runAt != nil {
            throw StintError(.usage, "give either a delay or a time to run at, not both")
        }
        if let now { try Limits.checkMoment(runAt, "--at", now: now) }
        if let after {
            try Limits.checkLength(after.count, "--after", maximum: Limits.maxIDsPerRequest)
            if after.contains(where: { $0 <= 0 }) {
                throw StintError(.usage, "--after takes job ids (positive integers)")
            }
        }
        if let unique, unique.isEmpty || unique.count > 512 || unique.utf8.contains(0) {
            throw StintError(.usage, "the unique key must be 1 to 512 characters, without NUL")
        }
        if let retries, !(0...1000).contains(retries) {
            throw StintError(.usage, "retries must be between 0 and 1000")
        }
        if let retryOn {
            try Limits.checkLength(retryOn.count, "--retry-on", maximum: 255)
            if retryOn.contains(where: { !(1...255).contains($0) }) {
                throw StintError(.usage, "--retry-on takes exit codes from 1 to 255")
            }
        }
        if let transientPattern {
            guard !transientPattern.isEmpty else { throw StintError(.usage, "--transient-pattern needs a regular expression") }
            try Limits.checkText(transientPattern, "--transient-pattern", maximum: Limits.maxPatternBytes)
        }
        try Limits.checkDuration(backoffMin, "--backoff MIN", exclusive: true)
        try Limits.checkDuration(backoffMax, "--backoff MAX", exclusive: true)
        let policy = retryPolicy
        guard policy.backoffMax >= policy.backoffMin else {
            throw StintError(.usage, "--backoff needs 0 < MIN <= MAX", hint: "for example --backoff 1s..5m")
        }
        try Limits.checkDuration(stallAfter, "--stall-after")
        if let notify {
            try Limits.checkText(notify, "--notify", maximum: Limits.maxHookBytes)
            try Hooks.validateURL(notify)
        }
        if let onEnd {
            try Limits.checkText(onEnd, "--on-end", maximum: Limits.maxHookBytes)
            try Hooks.validateCommand(onEnd)
        }
        if let argumentSpace {
            let needed = Self.argumentBytes(resolvedArgv) + Self.argumentBytes(env.map { "\($0.key)=\($0.value)" })
            let room = argumentSpace - Self.reservedArgumentBytes
            guard needed <= room else {
                throw StintError(
                    .usage, "the command and its environment take \(needed) bytes; the kernel starts at most \(room) (ARG_MAX)",
                    hint: "pass large data in a file instead of arguments or environment variables")
            }
        }
    }

    /// Room kept in `ARG_MAX` for the shim's own arguments and the `STINT_*` variables.
    public static let reservedArgumentBytes = 16 << 10

    /// What `strings` take in `execve`'s argument space: each string, its NUL and its pointer.
    static func argumentBytes(_ strings: [String]) -> Int {
        strings.reduce(0) { $0 + $1.utf8.count + 1 + MemoryLayout<UnsafePointer<CChar>>.size }
    }

    /// Refuses an environment `execve` would not pass as given: a key that is empty or
    /// holds `=` or NUL, a value with NUL, an entry over the kernel's per-string limit.
    public static func validate(environment: [String: String]) throws(StintError) {
        try Limits.checkLength(environment.count, "the environment", maximum: 10_000)
        for (key, value) in environment {
            guard !key.isEmpty, !key.contains("="), !key.utf8.contains(0) else {
                throw StintError(.usage, "invalid environment variable name \"\(key.prefix(60))\"", hint: "a name is not empty and holds no '=' or NUL")
            }
            guard !value.utf8.contains(0) else { throw StintError(.usage, "environment variable \(key) holds a NUL byte") }
            guard key.utf8.count + 1 + value.utf8.count <= Limits.maxArgumentBytes else {
                throw StintError(
                    .usage, "environment variable \(key) is \(key.utf8.count + 1 + value.utf8.count) bytes; the kernel takes at most \(Limits.maxArgumentBytes) per variable")
            }
        }
    }
}
