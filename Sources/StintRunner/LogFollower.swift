public import Foundation

/// Follows a job's log as it grows, across tail-segment rotation and the final
/// consolidation, by tracking a position in the stream of output bytes.
public struct LogFollower: Sendable {
    /// What is being followed.
    public let reader: LogReader
    /// Bytes of output already passed on (including ones skipped because the cap dropped them).
    public private(set) var position: Int64
    /// The position in the consolidated log file, once the job has ended.
    private var finalOffset: Int64?

    /// Follows `reader` from stream position `position` (0: the beginning).
    public init(reader: LogReader, position: Int64 = 0) {
        self.reader = reader
        self.position = position
    }

    /// The next bytes of output, or empty when there are none yet.
    ///
    /// `ended` carries the shim's byte counts once its exit record exists: the log
    /// file is then final and is read to its end.
    public mutating func next(ended: (outputBytes: Int64, droppedBytes: Int64)?) -> Data {
        if let ended { return nextFromFinalFile(ended) }
        let head = reader.headSize
        if reader.cap == 0 || position < head {
            let limit = reader.cap == 0 ? Int64(65536) : min(65536, head - position)
            return advance(LogReader.readFile(reader.path, at: position, count: Int(limit)))
        }
        let segment = Int((position - head) / reader.segmentSize) + 1
        let offset = (position - head) % reader.segmentSize
        let path = "\(reader.path).tail.\(segment)"
        if LogReader.size(path) != nil {
            let count = Int(min(65536, reader.segmentSize - offset))
            return advance(LogReader.readFile(path, at: offset, count: count))
        }
        // The segment we were in was rotated away: say so and jump to the oldest kept one.
        guard let oldest = reader.segments().first(where: { $0 > segment }) else { return Data() }
        let skipped = head + Int64(oldest - 1) * reader.segmentSize - position
        position += skipped
        return Data(LogReader.droppedMarker(skipped).utf8)
    }

    private mutating func advance(_ data: Data) -> Data {
        position += Int64(data.count)
        return data
    }

    private mutating func nextFromFinalFile(_ ended: (outputBytes: Int64, droppedBytes: Int64)) -> Data {
        if finalOffset == nil {
            let head = reader.headSize
            let fileSize = LogReader.size(reader.path) ?? 0
            if ended.droppedBytes == 0 || reader.cap == 0 || position < head {
                finalOffset = position
            } else if position < head + ended.droppedBytes {
                finalOffset = head  // the file's own marker, then the kept tail
            } else {
                let markerLength = fileSize - ended.outputBytes + ended.droppedBytes
                finalOffset = head + markerLength + (position - head - ended.droppedBytes)
            }
        }
        let data = LogReader.readFile(reader.path, at: finalOffset ?? 0, count: 65536)
        finalOffset = (finalOffset ?? 0) + Int64(data.count)
        position += Int64(data.count)
        return data
    }
}
