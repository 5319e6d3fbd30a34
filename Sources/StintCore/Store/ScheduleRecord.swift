public import Foundation

/// What the store keeps of a schedule besides its spec, changed by each fire and each
/// run's end.
public struct ScheduleState: Sendable, Hashable, Codable {
    /// Paused schedules do not fire (`schedule pause`, or ``ScheduleSpec/pauseAfterFailures``).
    public var paused: Bool
    /// The earliest fire time not handled yet; `nil`: none will come.
    public var nextFire: Date?
    /// The latest fire time that created a job.
    public var lastFire: Date?
    /// The latest job a fire time created.
    public var lastJob: Int64?
    /// Failed runs in a row, counted as they end; a success resets it.
    public var failures: Int
    /// The latest run that failed.
    public var lastFailedJob: Int64?

    /// Creates a state.
    public init(
        paused: Bool = false, nextFire: Date?, lastFire: Date? = nil, lastJob: Int64? = nil, failures: Int = 0,
        lastFailedJob: Int64? = nil
    ) {
        self.paused = paused
        self.nextFire = nextFire
        self.lastFire = lastFire
        self.lastJob = lastJob
        self.failures = failures
        self.lastFailedJob = lastFailedJob
    }
}

/// A schedule as stored.
public struct ScheduleRecord: Sendable, Hashable {
    /// The store's id.
    public var id: Int64
    /// As added.
    public var spec: ScheduleSpec
    /// As fires and runs left it.
    public var state: ScheduleState
    /// When it was added.
    public var createdAt: Date

    /// Creates a record.
    public init(id: Int64, spec: ScheduleSpec, state: ScheduleState, createdAt: Date) {
        self.id = id
        self.spec = spec
        self.state = state
        self.createdAt = createdAt
    }
}

/// One fire time of a schedule, as stored: the key that makes a fire time create at most
/// one job.
public struct ScheduleFire: Sendable, Hashable {
    /// The schedule.
    public var schedule: Int64
    /// The fire time, to the millisecond.
    public var at: Date
    /// Its job; `nil` while it waits behind the one before (``OverlapPolicy/queue``).
    public var job: Int64?
    /// Whether it was a missed fire time caught up.
    public var catchUp: Bool

    /// Creates a fire.
    public init(schedule: Int64, at: Date, job: Int64?, catchUp: Bool) {
        self.schedule = schedule
        self.at = at
        self.job = job
        self.catchUp = catchUp
    }

    /// The fire time as the store keys it: whole milliseconds since 1970.
    public var millisecond: Int64 { Self.millisecond(at) }

    /// `date` as whole milliseconds since 1970.
    public static func millisecond(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    /// The date of `millisecond`.
    public static func date(millisecond: Int64) -> Date { Date(timeIntervalSince1970: Double(millisecond) / 1000) }
}
