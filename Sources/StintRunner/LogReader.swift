public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a job's log as the shim lays it out under the output cap.
///
/// The shim writes the first `cap/2` bytes to the log file and the rest to rolling
/// tail segments `LOG.tail.N`, each `(cap - cap/2)/2` bytes, keeping the newest two.
/// When the job has ended it appends a "dropped" marker and the kept segments to the
/// log file. This reader stitches the pieces back together while the job runs, and
/// maps positions across that consolidation for followers.
public struct LogReader: Sendable {
    /// The log file.
    public var path: String
    /// The output cap the shim ran with (0: none).
    public var cap: Int64

    /// Creates a reader.
    public init(path: String, cap: Int64) {
        self.path = path
        self.cap = cap
    }

    /// Bytes that go to the log file before the tail segments start.
    public var headSize: Int64 { cap / 2 }
    /// Bytes per tail segment.
    public var segmentSize: Int64 { max((cap - cap / 2) / 2, 1) }

    /// One part of the log's logical content.
    public enum Piece: Sendable, Hashable {
        /// `length` bytes of the file at `path` from `offset`.
        case file(path: String, offset: Int64, length: Int64)
        /// Text that is not in any file, such as a marker for skipped bytes.
        case text(String)

        /// The number of bytes in this piece.
        public var length: Int64 {
            switch self {
            case .file(_, _, let length): length
            case .text(let text): Int64(text.utf8.count)
            }
        }
    }

    /// The tail segments that exist now, by number.
    public func segments() -> [Int] {
        // The shim starts a segment only once the head is full: a shorter log (most of them)
        // has none, and the logs folder, which holds every retained job's log, is not listed.
        // (A head that a full disk left short is read without its segments.)
        guard cap > 0, (Self.size(path) ?? 0) >= headSize else { return [] }
        let directory = (path as NSString).deletingLastPathComponent
        let prefix = (path as NSString).lastPathComponent + ".tail."
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { $0.hasPrefix(prefix) ? Int($0.dropFirst(prefix.count)) : nil }.sorted()
    }

    /// The log's logical content now: the file, then any tail segments.
    public func pieces() -> [Piece] {
        var result: [Piece] = [.file(path: path, offset: 0, length: Self.size(path) ?? 0)]
        let segments = segments()
        if let first = segments.first, first > 1 {
            result.append(.text(Self.droppedMarker(Int64(first - 1) * segmentSize)))
        }
        for number in segments {
            let segment = "\(path).tail.\(number)"
            result.append(.file(path: segment, offset: 0, length: Self.size(segment) ?? 0))
        }
        return result
    }

    /// The marker shown where the cap dropped bytes.
    public static func droppedMarker(_ bytes: Int64) -> String {
        "\n[stint: \(bytes) bytes of output dropped by the output cap]\n"
    }

    /// The most a look at a log's head or tail reads by default: 64 KiB, enough for the
    /// lines the engine looks at (prompts, notification tails, `--transient-pattern`).
    public static let defaultWindowBytes = 64 << 10

    /// The first `lines` lines of the log, at most `maxBytes` bytes of them.
    public func head(lines: Int, maxBytes: Int = defaultWindowBytes) -> Data {
        var output = Data()
        var newlines = 0
        guard lines > 0, maxBytes > 0 else { return output }
        for piece in pieces() {
            var offset: Int64 = 0
            while offset < piece.length {
                let chunk = Self.read(piece, from: offset, count: min(65536, maxBytes - output.count))
                if chunk.isEmpty { break }
                offset += Int64(chunk.count)
                for (index, byte) in chunk.enumerated() where byte == UInt8(ascii: "\n") {
                    newlines += 1
                    if newlines == lines {
                        output.append(chunk.prefix(index + 1))
                        return output
                    }
                }
                output.append(chunk)
                if output.count >= maxBytes { return output }
            }
        }
        return output
    }

    /// The last `lines` lines of the log (a last line without a newline counts), at most
    /// its last `maxBytes` bytes: a single 20 MB line costs no more than `maxBytes`.
    public func tail(lines: Int, maxBytes: Int = defaultWindowBytes) -> Data {
        guard lines > 0, maxBytes > 0 else { return Data() }
        // Chunks from the end backwards, joined once at the end.
        var chunks: [Data] = []
        var collected = 0
        var newlines = 0
        var skipTrailing = true
        func joined(_ first: Data?) -> Data {
            var result = first ?? Data()
            for chunk in chunks.reversed() { result.append(chunk) }
            return result
        }
        for piece in pieces().reversed() {
            var end = piece.length
            while end > 0 {
                let start = max(0, end - Int64(min(65536, maxBytes - collected)))
                let chunk = Self.read(piece, from: start, count: Int(end - start))
                if chunk.isEmpty { break }
                end = start
                var cut: Int?
                for index in chunk.indices.reversed() where chunk[index] == UInt8(ascii: "\n") {
                    if skipTrailing, chunks.isEmpty, index == chunk.index(before: chunk.endIndex) {
                        skipTrailing = false
                        continue
                    }
                    newlines += 1
                    if newlines == lines {
                        cut = index + 1
                        break
                    }
                }
                skipTrailing = false
                if let cut { return joined(Data(chunk[cut...])) }
                chunks.append(chunk)
                collected += chunk.count
                if collected >= maxBytes { return joined(nil) }
            }
        }
        return joined(nil)
    }

    /// The number of output bytes the job has written so far, in stream positions.
    public func streamLength() -> Int64 {
        let fileSize = Self.size(path) ?? 0
        guard cap > 0, let last = segments().last else { return fileSize }
        return headSize + Int64(last - 1) * segmentSize + (Self.size("\(path).tail.\(last)") ?? 0)
    }

    static func size(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    /// Up to `count` bytes of `piece` from `offset`; empty at its end.
    public static func read(_ piece: Piece, from offset: Int64, count: Int) -> Data {
        switch piece {
        case .text(let text):
            let bytes = Data(text.utf8)
            return bytes.dropFirst(Int(offset)).prefix(count)
        case .file(let path, let base, let length):
            let wanted = min(Int64(count), length - offset)
            guard wanted > 0 else { return Data() }
            return readFile(path, at: base + offset, count: Int(wanted))
        }
    }

    static func readFile(_ path: String, at offset: Int64, count: Int) -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return Data() }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: count)
        let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
        return got > 0 ? Data(buffer.prefix(got)) : Data()
    }
}
