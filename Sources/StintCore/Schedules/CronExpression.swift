public import Foundation

/// A five-field cron expression (minute hour day-of-month month day-of-week) with Vixie
/// cron's semantics, and the fire times it gives in a time zone.
///
/// Fields take `*`, numbers, lists (`1,15`), ranges (`1-5`), steps (`*/15`, `0-30/10`,
/// `5/15` = `5-59/15`), and month and day names (`jan`–`dec`, `sun`–`sat`, any case, in
/// ranges too); day-of-week 0 and 7 are Sunday. When both day fields are restricted (neither
/// starts with `*`), a day matches if either does; otherwise both must. `@yearly`
/// (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`) and `@hourly` stand for
/// their usual five fields.
///
/// Fire times are wall-clock times in the zone. One that a spring-forward transition skips
/// fires once, at the first instant after the gap; one that a fall-back transition repeats
/// fires once, at its first occurrence.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// The expression as given (trimmed).
    public let text: String
    let minutes: [Int]
    let hours: [Int]
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    public var description: String { text }

    static let macros = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// Parses `text`; `E_USAGE` naming the field that is wrong, and why.
    public static func parse(_ text: String) throws(StintError) -> CronExpression {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var source = trimmed
        if source.hasPrefix("@") {
            guard let expanded = macros[source.lowercased()] else {
                throw StintError(
                    .usage, "unknown cron macro \(source)",
                    hint: "use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly, or five fields")
            }
            source = expanded
        }
        let fields = source.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw StintError(
                .usage, "a cron expression has five fields (minute hour day-of-month month day-of-week), not \(fields.count): '\(trimmed)'")
        }
        let minutes = try field(fields[0], "minute", 0...59, names: [])
        let hours = try field(fields[1], "hour", 0...23, names: [])
        let days = try field(fields[2], "day-of-month", 1...31, names: [])
        let months = try field(fields[3], "month", 1...12, names: monthNames, nameBase: 1)
        var weekdays = try field(fields[4], "day-of-week", 0...7, names: dayNames)
        if weekdays.contains(7) {
            weekdays.remove(7)
            weekdays.insert(0)
        }
        return CronExpression(
            text: trimmed, minutes: minutes.sorted(), hours: hours.sorted(), days: days, months: months,
            weekdays: weekdays, daysRestricted: !fields[2].hasPrefix("*"), weekdaysRestricted: !fields[4].hasPrefix("*"))
    }

    /// The values one field allows.
    private static func field(
        _ text: String, _ name: String, _ bounds: ClosedRange<Int>, names: [String], nameBase: Int = 0
    ) throws(StintError) -> Set<Int> {
        func bad(_ why: String) -> StintError {
            StintError(.usage, "invalid cron \(name) field '\(text)': \(why)")
        }
        func value(_ part: Substring) throws(StintError) -> Int {
            if let number = Int(part) {
                guard bounds.contains(number) else { throw bad("\(number) is outside \(bounds.lowerBound)-\(bounds.upperBound)") }
                return number
            }
            if let index = names.firstIndex(of: part.lowercased()) { return index + nameBase }
            throw bad("'\(part)' is not a number\(names.isEmpty ? "" : " or a name")")
        }
        var values: Set<Int> = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw bad("an empty list item") }
            let stepParts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard stepParts.count <= 2 else { throw bad("more than one '/'") }
            var step = 1
            if stepParts.count == 2 {
                guard let parsed = Int(stepParts[1]), parsed >= 1, parsed <= bounds.upperBound else {
                    throw bad("the step '\(stepParts[1])' must be a number from 1 to \(bounds.upperBound)")
                }
                step = parsed
            }
            let range = stepParts[0]
            var low: Int
            var high: Int
            if range == "*" {
                (low, high) = (bounds.lowerBound, bounds.upperBound)
            } else if let dash = range.firstIndex(of: "-") {
                low = try value(range[..<dash])
                high = try value(range[range.index(after: dash)...])
                guard low <= high else { throw bad("the range \(range) runs backwards") }
            } else {
                low = try value(range)
                // `5/15`: from 5 to the end, every 15.
                high = stepParts.count == 2 ? bounds.upperBound : low
            }
            for number in stride(from: low, through: high, by: step) { values.insert(number) }
        }
        return values
    }

    /// Whether the calendar day `year-month-day` (whose weekday is `weekday`, 0 = Sunday) matches.
    func matches(month: Int, day: Int, weekday: Int) -> Bool {
        guard months.contains(month) else { return false }
        let dayMatches = days.contains(day)
        let weekdayMatches = weekdays.contains(weekday)
        if daysRestricted && weekdaysRestricted { return dayMatches || weekdayMatches }
        return dayMatches && weekdayMatches
    }

    /// The first fire time strictly after `instant` in `zone`, or `nil` when there is none
    /// within 28 years (Feb 30, say).
    ///
    /// Days are walked with integer calendar arithmetic, and a month the expression does not
    /// name is skipped whole: `@yearly` looks at about forty days, not 365.
    public func next(after instant: Date, in zone: TimeZone) -> Date? {
        // The wall-clock day of `instant` in the zone, as days since 1970-01-01.
        let wall = instant.timeIntervalSince1970 + Double(zone.secondsFromGMT(for: instant))
        // The day before too: a wall time of yesterday may resolve after `instant` near a transition.
        var day = Int((wall / 86_400).rounded(.down)) - 1
        let last = day + 366 * 28
        // A wall time more than this before the instant's resolves before it whatever the
        // zone's transitions (they shift by at most a few hours): skipped without resolving.
        let earliest = wall - 6 * 3600
        // Most instants are days from a transition: then a wall time within those days is
        // the instant its offset says, with no need to resolve it.
        let offset = zone.secondsFromGMT(for: instant)
        let steady =
            zone.secondsFromGMT(for: instant.addingTimeInterval(-2 * 86_400)) == offset
            && zone.secondsFromGMT(for: instant.addingTimeInterval(2 * 86_400)) == offset
        let steadyUntil = steady ? wall + 86_400 : -Double.infinity
        while day <= last {
            let (_, month, dayOfMonth) = Self.civil(day)
            guard months.contains(month) else {
                day += Self.daysInMonth(day) - dayOfMonth + 1
                continue
            }
            // 1970-01-01 was a Thursday (4).
            let weekday = ((day % 7) + 11) % 7
            if matches(month: month, day: dayOfMonth, weekday: weekday) {
                for hour in hours where Double(day) * 86_400 + Double(hour * 3600 + 3599) >= earliest {
                    for minute in minutes {
                        let wallTime = Double(day) * 86_400 + Double(hour * 3600 + minute * 60)
                        if wallTime < steadyUntil {
                            if wallTime > wall { return Date(timeIntervalSince1970: wallTime - Double(offset)) }
                            continue
                        }
                        guard wallTime >= earliest else { continue }
                        let fire = Self.resolve(wallTime, in: zone)
                        if fire > instant { return fire }
                    }
                }
            }
            day += 1
        }
        return nil
    }

    /// The proleptic Gregorian date of `days` since 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`).
    static func civil(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shifted + 2) / 5 + 1
        let month = shifted < 10 ? shifted + 3 : shifted - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// The number of days in the month of `days` since 1970-01-01.
    static func daysInMonth(_ days: Int) -> Int {
        let (year, month, _) = civil(days)
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// The instant of wall-clock time `wall` (seconds as if the zone were UTC) in `zone`: its
    /// first occurrence when a fall-back repeats it, the end of the gap when a spring-forward
    /// skips it.
    static func resolve(_ wall: Double, in zone: TimeZone) -> Date {
        let offsets = Set([-172_800.0, -86_400, 0, 86_400, 172_800].map { shift in
            Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: wall + shift)))
        })
        let valid = offsets.map { wall - $0 }.filter { Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: $0))) == wall - $0 }
        if let first = valid.min() { return Date(timeIntervalSince1970: first) }
        // Skipped: the transition that ends the gap is the first instant after this wall time.
        let before = offsets.min() ?? 0
        let guess = Date(timeIntervalSince1970: wall - before - 4 * 3600)
        return zone.nextDaylightSavingTimeTransition(after: guess) ?? Date(timeIntervalSince1970: wall - before)
    }
}
