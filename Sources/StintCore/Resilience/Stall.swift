public import Foundation

/// Recognises the last line of output of a job waiting for an answer nobody will give.
public enum PromptDetector {
    /// The default quiet time before a job at a prompt is flagged stalled: 45 s.
    public static let defaultStallAfter: Double = 45

    /// The prompts recognised, as regular expressions (case-insensitive).
    public static let patterns: [String] = [
        #"(?i)\b(password|passphrase|passcode|pin)\b[^\n]*:\s*$"#,
        #"(?i)password for [^\n]*:\s*$"#,
        #"(?i)\[\s*y(es)?\s*/\s*n(o)?\s*\]"#,
        #"(?i)\(\s*y(es)?\s*/\s*n(o)?\s*\)"#,
        #"(?i)\bcontinue\s*\?"#,
        #"(?i)\bpress\b.*\bto continue\b"#,
        #"(?i)\bare you sure\b"#,
        #"(?i)\boverwrite\b[^\n]*\?\s*$"#,
    ]

    /// Whether `line` looks like an interactive prompt.
    public static func looksLikePrompt(_ line: String) -> Bool {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 400 else { return false }
        return patterns.contains { pattern in
            (try? Regex(pattern)).map { trimmed.contains($0) } ?? false
        }
    }

    /// The last non-empty line of `text`.
    public static func lastLine(of text: String) -> String? {
        text.split(whereSeparator: \.isNewline).last { !$0.allSatisfy(\.isWhitespace) }.map(String.init)
    }
}

/// Follows one running attempt's output size and decides when it is stalled: no
/// growth for `stallAfter` seconds while the last line looks like a prompt. It flags
/// an attempt once.
public struct StallTracker: Sendable, Hashable {
    /// Seconds of silence before a job at a prompt counts as stalled.
    public var stallAfter: Double
    /// The output size last seen.
    public private(set) var size: Int64 = -1
    /// When the output last grew (or was first seen).
    public private(set) var grewAt: Date
    /// Whether the attempt was already flagged.
    public private(set) var flagged = false

    /// Starts tracking at `now`.
    public init(stallAfter: Double, now: Date) {
        self.stallAfter = stallAfter
        self.grewAt = now
    }

    /// Records the output's `size` at `now`; returns whether the last line must now be
    /// checked (the output has been quiet for `stallAfter` and the attempt is not flagged).
    public mutating func observe(size: Int64, now: Date) -> Bool {
        if size != self.size {
            self.size = size
            grewAt = now
            return false
        }
        return !flagged && stallAfter > 0 && now.timeIntervalSince(grewAt) >= stallAfter
    }

    /// Whether the attempt is stalled, given its last output line; flags it when it is.
    public mutating func check(lastLine: String?) -> Bool {
        guard !flagged, let lastLine, PromptDetector.looksLikePrompt(lastLine) else { return false }
        flagged = true
        return true
    }

    /// When the output will have been quiet for `stallAfter`, if nothing is written.
    public var dueAt: Date { grewAt.addingTimeInterval(stallAfter) }
}

/// How long ended jobs are kept.
public enum Retention {
    /// The default: 7 days.
    public static let defaultSeconds: Double = 7 * 86_400

    /// Jobs that ended before this moment are pruned; `nil` when retention is off (0).
    public static func cutoff(now: Date, retention: Double) -> Date? {
        guard retention > 0 else { return nil }
        return now.addingTimeInterval(-retention)
    }
}
