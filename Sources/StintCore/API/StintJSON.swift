public import Foundation

/// The one JSON dialect of Stint: snake_case keys, RFC 3339 UTC times with
/// milliseconds, durations as seconds.
public enum StintJSON {
    /// An encoder for API bodies and `-o json` output.
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.format(date))
        }
        return encoder
    }

    /// A decoder matching ``encoder(pretty:)``.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = RFC3339.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "not an RFC 3339 time: \(text)")
            }
            return date
        }
        return decoder
    }
}

/// RFC 3339 UTC timestamps with milliseconds: `2026-11-21T15:59:44.123Z`.
public enum RFC3339 {
    /// The span RFC 3339 can write (years 0001 to 9999), in seconds since 1970.
    static let representable: ClosedRange<Double> = -62_135_596_800...253_402_300_799.999

    /// `date` as RFC 3339 UTC with milliseconds. A time outside the years 0001–9999
    /// (which no bound lets a client store, but an older row may hold) is written as the
    /// nearest one RFC 3339 can express, never a crash.
    public static func format(_ date: Date) -> String {
        let since1970 = date.timeIntervalSince1970
        let clamped = since1970.isNaN ? 0 : min(max(since1970, representable.lowerBound), representable.upperBound)
        // Truncated to the millisecond, with a microsecond of slack because a Date rarely
        // holds a millisecond exactly; floor division keeps times before 1970 right.
        let millis = Int64((clamped * 1000 + 0.001).rounded(.down))
        let (quotient, remainder) = millis.quotientAndRemainder(dividingBy: 1000)
        var seconds = time_t(remainder < 0 ? quotient - 1 : quotient)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let ms = Int(remainder < 0 ? remainder + 1000 : remainder)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900,
            Int(parts.tm_mon) + 1, Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min),
            Int(parts.tm_sec), ms)
    }

    /// Parses what ``format(_:)`` writes, and the same without fractional seconds.
    public static func parse(_ text: String) -> Date? {
        let scanner = text.utf8.map { $0 }
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= scanner.count else { return nil }
            var value = 0
            for byte in scanner[range] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        let separators: [(Int, UInt8)] = [(4, 45), (7, 45), (10, 84), (13, 58), (16, 58)]  // - - T : :
        guard scanner.count >= 20, separators.allSatisfy({ scanner[$0.0] == $0.1 || ($0.0 == 10 && scanner[$0.0] == 116) }),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var fraction = 0.0
        var index = 19
        if index < scanner.count, scanner[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            while index < scanner.count, scanner[index] >= 48, scanner[index] <= 57 {
                fraction += Double(scanner[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        guard index == scanner.count - 1, scanner[index] == UInt8(ascii: "Z") else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let epoch = timegm(&parts)
        return Date(timeIntervalSince1970: Double(epoch) + fraction)
    }
}
