import Dispatch
import Foundation
import StintCore
import Testing

/// Schedules without a store: their fire times (`every` and cron in zones with DST and
/// half-hour offsets), what `validate()` refuses, what one look of the scheduler fires
/// (catch-up), overlap, pause after failures, and the labels of a fire time's job.
///
/// The instants below were worked out by hand from the tz rules for 2026 (and checked
/// against `zdump -v`): Europe/Berlin +1 → +2 at 2026-03-29T01:00Z and back at
/// 2026-10-25T01:00Z; America/New_York −5 → −4 at 2026-03-08T07:00Z and back at
/// 2026-11-01T06:00Z; Australia/Lord_Howe +11 → +10:30 at 2026-04-04T15:00Z (02:00 → 01:30
/// local) and +10:30 → +11 at 2026-10-03T15:30Z (02:00 → 02:30 local); Australia/Adelaide
/// +10:30 → +9:30 at 2026-04-04T16:30Z (03:00 → 02:00 local) and +9:30 → +10:30 at
/// 2026-10-03T16:30Z (02:00 → 03:00 local); Asia/Kolkata +5:30 all year.
@Suite("ScheduleRules")
struct ScheduleRulesTests {
    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    /// 2026-01-01T00:00:00Z: the anchor of the `every` schedules, and "minute 0" of the plan cases.
    static let anchor = at("2026-01-01T00:00:00Z")

    static func spec(
        name: String = "nightly", cron: String? = nil, every: Double? = nil, timeZone: String? = nil,
        anchor: Date = ScheduleRulesTests.anchor, catchUp: CatchUpPolicy = .last,
        catchUpMax: Int = ScheduleSpec.defaultCatchUpMax, pauseAfterFailures: Int? = nil,
        job: JobSpec = JobSpec(argv: ["/bin/true"], cwd: "/tmp")
    ) -> ScheduleSpec {
        ScheduleSpec(
            name: name, cron: cron, every: every, timeZone: timeZone, anchor: anchor, catchUp: catchUp,
            catchUpMax: catchUpMax, pauseAfterFailures: pauseAfterFailures, job: job)
    }

    /// The error `body` throws, or `nil` when it throws none.
    static func refusal(_ body: () throws(StintError) -> Void) -> StintError? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }

    // MARK: - Fire times of `every`

    struct EveryCase: Sendable, CustomTestStringConvertible {
        let label: String
        let every: Double
        var timeZone: String? = nil
        /// Seconds after the anchor.
        let after: Double
        /// Seconds after the anchor.
        let next: [Double]
        var testDescription: String { label }
    }

    static let everyCases: [EveryCase] = [
        EveryCase(label: "the first fire time is one period after the anchor", every: 600, after: 0, next: [600, 1200, 1800]),
        EveryCase(label: "just after the anchor", every: 600, after: 0.001, next: [600]),
        EveryCase(label: "just before a fire time", every: 600, after: 599.999, next: [600, 1200]),
        EveryCase(label: "exactly on a fire time gives the next one", every: 600, after: 600, next: [1200, 1800]),
        EveryCase(label: "many periods later", every: 600, after: 600 * 1000 + 1, next: [600 * 1001]),
        // 12:34:56 with an anchor of 10:00:07 (9289 s): 15 whole periods, next 12:40:07.
        EveryCase(label: "anchor arithmetic, not wall-clock rounding", every: 600, after: 9289, next: [9600, 10200]),
        EveryCase(label: "1.5 s from the anchor", every: 1.5, after: 0, next: [1.5, 3, 4.5, 6]),
        EveryCase(label: "1.5 s exactly on a fire time", every: 1.5, after: 3, next: [4.5, 6]),
        EveryCase(label: "1.5 s between fire times", every: 1.5, after: 3.7, next: [4.5]),
        EveryCase(label: "the shortest period", every: 1, after: 59.5, next: [60, 61, 62]),
        EveryCase(label: "the longest period (366 days)", every: 366 * 86_400, after: 0, next: [366 * 86_400, 732 * 86_400]),
        // Daily from midnight UTC across Lord Howe's April change: the zone does not matter.
        EveryCase(label: "a zone does not move `every`", every: 86_400, timeZone: "Australia/Lord_Howe",
                  after: 93 * 86_400 + 43_200, next: [94 * 86_400, 95 * 86_400, 96 * 86_400]),
    ]

    @Test("fire times of every", arguments: everyCases)
    func everyFireTimes(_ example: EveryCase) throws {
        let spec = Self.spec(every: example.every, timeZone: example.timeZone)
        let after = Self.anchor.addingTimeInterval(example.after)
        let expected = example.next.map { Self.anchor.addingTimeInterval($0) }
        #expect(spec.fireTimes(after: after, count: expected.count) == expected)
        #expect(spec.nextFire(after: after) == expected.first)
    }

    @Test("anchor arithmetic in clock times: every 10 minutes from 10:00:07")
    func everyClockTimes() {
        let spec = Self.spec(every: 600, anchor: Self.at("2026-03-01T10:00:07Z"))
        #expect(
            spec.fireTimes(after: Self.at("2026-03-01T12:34:56Z"), count: 3)
                == ["2026-03-01T12:40:07Z", "2026-03-01T12:50:07Z", "2026-03-01T13:00:07Z"].map(Self.at))
        #expect(spec.nextFire(after: Self.at("2026-03-01T12:40:07Z")) == Self.at("2026-03-01T12:50:07Z"))
    }

    /// Periods that binary floating point does not hold exactly: each fire time is the next
    /// one of the grid `anchor + n × every` (n = 1, 2, 3, … without repeats or gaps), and the
    /// next fire time of a fire time is about one period later.
    ///
    /// The trap: a fire time found by adding `every` to one that floating point landed on is
    /// an ulp off `anchor + n × every`, and the next fire time after *that* must not be
    /// `anchor + n × every` itself, ~119 ns later (the same fire time twice). With every 7.3 s
    /// from 2026-06-15T08:00:00Z, code that fell into it gave
    /// `fireTimes(after: anchor, count: 3)` = [+7.3, +14.599999905, +14.600000024] s.
    @Test("a period binary floating point cannot hold exactly never repeats or skips a fire time", arguments: [1.1, 2.7, 7.3])
    func inexactPeriods(_ every: Double) throws {
        let spec = Self.spec(every: every, anchor: Self.at("2026-06-15T08:00:00Z"))
        let times = spec.fireTimes(after: spec.anchor, count: 2000)
        try #require(times.count == 2000)
        let grid = times.map { Int(($0.timeIntervalSince(spec.anchor) / every).rounded()) }
        let offGrid = zip(grid, 1...).filter { $0.0 != $0.1 }
        #expect(offGrid.isEmpty, "\(offGrid.count) of 2000 are not the nth fire time; first (got, n): \(offGrid.prefix(3))")
        let gaps = zip(times, times.dropFirst()).map { $1.timeIntervalSince($0) }
        let badGaps = gaps.enumerated().filter { abs($0.element - every) > 1e-5 }
        #expect(badGaps.isEmpty, "\(badGaps.count) gaps are not \(every) s; first (index, gap): \(badGaps.prefix(3).map { ($0.offset, $0.element) })")
        for time in times {
            let next = try #require(spec.nextFire(after: time))
            #expect(next > time)
        }
    }

    @Test("fireTimes with a count of 0 is empty, and a count of n gives n")
    func fireTimesCount() {
        let spec = Self.spec(every: 60)
        #expect(spec.fireTimes(after: Self.anchor, count: 0).isEmpty)
        #expect(spec.fireTimes(after: Self.anchor, count: 7).count == 7)
    }

    /// `anchor`: "the first fire time of an `every` schedule is one period after this" — also
    /// when asked from before it (a daemon whose clock is behind the anchor's), the anchor
    /// itself is not a fire time.
    @Test("before the anchor, the next fire time is still one period after it", arguments: [0.001, 1, 599, 601, 86_400])
    func beforeAnchor(_ secondsBefore: Double) {
        let spec = Self.spec(every: 600)
        #expect(
            spec.nextFire(after: Self.anchor.addingTimeInterval(-secondsBefore)) == Self.anchor.addingTimeInterval(600),
            "\(secondsBefore) s before the anchor")
    }

    // MARK: - Fire times of cron, in zones

    struct CronCase: Sendable, CustomTestStringConvertible {
        let expression: String
        let zone: String
        let after: String
        let next: [String]
        let why: String
        var testDescription: String { "\(expression) in \(zone) after \(after): \(why)" }
    }

    static let cronCases: [CronCase] = [
        // Europe/Berlin
        CronCase(expression: "0 * * * *", zone: "Europe/Berlin", after: "2026-03-28T23:30:00Z",
                 next: ["2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"],
                 why: "spring forward: 02:00 CET is skipped and fires at 03:00 CEST (01:00Z), once with 03:00 itself"),
        CronCase(expression: "0 * * * *", zone: "Europe/Berlin", after: "2026-10-24T23:30:00Z",
                 next: ["2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z"],
                 why: "fall back: 02:00 happens at 00:00Z (CEST) and 01:00Z (CET), and fires at the first only"),
        CronCase(expression: "0 8 * * *", zone: "Europe/Berlin", after: "2026-10-24T00:00:00Z",
                 next: ["2026-10-24T06:00:00Z", "2026-10-25T07:00:00Z", "2026-10-26T07:00:00Z"],
                 why: "08:00 local stays 08:00 local: 06:00Z in CEST, 07:00Z in CET"),
        CronCase(expression: "0 8 * * *", zone: "Europe/Berlin", after: "2026-03-28T12:00:00Z",
                 next: ["2026-03-29T06:00:00Z", "2026-03-30T06:00:00Z"],
                 why: "the day of the change is 23 hours long; 08:00 CEST is 06:00Z"),
        // America/New_York
        CronCase(expression: "30 2 * * *", zone: "America/New_York", after: "2026-03-07T12:00:00Z",
                 next: ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"],
                 why: "02:30 EST does not exist on Mar 8: fires at 03:00 EDT (07:00Z)"),
        CronCase(expression: "30 1 * * *", zone: "America/New_York", after: "2026-10-31T12:00:00Z",
                 next: ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"],
                 why: "01:30 happens twice on Nov 1 (05:30Z EDT, 06:30Z EST): only the first fires"),
        CronCase(expression: "0 9 * * mon", zone: "America/New_York", after: "2026-03-01T00:00:00Z",
                 next: ["2026-03-02T14:00:00Z", "2026-03-09T13:00:00Z"],
                 why: "weekly 09:00 across spring forward: EST then EDT"),
        CronCase(expression: "0 9 * * mon", zone: "America/New_York", after: "2026-10-25T00:00:00Z",
                 next: ["2026-10-26T13:00:00Z", "2026-11-02T14:00:00Z"],
                 why: "weekly 09:00 across fall back: EDT then EST"),
        // Australia/Lord_Howe: half-hour DST
        CronCase(expression: "45 1 * * *", zone: "Australia/Lord_Howe", after: "2026-04-04T00:00:00Z",
                 next: ["2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"],
                 why: "01:45 on Apr 5 happens at 14:45Z (+11) and 15:15Z (+10:30): the first fires; then +10:30"),
        CronCase(expression: "*/30 * * * *", zone: "Australia/Lord_Howe", after: "2026-04-04T14:20:00Z",
                 next: ["2026-04-04T14:30:00Z", "2026-04-04T15:30:00Z", "2026-04-04T16:00:00Z"],
                 why: "the repeated 01:30 (+10:30, 15:00Z) does not fire again; 02:00 +10:30 is 15:30Z"),
        CronCase(expression: "*/10 2 * * *", zone: "Australia/Lord_Howe", after: "2026-10-03T15:00:00Z",
                 next: ["2026-10-03T15:30:00Z", "2026-10-03T15:40:00Z", "2026-10-03T15:50:00Z", "2026-10-04T15:00:00Z"],
                 why: "02:00, 02:10 and 02:20 are skipped and fire once, with 02:30 (+11, 15:30Z)"),
        CronCase(expression: "0 12 * * *", zone: "Australia/Lord_Howe", after: "2026-01-10T00:00:00Z",
                 next: ["2026-01-10T01:00:00Z"], why: "southern summer: +11"),
        CronCase(expression: "0 12 * * *", zone: "Australia/Lord_Howe", after: "2026-07-01T00:00:00Z",
                 next: ["2026-07-01T01:30:00Z", "2026-07-02T01:30:00Z"], why: "southern winter: +10:30"),
        // Australia/Adelaide: a half-hour offset with an hour of DST
        CronCase(expression: "0 9 * * *", zone: "Australia/Adelaide", after: "2026-01-15T00:00:00Z",
                 next: ["2026-01-15T22:30:00Z", "2026-01-16T22:30:00Z"],
                 why: "summer: +10:30, so 09:00 is 22:30Z the day before"),
        CronCase(expression: "0 9 * * *", zone: "Australia/Adelaide", after: "2026-07-15T00:00:00Z",
                 next: ["2026-07-15T23:30:00Z"], why: "winter: +9:30"),
        CronCase(expression: "30 2 * * *", zone: "Australia/Adelaide", after: "2026-04-04T00:00:00Z",
                 next: ["2026-04-04T16:00:00Z", "2026-04-05T17:00:00Z"],
                 why: "02:30 on Apr 5 happens at 16:00Z (+10:30) and 17:00Z (+9:30): the first fires"),
        CronCase(expression: "*/30 * * * *", zone: "Australia/Adelaide", after: "2026-04-04T15:50:00Z",
                 next: ["2026-04-04T16:00:00Z", "2026-04-04T17:30:00Z", "2026-04-04T18:00:00Z"],
                 why: "the repeated hour 02:00–02:59 fires once; 03:00 +9:30 is 17:30Z"),
        CronCase(expression: "30 2 * * *", zone: "Australia/Adelaide", after: "2026-10-03T00:00:00Z",
                 next: ["2026-10-03T16:30:00Z", "2026-10-04T16:00:00Z"],
                 why: "02:30 on Oct 4 is skipped: fires at 03:00 +10:30 (16:30Z)"),
        CronCase(expression: "*/30 * * * *", zone: "Australia/Adelaide", after: "2026-10-03T16:00:00Z",
                 next: ["2026-10-03T16:30:00Z", "2026-10-03T17:00:00Z"],
                 why: "02:00, 02:30 (skipped) and 03:00 are one instant and fire once"),
        // Asia/Kolkata: +5:30, no DST
        CronCase(expression: "0 0 1 * *", zone: "Asia/Kolkata", after: "2026-02-15T00:00:00Z",
                 next: ["2026-02-28T18:30:00Z", "2026-03-31T18:30:00Z"],
                 why: "midnight of the 1st in the zone is the evening before in UTC"),
        CronCase(expression: "45 23 31 12 *", zone: "Asia/Kolkata", after: "2026-06-01T00:00:00Z",
                 next: ["2026-12-31T18:15:00Z", "2027-12-31T18:15:00Z"], why: "New Year's Eve, 23:45 IST"),
        // February 29: leap years only
        CronCase(expression: "0 0 29 2 *", zone: "Europe/Berlin", after: "2027-06-01T00:00:00Z",
                 next: ["2028-02-28T23:00:00Z", "2032-02-28T23:00:00Z"], why: "leap years only, midnight CET"),
        CronCase(expression: "0 0 29 2 *", zone: "UTC", after: "2096-03-01T00:00:00Z",
                 next: ["2104-02-29T00:00:00Z"], why: "2100 is not a leap year"),
        CronCase(expression: "30 12 29 feb *", zone: "America/New_York", after: "2024-02-29T17:31:00Z",
                 next: ["2028-02-29T17:30:00Z"], why: "just after the one of 2024, the next is 2028 (EST)"),
    ]

    @Test("fire times of cron in a zone", arguments: cronCases)
    func cronFireTimes(_ example: CronCase) throws {
        let spec = Self.spec(cron: example.expression, timeZone: example.zone)
        try spec.validate()
        let after = Self.at(example.after)
        let expected = example.next.map(Self.at)
        let times = spec.fireTimes(after: after, count: expected.count)
        #expect(times == expected, "\(times.map(RFC3339.format))")
        #expect(spec.nextFire(after: after) == expected.first)
        // Each fire time's successor is the next one in the list.
        for (time, following) in zip(expected, expected.dropFirst()) {
            #expect(spec.nextFire(after: time) == following)
        }
    }

    @Test("a day that never comes: no next fire time and no fire times", arguments: [
        ("0 0 30 2 *", "UTC"), ("15 10 30 feb *", "Asia/Kolkata"), ("0 0 31 2,4,6,9,11 *", "Australia/Lord_Howe"),
    ])
    func never(_ example: (String, String)) throws {
        let spec = Self.spec(cron: example.0, timeZone: example.1)
        try spec.validate()
        #expect(spec.nextFire(after: Self.anchor) == nil)
        #expect(spec.fireTimes(after: Self.anchor, count: 3).isEmpty)
    }

    // MARK: - validate()

    @Test("a valid spec passes validate", arguments: [
        spec(cron: "0 3 * * *", timeZone: "Europe/Berlin"), spec(cron: "@daily"), spec(every: 1), spec(every: 366 * 86_400),
        spec(every: 60, timeZone: "Australia/Lord_Howe"), spec(cron: "0 9 * * *", timeZone: "Asia/Kolkata"),
        spec(every: 60, catchUpMax: 1), spec(every: 60, catchUpMax: ScheduleSpec.maxCatchUpMax),
        spec(every: 60, pauseAfterFailures: 1), spec(every: 60, pauseAfterFailures: 1000),
        spec(name: "a", every: 60), spec(name: "nightly-backup_v2.1", every: 60), spec(name: String(repeating: "x", count: 64), every: 60),
        spec(every: 60, job: JobSpec(argv: ["/bin/true"], cwd: "/tmp", labels: ["stint": "x", "team.stint.y": "z"], hold: false)),
    ])
    func valid(_ spec: ScheduleSpec) throws {
        try spec.validate()
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        let label: String
        /// What the message must hold: the field or flag at fault.
        let names: String
        let change: @Sendable (inout ScheduleSpec) -> Void
        var testDescription: String { label }
    }

    static let refusals: [Refusal] = [
        Refusal(label: "an empty name", names: "invalid schedule name") { $0.name = "" },
        Refusal(label: "a name starting with -", names: "invalid schedule name") { $0.name = "-nightly" },
        Refusal(label: "a name with a space", names: "invalid schedule name") { $0.name = "night ly" },
        Refusal(label: "a name with a slash", names: "invalid schedule name") { $0.name = "a/b" },
        Refusal(label: "a name with non-ASCII letters", names: "invalid schedule name") { $0.name = "nächtlich" },
        Refusal(label: "a name of 65 characters", names: "invalid schedule name") { $0.name = String(repeating: "x", count: 65) },
        Refusal(label: "a bad minute", names: "minute") { $0.cron = "60 3 * * *" },
        Refusal(label: "a bad hour", names: "hour") { $0.cron = "0 24 * * *" },
        Refusal(label: "a bad day of month", names: "day-of-month") { $0.cron = "0 3 32 * *" },
        Refusal(label: "a bad month", names: "month") { $0.cron = "0 3 * 0 *" },
        Refusal(label: "a bad day of week", names: "day-of-week") { $0.cron = "0 3 * * funday" },
        Refusal(label: "four cron fields", names: "five fields") { $0.cron = "0 3 * *" },
        Refusal(label: "an unknown zone", names: "--tz") { $0.timeZone = "Mars/Olympus_Mons" },
        Refusal(label: "a misspelt zone", names: "--tz") { $0.timeZone = "Europe/Berlinn" },
        Refusal(label: "both cron and every", names: "not both") { $0.every = 60 },
        Refusal(label: "neither cron nor every", names: "--cron 'EXPR' or --every") { $0.cron = nil },
        Refusal(label: "every under 1 s", names: "--every") { $0.cron = nil; $0.every = 0.999 },
        Refusal(label: "every of 0", names: "--every") { $0.cron = nil; $0.every = 0 },
        Refusal(label: "a negative every", names: "--every") { $0.cron = nil; $0.every = -60 },
        Refusal(label: "every over 366 days", names: "--every") { $0.cron = nil; $0.every = 366 * 86_400 + 1 },
        Refusal(label: "an infinite every", names: "--every") { $0.cron = nil; $0.every = .infinity },
        Refusal(label: "a NaN every", names: "--every") { $0.cron = nil; $0.every = .nan },
        Refusal(label: "catchUpMax 0", names: "--catch-up-max") { $0.catchUpMax = 0 },
        Refusal(label: "a negative catchUpMax", names: "--catch-up-max") { $0.catchUpMax = -1 },
        Refusal(label: "catchUpMax over the largest", names: "--catch-up-max") { $0.catchUpMax = ScheduleSpec.maxCatchUpMax + 1 },
        Refusal(label: "pauseAfterFailures 0", names: "--pause-after-failures") { $0.pauseAfterFailures = 0 },
        Refusal(label: "pauseAfterFailures 1001", names: "--pause-after-failures") { $0.pauseAfterFailures = 1001 },
        Refusal(label: "a held job", names: "--hold does not apply") { $0.job.hold = true },
        Refusal(label: "a job with a delay", names: "--delay does not apply") { $0.job.delay = 0 },
        Refusal(label: "a job with a time to run at", names: "--at does not apply") { $0.job.runAt = ScheduleRulesTests.anchor },
        Refusal(label: "a job after others", names: "--after does not apply") { $0.job.after = [1] },
        Refusal(label: "a unique job", names: "--unique does not apply") { $0.job.unique = "k" },
        Refusal(label: "a job add refuses (relative cwd)", names: "cwd") { $0.job.cwd = "relative" },
        Refusal(label: "a job with a reserved label", names: "reserved") { $0.job.labels["stint.schedule"] = "other" },
    ]

    @Test("validate refuses with E_USAGE (exit 64), naming the field", arguments: refusals)
    func refused(_ example: Refusal) throws {
        var spec = Self.spec(cron: "0 3 * * *", timeZone: "Europe/Berlin")
        try spec.validate()
        example.change(&spec)
        let error = try #require(Self.refusal { () throws(StintError) in try spec.validate() }, "\(example.label) was accepted")
        #expect(error.code == .usage)
        #expect(error.code.exitStatus == 64)
        #expect(error.message.contains(example.names), "\(error.message)")
    }

    @Test("ScheduleSpec.validate(timeZone:) knows IANA names", arguments: [
        ("UTC", true), ("Europe/Berlin", true), ("Australia/Lord_Howe", true), ("Asia/Kolkata", true),
        ("Mars/Olympus_Mons", false), ("Berlin", false),
    ])
    func zoneNames(_ example: (String, Bool)) {
        let error = Self.refusal { () throws(StintError) in try ScheduleSpec.validate(timeZone: example.0) }
        #expect((error == nil) == example.1, "\(example.0): \(error?.message ?? "accepted")")
        if let error {
            #expect(error.code == .usage)
            #expect(error.message.contains("--tz"))
            #expect(error.message.contains(example.0))
        }
    }

    @Test("JobSpec.validate refuses label keys under stint.", arguments: ["stint.schedule", "stint.fire_time", "stint.catch_up", "stint.", "stint.mine"])
    func reservedLabel(_ key: String) throws {
        var job = JobSpec(argv: ["/bin/true"], cwd: "/tmp", labels: ["team": "ops"])
        try job.validate()
        job.labels[key] = "x"
        let error = try #require(Self.refusal { () throws(StintError) in try job.validate() }, "\(key) was accepted")
        #expect(error.code == .usage)
        #expect(error.message.contains("reserved"), "\(error.message)")
    }

    @Test("JobSpec.validate takes label keys that only look like stint.", arguments: ["stint", "stintx", "team.stint.x", "x-stint."])
    func unreservedLabel(_ key: String) throws {
        try JobSpec(argv: ["/bin/true"], cwd: "/tmp", labels: [key: "x"]).validate()
    }

    // MARK: - plan

    enum Kind: String, Sendable, CaseIterable, CustomTestStringConvertible {
        /// `every 600 s` from 2026-01-01T00:00Z.
        case every
        /// `*/10 * * * *` in UTC: the same fire times.
        case cron
        var testDescription: String { rawValue }

        func spec(_ catchUp: CatchUpPolicy, max: Int) -> ScheduleSpec {
            switch self {
            case .every: ScheduleRulesTests.spec(every: 600, catchUp: catchUp, catchUpMax: max)
            case .cron: ScheduleRulesTests.spec(cron: "*/10 * * * *", timeZone: "UTC", catchUp: catchUp, catchUpMax: max)
            }
        }
    }

    struct PlanCase: Sendable, CustomTestStringConvertible {
        let label: String
        let catchUp: CatchUpPolicy
        var max = ScheduleSpec.defaultCatchUpMax
        /// Seconds after 2026-01-01T00:00Z.
        let nextFire: Double
        let now: Double
        /// Minutes after 2026-01-01T00:00Z, and whether each is a catch-up.
        let fires: [(Int, Bool)]
        let missed: Int
        /// Minutes after 2026-01-01T00:00Z.
        let next: Int
        var testDescription: String { label }
    }

    /// `00:10 … 16:40`: the 100 fire times of a downtime from 00:05 to 16:45.
    static let hundred = (1...100).map { ($0 * 10, true) }

    static let planCases: [PlanCase] = [
        PlanCase(label: "nothing due a second before the fire time", catchUp: .last, nextFire: 600, now: 599,
                 fires: [], missed: 0, next: 10),
        PlanCase(label: "on time, exactly at the fire time", catchUp: .last, nextFire: 600, now: 600,
                 fires: [(10, false)], missed: 0, next: 20),
        PlanCase(label: "on time, none", catchUp: .none, nextFire: 600, now: 630, fires: [(10, false)], missed: 0, next: 20),
        PlanCase(label: "on time, all", catchUp: .all, nextFire: 600, now: 630, fires: [(10, false)], missed: 0, next: 20),
        PlanCase(label: "60 s late is still on time", catchUp: .last, nextFire: 600, now: 660,
                 fires: [(10, false)], missed: 0, next: 20),
        PlanCase(label: "61 s late is a catch-up", catchUp: .last, nextFire: 600, now: 661,
                 fires: [(10, true)], missed: 0, next: 20),
        PlanCase(label: "61 s late with none is missed", catchUp: .none, nextFire: 600, now: 661,
                 fires: [], missed: 1, next: 20),
        // Down from 00:05 to 16:45: fire times 00:10 … 16:40, 100 of them.
        PlanCase(label: "long downtime, none", catchUp: .none, nextFire: 600, now: 60_300,
                 fires: [], missed: 100, next: 1010),
        PlanCase(label: "long downtime, none, looked at within the grace of the latest", catchUp: .none, nextFire: 600,
                 now: 60_030, fires: [(1000, false)], missed: 99, next: 1010),
        PlanCase(label: "long downtime, last", catchUp: .last, nextFire: 600, now: 60_300,
                 fires: [(1000, true)], missed: 99, next: 1010),
        PlanCase(label: "long downtime, last, latest 60 s late", catchUp: .last, nextFire: 600, now: 60_060,
                 fires: [(1000, false)], missed: 99, next: 1010),
        PlanCase(label: "long downtime, all (max 100)", catchUp: .all, nextFire: 600, now: 60_300,
                 fires: hundred, missed: 0, next: 1010),
        PlanCase(label: "long downtime, all (max 200)", catchUp: .all, max: 200, nextFire: 600, now: 60_300,
                 fires: hundred, missed: 0, next: 1010),
        PlanCase(label: "long downtime, all (max 99): the latest 99", catchUp: .all, max: 99, nextFire: 600, now: 60_300,
                 fires: Array(hundred.dropFirst()), missed: 1, next: 1010),
        PlanCase(label: "long downtime, all (max 5): the latest 5", catchUp: .all, max: 5, nextFire: 600, now: 60_300,
                 fires: [(960, true), (970, true), (980, true), (990, true), (1000, true)], missed: 95, next: 1010),
        PlanCase(label: "long downtime, all (max 5), the latest on time", catchUp: .all, max: 5, nextFire: 600, now: 60_030,
                 fires: [(960, true), (970, true), (980, true), (990, true), (1000, false)], missed: 95, next: 1010),
        PlanCase(label: "a nextFire left from before the downtime but not the first", catchUp: .all, max: 3,
                 nextFire: 36_000, now: 37_830, fires: [(610, true), (620, true), (630, false)], missed: 1, next: 640),
    ]

    @Test("what one look fires", arguments: Kind.allCases, planCases)
    func plan(_ kind: Kind, _ example: PlanCase) {
        let spec = kind.spec(example.catchUp, max: example.max)
        let minute = { (minutes: Int) in ScheduleRulesTests.anchor.addingTimeInterval(Double(minutes) * 60) }
        let plan = ScheduleRules.plan(
            spec, nextFire: Self.anchor.addingTimeInterval(example.nextFire), now: Self.anchor.addingTimeInterval(example.now))
        let expected = example.fires.map { ScheduleRules.Fire(at: minute($0.0), catchUp: $0.1) }
        #expect(plan.fires == expected, "\(plan.fires.map { "\(RFC3339.format($0.at)) \($0.catchUp)" })")
        #expect(plan.nextFire == minute(example.next))
        #expect(plan.missed == example.missed)
    }

    @Test("no next fire time (none will come): nothing is due, and none is made up", arguments: [
        spec(cron: "0 0 30 2 *", catchUp: .all), spec(every: 60, catchUp: .all),
    ])
    func planWithoutNextFire(_ spec: ScheduleSpec) {
        let plan = ScheduleRules.plan(spec, nextFire: nil, now: Self.anchor.addingTimeInterval(86_400))
        #expect(plan.fires.isEmpty)
        #expect(plan.missed == 0)
        #expect(plan.nextFire == nil)
    }

    /// The same fire times, as cron and as `every`, count the same missed ones (the number the
    /// `schedule_missed` event prints): a cron schedule must not count only the last hour
    /// it scanned for the fire times it keeps (code that did reported 5, 1 and 6 here).
    @Test("cron counts its missed fire times like every does", arguments: [
        (CatchUpPolicy.last, 100, 99), (CatchUpPolicy.all, 5, 95), (CatchUpPolicy.none, 100, 100),
    ])
    func cronMissedIsExact(_ example: (CatchUpPolicy, Int, Int)) {
        let now = Self.anchor.addingTimeInterval(60_300)
        let first = Self.anchor.addingTimeInterval(600)
        let every = ScheduleRules.plan(Kind.every.spec(example.0, max: example.1), nextFire: first, now: now)
        let cron = ScheduleRules.plan(Kind.cron.spec(example.0, max: example.1), nextFire: first, now: now)
        #expect(every.missed == example.2)
        #expect(cron.fires == every.fires)
        #expect(cron.missed == example.2, "cron: \(cron.missed) missed, every: \(every.missed)")
    }

    /// No fire time is lost: one the look does not fire must stay the next fire time. FAILS
    /// with the code as of commit 7c5d1aa for looks less than half a millisecond before a fire
    /// time (see the report): `nextFire(after:)` treats a fire time within `sameTime` (0.5 ms)
    /// after `now` as `now` itself and returns the one after it, while `plan` fires only
    /// through `now` — so 00:20 below is neither fired, nor counted missed, nor next.
    @Test("a look just before a fire time does not lose it", arguments: [0.01, 0.001, 0.0004, 0.0001, 0.000_001])
    func lookJustBefore(_ secondsBefore: Double) {
        let spec = Self.spec(every: 600, catchUp: .all)
        let second = Self.anchor.addingTimeInterval(1200)
        let plan = ScheduleRules.plan(
            spec, nextFire: Self.anchor.addingTimeInterval(600), now: second.addingTimeInterval(-secondsBefore))
        #expect(plan.fires.first?.at == Self.anchor.addingTimeInterval(600))
        let fired = plan.fires.contains { abs($0.at.timeIntervalSince(second)) < 0.001 }
        let next = plan.nextFire.map { abs($0.timeIntervalSince(second)) < 0.001 } ?? false
        #expect(fired || next, "00:20 lost: fires \(plan.fires.map { RFC3339.format($0.at) }), next \(plan.nextFire.map(RFC3339.format) ?? "nil")")
    }

    struct RestartCase: Sendable, CustomTestStringConvertible {
        let label: String
        let catchUp: CatchUpPolicy
        var max = ScheduleSpec.defaultCatchUpMax
        let now: String
        let fires: [(String, Bool)]
        let missed: Int
        let next: String
        var testDescription: String { label }
    }

    /// `* * * * *` whose nextFire is 12:00:00, looked at after a restart.
    static let restartCases: [RestartCase] = [
        RestartCase(label: "at 12:00:30: 12:00 on time", catchUp: .last, now: "2026-05-01T12:00:30Z",
                    fires: [("2026-05-01T12:00:00Z", false)], missed: 0, next: "2026-05-01T12:01:00Z"),
        RestartCase(label: "at 12:00:30 with none: 12:00 on time", catchUp: .none, now: "2026-05-01T12:00:30Z",
                    fires: [("2026-05-01T12:00:00Z", false)], missed: 0, next: "2026-05-01T12:01:00Z"),
        RestartCase(label: "at 12:03:30 with last: 12:03 only", catchUp: .last, now: "2026-05-01T12:03:30Z",
                    fires: [("2026-05-01T12:03:00Z", false)], missed: 3, next: "2026-05-01T12:04:00Z"),
        RestartCase(label: "at 12:03:30 with none: 12:03, on time", catchUp: .none, now: "2026-05-01T12:03:30Z",
                    fires: [("2026-05-01T12:03:00Z", false)], missed: 3, next: "2026-05-01T12:04:00Z"),
        RestartCase(label: "at 12:03:30 with all: four, three caught up", catchUp: .all, now: "2026-05-01T12:03:30Z",
                    fires: [("2026-05-01T12:00:00Z", true), ("2026-05-01T12:01:00Z", true), ("2026-05-01T12:02:00Z", true),
                            ("2026-05-01T12:03:00Z", false)],
                    missed: 0, next: "2026-05-01T12:04:00Z"),
        RestartCase(label: "at 12:03:30 with all, max 2: the latest two", catchUp: .all, max: 2, now: "2026-05-01T12:03:30Z",
                    fires: [("2026-05-01T12:02:00Z", true), ("2026-05-01T12:03:00Z", false)], missed: 2,
                    next: "2026-05-01T12:04:00Z"),
    ]

    @Test("a restart mid-minute", arguments: restartCases)
    func restart(_ example: RestartCase) {
        let spec = Self.spec(cron: "* * * * *", timeZone: "UTC", catchUp: example.catchUp, catchUpMax: example.max)
        let plan = ScheduleRules.plan(spec, nextFire: Self.at("2026-05-01T12:00:00Z"), now: Self.at(example.now))
        #expect(plan.fires == example.fires.map { ScheduleRules.Fire(at: Self.at($0.0), catchUp: $0.1) })
        #expect(plan.missed == example.missed)
        #expect(plan.nextFire == Self.at(example.next))
    }

    @Test("a catch-up across Berlin's spring forward fires the skipped quarter hours once")
    func planAcrossGap() {
        // 01:45 CET (00:45Z) down to 03:15:30 CEST (01:15:30Z): 01:45, then 02:00–03:00 as one
        // (01:00Z), then 03:15, 30 s late: on time.
        let spec = Self.spec(cron: "*/15 * * * *", timeZone: "Europe/Berlin", catchUp: .all)
        let plan = ScheduleRules.plan(spec, nextFire: Self.at("2026-03-29T00:45:00Z"), now: Self.at("2026-03-29T01:15:30Z"))
        #expect(
            plan.fires == [
                ScheduleRules.Fire(at: Self.at("2026-03-29T00:45:00Z"), catchUp: true),
                ScheduleRules.Fire(at: Self.at("2026-03-29T01:00:00Z"), catchUp: true),
                ScheduleRules.Fire(at: Self.at("2026-03-29T01:15:00Z"), catchUp: false),
            ])
        #expect(plan.missed == 0)
        #expect(plan.nextFire == Self.at("2026-03-29T01:30:00Z"))
    }

    /// The result of a computation run off the test's thread, so that a test can stop
    /// waiting for one that is far too slow (it then runs on until the process exits).
    final class Outcome: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        var plan: ScheduleRules.Plan?
        var elapsed: Duration = .zero
    }

    /// FAILS with the code as of commit 7c5d1aa (see the report): counting the earlier missed
    /// fire times calls `nextFire(after:)` once per fire time, up to `countLimit` (10,000)
    /// times, and each call resolves every minute of the previous wall-clock day first —
    /// minutes per look, not well under a second. The wait below is capped at 10 s so that
    /// the suite does not hang on it.
    @Test("a year down on * * * * * with all, max 5, is quick and keeps the latest 5", arguments: ["UTC", "Europe/Berlin"])
    func yearDown(_ zone: String) throws {
        let spec = Self.spec(cron: "* * * * *", timeZone: zone, catchUp: .all, catchUpMax: 5)
        let first = Self.at("2025-01-01T00:00:00Z")
        let now = Self.at("2026-01-01T00:00:30Z")
        let outcome = Outcome()
        DispatchQueue.global().async {
            outcome.elapsed = ContinuousClock().measure { outcome.plan = ScheduleRules.plan(spec, nextFire: first, now: now) }
            outcome.done.signal()
        }
        let finished = outcome.done.wait(timeout: .now() + 10) == .success
        // A guard against minutes of work, far above the milliseconds it takes: a speed target
        // belongs in the benchmark, not in a test a busy machine can fail.
        try #require(finished, "a year's catch-up in \(zone) still runs after 10 s")
        let plan = try #require(outcome.plan)
        #expect(
            plan.fires == [
                ScheduleRules.Fire(at: Self.at("2025-12-31T23:56:00Z"), catchUp: true),
                ScheduleRules.Fire(at: Self.at("2025-12-31T23:57:00Z"), catchUp: true),
                ScheduleRules.Fire(at: Self.at("2025-12-31T23:58:00Z"), catchUp: true),
                ScheduleRules.Fire(at: Self.at("2025-12-31T23:59:00Z"), catchUp: true),
                ScheduleRules.Fire(at: Self.at("2026-01-01T00:00:00Z"), catchUp: false),
            ])
        #expect(plan.nextFire == Self.at("2026-01-01T00:01:00Z"))
        // A lower bound past a counting limit: at least the rest of the last hour (55), at most
        // the whole year (525,601 fire times, 5 kept).
        #expect((55...525_596).contains(plan.missed), "missed \(plan.missed)")
    }

    @Test("a year down on every 60 s with all, max 5, counts what it missed exactly")
    func yearDownEvery() {
        let spec = Self.spec(every: 60, anchor: Self.at("2024-12-31T23:59:00Z"), catchUp: .all, catchUpMax: 5)
        let now = Self.at("2026-01-01T00:00:30Z")
        var plan: ScheduleRules.Plan?
        let elapsed = ContinuousClock().measure {
            plan = ScheduleRules.plan(spec, nextFire: Self.at("2025-01-01T00:00:00Z"), now: now)
        }
        // Counting is arithmetic, not a walk over 525,600 fire times: a guard far above its cost.
        #expect(elapsed < .seconds(10), "took \(elapsed)")
        #expect(plan?.fires.map(\.at) == (0..<5).map { Self.at("2025-12-31T23:56:00Z").addingTimeInterval(Double($0) * 60) })
        // 2025 has 525,600 minutes; with 2026-01-01T00:00 that is 525,601 fire times, 5 kept.
        #expect(plan?.missed == 525_596)
        #expect(plan?.nextFire == Self.at("2026-01-01T00:01:00Z"))
    }

    // MARK: - action

    struct ActionCase: Sendable, CustomTestStringConvertible {
        let overlap: OverlapPolicy
        let previousLive: Bool
        let waiting: Int
        let limit: Int
        let action: ScheduleRules.Action
        var testDescription: String { "\(overlap) live=\(previousLive) waiting=\(waiting)/\(limit) → \(action)" }
    }

    static let actionCases: [ActionCase] = [
        ActionCase(overlap: .skip, previousLive: false, waiting: 0, limit: 100, action: .create),
        ActionCase(overlap: .skip, previousLive: true, waiting: 0, limit: 100, action: .skip),
        ActionCase(overlap: .skip, previousLive: false, waiting: 1, limit: 100, action: .skip),
        ActionCase(overlap: .queue, previousLive: false, waiting: 0, limit: 100, action: .create),
        ActionCase(overlap: .queue, previousLive: true, waiting: 0, limit: 100, action: .wait),
        ActionCase(overlap: .queue, previousLive: true, waiting: 2, limit: 3, action: .wait),
        ActionCase(overlap: .queue, previousLive: true, waiting: 3, limit: 3, action: .skip),
        ActionCase(overlap: .queue, previousLive: true, waiting: 0, limit: 1, action: .wait),
        ActionCase(overlap: .queue, previousLive: true, waiting: 1, limit: 1, action: .skip),
        // Others wait already: this one goes behind them, not ahead.
        ActionCase(overlap: .queue, previousLive: false, waiting: 1, limit: 3, action: .wait),
        ActionCase(overlap: .allow, previousLive: false, waiting: 0, limit: 100, action: .create),
        ActionCase(overlap: .allow, previousLive: true, waiting: 0, limit: 100, action: .create),
        ActionCase(overlap: .allow, previousLive: true, waiting: 5, limit: 1, action: .create),
    ]

    @Test("overlap: create, wait or skip", arguments: actionCases)
    func action(_ example: ActionCase) {
        #expect(
            ScheduleRules.action(
                example.overlap, previousLive: example.previousLive, waiting: example.waiting, limit: example.limit)
                == example.action)
    }

    // MARK: - runEnded

    struct EndCase: Sendable, CustomTestStringConvertible {
        let label: String
        let before: ScheduleState
        let ended: JobState
        let limit: Int?
        let after: ScheduleState
        let pausedNow: Bool
        var testDescription: String { label }
    }

    static let next = at("2026-01-01T00:10:00Z")

    static let endCases: [EndCase] = [
        EndCase(label: "a success resets the failures", before: ScheduleState(nextFire: next, failures: 2, lastFailedJob: 7),
                ended: .succeeded, limit: 3, after: ScheduleState(nextFire: next, failures: 0, lastFailedJob: 7), pausedNow: false),
        EndCase(label: "a failure counts one", before: ScheduleState(nextFire: next), ended: .failed, limit: 3,
                after: ScheduleState(nextFire: next, failures: 1, lastFailedJob: 42), pausedNow: false),
        EndCase(label: "the Nth failure pauses", before: ScheduleState(nextFire: next, failures: 2, lastFailedJob: 41),
                ended: .failed, limit: 3,
                after: ScheduleState(paused: true, nextFire: next, failures: 3, lastFailedJob: 42), pausedNow: true),
        EndCase(label: "pause after 1: the first failure pauses", before: ScheduleState(nextFire: next), ended: .failed, limit: 1,
                after: ScheduleState(paused: true, nextFire: next, failures: 1, lastFailedJob: 42), pausedNow: true),
        EndCase(label: "a failure when paused already does not pause again",
                before: ScheduleState(paused: true, nextFire: next, failures: 3, lastFailedJob: 41), ended: .failed, limit: 3,
                after: ScheduleState(paused: true, nextFire: next, failures: 4, lastFailedJob: 42), pausedNow: false),
        EndCase(label: "without a limit failures never pause", before: ScheduleState(nextFire: next, failures: 999),
                ended: .failed, limit: nil, after: ScheduleState(nextFire: next, failures: 1000, lastFailedJob: 42), pausedNow: false),
        EndCase(label: "a cancelled run counts neither way", before: ScheduleState(nextFire: next, failures: 2, lastFailedJob: 41),
                ended: .cancelled, limit: 3, after: ScheduleState(nextFire: next, failures: 2, lastFailedJob: 41), pausedNow: false),
        EndCase(label: "a cancelled run at the limit does not pause",
                before: ScheduleState(nextFire: next, failures: 3, lastFailedJob: 41), ended: .cancelled, limit: 3,
                after: ScheduleState(nextFire: next, failures: 3, lastFailedJob: 41), pausedNow: false),
    ]

    @Test("a run's end", arguments: endCases)
    func runEnded(_ example: EndCase) {
        let (state, pausedNow) = ScheduleRules.runEnded(
            example.before, job: 42, ended: example.ended, pauseAfterFailures: example.limit)
        #expect(state == example.after)
        #expect(pausedNow == example.pausedNow)
    }

    @Test("failures in a row pause at N exactly once; a success in between starts the count again")
    func failuresInARow() {
        var state = ScheduleState(nextFire: Self.next)
        var pauses: [Int64] = []
        let ends: [(Int64, JobState)] = [
            (1, .failed), (2, .failed), (3, .succeeded), (4, .failed), (5, .cancelled), (6, .failed), (7, .failed),
            (8, .failed), (9, .failed),
        ]
        for (job, ended) in ends {
            let result = ScheduleRules.runEnded(state, job: job, ended: ended, pauseAfterFailures: 3)
            state = result.state
            if result.pausedNow { pauses.append(job) }
        }
        // 1, 2 fail; 3 resets; 4, 6, 7 are three in a row (5 cancelled in between counts not).
        #expect(pauses == [7])
        #expect(state.paused)
        #expect(state.failures == 5)
        #expect(state.lastFailedJob == 9)
    }

    // MARK: - job(of:fire:)

    @Test("a fire time's job: the schedule's job with the schedule's labels", arguments: [false, true])
    func labels(_ catchUp: Bool) {
        let job = JobSpec(
            argv: ["/usr/bin/backup", "--all"], cwd: "/srv", env: ["PATH": "/usr/bin"], labels: ["team": "ops"],
            session: "s1", timeout: 30, queue: "nightly", priority: 5)
        let spec = Self.spec(name: "backup", cron: "*/10 * * * *", job: job)
        let fire = ScheduleRules.Fire(at: Self.at("2026-01-01T00:10:00Z"), catchUp: catchUp)
        let made = ScheduleRules.job(of: spec, fire: fire)
        var expected = job
        expected.labels = ["team": "ops", "stint.schedule": "backup", "stint.fire_time": "2026-01-01T00:10:00.000Z"]
        if catchUp { expected.labels["stint.catch_up"] = "true" }
        #expect(made == expected)
        #expect(made.labels[ScheduleRules.fireTimeLabel] == RFC3339.format(fire.at))
        #expect(made.labels[ScheduleRules.catchUpLabel] == (catchUp ? "true" : nil))
    }

    @Test("the fire time label keeps milliseconds, in UTC")
    func fireTimeMilliseconds() {
        let at = Self.at("2026-01-01T00:00:01Z").addingTimeInterval(0.5)
        let made = ScheduleRules.job(
            of: Self.spec(every: 1.5, timeZone: "Asia/Kolkata"), fire: ScheduleRules.Fire(at: at, catchUp: false))
        #expect(made.labels[ScheduleRules.fireTimeLabel] == "2026-01-01T00:00:01.500Z")
        #expect(made.labels[ScheduleRules.scheduleLabel] == "nightly")
        #expect(made.labels.count == 2)
    }

    @Test("the reserved labels are the ones named")
    func labelNames() {
        #expect(ScheduleRules.scheduleLabel == "stint.schedule")
        #expect(ScheduleRules.fireTimeLabel == "stint.fire_time")
        #expect(ScheduleRules.catchUpLabel == "stint.catch_up")
        #expect(ScheduleRules.onTimeGrace == 60)
        for label in [ScheduleRules.scheduleLabel, ScheduleRules.fireTimeLabel, ScheduleRules.catchUpLabel] {
            #expect(label.hasPrefix(ScheduleRules.reservedLabelPrefix))
        }
    }
}
