import Foundation
import StintCore
import StintEngine
import Testing

/// The README states delivery attempts and delays; these tests hold it to the code, so a
/// doc that promises "3 retries" where the code makes 2 fails here.
@Suite("Delivery documentation")
struct DeliveryDocsTests {
    static let heading = "### Delivery of hooks"

    /// The README section from ``heading`` to the next heading.
    static func section() throws -> String {
        let readme = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let start = try #require(text.range(of: "\n\(heading)\n"), "README.md has no \(heading)")
        let rest = text[start.upperBound...]
        let end = rest.range(of: "\n#")?.lowerBound ?? rest.endIndex
        return String(rest[..<end])
    }

    /// The rows of the first table of `text`, header and separator left out, as cells.
    static func tableRows(_ text: String) -> [[String]] {
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = lines.firstIndex(where: { $0.hasPrefix("|") }) else { return [] }
        return lines[first...].prefix { $0.hasPrefix("|") }.dropFirst(2).map { line in
            line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    /// `"30 s"` → 30.
    static func seconds(_ cell: String) throws -> Double {
        try #require(cell.hasSuffix(" s") ? Double(cell.dropLast(2)) : nil, "not a number of seconds: \(cell)")
    }

    @Test("the table of attempts and delays is the default policy's schedule")
    func tableMatchesPolicy() throws {
        let policy = DeliveryPolicy()
        let rows = Self.tableRows(try Self.section())
        #expect(rows.count == DeliveryPolicy.defaultAttempts, "the table lists \(rows.count) attempts")
        for (index, row) in rows.enumerated() {
            try #require(row.count == 3, "a row has attempt, delay and time since the first: \(row)")
            #expect(Int(row[0]) == index + 1)
            #expect(try Self.seconds(row[1]) == (index == 0 ? 0 : policy.delay(after: index)), "delay of attempt \(index + 1)")
            #expect(try Self.seconds(row[2]) == policy.schedule[index], "time of attempt \(index + 1)")
        }
    }

    @Test("the text around the table states the code's numbers")
    func textMatchesPolicy() throws {
        let text = try Self.section().split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let attempts = DeliveryPolicy.defaultAttempts
        let expected = [
            "`--delivery-attempts \(attempts)",
            "After attempt \(attempts) it is `exhausted`",
            "capped at \(Int(DeliveryPolicy.defaultMaxDelay)) s",
            "never more than \(Int(DeliveryPolicy.defaultRetryAfterCap)) s later",
            "(default `10s`)",
        ]
        for phrase in expected {
            #expect(text.contains(phrase), "README's \(Self.heading) should say: \(phrase)")
        }
        let backoff = try #require(text.firstMatch(of: /--delivery-backoff (\S+?)`/)?.output.1)
        let range = try #require(DeliveryPolicy.backoffRange(String(backoff)))
        #expect(range.first == DeliveryPolicy.defaultFirstDelay)
        #expect(range.max == DeliveryPolicy.defaultMaxDelay)
        #expect(DurationParser.seconds("10s") == DeliveryPolicy.defaultShutdownBudget)
    }

    @Test("the hooks paragraph states the timeouts and transient statuses of the code")
    func hooksParagraphMatchesPolicy() throws {
        let readme = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let statuses = DeliveryPolicy.transientHTTPStatuses.sorted().map(String.init).joined(separator: ", ")
        for phrase in [
            "must answer within \(Int(DeliveryPolicy.defaultWebhookTimeout)) s",
            "runs longer than \(Int(DeliveryPolicy.defaultCommandTimeout)) s",
            "webhook answers \(statuses) | transient",
            "exits \(DeliveryPolicy.temporaryFailureExitCode) (`EX_TEMPFAIL`)",
        ] {
            #expect(text.contains(phrase), "README should say: \(phrase)")
        }
    }
}
