import Glibc

/// Thin wrappers over system calls that retry on EINTR and write whole buffers, so callers
/// can treat a short write as the error it almost always is.
enum Posix {
    /// Writes every byte or reports the error that stopped it.
    @discardableResult
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> SystemError? {
        guard var next = bytes.baseAddress else { return nil }
        var remaining = bytes.count
        while remaining > 0 {
            let written = write(fd, next, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                return SystemError.current()
            }
            if written == 0 { return SystemError(code: EIO) }
            next += written
            remaining -= written
        }
        return nil
    }

    /// `openat` that retries when a signal interrupts it (opening a FIFO or a file on a slow
    /// filesystem can block).
    static func openAt(
        _ directory: Int32, _ name: UnsafePointer<CChar>, _ flags: Int32, _ mode: mode_t = 0
    ) -> Result<Int32, SystemError> {
        while true {
            let fd = openat(directory, name, flags, mode)
            if fd >= 0 { return .success(fd) }
            if errno != EINTR { return .failure(SystemError.current()) }
        }
    }

    /// Replaces `buffer` with the contents of a small file; false if the file is missing,
    /// unreadable or larger than the buffer.
    static func readSmallFile(_ directory: Int32, _ name: UnsafePointer<CChar>, into buffer: inout TextBuffer) -> Bool {
        guard case .success(let fd) = openAt(directory, name, O_RDONLY | O_CLOEXEC | O_NOCTTY) else { return false }
        defer { close(fd) }
        buffer.removeAll()
        var chunk: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &chunk) { chunk in
            while !buffer.overflowed {
                let count = read(fd, chunk.baseAddress, chunk.count)
                if count < 0 && errno == EINTR { continue }
                if count < 0 { return false }
                if count == 0 { break }
                buffer.append(UnsafeRawBufferPointer(rebasing: chunk[..<count]))
            }
            return !buffer.overflowed
        }
    }

    /// A close-on-exec pipe, as (read end, write end). pipe2(2) is not visible through Swift's
    /// Glibc module; the shim has a single thread, so setting the flags right after pipe(2)
    /// leaves no window in which another thread could fork and inherit the descriptors.
    static func makePipe(nonBlockingReadEnd: Bool, nonBlockingWriteEnd: Bool) -> Result<(Int32, Int32), SystemError> {
        var ends: (Int32, Int32) = (-1, -1)
        let status = withUnsafeMutablePointer(to: &ends) {
            $0.withMemoryRebound(to: Int32.self, capacity: 2) { pipe($0) }
        }
        guard status == 0 else { return .failure(SystemError.current()) }
        func configure(_ fd: Int32, nonBlocking: Bool) {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            if nonBlocking { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        }
        configure(ends.0, nonBlocking: nonBlockingReadEnd)
        configure(ends.1, nonBlocking: nonBlockingWriteEnd)
        return .success(ends)
    }

    /// Writes one line to standard error: /dev/null when the daemon starts the shim, but a
    /// person running it by hand sees it.
    static func printError(_ line: borrowing TextBuffer) {
        writeAll(2, line.bytes)
        writeAll(2, UnsafeRawBufferPointer(start: StaticString("\n").utf8Start, count: 1))
    }
}
