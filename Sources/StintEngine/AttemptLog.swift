public import Foundation
import StintRunner
import StintCore

/// Where the log of a job's attempt is, for the API's log endpoint.
public struct LogSource: Sendable {
    /// The job.
    public var job: Int64
    /// The attempt (0: the job has not started yet).
    public var attempt: Int
    /// The attempt's log; `nil` before the first attempt, and when another node has it.
    public var log: AttemptLog?
    /// The node whose daemon has the log, when it is another node of a shared store.
    public var peer: PeerNode? = nil
}

/// Another node of a shared store, reachable through its API.
public struct PeerNode: Sendable, Hashable {
    /// Its name.
    public var node: String
    /// Its API's address, `http://HOST:PORT`.
    public var address: String
}

/// One attempt's output as the API serves it: its head, its tail, all of it, or followed
/// as it grows. The layout under the output cap (a head file, rolling tail segments, the
/// consolidation at the end) stays behind this type.
public struct AttemptLog: Sendable {
    let id: AttemptID
    let reader: LogReader
    let processes: any ProcessSupervisor

    /// The first `lines` lines, at most `maxBytes` bytes of them.
    public func head(lines: Int, maxBytes: Int) -> Data { reader.head(lines: lines, maxBytes: maxBytes) }

    /// The last `lines` lines (a last line without a newline counts), at most the last
    /// `maxBytes` bytes.
    public func tail(lines: Int, maxBytes: Int) -> Data { reader.tail(lines: lines, maxBytes: maxBytes) }

    /// How many bytes of output the attempt has written so far: the stream position its end is at.
    public func streamLength() -> Int64 { reader.streamLength() }

    /// Calls `body` with the whole log as it stands now, in order, 64 KiB at a time.
    public func forEachChunk(_ body: (Data) async throws -> Void) async rethrows {
        for piece in reader.pieces() {
            var offset: Int64 = 0
            while true {
                let chunk = LogReader.read(piece, from: offset, count: 65536)
                if chunk.isEmpty { break }
                offset += Int64(chunk.count)
                try await body(chunk)
            }
        }
    }

    /// Follows the output from stream position `position` (0: the beginning).
    public func follow(from position: Int64) -> LogCursor {
        LogCursor(id: id, follower: LogFollower(reader: reader, position: position), processes: processes)
    }
}

/// A position in an attempt's output that moves on as the output is read.
public struct LogCursor: Sendable {
    let id: AttemptID
    var follower: LogFollower
    let processes: any ProcessSupervisor

    /// The next output and whether the log is final: once the attempt's exit record
    /// exists, the log is complete, and an empty read means its end was reached. Empty and
    /// not final: no new output yet.
    public mutating func next() -> (bytes: Data, final: Bool) {
        let record = (try? processes.exitRecord(id)) ?? nil
        let bytes = follower.next(ended: record.map { ($0.outputBytes ?? 0, $0.droppedBytes ?? 0) })
        return (bytes, record != nil)
    }
}
