/// What `stint wait` prints and exits with, from a ``WaitResponse``: the few fields of
/// each job its text needs, so the CLI can read them with ``JSONValue`` instead of
/// decoding whole ``JobView``s with Foundation.
public struct WaitOutcome: Sendable, Hashable {
    /// One waited-for job.
    public struct Job: Sendable, Hashable {
        /// The job id.
        public var id: Int64
        /// The lifecycle state.
        public var state: JobState
        /// Why the last attempt ended.
        public var reason: AttemptReason?
        /// The last attempt's exit status, when it exited.
        public var exitCode: Int?
        /// The signal that killed the last attempt, when one did.
        public var signal: Int?
        /// Seconds the last attempt ran.
        public var duration: Double?
        /// The exit status `stint wait` gives for this job, once it has ended.
        public var waitCode: Int32?
        /// The prompt line a stalled attempt waits at.
        public var stallLine: String?

        /// The fields of `job` that `wait` uses.
        public init(_ job: JobView) {
            id = job.id
            state = job.state
            reason = job.reason
            exitCode = job.exitCode
            signal = job.signal
            duration = job.duration
            waitCode = job.waitCode
            stallLine = job.stallLine
        }

        /// Reads a job object as the API writes a ``JobView``; `nil` when a field it needs is
        /// missing or of the wrong type.
        public init?(json: JSONValue) {
            guard let id = json["id"]?.integer(Int64.self),
                let state = json["state"]?.stringValue.flatMap(JobState.init(rawValue:))
            else { return nil }
            self.id = id
            self.state = state
            guard let reason = json.optional("reason", { $0.stringValue.flatMap(AttemptReason.init(rawValue:)) }),
                let exitCode = json.optional("exit_code", { $0.integer(Int.self) }),
                let signal = json.optional("signal", { $0.integer(Int.self) }),
                let duration = json.optional("duration", { $0.doubleValue }),
                let waitCode = json.optional("wait_code", { $0.integer(Int32.self) }),
                let stallLine = json.optional("stall_line", { $0.stringValue })
            else { return nil }
            self.reason = reason
            self.exitCode = exitCode
            self.signal = signal
            self.duration = duration
            self.waitCode = waitCode
            self.stallLine = stallLine
        }
    }

    /// Whether the wait was satisfied (false: the timeout ran out first).
    public var done: Bool
    /// The jobs as they are now, in the order asked.
    public var jobs: [Job]
    /// Why the wait returned.
    public var reason: WaitReason?
    /// Each job's reason, in the order asked.
    public var reasons: [WaitReason?]?
    /// For `--until output:REGEX`: the line that matched.
    public var match: String?

    /// The fields of `response` that `wait` uses.
    public init(_ response: WaitResponse) {
        done = response.done
        jobs = response.jobs.map(Job.init)
        reason = response.reason
        reasons = response.reasons
        match = response.match
    }

    /// Reads the `data` of a `POST /v1/wait` answer; `nil` when it is not a ``WaitResponse``.
    public init?(json: JSONValue) {
        guard let done = json["done"]?.boolValue, let jobs = json["jobs"]?.arrayValue else { return nil }
        var read: [Job] = []
        for job in jobs {
            guard let parsed = Job(json: job) else { return nil }
            read.append(parsed)
        }
        self.done = done
        self.jobs = read
        guard let reason = json.optional("reason", { $0.stringValue.flatMap(WaitReason.init(rawValue:)) }),
            let match = json.optional("match", { $0.stringValue })
        else { return nil }
        self.reason = reason
        self.match = match
        switch json["reasons"] {
        case nil, .null?:
            reasons = nil
        case .array(let elements)?:
            var list: [WaitReason?] = []
            for element in elements {
                if element.isNull {
                    list.append(nil)
                } else {
                    guard let reason = element.stringValue.flatMap(WaitReason.init(rawValue:)) else { return nil }
                    list.append(reason)
                }
            }
            reasons = list
        default:
            return nil
        }
    }
}

extension AddResponse {
    /// Reads the `data` of a `POST /v1/jobs` answer as `init(from:)` does; `nil` when it is not one.
    public init?(json: JSONValue) {
        guard let ids = json["ids"]?.integers(Int64.self) else { return nil }
        var duplicates: [Int64] = []
        if let value = json["duplicates"], !value.isNull {
            guard let list = value.integers(Int64.self) else { return nil }
            duplicates = list
        }
        var states: [JobState] = []
        if let value = json["states"], !value.isNull {
            guard let elements = value.arrayValue else { return nil }
            for element in elements {
                guard let state = element.stringValue.flatMap(JobState.init(rawValue:)) else { return nil }
                states.append(state)
            }
        }
        self.init(ids: ids, duplicates: duplicates, states: states)
        if let value = json["duplicate"], !value.isNull {
            guard let flag = value.boolValue else { return nil }
            duplicate = flag
        }
    }
}

extension JSONValue {
    /// The `data` of an envelope whose `status` is `ok`; `nil` for any other answer.
    public var okEnvelopeData: JSONValue? {
        guard self["status"]?.stringValue == "ok", let data = self["data"], !data.isNull else { return nil }
        return data
    }

    /// An array of whole numbers.
    func integers<N: FixedWidthInteger>(_ type: N.Type) -> [N]? {
        guard let elements = arrayValue else { return nil }
        var result: [N] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            guard let number = element.integer(N.self) else { return nil }
            result.append(number)
        }
        return result
    }

    /// An optional member as `decodeIfPresent` reads it: `.some(nil)` when missing or
    /// `null`, `.some(value)` when `read` accepts it, `nil` (a wrong type) otherwise.
    func optional<T>(_ name: String, _ read: (JSONValue) -> T?) -> T?? {
        guard let value = self[name], !value.isNull else { return .some(nil) }
        guard let result = read(value) else { return nil }
        return .some(result)
    }
}
