public import Foundation

/// Parses the moments `--at` accepts: RFC 3339 (`2026-11-21T18:30:00Z`), a local date
/// and time (`2026-11-21 18:30`, seconds optional, `T` or a space between), or a local
/// time of day (`18:30`, `6:05:30`), which means its next occurrence.
public enum TimeParser {
    /// The moment `text` denotes, or `nil` when it is not one of the accepted forms.
    public static func date(_ text: String, now: Date, timeZone: TimeZone = .current) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let exact = RFC3339.parse(trimmed) { return exact }
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds]] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let zoned = formatter.date(from: trimmed) { return zoned }
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = trimmed.split(whereSeparator: { $0 == " " || $0 == "T" })
        switch parts.count {
        case 1:
            guard let (hour, minute, second) = clock(parts[0]) else { return nil }
            var components = calendar.dateComponents([.year, .month, .day], from: now)
            components.hour = hour
            components.minute = minute
            components.second = second
            guard let today = calendar.date(from: components) else { return nil }
            return today > now ? today : calendar.date(byAdding: .day, value: 1, to: today)
        case 2:
            let day = parts[0].split(separator: "-")
            guard day.count == 3, let year = Int(day[0]), let month = Int(day[1]), let dayOfMonth = Int(day[2]),
                day[0].count == 4, (1...12).contains(month), (1...31).contains(dayOfMonth),
                let (hour, minute, second) = clock(parts[1])
            else { return nil }
            let components = DateComponents(
                year: year, month: month, day: dayOfMonth, hour: hour, minute: minute, second: second)
            guard let date = calendar.date(from: components),
                calendar.component(.day, from: date) == dayOfMonth
            else { return nil }
            return date
        default:
            return nil
        }
    }

    private static func clock(_ text: Substring) -> (Int, Int, Int)? {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(fields.count), fields.allSatisfy({ !$0.isEmpty && $0.count <= 2 && $0.allSatisfy(\.isNumber) }),
            let hour = Int(fields[0]), let minute = Int(fields[1])
        else { return nil }
        let second = fields.count == 3 ? Int(fields[2]) ?? 99 : 0
        guard (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second) else { return nil }
        return (hour, minute, second)
    }
}
