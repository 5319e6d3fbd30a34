import Foundation
import StintCore
import Testing

@Suite("TimeParser (--at)")
struct TimeParserTests {
    static let utc = TimeZone(identifier: "UTC")!
    /// 2026-11-21 18:00:00 UTC.
    static let now = Date(timeIntervalSince1970: 1_795_284_000)

    static func date(_ text: String) -> Date? {
        TimeParser.date(text, now: now, timeZone: utc)
    }

    @Test("RFC 3339 with a zone is taken as is")
    func rfc3339() {
        #expect(Self.date("2026-11-21T20:00:00Z") == Self.now.addingTimeInterval(7200))
        #expect(Self.date("2026-11-21T21:00:00+01:00") == Self.now.addingTimeInterval(7200))
    }

    @Test("a local date and time, with T or a space, seconds optional")
    func localDateTime() {
        #expect(Self.date("2026-11-21 18:30") == Self.now.addingTimeInterval(1800))
        #expect(Self.date("2026-11-21T18:30:15") == Self.now.addingTimeInterval(1815))
    }

    @Test("a time of day is its next occurrence: later today, or tomorrow")
    func timeOfDay() {
        #expect(Self.date("18:30") == Self.now.addingTimeInterval(1800))
        #expect(Self.date("17:00") == Self.now.addingTimeInterval(23 * 3600))
        #expect(Self.date("18:00") == Self.now.addingTimeInterval(86400))
        #expect(Self.date("6:05:30") == Self.now.addingTimeInterval(12 * 3600 + 5 * 60 + 30))
    }

    @Test("nonsense is refused", arguments: ["", "tomorrow", "25:00", "18:60", "2026-13-01 10:00", "2026-02-30 10:00", "18", "1:2:3:4", "2026-11-21"])
    func invalid(_ text: String) {
        #expect(Self.date(text) == nil)
    }
}
