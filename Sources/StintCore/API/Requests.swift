/// `POST /v1/jobs`: enqueue one or more jobs in one transaction.
public struct AddRequest: Sendable, Codable {
    /// The jobs, in the order their ids are assigned.
    public var jobs: [JobSpec]
    /// Creates a request.
    public init(jobs: [JobSpec]) { self.jobs = jobs }
}

/// The answer to ``AddRequest``: the ids, in order.
public struct AddResponse: Sendable, Codable {
    /// The ids, one per job of the request; for a duplicate `--unique` key, the existing job's.
    public var ids: [Int64]
    /// Whether any job was a duplicate (nothing was added for it).
    public var duplicate: Bool
    /// The ids that were duplicates.
    public var duplicates: [Int64]
    /// The state of each job after the add (`queued`, `held`, or `cancelled` when a
    /// dependency had already failed).
    public var states: [JobState]
    /// Creates a response.
    public init(ids: [Int64], duplicates: [Int64] = [], states: [JobState] = []) {
        self.ids = ids
        self.duplicate = !duplicates.isEmpty
        self.duplicates = duplicates
        self.states = states
    }

    private enum CodingKeys: String, CodingKey {
        case ids, duplicate, duplicates, states
    }

    /// Decodes a response; the fields after `ids` are optional, as older daemons sent only `ids`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        ids = try container.decode([Int64].self, forKey: .ids)
        duplicates = try container.decodeIfPresent([Int64].self, forKey: .duplicates) ?? []
        duplicate = try container.decodeIfPresent(Bool.self, forKey: .duplicate) ?? !duplicates.isEmpty
        states = try container.decodeIfPresent([JobState].self, forKey: .states) ?? []
    }
}

/// `POST /v1/wait`: block until the jobs end (or one of them with `any`).
public struct WaitRequest: Sendable, Codable {
    /// The jobs to wait for.
    public var ids: [Int64]
    /// Return when the first of them ends instead of all.
    public var any: Bool
    /// Give up after this many seconds; `nil`: wait as long as it takes.
    public var timeout: Double?
    /// What to wait for; `nil`: the end.
    public var until: WaitUntil?
    /// Creates a request.
    public init(ids: [Int64], any: Bool = false, timeout: Double? = nil, until: WaitUntil? = nil) {
        self.ids = ids
        self.any = any
        self.timeout = timeout
        self.until = until
    }

    /// Checks the values against ``Limits``; throws `E_USAGE`.
    public func validate() throws(StintError) {
        guard !ids.isEmpty else { throw StintError(.usage, "no job ids to wait for") }
        try IDsRequest.validate(ids)
        try Limits.checkDuration(timeout, "--timeout")
        if case .idle(let seconds) = until { try Limits.checkDuration(seconds, "--until idle:", exclusive: true) }
        if case .output(let pattern) = until {
            try Limits.checkText(pattern, "--until output:", maximum: Limits.maxPatternBytes)
        }
    }
}

/// The answer to ``WaitRequest``.
public struct WaitResponse: Sendable, Codable {
    /// Whether the wait was satisfied (false: the timeout ran out first).
    public var done: Bool
    /// The jobs as they are now, in the order asked.
    public var jobs: [JobView]
    /// Why the wait returned: the first job's reason that satisfied it, or `wait_timeout`.
    public var reason: WaitReason?
    /// Each job's reason, in the order asked; `nil` for a job whose condition is not met yet.
    public var reasons: [WaitReason?]?
    /// For `--until output:REGEX`: the line that matched.
    public var match: String?
    /// Creates a response.
    public init(done: Bool, jobs: [JobView], reason: WaitReason? = nil, reasons: [WaitReason?]? = nil, match: String? = nil) {
        self.done = done
        self.jobs = jobs
        self.reason = reason
        self.reasons = reasons
        self.match = match
    }
}

/// A request naming several jobs: `stop`, `rm`, `release`, `retry`.
public struct IDsRequest: Sendable, Codable {
    /// The jobs.
    public var ids: [Int64]
    /// For `stop`: seconds between SIGTERM and SIGKILL; `nil`: 10.
    public var grace: Double?
    /// Creates a request.
    public init(ids: [Int64], grace: Double? = nil) {
        self.ids = ids
        self.grace = grace
    }

    /// Checks the values against ``Limits``; throws `E_USAGE`.
    public func validate() throws(StintError) {
        try Self.validate(ids)
        try Limits.checkDuration(grace, "--grace")
    }

    /// Refuses more than ``Limits/maxIDsPerRequest`` ids, or one that is not positive.
    public static func validate(_ ids: [Int64], what: String = "job") throws(StintError) {
        try Limits.checkLength(ids.count, "the list of ids", maximum: Limits.maxIDsPerRequest)
        if let bad = ids.first(where: { $0 <= 0 }) { throw StintError(.usage, "not a \(what) id: \(bad)") }
    }
}

/// The per-id answer of a request naming several jobs.
public struct IDResult: Sendable, Codable {
    /// The job id.
    public var id: Int64
    /// The job after the request, when it succeeded and the job still exists.
    public var job: JobView?
    /// Why the request failed for this id.
    public var error: StintError?
    /// Creates a result.
    public init(id: Int64, job: JobView? = nil, error: StintError? = nil) {
        self.id = id
        self.job = job
        self.error = error
    }
}

/// `POST /v1/jobs/{id}/signal`: send a signal to the job's process tree.
public struct SignalRequest: Sendable, Codable {
    /// The signal number.
    public var signal: Int32
    /// Creates a request.
    public init(signal: Int32) { self.signal = signal }

    /// Checks the signal number against ``Limits/signals``; throws `E_USAGE`.
    public func validate() throws(StintError) {
        try Limits.checkCount(signal, "the signal number", Limits.signals)
    }
}

/// `POST /v1/prune`: delete ended jobs.
public struct PruneRequest: Sendable, Codable {
    /// Only jobs that ended at least this many seconds ago; `nil`: every ended job.
    public var olderThan: Double?
    /// Creates a request.
    public init(olderThan: Double?) { self.olderThan = olderThan }

    /// Checks the age against ``Limits``; throws `E_USAGE`.
    public func validate() throws(StintError) {
        try Limits.checkDuration(olderThan, "--older-than")
    }
}

/// The answer to ``PruneRequest``.
public struct PruneResponse: Sendable, Codable {
    /// The ids deleted.
    public var removed: [Int64]
    /// Creates a response.
    public init(removed: [Int64]) { self.removed = removed }
}

/// `GET /v1/daemon`: the daemon's health.
public struct DaemonStatus: Sendable, Codable {
    /// The daemon's process id.
    public var pid: Int32
    /// The Stint version the daemon runs.
    public var version: String
    /// Where jobs are stored (`sqlite:/path`); `nil` for a client scoped to a session.
    public var store: String?
    /// The state folder; `nil` for a client scoped to a session.
    public var home: String?
    /// The API socket; `nil` for a client scoped to a session.
    public var socket: String?
    /// Seconds since the daemon started.
    public var uptime: Double
    /// How many jobs may run at once.
    public var parallel: Int
    /// Jobs per state.
    public var counts: [String: Int]
    /// The TCP API's URL (`http://HOST:PORT`), when the daemon runs with `--listen`.
    public var listen: String?
    /// Creates a status.
    public init(
        pid: Int32, version: String, store: String?, home: String?, socket: String?, uptime: Double,
        parallel: Int, counts: [String: Int], listen: String? = nil
    ) {
        self.pid = pid
        self.version = version
        self.store = store
        self.home = home
        self.socket = socket
        self.uptime = uptime
        self.parallel = parallel
        self.counts = counts
        self.listen = listen
    }
}
