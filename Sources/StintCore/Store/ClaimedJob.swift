public import Foundation

/// What the engine needs to start (or re-attach to) one attempt.
public struct ClaimedJob: Sendable, Hashable {
    /// The job id.
    public var id: Int64
    /// The attempt number.
    public var attempt: Int
    /// The queue.
    public var queue: String
    /// The job as added, environment included.
    public var spec: JobSpec
    /// The shim's pid, for attempts already running.
    public var shimPid: Int32?
    /// When the attempt started.
    public var startedAt: Date
    /// The node that claimed the attempt; `nil` for attempts stored before nodes were recorded.
    public var node: String?
    /// Why the job's row could not be read in full (see ``StoredJob/damage``), or `nil`.
    public var damage: String?
    /// When the job could first run this attempt (added, or its delay or retry time came),
    /// for a fresh claim; `nil` for one found again after a restart. Only for the
    /// start-latency metric: two values that differ in it alone are the same claim.
    public var readyAt: Date?

    public static func == (lhs: ClaimedJob, rhs: ClaimedJob) -> Bool {
        lhs.id == rhs.id && lhs.attempt == rhs.attempt && lhs.queue == rhs.queue && lhs.spec == rhs.spec
            && lhs.shimPid == rhs.shimPid && lhs.startedAt == rhs.startedAt && lhs.node == rhs.node && lhs.damage == rhs.damage
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(attempt)
    }

    /// Creates a claimed job.
    public init(
        id: Int64, attempt: Int, queue: String, spec: JobSpec, shimPid: Int32?, startedAt: Date, node: String? = nil,
        damage: String? = nil, readyAt: Date? = nil
    ) {
        self.readyAt = readyAt
        self.id = id
        self.attempt = attempt
        self.queue = queue
        self.spec = spec
        self.shimPid = shimPid
        self.startedAt = startedAt
        self.node = node
        self.damage = damage
    }
}
