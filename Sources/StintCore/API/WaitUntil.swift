import Foundation

/// What a `wait` waits for (`--until`).
public enum WaitUntil: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The job ends (the default).
    case end
    /// The job ends, or its running attempt is flagged stalled at a prompt.
    case stall
    /// The job ends, or its output has been quiet for this many seconds.
    case idle(Double)
    /// The job ends, or a line of its output matches this regular expression.
    case output(String)

    /// Parses `end`, `stall`, `idle:DUR` or `output:REGEX`.
    public init(parsing text: String) throws(StintError) {
        let hint = "one of end, stall, idle:DUR (idle:30s), output:REGEX (output:'listening on')"
        if text == "end" {
            self = .end
        } else if text == "stall" {
            self = .stall
        } else if text.hasPrefix("idle:") {
            guard let seconds = DurationParser.seconds(String(text.dropFirst(5))), seconds > 0 else { throw StintError(.usage, "--until idle: needs a duration above 0", hint: hint) }
            self = .idle(seconds)
        } else if text.hasPrefix("output:") {
            let pattern = String(text.dropFirst(7))
            guard !pattern.isEmpty else { throw StintError(.usage, "--until output: needs a regular expression", hint: hint) }
            // The daemon compiles it (PCRE2, with a step budget) and refuses a bad one.
            self = .output(pattern)
        } else {
            throw StintError(.usage, "unknown --until condition: \(text)", hint: hint)
        }
    }

    /// The text form, which ``init(parsing:)`` reads back.
    public var description: String {
        switch self {
        case .end: "end"
        case .stall: "stall"
        case .idle(let seconds): "idle:\(seconds.formatted(.number.grouping(.never)))s"
        case .output(let pattern): "output:\(pattern)"
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            self = try WaitUntil(parsing: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Why a `wait` returned.
public enum WaitReason: String, Sendable, Codable, CaseIterable {
    /// The job succeeded.
    case succeeded
    /// The job failed (lost included).
    case failed
    /// The job was cancelled.
    case cancelled
    /// The job's own `--timeout` ended it.
    case timeout
    /// The job is waiting at a prompt (`--until stall`).
    case stalled
    /// The output has been quiet for the asked time (`--until idle:DUR`).
    case idle
    /// A line of output matched (`--until output:REGEX`).
    case matched
    /// The wait's own `--timeout` ran out first.
    case waitTimeout = "wait_timeout"

    /// The reason for a job that ended in `state` with its last attempt's `reason`.
    public static func ended(state: JobState, reason: AttemptReason?) -> WaitReason {
        switch state {
        case .succeeded: return .succeeded
        case .cancelled: return .cancelled
        default: return reason == .timeout ? .timeout : (reason == .cancelled ? .cancelled : .failed)
        }
    }

    /// Whether the job has ended for this reason (rather than met a condition while running).
    public var isEnd: Bool { [.succeeded, .failed, .cancelled, .timeout].contains(self) }
}
