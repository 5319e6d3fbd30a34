public import Foundation

/// The process that runs a batch, so that the daemon can tell a live holder of the batch
/// lock from a dead one.
public struct BatchHolder: Sendable, Codable, Hashable {
    /// Its process id.
    public var pid: Int32
    /// Its start time in clock ticks since boot (`/proc/PID/stat`, field 22): a pid that
    /// was reused by another process has another start time.
    public var started: String
    /// The host it runs on; on another host than the daemon's, only its heartbeats tell
    /// that it lives.
    public var host: String

    /// Creates a holder.
    public init(pid: Int32, started: String, host: String) {
        self.pid = pid
        self.started = started
        self.host = host
    }
}

/// `POST /v1/batches/acquire`: take the lock of the batch (command, target) and learn its checkpoint.
public struct BatchAcquireRequest: Sendable, Codable {
    /// What runs for each unit, as typed (with `{}`).
    public var command: String
    /// Which units: `range 1-500`, `ids a,b,c`, `file /abs/path`.
    public var target: String
    /// How many units there are.
    public var total: Int64
    /// The process asking.
    public var holder: BatchHolder
    /// Run even when another process holds the lock or a queue is not paused; no lock is taken.
    public var allowConcurrent: Bool
    /// Queues that must be paused while the batch runs.
    public var exclusiveWith: [String]

    /// Creates a request.
    public init(
        command: String, target: String, total: Int64, holder: BatchHolder, allowConcurrent: Bool = false,
        exclusiveWith: [String] = []
    ) {
        self.command = command
        self.target = target
        self.total = total
        self.holder = holder
        self.allowConcurrent = allowConcurrent
        self.exclusiveWith = exclusiveWith
    }

    /// Refuses empty keys and oversized ones.
    public func validate() throws(StintError) {
        guard !command.isEmpty, command.utf8.count <= 65_536 else {
            throw StintError(.usage, "a batch's command must have 1 to 65536 bytes")
        }
        guard !target.isEmpty, target.utf8.count <= 1_048_576 else {
            throw StintError(.usage, "a batch's target must have 1 byte to 1 MiB")
        }
        guard total > 0 else { throw StintError(.usage, "a batch has at least one unit") }
        try Limits.checkCount(total, "a batch's unit count", 1...Limits.maxCount)
        try Limits.checkText(command, "a batch's command", maximum: 65_536)
        try Limits.checkText(target, "a batch's target", maximum: 1_048_576)
        try Limits.checkLength(exclusiveWith.count, "--exclusive-with", maximum: 1000)
        for queue in exclusiveWith { try QueueName.validate(queue) }
    }
}

/// `POST /v1/batches/{id}/checkpoint`: where a batch stands; also its heartbeat.
public struct BatchSaveRequest: Sendable, Codable {
    /// The lock token from the acquire (`nil` for a batch run with `--allow-concurrent`).
    public var token: String?
    /// Every unit up to this position (1-based) is done.
    public var completed: Int64
    /// What `--resume-from` takes to go on after ``completed``.
    public var resumeFrom: String?
    /// Units up to ``completed`` that succeeded, over every run of the batch.
    public var succeeded: Int64
    /// Units up to ``completed`` that failed, over every run of the batch.
    public var failed: Int64
    /// The failed units' values (the first ``BatchView/failedUnitsLimit``).
    public var failedUnits: [String]
    /// Why the run stopped (`signal`, `max_failures`), when it did.
    public var stoppedBy: String?
    /// Give the lock back (the run ends).
    public var release: Bool
    /// The batch reached its last unit: forget its checkpoint, so the next run starts over.
    public var finished: Bool

    /// Creates a request.
    public init(
        token: String?, completed: Int64, resumeFrom: String?, succeeded: Int64, failed: Int64, failedUnits: [String],
        stoppedBy: String? = nil, release: Bool = false, finished: Bool = false
    ) {
        self.token = token
        self.completed = completed
        self.resumeFrom = resumeFrom
        self.succeeded = succeeded
        self.failed = failed
        self.failedUnits = failedUnits
        self.stoppedBy = stoppedBy
        self.release = release
        self.finished = finished
    }

    /// Checks the counts and strings against ``Limits``; throws `E_USAGE`.
    public func validate() throws(StintError) {
        guard completed >= 0, succeeded >= 0, failed >= 0 else {
            throw StintError(.usage, "a batch checkpoint has no negative counts")
        }
        try Limits.checkCount(completed, "completed", 0...Limits.maxCount)
        try Limits.checkCount(succeeded, "succeeded", 0...Limits.maxCount)
        try Limits.checkCount(failed, "failed", 0...Limits.maxCount)
        try Limits.checkLength(failedUnits.count, "failed_units", maximum: BatchView.failedUnitsLimit)
        for unit in failedUnits { try Limits.checkText(unit, "a failed unit", maximum: 65_536) }
        try Limits.checkText(resumeFrom, "resume_from", maximum: 65_536)
        try Limits.checkText(stoppedBy, "stopped_by", maximum: 64)
        try Limits.checkText(token, "token", maximum: 256)
    }
}

/// The answer to a checkpoint: the batch as saved, or none when it finished and was forgotten.
public struct BatchSaveResponse: Sendable, Codable {
    /// The batch; `nil` when its row is gone.
    public var batch: BatchView?
    /// Creates a response.
    public init(batch: BatchView?) { self.batch = batch }
}

/// `POST /v1/batches/{id}/heartbeat`.
public struct BatchHeartbeatRequest: Sendable, Codable {
    /// The lock token from the acquire.
    public var token: String
    /// Creates a request.
    public init(token: String) { self.token = token }
}

/// `POST /v1/batches/forget`.
public struct BatchForgetRequest: Sendable, Codable {
    /// The batches to forget.
    public var ids: [Int64]
    /// Creates a request.
    public init(ids: [Int64]) { self.ids = ids }
}

/// A batch's checkpoint and lock, as `stint batch ls` shows it.
public struct BatchView: Sendable, Codable, Hashable {
    /// At most this many failed units are kept with a checkpoint.
    public static let failedUnitsLimit = 1000

    /// Its id (`stint batch forget ID`).
    public var id: Int64
    /// The command, as typed.
    public var command: String
    /// The units: `range 1-500`, `ids a,b,c`, `file /abs/path`.
    public var target: String
    /// Units in all.
    public var total: Int64
    /// Every unit up to this position is done.
    public var completed: Int64
    /// What `--resume-from` takes to go on.
    public var resumeFrom: String?
    /// Units up to ``completed`` that succeeded, over every run.
    public var succeeded: Int64
    /// Units up to ``completed`` that failed, over every run.
    public var failed: Int64
    /// The failed units' values (the first 1000).
    public var failedUnits: [String]
    /// `running` (a live process holds the lock) or `stopped`.
    public var state: String
    /// Why the last run stopped: `signal`, `max_failures`, `lost` (its process died).
    public var stoppedBy: String?
    /// The process holding the lock, while one does.
    public var holder: BatchHolder?
    /// The session that ran it last.
    public var session: String?
    /// When it was first run.
    public var createdAt: Date
    /// When its checkpoint last changed.
    public var updatedAt: Date
    /// The lock token; only in the answer to the acquire that took it.
    public var token: String?
    /// Things the runner should say, such as a paused queue that still runs jobs.
    public var warnings: [String]?

    /// Creates a view.
    public init(
        id: Int64, command: String, target: String, total: Int64, completed: Int64, resumeFrom: String?,
        succeeded: Int64, failed: Int64, failedUnits: [String], state: String, stoppedBy: String?,
        holder: BatchHolder?, session: String?, createdAt: Date, updatedAt: Date, token: String? = nil,
        warnings: [String]? = nil
    ) {
        self.id = id
        self.command = command
        self.target = target
        self.total = total
        self.completed = completed
        self.resumeFrom = resumeFrom
        self.succeeded = succeeded
        self.failed = failed
        self.failedUnits = failedUnits
        self.state = state
        self.stoppedBy = stoppedBy
        self.holder = holder
        self.session = session
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.token = token
        self.warnings = warnings
    }
}
