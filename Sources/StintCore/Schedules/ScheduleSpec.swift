public import Foundation

/// What a schedule fires on a second fire time while the job of the first is still held,
/// queued or running.
public enum OverlapPolicy: String, Sendable, Codable, CaseIterable {
    /// No job; the skip is recorded as an event (the default).
    case skip
    /// The fire time waits; its job is created when the one before ends.
    case queue
    /// Its job is created at once and runs alongside.
    case allow
}

/// What a schedule does with fire times missed while no daemon ran it.
public enum CatchUpPolicy: String, Sendable, Codable, CaseIterable {
    /// Nothing: the next fire time is the next one to come.
    case none
    /// One job, for the latest missed fire time (the default).
    case last
    /// A job for every missed fire time, at most ``ScheduleSpec/catchUpMax`` (the latest ones).
    case all
}

/// A schedule as added: when it fires, how it treats overlaps, misses and failures, and
/// the job each fire time creates.
public struct ScheduleSpec: Sendable, Codable, Hashable {
    /// The schedule's name, unique within its session: letters, digits, `.`, `_` and `-`.
    public var name: String
    /// A cron expression (see ``CronExpression``); exactly one of `cron` and `every` is set.
    public var cron: String?
    /// Seconds between two fire times, counted from ``anchor``.
    public var every: Double?
    /// The zone cron fire times are computed in (an IANA name); the daemon's zone when
    /// added without one. Fire times of `every` do not depend on it.
    public var timeZone: String?
    /// The first fire time of an `every` schedule is one period after this (its creation).
    public var anchor: Date
    /// Default ``OverlapPolicy/skip``.
    public var overlap: OverlapPolicy
    /// Default ``CatchUpPolicy/last``.
    public var catchUp: CatchUpPolicy
    /// The most jobs one catch-up creates with ``CatchUpPolicy/all``, and the most fire
    /// times that wait behind a running job with ``OverlapPolicy/queue``. Default 100.
    public var catchUpMax: Int
    /// Pause the schedule after this many failed runs in a row; `nil`: never.
    public var pauseAfterFailures: Int?
    /// The job each fire time creates; its session is the schedule's.
    public var job: JobSpec

    /// ``catchUpMax``'s default.
    public static let defaultCatchUpMax = 100
    /// The largest ``catchUpMax``.
    public static let maxCatchUpMax = 10_000
    /// The shortest `every`: one second.
    public static let minimumEvery: Double = 1
    /// The longest `every`: 366 days.
    public static let maximumEvery: Double = 366 * 86_400
    /// Two `every` fire times closer than this (a microsecond: floating-point noise) are one.
    static let sameTime: Double = 0.000_001

    /// Creates a spec.
    public init(
        name: String, cron: String? = nil, every: Double? = nil, timeZone: String? = nil, anchor: Date,
        overlap: OverlapPolicy = .skip, catchUp: CatchUpPolicy = .last, catchUpMax: Int = defaultCatchUpMax,
        pauseAfterFailures: Int? = nil, job: JobSpec
    ) {
        self.name = name
        self.cron = cron
        self.every = every
        self.timeZone = timeZone
        self.anchor = anchor
        self.overlap = overlap
        self.catchUp = catchUp
        self.catchUpMax = catchUpMax
        self.pauseAfterFailures = pauseAfterFailures
        self.job = job
    }

    /// The session the schedule and its jobs belong to.
    public var session: String? { job.session }

    /// `cron 'EXPR'` or `every DUR`, for people.
    public var expression: String {
        if let cron { return cron }
        let seconds = every ?? 0
        let whole = seconds.rounded() == seconds && seconds < 1e9
        return "every " + (whole && seconds < 60 ? "\(Int(seconds))s" : DurationText.short(seconds))
    }

    /// The zone fire times are computed in.
    public var zone: TimeZone { timeZone.flatMap(TimeZone.init(identifier:)) ?? .current }

    /// The first fire time strictly after `instant`, or `nil` when there is none.
    public func nextFire(after instant: Date) -> Date? {
        if let every, every > 0 {
            // The anchor itself is not a fire time: the first is one period after it.
            var periods = max(1, (instant.timeIntervalSince(anchor) / every).rounded(.down) + 1)
            // Floating point may land on `instant` itself, or a hair after it: times within a
            // microsecond are one time.
            while anchor.addingTimeInterval(periods * every).timeIntervalSince(instant) < Self.sameTime { periods += 1 }
            return anchor.addingTimeInterval(periods * every)
        }
        guard let cron, let expression = try? CronExpression.parse(cron) else { return nil }
        return expression.next(after: instant, in: zone)
    }

    /// The next `count` fire times strictly after `instant`.
    public func fireTimes(after instant: Date, count: Int) -> [Date] {
        var times: [Date] = []
        var last = instant
        while times.count < count, let next = nextFire(after: last) {
            times.append(next)
            last = next
        }
        return times
    }

    /// A schedule name: 1 to 64 letters, digits, `.`, `_` and `-`, not starting with `-`.
    public static func validate(name: String) throws(StintError) {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
        guard !name.isEmpty, name.utf8.count <= 64, allowed, !name.hasPrefix("-") else {
            throw StintError(
                .usage, "invalid schedule name '\(name.prefix(80))'",
                hint: "use 1 to 64 letters, digits, '.', '_' and '-', not starting with '-'")
        }
    }

    /// A zone name the system knows (`Europe/Berlin`, `UTC`, `Asia/Kolkata`).
    public static func validate(timeZone: String) throws(StintError) {
        guard TimeZone(identifier: timeZone) != nil else {
            throw StintError(
                .usage, "unknown time zone for --tz: '\(timeZone.prefix(80))'",
                hint: "use an IANA zone name such as Europe/Berlin, America/New_York or UTC")
        }
    }

    /// Refuses what cannot be a schedule, naming the field: a bad name, expression, zone
    /// or period, a count out of range, or a job that `add` would refuse, or that decides
    /// its own start (`hold`, `delay`, `at`, `after`, `unique`).
    public func validate() throws(StintError) {
        try Self.validate(name: name)
        switch (cron, every) {
        case (let cron?, nil):
            _ = try CronExpression.parse(cron)
        case (nil, let every?):
            guard every.isFinite, every >= Self.minimumEvery, every <= Self.maximumEvery else {
                throw StintError(.usage, "--every must be between 1s and 366 days, not \(every) seconds")
            }
        case (nil, nil):
            throw StintError(.usage, "a schedule needs --cron 'EXPR' or --every DUR")
        case (_?, _?):
            throw StintError(.usage, "give either --cron or --every, not both")
        }
        if let timeZone { try Self.validate(timeZone: timeZone) }
        guard (1...Self.maxCatchUpMax).contains(catchUpMax) else {
            throw StintError(.usage, "--catch-up-max must be between 1 and \(Self.maxCatchUpMax)")
        }
        if let pauseAfterFailures, !(1...1000).contains(pauseAfterFailures) {
            throw StintError(.usage, "--pause-after-failures must be between 1 and 1000")
        }
        let decidesOwnStart: [(Bool, String)] = [
            (job.hold == true, "--hold"), (job.delay != nil, "--delay"), (job.runAt != nil, "--at"),
            (job.after != nil, "--after"), (job.unique != nil, "--unique"),
        ]
        if let (_, flag) = decidesOwnStart.first(where: \.0) {
            throw StintError(
                .usage, "\(flag) does not apply to a schedule: its fire times decide when its jobs start",
                hint: "see --overlap for what happens while a run is still going")
        }
        try job.validate()
    }
}
