import Foundation

/// Parses the durations users type: `90`, `1.5s`, `250ms`, `10m`, `2h`, `1h30m`, `7d`.
///
/// A bare number is seconds. Units: `ms`, `s`, `m`, `h`, `d`; parts may be chained
/// from the largest unit down (`1h30m`). Results are seconds.
public enum DurationParser {
    private static let units: [(suffix: String, seconds: Double)] = [
        ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400),
    ]

    /// The two durations of `MIN..MAX` (`1s..5m`), in seconds, unchecked against each other;
    /// `nil` when either is not a valid duration.
    public static func range(_ text: String) -> (low: Double, high: Double)? {
        let parts = text.components(separatedBy: "..")
        guard parts.count == 2, let low = seconds(parts[0]), let high = seconds(parts[1]) else { return nil }
        return (low, high)
    }

    /// The number of seconds `text` denotes, or `nil` when it is not a valid duration.
    public static func seconds(_ text: String) -> Double? {
        let trimmed = String(text.lowercased().filter { !$0.isWhitespace })
        guard !trimmed.isEmpty else { return nil }
        if trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
            guard let plain = Double(trimmed), plain.isFinite else { return nil }
            return plain
        }
        var total = 0.0
        var rest = Substring(trimmed)
        var lastUnitSize = Double.infinity
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !digits.isEmpty, let value = Double(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.suffix) }),
                unit.seconds < lastUnitSize
            else { return nil }
            rest = rest.dropFirst(unit.suffix.count)
            total += value * unit.seconds
            lastUnitSize = unit.seconds
        }
        return total.isFinite ? total : nil
    }
}
