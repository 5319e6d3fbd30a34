public import Foundation

/// The values users type — into flags, `add --from` lines and MCP arguments — parsed,
/// with the usage error naming the field that held them.
public enum UserValue {
    /// Seconds of a duration such as `90`, `1.5s`, `10m`, `1h30m`.
    public static func duration(_ text: String, flag: String) throws(StintError) -> Double {
        try notNegative(text, flag: flag)
        guard let seconds = DurationParser.seconds(text) else {
            throw StintError(.usage, "invalid duration for \(flag): '\(text)'", hint: "use e.g. 30, 1.5s, 250ms, 10m, 2h, 1h30m")
        }
        return seconds
    }

    /// Refuses a value written with a leading minus, saying so (rather than "invalid").
    public static func notNegative(_ text: String, flag: String) throws(StintError) {
        if text.trimmingCharacters(in: .whitespaces).hasPrefix("-") {
            throw StintError(.usage, "\(flag) must not be negative: \(text)")
        }
    }

    /// Bytes of a size such as `1048576`, `512K`, `64MiB`.
    public static func size(_ text: String, flag: String) throws(StintError) -> Int64 {
        try notNegative(text, flag: flag)
        guard let bytes = ByteSizeParser.bytes(text) else {
            throw StintError(.usage, "invalid size for \(flag): '\(text)'", hint: "use e.g. 1048576, 512K, 1MiB, 64M, 2G")
        }
        return bytes
    }

    /// `MIN..MAX` durations, such as `1s..5m`.
    public static func backoff(_ text: String, flag: String) throws(StintError) -> (Double, Double) {
        try notNegative(text, flag: flag)
        guard let range = DurationParser.range(text) else {
            throw StintError(.usage, "invalid value for \(flag): '\(text)'", hint: "use MIN..MAX, for example 1s..5m")
        }
        return range
    }

    /// A moment such as `18:30`, `2026-11-21 18:30` (local time) or RFC 3339.
    public static func moment(_ text: String, flag: String, now: Date) throws(StintError) -> Date {
        guard let date = TimeParser.date(text, now: now) else {
            throw StintError(
                .usage, "invalid time for \(flag): '\(text)'",
                hint: "use 18:30, 2026-11-21 18:30 (local time) or 2026-11-21T17:30:00Z")
        }
        return date
    }
}
