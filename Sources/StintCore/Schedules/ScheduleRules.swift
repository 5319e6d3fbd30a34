public import Foundation

/// The rules of firing a schedule, pure: which fire times are due and which of them get a
/// job (catch-up), whether a fire time's job is created now, later or not at all
/// (overlap), what a run's end does (pause after failures), and the labels that mark a
/// schedule's jobs.
public enum ScheduleRules {
    /// A fire time the scheduler reaches within this many seconds is on time; one reached
    /// later was missed (the daemon was down, or busy), and the catch-up policy decides.
    public static let onTimeGrace: Double = 60

    /// The label naming a job's schedule. Labels under `stint.` are the scheduler's own:
    /// `add` refuses them.
    public static let scheduleLabel = "stint.schedule"
    /// The label holding a job's fire time, RFC 3339 in UTC.
    public static let fireTimeLabel = "stint.fire_time"
    /// The label on a job created for a missed fire time: `true`.
    public static let catchUpLabel = "stint.catch_up"
    /// The prefix of reserved label keys.
    public static let reservedLabelPrefix = "stint."

    /// One fire time that gets a job.
    public struct Fire: Sendable, Hashable {
        /// The fire time.
        public var at: Date
        /// Whether it was missed, and is caught up now.
        public var catchUp: Bool

        /// Creates a fire.
        public init(at: Date, catchUp: Bool) {
            self.at = at
            self.catchUp = catchUp
        }
    }

    /// What is due at one look.
    public struct Plan: Sendable, Hashable {
        /// The fire times that get a job, oldest first.
        public var fires: [Fire]
        /// Due fire times that get none (by the catch-up policy).
        public var missed: Int
        /// The earliest fire time after this look.
        public var nextFire: Date?
    }

    /// The fire times due at `now` of a schedule whose earliest unhandled one is
    /// `nextFire`, and which of them get a job under its catch-up policy: `none` keeps only
    /// the latest and only when it is on time, `last` the latest, `all` the latest
    /// ``ScheduleSpec/catchUpMax``.
    public static func plan(_ spec: ScheduleSpec, nextFire: Date?, now: Date) -> Plan {
        // A fire time a hair after `now` is due now: `nextFire(after: now)` passes over it.
        let horizon = now.addingTimeInterval(ScheduleSpec.sameTime)
        guard let first = nextFire, first <= horizon else { return Plan(fires: [], missed: 0, nextFire: nextFire) }
        let keep = spec.catchUp == .all ? spec.catchUpMax : 1
        let (due, total) = dueTimes(spec, from: first, through: horizon, keep: keep)
        var kept = due.map { Fire(at: $0, catchUp: now.timeIntervalSince($0) > onTimeGrace) }
        if spec.catchUp == .none, let latest = kept.last {
            kept = latest.catchUp ? [] : [latest]
        }
        return Plan(fires: kept, missed: max(0, total - kept.count), nextFire: spec.nextFire(after: now))
    }

    /// The latest `keep` fire times from `first` (a fire time) through `now`, oldest
    /// first, and how many there are in all (a lower bound only past ``countLimit`` fire
    /// times of a cron schedule).
    static func dueTimes(_ spec: ScheduleSpec, from first: Date, through now: Date, keep: Int) -> ([Date], Int) {
        if let every = spec.every, every > 0 {
            let total = Int((now.timeIntervalSince(first) / every + 1e-9).rounded(.down)) + 1
            let count = min(keep, total)
            let times = (0..<count).map { index in
                first.addingTimeInterval(Double(total - count + index) * every)
            }
            return (times, total)
        }
        // Find the latest fire times in a window that grows until it holds `keep` of them or
        // reaches `first`: the cost follows the fire times kept, not the downtime.
        for window: Double? in [3600, 86_400, 32 * 86_400, 366 * 86_400, nil] {
            let start = window.map { max(first, now.addingTimeInterval(-$0)) } ?? first
            var times: [Date] = []
            var total = 0
            var next: Date? = start == first ? first : spec.nextFire(after: start.addingTimeInterval(-0.001))
            while let time = next, time <= now {
                total += 1
                times.append(time)
                if times.count > keep { times.removeFirst(times.count - keep) }
                next = spec.nextFire(after: time)
            }
            guard times.count >= keep || start == first else { continue }
            // Then count the earlier ones, up to a bound.
            var earlier: Date? = first
            var counted = 0
            while let time = earlier, time < start, counted < countLimit {
                counted += 1
                earlier = spec.nextFire(after: time)
            }
            return (times, total + counted)
        }
        return ([], 0)
    }

    /// The most missed fire times of a cron schedule counted one by one (beyond, the count
    /// in the `schedule_missed` event is a lower bound): 1,000, so that a long downtime
    /// costs the firing transaction milliseconds.
    public static let countLimit = 1_000

    /// What a fire time does when its schedule's latest job is live (held, queued or
    /// running) or not, and `waiting` fire times already wait behind it.
    public enum Action: Sendable, Hashable {
        /// Create its job now.
        case create
        /// Wait, and create it when the job before ends.
        case wait
        /// Create nothing, and record the skip.
        case skip
    }

    /// See ``Action``. With `queue`, at most ``ScheduleSpec/catchUpMax`` fire times wait;
    /// one more is skipped.
    public static func action(_ overlap: OverlapPolicy, previousLive: Bool, waiting: Int, limit: Int) -> Action {
        if overlap == .allow { return .create }
        if !previousLive && waiting == 0 { return .create }
        switch overlap {
        case .skip: return .skip
        default: return waiting < limit ? .wait : .skip
        }
    }

    /// The state after a run of the schedule (job `job`) ended in `ended`, and whether that
    /// end pauses the schedule now: a success resets the failures in a row, a failure
    /// counts one, and the `pauseAfterFailures`-th pauses; a cancelled run counts neither way.
    public static func runEnded(
        _ state: ScheduleState, job: Int64, ended: JobState, pauseAfterFailures: Int?
    ) -> (state: ScheduleState, pausedNow: Bool) {
        var state = state
        switch ended {
        case .succeeded:
            state.failures = 0
            return (state, false)
        case .failed:
            state.failures += 1
            state.lastFailedJob = job
            if let limit = pauseAfterFailures, state.failures >= limit, !state.paused {
                state.paused = true
                return (state, true)
            }
            return (state, false)
        default:
            return (state, false)
        }
    }

    /// The job a fire time creates: the schedule's job, in its session, labelled with the
    /// schedule, the fire time and (when caught up) `stint.catch_up=true`.
    public static func job(of spec: ScheduleSpec, fire: Fire) -> JobSpec {
        var job = spec.job
        job.labels[scheduleLabel] = spec.name
        job.labels[fireTimeLabel] = RFC3339.format(fire.at)
        if fire.catchUp { job.labels[catchUpLabel] = "true" }
        return job
    }
}
