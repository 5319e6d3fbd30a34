import Foundation
import StintCore
import Testing

/// Cron expressions and their fire times, checked against times worked out by hand (and with
/// croniter's semantics: Vixie's day rule, names, steps).
@Suite("CronExpression")
struct CronExpressionTests {
    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    struct Case: Sendable, CustomTestStringConvertible {
        let expression: String
        let zone: String
        let after: String
        let next: [String]
        var testDescription: String { "\(expression) in \(zone) after \(after)" }
    }

    static let cases: [Case] = [
        Case(expression: "*/15 * * * *", zone: "UTC", after: "2026-01-01T00:07:00Z",
             next: ["2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z"]),
        Case(expression: "0 9 * * mon-fri", zone: "UTC", after: "2026-01-03T10:00:00Z",
             next: ["2026-01-05T09:00:00Z", "2026-01-06T09:00:00Z"]),
        // Both day fields restricted: either matches (Friday the 6th comes before the 13th).
        Case(expression: "0 0 13 * fri", zone: "UTC", after: "2026-02-01T00:00:00Z",
             next: ["2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z"]),
        Case(expression: "0 0 13 * *", zone: "UTC", after: "2026-02-01T00:00:00Z", next: ["2026-02-13T00:00:00Z"]),
        Case(expression: "0 0 * * 7", zone: "UTC", after: "2026-02-01T00:00:00Z", next: ["2026-02-08T00:00:00Z"]),
        Case(expression: "0 0 29 2 *", zone: "UTC", after: "2026-03-01T00:00:00Z", next: ["2028-02-29T00:00:00Z"]),
        Case(expression: "30 6 1 JAN,jul *", zone: "UTC", after: "2026-01-02T00:00:00Z", next: ["2026-07-01T06:30:00Z"]),
        Case(expression: "5/20 1-3/2 * * *", zone: "UTC", after: "2026-01-01T00:00:00Z",
             next: ["2026-01-01T01:05:00Z", "2026-01-01T01:25:00Z", "2026-01-01T01:45:00Z", "2026-01-01T03:05:00Z"]),
        Case(expression: "@hourly", zone: "UTC", after: "2026-01-01T00:00:30Z", next: ["2026-01-01T01:00:00Z"]),
        Case(expression: "@weekly", zone: "UTC", after: "2026-01-01T00:00:00Z", next: ["2026-01-04T00:00:00Z"]),
        Case(expression: "@yearly", zone: "UTC", after: "2026-01-01T00:00:00Z", next: ["2027-01-01T00:00:00Z"]),
        // Europe/Berlin springs forward at 02:00 CET on 2026-03-29: 02:30 does not exist and
        // fires once at 03:00 CEST (01:00Z); the next day at 02:30 CEST.
        Case(expression: "30 2 * * *", zone: "Europe/Berlin", after: "2026-03-28T12:00:00Z",
             next: ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"]),
        // Every 15 minutes across the gap: 02:00–02:45 all map to 03:00, which fires once.
        Case(expression: "*/15 * * * *", zone: "Europe/Berlin", after: "2026-03-29T00:50:00Z",
             next: ["2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z"]),
        // It falls back at 03:00 CEST on 2026-10-25: 02:30 happens twice and fires at the first.
        Case(expression: "30 2 * * *", zone: "Europe/Berlin", after: "2026-10-24T12:00:00Z",
             next: ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"]),
        // America/New_York springs forward at 02:00 EST on 2026-03-08.
        Case(expression: "0 2 * * *", zone: "America/New_York", after: "2026-03-07T12:00:00Z",
             next: ["2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z"]),
        // And falls back at 02:00 EDT on 2026-11-01: 01:00 and 01:30 EST (the repeats) do not fire.
        Case(expression: "*/30 * * * *", zone: "America/New_York", after: "2026-11-01T05:30:00Z",
             next: ["2026-11-01T07:00:00Z", "2026-11-01T07:30:00Z"]),
        // Australia/Lord_Howe moves 30 minutes: 02:00 → 02:30 on 2026-10-04; 02:15 fires at 02:30 (+11).
        Case(expression: "15 2 * * *", zone: "Australia/Lord_Howe", after: "2026-10-03T12:00:00Z",
             next: ["2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"]),
        // A zone with a 30-minute offset.
        Case(expression: "0 9 * * *", zone: "Asia/Kolkata", after: "2026-01-01T00:00:00Z",
             next: ["2026-01-01T03:30:00Z", "2026-01-02T03:30:00Z"]),
    ]

    @Test("the next fire times", arguments: cases)
    func nextFireTimes(_ example: Case) throws {
        let expression = try CronExpression.parse(example.expression)
        let zone = try #require(TimeZone(identifier: example.zone))
        var after = Self.at(example.after)
        for expected in example.next {
            let fire = try #require(expression.next(after: after, in: zone), "no fire after \(after)")
            #expect(fire == Self.at(expected), "after \(after): \(fire), expected \(expected)")
            after = fire
        }
    }

    @Test("a day that never comes (February 30) has no fire time")
    func never() throws {
        #expect(try CronExpression.parse("0 0 30 2 *").next(after: Self.at("2026-01-01T00:00:00Z"), in: .gmt) == nil)
    }

    @Test("a bad expression is a usage error naming the field", arguments: [
        ("61 * * * *", "minute"), ("* 24 * * *", "hour"), ("* * 0 * *", "day-of-month"), ("* * * 13 *", "month"),
        ("* * * * 8", "day-of-week"), ("*/0 * * * *", "step"), ("5-1 * * * *", "backwards"), ("* * * foo *", "month"),
        ("* * * *", "five fields"), ("* * * * * *", "five fields"), ("@every", "macro"), ("1,,2 * * * *", "empty"),
        ("1/2/3 * * * *", "'/'"),
    ])
    func refused(_ example: (String, String)) {
        do {
            _ = try CronExpression.parse(example.0)
            Issue.record("\(example.0) was accepted")
        } catch {
            #expect(error.code == .usage)
            #expect(error.message.contains(example.1), "\(error.message)")
        }
    }
}
