import Foundation
import StintCore
import StintRunner
import StintStore

/// What one job of a `wait --until stall|idle:DUR|output:REGEX` has shown so far.
///
/// The daemon looks at the job's state and its log every ``Engine/conditionTick``
/// seconds on the caller's behalf: the client makes one request and is answered when
/// the condition holds, the job ends, or the wait's timeout runs out.
struct ConditionProbe {
    let id: Int64
    let until: WaitUntil
    let regex: NSRegularExpression?
    /// The attempt being watched; a retry starts over.
    private var attempt = 0
    private var follower: LogFollower?
    private var partial = Data()
    private var length: Int64 = -1
    private var changedAt: Date?
    /// The line that matched `output:REGEX`.
    private(set) var match: String?

    init(id: Int64, until: WaitUntil) {
        self.id = id
        self.until = until
        if case .output(let pattern) = until {
            regex = try? NSRegularExpression(pattern: pattern)
        } else {
            regex = nil
        }
    }

    /// The reason the condition (or the job's end) gives now, or `nil` to keep waiting.
    mutating func check(_ job: StoredJob, paths: StintPaths, now: Date) -> WaitReason? {
        let last = job.attempts.last
        if let last, last.number != attempt {
            attempt = last.number
            let reader = LogReader(path: paths.log(job: id, attempt: attempt), cap: job.spec.outputCap ?? JobSpec.defaultOutputCap)
            follower = LogFollower(reader: reader)
            partial = Data()
            length = -1
            changedAt = nil
        }
        switch until {
        case .output:
            // Output already written counts, also when the job has ended since.
            if scanOutput() { return .matched }
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

    /// Reads the output written since the last look; true when a line matched.
    private mutating func scanOutput() -> Bool {
        guard let regex, follower != nil else { return false }
        while true {
            let chunk = follower!.next(ended: nil)
            guard !chunk.isEmpty else { break }
            partial.append(chunk)
            while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: partial[partial.startIndex..<newline], as: UTF8.self)
                partial = Data(partial[partial.index(after: newline)...])
                if Self.matches(regex, line) {
                    match = line
                    return true
                }
            }
            // A very long line without a newline is tested in pieces.
            if partial.count > 1 << 20 { partial = Data(partial.suffix(64 << 10)) }
        }
        // A prompt or a progress line without its newline yet.
        let rest = String(decoding: partial, as: UTF8.self)
        if !rest.isEmpty, Self.matches(regex, rest) {
            match = rest
            return true
        }
        return false
    }

    private static func matches(_ regex: NSRegularExpression, _ line: String) -> Bool {
        let trimmed = line.hasSuffix("\r") ? String(line.dropLast()) : line
        return regex.firstMatch(in: trimmed, range: NSRange(trimmed.startIndex..., in: trimmed)) != nil
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
