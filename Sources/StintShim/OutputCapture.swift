import Glibc

/// Writes the job's output to the log while keeping the bytes on disk bounded by the cap.
///
/// The cap matters more than anything else here: one runaway job must never fill the disk,
/// yet the end of the output (where the error usually is) must never be lost. So the first
/// half of the cap (the head) goes straight into the log, and everything after it goes into
/// a ring of two tail segment files, `LOG.tail.1`, `LOG.tail.2`, ..., each at most a quarter
/// of the cap. When a segment fills up the next one is opened and the one before the full
/// one is deleted, so at most two segments (at most half the cap) exist at any moment and
/// at least the last quarter of the cap is always on disk. `finish()` stitches the log
/// together: head, a marker saying how much was dropped, then the surviving segments.
///
/// Every chunk is written as it arrives (no buffering), so someone following the log sees
/// output live. A class because it owns file descriptors: copies would share them.
final class OutputCapture {
    /// Directory holding the log, opened once so segment names resolve the same way even
    /// after the shim changes its working directory.
    private let directory: Int32
    /// The log's file name within `directory`, without a terminating NUL.
    private let baseName: [CChar]
    private let log: Int32
    /// Bytes that go straight into the log before segments start (UInt64.max: no cap).
    private let headLimit: UInt64
    /// Most bytes one segment holds. 0 (a cap under 3 bytes) means the tail cannot hold even
    /// one byte per segment while staying under the cap, so everything after the head is dropped.
    private let segmentLimit: UInt64

    private var headWritten: UInt64 = 0
    /// The segment being written.
    private var current: Segment?
    /// The full segment before it, still on disk.
    private var previous: Segment?

    /// Every byte the job wrote.
    private(set) var totalBytes: UInt64 = 0
    /// Bytes not in the log: those in deleted segments (and any a failing disk refused).
    private(set) var droppedBytes: UInt64 = 0

    private struct Segment {
        let number: Int
        var fd: Int32
        /// Bytes assigned to this segment; it is full at `segmentLimit`.
        var filled: UInt64
        /// Bytes actually on disk (less than `filled` only if writes failed).
        var stored: UInt64
    }

    /// Creates (truncating) the log. `cap == 0` means no cap.
    init(logPath: UnsafePointer<CChar>, cap: UInt64) throws(SystemError) {
        // Split "dir/name" so that the directory can be held open.
        let directoryFD: Int32
        let name: UnsafePointer<CChar>
        if let slash = strrchr(logPath, Int32(UInt8(ascii: "/"))) {
            name = UnsafePointer(slash + 1)
            let directoryPath = UnsafePointer(slash) == logPath ? strdup("/") : strndup(logPath, UnsafePointer(slash) - logPath)
            defer { free(directoryPath) }
            guard let directoryPath else { throw SystemError(code: ENOMEM) }
            directoryFD = try Posix.openAt(AT_FDCWD, directoryPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC).get()
        } else {
            name = logPath
            directoryFD = try Posix.openAt(AT_FDCWD, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC).get()
        }
        let logFD: Int32
        switch Posix.openAt(directoryFD, name, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY, 0o644) {
        case .success(let fd): logFD = fd
        case .failure(let error):
            close(directoryFD)
            throw error
        }
        directory = directoryFD
        baseName = Array(UnsafeBufferPointer(start: name, count: strlen(name)))
        log = logFD
        if cap == 0 {
            headLimit = UInt64.max
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

    /// Writes a line of the shim's own (e.g. why the command could not start) into the log.
    /// It is not job output, so it is not counted or capped.
    func note(_ line: String) {
        Posix.writeAll(log, line + "\n")
    }

    /// Called once the job is over: adds the dropped-bytes marker if anything was dropped,
    /// appends the surviving segments in order, deletes them, and fsyncs the log.
    func finish() {
        if droppedBytes > 0 {
            note("\n[stint: \(droppedBytes) bytes of output dropped by the output cap]")
        }
        for segment in [previous, current].compactMap({ $0 }) {
            if segment.fd >= 0 { close(segment.fd) }
            appendSegmentToLog(segment.number)
            withSegmentName(segment.number) { _ = unlinkat(directory, $0, 0) }
        }
        previous = nil
        current = nil
        fsync(log)
    }

    /// Starts the next segment; the one before the (now full) current segment is deleted,
    /// and its bytes become dropped.
    private func rotate() {
        if let old = previous {
            withSegmentName(old.number) { _ = unlinkat(directory, $0, 0) }
            droppedBytes += old.stored
        }
        if let full = current {
            close(full.fd)
            previous = Segment(number: full.number, fd: -1, filled: full.filled, stored: full.stored)
        }
        let number = (current?.number ?? 0) + 1
        let opened = withSegmentName(number) {
            Posix.openAt(directory, $0, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY, 0o644)
        }
        // If the segment cannot be created, its bytes are counted as dropped by `write`.
        current = Segment(number: number, fd: (try? opened.get()) ?? -1, filled: 0, stored: 0)
    }

    /// Writes bytes to a file and returns how many landed; the rest count as dropped, since
    /// the job must keep running (and its pipe must keep draining) even if the disk is full.
    @discardableResult
    private func write(_ bytes: Slice<UnsafeRawBufferPointer>, to fd: Int32) -> UInt64 {
        if fd >= 0, Posix.writeAll(fd, UnsafeRawBufferPointer(rebasing: bytes)) == nil {
            return UInt64(bytes.count)
        }
        droppedBytes += UInt64(bytes.count)
        return 0
    }

    /// Copies segment `number` onto the end of the log.
    private func appendSegmentToLog(_ number: Int) {
        guard case .success(let fd) = withSegmentName(number, { Posix.openAt(directory, $0, O_RDONLY | O_CLOEXEC) })
        else { return }
        defer { close(fd) }
        // read/write rather than sendfile/copy_file_range: both refuse an O_APPEND target.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return }
            Posix.writeAll(log, UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
    }

    /// Calls `body` with the NUL-terminated name `LOG.tail.<number>`.
    private func withSegmentName<T>(_ number: Int, _ body: (UnsafePointer<CChar>) -> T) -> T {
        let suffix = ".tail.\(number)".utf8.map { CChar(bitPattern: $0) }
        let name = baseName + suffix + [0]
        return name.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
