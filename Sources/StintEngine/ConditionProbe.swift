import Foundation
import StintCore
import StintPattern
import StintRunner
import StintStore

/// What one job of a `wait --until stall|idle:DUR|output:REGEX` has shown so far.
///
/// The daemon looks at the job's state and its log every ``WaitCoordinator/conditionTick``
/// seconds on the caller's behalf: the client makes one request and is answered when
/// the condition holds, the job ends, or the wait's timeout runs out.
struct ConditionProbe {
    let id: Int64
    let until: WaitUntil
    let pattern: BoundedPattern?
    /// The attempt being watched; a retry starts over.
    private var attempt = 0
    private var follower: LogFollower?
    private var partial = Data()
    private var length: Int64 = -1
    private var changedAt: Date?
    /// The line that matched `output:REGEX`.
    private(set) var match: String?

    /// The most output one look reads, so that a long backlog cannot hold a wait past
    /// its timeout: 4 MiB.
    static let maxBytesPerLook = 4 << 20

    /// Throws `E_USAGE` when `until` is `output:` with a pattern PCRE2 does not take.
    init(id: Int64, until: WaitUntil) throws(StintError) {
        self.id = id
        self.until = until
        if case .output(let text) = until {
            pattern = try BoundedPattern(text, option: "--until output:")
        } else {
            pattern = nil
        }
    }

    /// The reason the condition (or the job's end) gives now, or `nil` to keep waiting.
    /// Throws `E_USAGE` when the pattern ran out of its step budget on a line.
    mutating func check(_ job: StoredJob, processes: any ProcessSupervisor, now: Date) throws(StintError) -> WaitReason? {
        let last = job.attempts.last
        if let last, last.number != attempt {
            attempt = last.number
            let reader = processes.log(
                AttemptID(job: id, attempt: attempt), cap: job.spec.outputCap ?? JobSpec.defaultOutputCap)
            follower = LogFollower(reader: reader)
            partial = Data()
            length = -1
            changedAt = nil
        }
        switch until {
        case .output:
            // Output already written counts, also when the job has ended since.
            if try scanOutput() { return .matched }
        case .stall:
            if job.state == .running, last?.stalledAt != nil { return .stalled }
        case .idle(let quiet):
            if job.state == .running, let reader = follower?.reader {
                let size = reader.streamLength()
                if size != length {
                    // The first look dates the last output from the log file itself.
                    let modified = length < 0 ? Self.lastWrite(reader) : nil
                    length = size
                    changedAt = modified ?? now
                }
                if let changedAt, now.timeIntervalSince(changedAt) >= quiet { return .idle }
            }
        case .end:
            break
        }
        guard job.state.isTerminal else { return nil }
        return WaitReason.ended(state: job.state, reason: last?.outcome?.reason)
    }

    /// Reads the output written since the last look (up to ``maxBytesPerLook``); true
    /// when a line matched.
    private mutating func scanOutput() throws(StintError) -> Bool {
        guard let pattern, follower != nil else { return false }
        var read = 0
        while read < Self.maxBytesPerLook {
            let chunk = follower!.next(ended: nil)
            guard !chunk.isEmpty else { break }
            read += chunk.count
            partial.append(chunk)
            while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: partial[partial.startIndex..<newline], as: UTF8.self)
                partial = Data(partial[partial.index(after: newline)...])
                if try matches(pattern, line) {
                    match = line
                    return true
                }
            }
            // A very long line without a newline is tested in pieces.
            if partial.count > 1 << 20 { partial = Data(partial.suffix(64 << 10)) }
        }
        // A prompt or a progress line without its newline yet.
        let rest = String(decoding: partial, as: UTF8.self)
        if !rest.isEmpty, try matches(pattern, rest) {
            match = rest
            return true
        }
        return false
    }

    private func matches(_ pattern: BoundedPattern, _ line: String) throws(StintError) -> Bool {
        let trimmed = line.hasSuffix("\r") ? String(line.dropLast()) : line
        switch pattern.firstMatch(in: trimmed) {
        case .matched: return true
        case .notMatched: return false
        case .overBudget:
            throw StintError(
                .usage,
                "the --until output: pattern ran out of its match budget (\(BoundedPattern.stepBudget) steps) on a line of job \(id)'s output",
                hint: "it backtracks too much; avoid nested quantifiers such as (.*a){12}")
        }
    }

    /// When the attempt last wrote output: the newest of the log and its tail segments
    /// (past the head, output goes to the segments only).
    private static func lastWrite(_ reader: LogReader) -> Date? {
        let paths = [reader.path] + reader.segments().map { "\(reader.path).tail.\($0)" }
        return paths.compactMap { path in
            (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        }.max()
    }
}
