public import Foundation

/// One job as the API and `-o json` show it.
public struct JobView: Sendable, Hashable, Codable {
    /// The job id.
    public var id: Int64
    /// The lifecycle state.
    public var state: JobState
    /// The queue it runs in.
    public var queue: String
    /// The command as people read it.
    public var command: String
    /// The argv the shim runs.
    public var argv: [String]
    /// Whether the command is a shell string run with `/bin/sh -c`.
    public var shell: Bool
    /// The working directory.
    public var cwd: String
    /// Labels given at `add`.
    public var labels: [String: String]
    /// The owner scope, if any.
    public var session: String?
    /// The timeout in seconds, if any.
    public var timeout: Double?
    /// Bytes of output kept on disk (0: no cap).
    public var outputCap: Int64
    /// When it was added.
    public var createdAt: Date
    /// When its last attempt started.
    public var startedAt: Date?
    /// When its last attempt ended.
    public var endedAt: Date?
    /// Seconds the last attempt ran (so far, while running).
    public var duration: Double?
    /// The number of attempts started.
    public var attempts: Int
    /// The last attempt's exit status, when it exited.
    public var exitCode: Int?
    /// The signal that killed the last attempt, when one did.
    public var signal: Int?
    /// Why the last attempt ended.
    public var reason: AttemptReason?
    /// The exit status `stint wait` gives for this job, once it has ended.
    public var waitCode: Int32?
    /// The log file of the last attempt.
    public var log: String?
    /// Every attempt, oldest first (`stint show` only).
    public var attemptList: [AttemptView]?
    /// Higher runs first.
    public var priority: Int = 0
    /// For a queued or held job: not before this moment (a delay, `--at`, or a retry's backoff).
    public var runAt: Date?
    /// The jobs it runs after (`--after`).
    public var after: [Int64]?
    /// How many of them have not succeeded yet.
    public var waitingFor: Int?
    /// The unique key (`--unique`).
    public var unique: String?
    /// Retries allowed after the first attempt for transient failures.
    public var retries: Int = 0
    /// Why the job was cancelled without running to its end (a failed dependency).
    public var endReason: String?
    /// The last attempt's failure class and why.
    public var failureClass: FailureClass?
    /// Why the last attempt's failure has its class.
    public var classReason: String?
    /// The running attempt was flagged stalled at this prompt line.
    public var stalledAt: Date?
    /// The prompt line a stalled attempt waits at.
    public var stallLine: String?
    /// A stop was asked for while it runs.
    public var stopRequested: Bool?
    /// The stop waits for a critical section (`stint critical`) to end.
    public var stopDeferred: Bool?
    /// What the job last reported with `stint progress`.
    public var progress: ProgressView?
    /// What the job last recorded with `stint checkpoint` (given to its next attempt as `STINT_CHECKPOINT`).
    public var checkpoint: String?

    /// Creates a view.
    public init(
        id: Int64, state: JobState, queue: String, command: String, argv: [String], shell: Bool,
        cwd: String, labels: [String: String], session: String?, timeout: Double?,
        outputCap: Int64, createdAt: Date, startedAt: Date?, endedAt: Date?, duration: Double?,
        attempts: Int, exitCode: Int?, signal: Int?, reason: AttemptReason?, log: String?,
        attemptList: [AttemptView]? = nil
    ) {
        self.id = id
        self.state = state
        self.queue = queue
        self.command = command
        self.argv = argv
        self.shell = shell
        self.cwd = cwd
        self.labels = labels
        self.session = session
        self.timeout = timeout
        self.outputCap = outputCap
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.duration = duration
        self.attempts = attempts
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
        self.waitCode = WaitCode.code(state: state, reason: reason, exitCode: exitCode, signal: signal)
        self.log = log
        self.attemptList = attemptList
    }
}

/// One attempt of a job.
public struct AttemptView: Sendable, Hashable, Codable {
    /// 1 for the first attempt, 2 after one retry, …
    public var number: Int
    /// When the command started.
    public var startedAt: Date
    /// When the whole process tree had exited; `nil` while running.
    public var endedAt: Date?
    /// The exit status, when the command exited.
    public var exitCode: Int?
    /// The signal that killed the command, when one did.
    public var signal: Int?
    /// Why the attempt ended; `nil` while running.
    public var reason: AttemptReason?
    /// A detail such as a launch error.
    public var message: String?
    /// The node that ran it (`stint daemon --node`, by default its host name).
    public var host: String
    /// The node that ran it: the same as ``host``, under the name the daemon's `--node` gives it.
    public var node: String
    /// The daemon instance that claimed it (a new id at every daemon start); `nil` for
    /// attempts from before instances were recorded.
    public var instance: String?
    /// The shim's process id.
    public var shimPid: Int32?
    /// Peak resident memory in bytes, where known.
    public var peakRssBytes: Int64?
    /// Bytes of output written.
    public var outputBytes: Int64?
    /// Bytes of output dropped by the cap.
    public var droppedBytes: Int64?
    /// The attempt's log file; `nil` when another node of a shared store ran it (its log
    /// is in that node's state folder; `stint logs` fetches it from there).
    public var log: String?
    /// Transient or permanent, for a failed attempt.
    public var failureClass: FailureClass?
    /// Why the failure has that class.
    public var classReason: String?
    /// When the next attempt was scheduled, if this one is retried.
    public var retryAt: Date?
    /// When it was flagged stalled at a prompt.
    public var stalledAt: Date?
    /// The prompt line it stalled at.
    public var stallLine: String?

    /// Creates a view.
    public init(
        number: Int, startedAt: Date, endedAt: Date?, exitCode: Int?, signal: Int?,
        reason: AttemptReason?, message: String?, host: String, shimPid: Int32?,
        peakRssBytes: Int64?, outputBytes: Int64?, droppedBytes: Int64?, log: String?
    ) {
        self.number = number
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
        self.message = message
        self.host = host
        self.node = host
        self.shimPid = shimPid
        self.peakRssBytes = peakRssBytes
        self.outputBytes = outputBytes
        self.droppedBytes = droppedBytes
        self.log = log
    }
}
