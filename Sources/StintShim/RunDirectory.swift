import Glibc

/// The job's run directory, which the daemon created and reads back:
///
/// - `lock`: held with flock(LOCK_EX) for the shim's whole life; the daemon probes it with a
///   non-blocking flock to tell whether the shim is alive.
/// - `pid`: "<shim pid> <child pid>\n" once the command has started.
/// - `stop`: optional grace period (decimal seconds) for a stop request.
/// - `signal`: the signal number to forward on SIGUSR1.
/// - `exit.json`: the exit record, the last thing the shim writes.
///
/// The directory is held open and every file is reached with the *at() calls, so a relative
/// `--run-dir` keeps meaning the same directory after the shim chdirs into `--cwd`, and so the
/// directory itself can be fsynced to make the exit record's rename durable.
struct RunDirectory {
    let fd: Int32

    static func open(_ path: UnsafePointer<CChar>) -> Result<RunDirectory, SystemError> {
        Posix.openAt(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC).map { RunDirectory(fd: $0) }
    }

    /// Opens `lock` and takes the exclusive flock. The descriptor is deliberately never closed:
    /// the lock must last exactly as long as this process, and exit releases it. It is
    /// close-on-exec so the job cannot inherit it and keep the shim looking alive.
    ///
    /// The wait is blocking: the daemon's liveness probe holds the lock for an instant, and
    /// a shim starting during that instant must wait rather than give up.
    func holdLock() -> SystemError? {
        let fd: Int32
        switch Posix.openAt(self.fd, "lock", O_CREAT | O_RDWR | O_CLOEXEC | O_NOCTTY, 0o600) {
        case .success(let opened): fd = opened
        case .failure(let error): return error
        }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { return SystemError.current() }
        }
        return nil
    }

    /// Replaces `name` with `contents` so readers see the old file or the new one, never a
    /// partial one: write `name.tmp`, optionally fsync it, rename over `name`, optionally
    /// fsync the directory so the rename itself survives a crash.
    func writeAtomically(_ name: String, _ contents: String, durable: Bool) -> SystemError? {
        let temporary = name + ".tmp"
        let fd: Int32
        switch Posix.openAt(self.fd, temporary, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_NOCTTY, 0o644) {
        case .success(let opened): fd = opened
        case .failure(let error): return error
        }
        var failure = Posix.writeAll(fd, contents)
        if failure == nil, durable, fsync(fd) != 0 { failure = SystemError.current() }
        if close(fd) != 0, failure == nil, errno != EINTR { failure = SystemError.current() }
        if failure == nil, renameat(self.fd, temporary, self.fd, name) != 0 { failure = SystemError.current() }
        if let failure {
            unlinkat(self.fd, temporary, 0)
            return failure
        }
        if durable, fsync(self.fd) != 0 { return SystemError.current() }
        return nil
    }

    /// The grace period asked for in `stop`, or nil if there is no such file or it is not a
    /// decimal number of seconds.
    func stopGraceNanos() -> Int64? {
        Posix.readSmallFile(fd, "stop").flatMap { DecimalText.secondsAsNanoseconds($0) }
    }

    /// The signal number in `signal`, or nil if missing or not a valid signal.
    func signalToForward() -> Int32? {
        let highest = UInt64(__libc_current_sigrtmax())
        guard let number = Posix.readSmallFile(fd, "signal").flatMap({ DecimalText.integer($0, maximum: highest) }),
              number > 0
        else { return nil }
        return Int32(number)
    }
}
