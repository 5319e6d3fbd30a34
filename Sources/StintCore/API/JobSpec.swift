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

    /// The default output cap, 64 MiB per job.
    public static let defaultOutputCap: Int64 = 64 << 20

    /// Creates a spec.
    public init(
        argv: [String]? = nil, shell: String? = nil, cwd: String, env: [String: String] = [:],
        labels: [String: String] = [:], session: String? = nil, timeout: Double? = nil,
        outputCap: Int64? = nil, hold: Bool? = nil
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
    }
}
