import Glibc

/// The job's run directory, which the daemon created and reads back:
///
/// - `lock`: held with flock(LOCK_EX) for the shim's whole life; the daemon probes it with
///   a non-blocking flock to tell whether the shim is alive.
/// - `pid`: "<shim pid> <child pid>\n" once the command has started.
/// - `stop`: optional grace period (decimal seconds) for a stop request.
/// - `signal`: the signal number to forward on SIGUSR1.
/// - `critical`: every `stint critical` step of the job holds it with flock(LOCK_SH) while
///   its command runs; a stop or timeout takes it exclusively before terminating the tree.
/// - `stop-deferred`: "stop" or "timeout" while a termination waits for a critical step.
/// - `exit.json`: the exit record, the last thing the shim writes.
///
/// The directory is held open and every file is reached with the *at() calls, so a relative
/// `--run-dir` keeps meaning the same directory after the shim enters `--cwd`, and so the
/// directory itself can be fsynced to make the exit record's rename durable.
struct RunDirectory {
    let fd: Int32

    static func open(_ path: UnsafePointer<CChar>) -> Result<RunDirectory, SystemError> {
        Posix.openAt(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC).map { RunDirectory(fd: $0) }
    }

    /// Opens `lock` and takes the exclusive flock. The descriptor is deliberately never
    /// closed: the lock must last exactly as long as this process, and exit releases it. It
    /// is close-on-exec so the job cannot inherit it and keep the shim looking alive.
    ///
    /// The wait is blocking: the daemon's liveness probe holds the lock for an instant, and
    /// a shim starting during that instant must wait rather than give up.
    func holdLock() -> SystemError? {
        let lock: Int32
        switch Posix.openAt(fd, StaticString("lock").cString, O_CREAT | O_RDWR | O_CLOEXEC | O_NOCTTY, 0o600) {
        case .success(let opened): lock = opened
        case .failure(let error): return error
        }
        while flock(lock, LOCK_EX) != 0 {
            if errno != EINTR { return SystemError.current() }
        }
        return nil
    }

    /// Tries once, without waiting, to take the exclusive flock on `critical`, which every
    /// `stint critical` step holds shared while its command runs. False means a step is
    /// running and the termination must wait for it.
    ///
    /// Once taken, the lock is kept for the rest of the shim's life (the descriptor is never
    /// closed), so a step that starts while the tree is being terminated blocks instead of
    /// beginning something it cannot finish. A file that cannot be opened or locked for any
    /// other reason never holds a stop back; `stint critical` refuses to run without the lock,
    /// so no step can be running unprotected then.
    func excludeCriticalSections() -> Bool {
        let lock: Int32
        switch Posix.openAt(fd, StaticString("critical").cString, O_CREAT | O_RDWR | O_CLOEXEC | O_NOCTTY, 0o600) {
        case .success(let opened): lock = opened
        case .failure: return true
        }
        while flock(lock, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let stepRunning = errno == EWOULDBLOCK
            close(lock)
            return !stepRunning
        }
        return true
    }

    /// Writes `stop-deferred`, which tells the daemon (and a `stint critical` step that
    /// ends) that a termination waits for the critical steps. Not durable: it means nothing
    /// after a crash.
    func noteTerminationDeferred(byStop: Bool) {
        var text = TextBuffer(capacity: 16)
        text.append(byStop ? "stop\n" : "timeout\n")
        _ = writeAtomically("stop-deferred", text, durable: false)
    }

    /// Removes `stop-deferred`.
    func clearTerminationDeferred() {
        unlinkat(fd, StaticString("stop-deferred").cString, 0)
    }

    /// Replaces `name` with `contents` so that readers see the old file or the new one, never
    /// a partial one: write `name.tmp`, optionally fsync it, rename it over `name`, and
    /// optionally fsync the directory so that the rename itself survives a crash.
    func writeAtomically(_ name: StaticString, _ contents: borrowing TextBuffer, durable: Bool) -> SystemError? {
        var temporary = TextBuffer(capacity: 64)
        temporary.append(name)
        temporary.append(".tmp")
        let file: Int32
        switch Posix.openAt(fd, temporary.cString, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_NOCTTY, 0o600) {
        case .success(let opened): file = opened
        case .failure(let error): return error
        }
        var failure = Posix.writeAll(file, contents.bytes)
        if failure == nil, durable, fsync(file) != 0 { failure = SystemError.current() }
        if close(file) != 0, failure == nil, errno != EINTR { failure = SystemError.current() }
        if failure == nil, renameat(fd, temporary.cString, fd, name.cString) != 0 { failure = SystemError.current() }
        if let failure {
            unlinkat(fd, temporary.cString, 0)
            return failure
        }
        if durable, fsync(fd) != 0 { return SystemError.current() }
        return nil
    }

    /// The grace period asked for in `stop`, or nil if there is no such file or it does not
    /// hold decimal seconds.
    func stopGraceNanos() -> Int64? {
        var text = TextBuffer(capacity: 64)
        guard Posix.readSmallFile(fd, StaticString("stop").cString, into: &text) else { return nil }
        return DecimalText.secondsAsNanoseconds(text.bytes)
    }

    /// The signal number in `signal`, or nil if the file is missing or holds no valid signal.
    func signalToForward() -> Int32? {
        var text = TextBuffer(capacity: 64)
        guard Posix.readSmallFile(fd, StaticString("signal").cString, into: &text),
              let number = DecimalText.integer(text.bytes, maximum: UInt64(__libc_current_sigrtmax())),
              number > 0
        else { return nil }
        return Int32(number)
    }
}
