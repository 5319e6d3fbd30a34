import Glibc

/// Thin wrappers over system calls that retry on EINTR and write or read whole buffers,
/// so callers can treat a short write as the error it almost always is.
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

    @discardableResult
    static func writeAll(_ fd: Int32, _ text: String) -> SystemError? {
        var text = text
        return text.withUTF8 { writeAll(fd, UnsafeRawBufferPointer($0)) }
    }

    /// `openat` that retries when a signal interrupts it (opening a FIFO or a slow filesystem can block).
    static func openAt(
        _ directory: Int32, _ name: UnsafePointer<CChar>, _ flags: Int32, _ mode: mode_t = 0
    ) -> Result<Int32, SystemError> {
        while true {
            let fd = openat(directory, name, flags, mode)
            if fd >= 0 { return .success(fd) }
            if errno != EINTR { return .failure(SystemError.current()) }
        }
    }

    /// Reads up to `limit` bytes from the start of a small file; nil if it is missing or unreadable.
    static func readSmallFile(_ directory: Int32, _ name: UnsafePointer<CChar>, limit: Int = 256) -> [UInt8]? {
        guard case .success(let fd) = openAt(directory, name, O_RDONLY | O_CLOEXEC | O_NOCTTY) else {
            return nil
        }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: limit)
        var filled = 0
        while filled < limit {
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, limit - filled) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { break }
            filled += count
        }
        return Array(bytes[..<filled])
    }

    /// A close-on-exec pipe, returned as (read end, write end). pipe2(2) is not visible
    /// through Swift's Glibc module; the shim has a single thread, so setting the flags
    /// right after pipe(2) leaves no window in which another thread could fork.
    static func makePipe(nonBlockingReadEnd: Bool, nonBlockingWriteEnd: Bool) -> Result<(Int32, Int32), SystemError> {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return .failure(SystemError.current()) }
        for (fd, nonBlocking) in [(ends[0], nonBlockingReadEnd), (ends[1], nonBlockingWriteEnd)] {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            if nonBlocking { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        }
        return .success((ends[0], ends[1]))
    }

    /// Prints one line to standard error (which is /dev/null when the daemon starts us,
    /// but a person running the shim by hand sees it).
    static func printError(_ line: String) {
        writeAll(2, line + "\n")
    }
}
