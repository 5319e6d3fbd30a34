public import Foundation

/// A schedule as `schedule ls` and `schedule show` give it.
public struct ScheduleView: Sendable, Codable, Hashable {
    /// The name, unique within its session.
    public var name: String
    /// Its session and its jobs'.
    public var session: String?
    /// The cron expression, or `nil` for an `every` schedule.
    public var cron: String?
    /// Seconds between fire times, or `nil` for a cron schedule.
    public var every: Double?
    /// The zone of its fire times.
    public var timeZone: String
    /// `skip`, `queue` or `allow`.
    public var overlap: OverlapPolicy
    /// `none`, `last` or `all`.
    public var catchUp: CatchUpPolicy
    /// The most jobs one catch-up creates (and fire times that wait, with `queue`).
    public var catchUpMax: Int
    /// Pauses after this many failed runs in a row; `nil`: never.
    public var pauseAfterFailures: Int?
    /// Whether it is paused.
    public var paused: Bool
    /// Its next fire times (three in a list, none while paused).
    public var nextFires: [Date]
    /// The latest fire time that created a job.
    public var lastFire: Date?
    /// The latest job it created, with its state and exit code.
    public var lastJob: Int64?
    public var lastState: JobState?
    public var lastExitCode: Int?
    /// Failed runs in a row.
    public var failures: Int
    /// The latest run that failed.
    public var lastFailedJob: Int64?
    /// The command its jobs run, for people.
    public var command: String
    /// The queue its jobs join.
    public var queue: String
    /// When it was added.
    public var createdAt: Date
    /// Its runs, newest first (`schedule show` only).
    public var runs: [ScheduleRunView]?

    /// Creates a view.
    public init(
        name: String, session: String?, cron: String?, every: Double?, timeZone: String, overlap: OverlapPolicy,
        catchUp: CatchUpPolicy, catchUpMax: Int, pauseAfterFailures: Int?, paused: Bool, nextFires: [Date],
        lastFire: Date?, lastJob: Int64?, lastState: JobState?, lastExitCode: Int?, failures: Int, lastFailedJob: Int64?,
        command: String, queue: String, createdAt: Date, runs: [ScheduleRunView]? = nil
    ) {
        self.name = name
        self.session = session
        self.cron = cron
        self.every = every
        self.timeZone = timeZone
        self.overlap = overlap
        self.catchUp = catchUp
        self.catchUpMax = catchUpMax
        self.pauseAfterFailures = pauseAfterFailures
        self.paused = paused
        self.nextFires = nextFires
        self.lastFire = lastFire
        self.lastJob = lastJob
        self.lastState = lastState
        self.lastExitCode = lastExitCode
        self.failures = failures
        self.lastFailedJob = lastFailedJob
        self.command = command
        self.queue = queue
        self.createdAt = createdAt
        self.runs = runs
    }

    /// `cron 'EXPR'` or `every DUR`.
    public var expression: String {
        ScheduleSpec(name: name, cron: cron, every: every, anchor: createdAt, job: JobSpec(shell: "true", cwd: "/"))
            .expression
    }
}

/// One fire time of a schedule and the job it created.
public struct ScheduleRunView: Sendable, Codable, Hashable {
    /// The fire time.
    public var fireTime: Date
    /// Its job; `nil` while it waits behind the run before (`--overlap queue`).
    public var job: Int64?
    /// The job's state; `nil` when it waits, or the job was removed.
    public var state: JobState?
    /// The job's exit code, once it ended with one.
    public var exitCode: Int?
    /// Whether it was a missed fire time caught up.
    public var catchUp: Bool

    /// Creates a view.
    public init(fireTime: Date, job: Int64?, state: JobState?, exitCode: Int?, catchUp: Bool) {
        self.fireTime = fireTime
        self.job = job
        self.state = state
        self.exitCode = exitCode
        self.catchUp = catchUp
    }
}

/// `schedule run`'s answer: the job the schedule fired now.
public struct ScheduleFireResponse: Sendable, Codable, Hashable {
    /// The schedule.
    public var schedule: String
    /// The job.
    public var job: Int64
    /// Its state right after the fire.
    public var state: JobState

    /// Creates an answer.
    public init(schedule: String, job: Int64, state: JobState) {
        self.schedule = schedule
        self.job = job
        self.state = state
    }
}

/// `schedule preview`'s answer.
public struct SchedulePreview: Sendable, Codable, Hashable {
    /// The expression as given.
    public var expression: String
    /// The zone.
    public var timeZone: String
    /// The fire times, RFC 3339 in UTC.
    public var times: [Date]

    /// Creates a preview.
    public init(expression: String, timeZone: String, times: [Date]) {
        self.expression = expression
        self.timeZone = timeZone
        self.times = times
    }
}

extension ScheduleView {
    /// How many next fire times a view lists.
    public static let nextFireCount = 3

    /// The view of `record`, with its latest job as stored (or `nil`) and, for `show`, its runs.
    public init(_ record: ScheduleRecord, lastJob: StoredJob?, runs: [ScheduleRunView]? = nil) {
        let spec = record.spec
        var nextFires: [Date] = []
        if !record.state.paused, let next = record.state.nextFire {
            nextFires = [next] + spec.fireTimes(after: next, count: Self.nextFireCount - 1)
        }
        self.init(
            name: spec.name, session: spec.session, cron: spec.cron, every: spec.every,
            timeZone: spec.timeZone ?? TimeZone.current.identifier, overlap: spec.overlap, catchUp: spec.catchUp,
            catchUpMax: spec.catchUpMax, pauseAfterFailures: spec.pauseAfterFailures, paused: record.state.paused,
            nextFires: nextFires, lastFire: record.state.lastFire, lastJob: record.state.lastJob, lastState: lastJob?.state,
            lastExitCode: lastJob?.attempts.last?.outcome?.exitCode, failures: record.state.failures,
            lastFailedJob: record.state.lastFailedJob, command: spec.job.displayCommand, queue: spec.job.queueName,
            createdAt: record.createdAt, runs: runs)
    }
}
