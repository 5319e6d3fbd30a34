import Foundation
import StintCore
import StintPattern
import Testing

@Suite("BoundedPattern")
struct BoundedPatternTests {
    @Test("matches anywhere in the text, case-sensitive unless the pattern says otherwise")
    func matches() throws {
        let pattern = try BoundedPattern(#"connection (refused|reset)|\b503\b"#, option: "--transient-pattern")
        #expect(pattern.firstMatch(in: "fetching…\ncurl: (7) connection refused\n") == .matched)
        #expect(pattern.firstMatch(in: "HTTP 503 Service Unavailable") == .matched)
        #expect(pattern.firstMatch(in: "syntax error near line 3") == .notMatched)
        #expect(pattern.firstMatch(in: "") == .notMatched)
        #expect(pattern.firstMatch(in: "Connection Refused") == .notMatched)
        #expect(try BoundedPattern("(?i)connection refused", option: "x").firstMatch(in: "Connection Refused") == .matched)
    }

    @Test("$ anchors at the end of the text (or before its last newline), as in Perl")
    func anchors() throws {
        let pattern = try BoundedPattern("done$", option: "x")
        #expect(pattern.firstMatch(in: "all done") == .matched)
        #expect(pattern.firstMatch(in: "all done\n") == .matched)
        #expect(pattern.firstMatch(in: "done\nthen more") == .notMatched)
    }

    @Test("an invalid pattern is a usage error naming the option and the reason")
    func invalid() {
        #expect {
            try BoundedPattern("(unclosed", option: "--transient-pattern")
        } throws: { error in
            let error = error as? StintError
            return error?.code == .usage && error?.message.contains("--transient-pattern is not a valid regular expression") == true
        }
        #expect(throws: StintError.self) { try BoundedPattern("", option: "x") }
        #expect(throws: StintError.self) { try BoundedPattern(String(repeating: "a", count: Limits.maxPatternBytes + 1), option: "x") }
    }

    @Test("a catastrophically backtracking pattern stops at its budget within a second")
    func budget() throws {
        let pattern = try BoundedPattern("(.*a){12}$", option: "--transient-pattern")
        let started = ContinuousClock.now
        #expect(pattern.firstMatch(in: String(repeating: "a", count: 60) + "b") == .overBudget)
        // The budget is steps, not time; this bound is only far above what it takes (ms).
        #expect(ContinuousClock.now - started < .seconds(5))
        // The same pattern on input it handles quickly still answers.
        #expect(pattern.firstMatch(in: String(repeating: "a", count: 12)) == .matched)
    }

    @Test("invalid UTF-8 in the output is matched as bytes, not an error")
    func invalidUTF8() throws {
        let pattern = try BoundedPattern("ready", option: "x")
        let bytes: [UInt8] = [0xFF, 0xFE, 0x20] + Array("ready".utf8)
        #expect(bytes.withUnsafeBytes { pattern.firstMatch(in: $0) } == .matched)
    }
}
