import Glibc

/// Writes the job's output to the log while keeping the bytes on disk bounded by the cap.
///
/// The cap matters more than anything else here: one runaway job must never fill the disk,
/// yet the end of the output (where the error usually is) must never be lost. So the first
/// half of the cap (the head) goes straight into the log, and everything after it goes into
/// tail segment files `LOG.tail.1`, `LOG.tail.2`, ..., each holding at most a quarter of the
/// cap (half of the tail half). When a segment is full, the next one is opened and the one
/// before the full one is deleted. So at most two segments exist, the bytes on disk never
/// exceed the cap, and at least the last quarter of the cap is always kept. `finish()`
/// stitches the log together: head, a marker saying how much was dropped, then the
/// surviving segments.
///
/// Every chunk is written as it arrives (no buffering), so someone following the log sees
/// output live. A class because it owns file descriptors: copies would share them.
final class OutputCapture {
    /// Directory holding the log, opened once so that segment names resolve the same way
    /// even after the shim changes its working directory.
    private let directory: Int32
    /// The log's file name within `directory` (points into argv).
    private let baseName: UnsafePointer<CChar>
    private let log: Int32
    /// Bytes that go straight into the log before segments start (UInt64.max: no cap).
    private let headLimit: UInt64
    /// Most bytes one segment holds. 0 (a cap under 3 bytes) means a segment cannot hold
    /// even one byte while two of them stay within the cap, so everything after the head is
    /// dropped.
    private let segmentLimit: UInt64

    private var headWritten: UInt64 = 0
    /// The segment being written.
    private var current: Segment?
    /// The full segment before it, still on disk.
    private var previous: Segment?
    /// Scratch space for segment file names.
    private var segmentName = TextBuffer(capacity: 512)

    /// Every byte the job wrote.
    private(set) var totalBytes: UInt64 = 0
    /// Bytes not in the log: those in deleted segments (and any that a failing disk refused).
    private(set) var droppedBytes: UInt64 = 0

    private struct Segment {
        let number: UInt64
        var fd: Int32
        /// Bytes assigned to this segment; it is full at `segmentLimit`.
        var filled: UInt64
        /// Bytes actually on disk (fewer than `filled` only if writes failed).
        var stored: UInt64
    }

    /// Creates (truncating) the log. `cap == 0` means no cap.
    init(logPath: UnsafePointer<CChar>, cap: UInt64) throws(SystemError) {
        // Split "dir/name" so that the directory can be held open.
        let directoryFD: Int32
        if let slash = strrchr(logPath, Int32(UInt8(ascii: "/"))) {
            baseName = UnsafePointer(slash + 1)
            var directoryPath = TextBuffer(capacity: Int(PATH_MAX))
            if UnsafePointer(slash) == logPath {
                directoryPath.append("/")
            } else {
                directoryPath.append(UnsafeRawBufferPointer(start: logPath, count: UnsafePointer(slash) - logPath))
            }
            guard !directoryPath.overflowed else { throw SystemError(code: ENAMETOOLONG) }
            directoryFD = try Posix.openAt(AT_FDCWD, directoryPath.cString, O_RDONLY | O_DIRECTORY | O_CLOEXEC).get()
        } else {
            baseName = logPath
            directoryFD = try Posix.openAt(AT_FDCWD, StaticString(".").cString, O_RDONLY | O_DIRECTORY | O_CLOEXEC).get()
        }
        let flags = O_CREAT | O_TRUNC | O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY
        switch Posix.openAt(directoryFD, baseName, flags, 0o600) {
        case .success(let fd): log = fd
        case .failure(let error):
            close(directoryFD)
            throw error
        }
        directory = directoryFD
        if cap == 0 {
            headLimit = .max
            segmentLimit = 0
        } else {
            headLimit = cap / 2
            segmentLimit = (cap - cap / 2) / 2
        }
    }

    /// Writes one chunk of the job's output, splitting it between head and segments.
    func append(_ chunk: UnsafeRawBufferPointer) {
        totalBytes += UInt64(chunk.count)
        var rest = chunk[...]
        while !rest.isEmpty {
            if headWritten < headLimit {
                let count = Int(min(UInt64(rest.count), headLimit - headWritten))
                write(rest.prefix(count), to: log)
                headWritten += UInt64(count)
                rest = rest.dropFirst(count)
                continue
            }
            guard segmentLimit > 0 else {
                droppedBytes += UInt64(rest.count)
                return
            }
            if current == nil || current!.filled == segmentLimit { rotate() }
            let count = Int(min(UInt64(rest.count), segmentLimit - current!.filled))
            let written = write(rest.prefix(count), to: current!.fd)
            current!.filled += UInt64(count)
            current!.stored += written
            rest = rest.dropFirst(count)
        }
    }

    /// Writes a line of the shim's own (why the command could not start) into the log. It is
    /// not job output, so it is neither counted nor capped.
    func note(_ line: borrowing TextBuffer) {
        Posix.writeAll(log, line.bytes)
        Posix.writeAll(log, UnsafeRawBufferPointer(start: StaticString("\n").utf8Start, count: 1))
    }

    /// Called once the job is over: adds the dropped-bytes marker if anything was dropped,
    /// appends the surviving segments in order, deletes them, and fsyncs the log (unless the
    /// job wrote nothing: an empty log has nothing to keep, and a missing one reads as empty).
    func finish() {
        if droppedBytes > 0 {
            var marker = TextBuffer(capacity: 96)
            marker.append("\n[stint: ")
            marker.append(decimal: droppedBytes)
            marker.append(" bytes of output dropped by the output cap]\n")
            Posix.writeAll(log, marker.bytes)
        }
        if let previous { appendToLogAndDelete(previous) }
        if let current { appendToLogAndDelete(current) }
        previous = nil
        current = nil
        if totalBytes > 0 { fsync(log) }
    }

    /// Starts the next segment; the one before the (now full) current segment is deleted,
    /// and its bytes become dropped.
    private func rotate() {
        if let old = previous {
            unlinkat(directory, name(ofSegment: old.number), 0)
            droppedBytes += old.stored
        }
        if let full = current {
            close(full.fd)
            previous = Segment(number: full.number, fd: -1, filled: full.filled, stored: full.stored)
        }
        let number = (current?.number ?? 0) + 1
        let flags = O_CREAT | O_TRUNC | O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY
        // If the segment cannot be created, `write` counts its bytes as dropped.
        let fd = (try? Posix.openAt(directory, name(ofSegment: number), flags, 0o600).get()) ?? -1
        current = Segment(number: number, fd: fd, filled: 0, stored: 0)
    }

    /// Writes bytes to a file and returns how many landed. The rest count as dropped: the job
    /// must keep running (and its pipe must keep draining) even when the disk is full.
    @discardableResult
    private func write(_ bytes: Slice<UnsafeRawBufferPointer>, to fd: Int32) -> UInt64 {
        if fd >= 0, Posix.writeAll(fd, UnsafeRawBufferPointer(rebasing: bytes)) == nil {
            return UInt64(bytes.count)
        }
        droppedBytes += UInt64(bytes.count)
        return 0
    }

    /// Copies a segment onto the end of the log, then deletes it.
    private func appendToLogAndDelete(_ segment: Segment) {
        if segment.fd >= 0 { close(segment.fd) }
        let name = name(ofSegment: segment.number)
        if case .success(let fd) = Posix.openAt(directory, name, O_RDONLY | O_CLOEXEC) {
            // read/write rather than sendfile/copy_file_range: both refuse an O_APPEND target.
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
            while true {
                let count = read(fd, buffer.baseAddress, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                Posix.writeAll(log, UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            }
            buffer.deallocate()
            close(fd)
        }
        unlinkat(directory, name, 0)
    }

    /// `LOG.tail.<number>`, valid until the next call. (It always fits: the log's own name
    /// is at most NAME_MAX bytes, or the log could not have been created.)
    private func name(ofSegment number: UInt64) -> UnsafePointer<CChar> {
        segmentName.removeAll()
        segmentName.append(cString: baseName)
        segmentName.append(".tail.")
        segmentName.append(decimal: number)
        // Never act on a truncated name, which could be some other file: "" matches nothing.
        return segmentName.overflowed ? StaticString("").cString : segmentName.cString
    }
}
