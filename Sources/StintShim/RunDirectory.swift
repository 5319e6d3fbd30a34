import Glibc

/// The job's run directory, which the daemon created and reads back:
///
/// - `lock`: held with flock(LOCK_EX) for the shim's whole life; the daemon probes it with
///   a non-blocking flock to tell whether the shim is alive.
/// - `pid`: "<shim pid> <child pid> <shim start time> <child start time>\n" once the command
///   has started (start times in clock ticks since boot, 0 when unknown).
/// - `adopted`: "<pid> <start time>\n" for each orphan the shim adopted as subreaper (see
///   `AdoptedProcesses`).
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
    /// a shim starting during that instant must wait rather than give up. A lock whose file
    /// was removed meanwhile is refused with ENOENT, a folder another shim used with EEXIST.
    func holdLock() -> SystemError? {
        let lock: Int32
        switch Posix.openAt(fd, StaticString("lock").cString, O_CREAT | O_RDWR | O_CLOEXEC | O_NOCTTY, 0o600) {
        case .success(let opened): lock = opened
        case .failure(let error): return error
        }
        while flock(lock, LOCK_EX) != 0 {
            if errno != EINTR { return SystemError.current() }
        }
        // A daemon that finds an attempt claimed but never started takes this lock itself and
        // removes the folder while it holds it. A shim that was starting late and waited here
        // then holds the lock of a deleted file: it must not run the command (the attempt is
        // back in the queue and runs elsewhere), so it stops as if the folder had never been.
        var status = stat()
        if fstat(lock, &status) != 0 { return SystemError.current() }
        if status.st_nlink == 0 { return SystemError(code: ENOENT) }
        // A folder another shim already ran a command in (its pid file or exit record is
        // there) is never run in twice.
        for name in [StaticString("pid"), StaticString("exit.json")] where faccessat(fd, name.cString, F_OK, 0) == 0 {
            return SystemError(code: EEXIST)
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

    /// Appends `contents` to `name` (creating it); best effort, not fsynced.
    func append(_ name: StaticString, _ contents: borrowing TextBuffer) {
        guard case .success(let file) = Posix.openAt(
            fd, name.cString, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY, 0o644)
        else { return }
        Posix.writeAll(file, contents.bytes)
        close(file)
    }

    /// Bytes set aside for the exit record: one page, which is what even a 200-byte file
    /// takes on disk, and more than any record but one with a long launch-error message.
    static let exitRecordReserve = 4096

    /// Allocates `exit.json.tmp` at start-up, so that the exit record can be written even if
    /// the disk fills up while the job runs (see ``writeExitRecord(_:)``). Best effort: on a
    /// disk that is already full the record is written the ordinary way, and retried.
    func reserveExitRecord() {
        guard case .success(let file) = Posix.openAt(
            fd, StaticString("exit.json.tmp").cString, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOCTTY, 0o600)
        else { return }
        _ = posix_fallocate(file, 0, off_t(Self.exitRecordReserve))
        close(file)
    }

    /// Writes `exit.json` durably and atomically into the space ``reserveExitRecord()`` set
    /// aside: overwrite `exit.json.tmp` in place (no truncation before the write, which would
    /// give the reserved blocks back), fsync, rename, fsync the directory.
    ///
    /// A record shorter than the reserve is padded with spaces before its final newline (still
    /// one line of JSON), so the file keeps its space: were it cut to length, the freed bytes
    /// would be the first thing to fill again, and a full disk would look less full to the
    /// store than it is.
    func writeExitRecord(_ contents: borrowing TextBuffer) -> SystemError? {
        let temporary = StaticString("exit.json.tmp")
        let file: Int32
        switch Posix.openAt(fd, temporary.cString, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOCTTY, 0o644) {
        case .success(let opened): file = opened
        case .failure(let error): return error
        }
        let bytes = contents.bytes
        var failure: SystemError?
        if bytes.count < Self.exitRecordReserve, bytes.last == UInt8(ascii: "\n") {
            var padded = TextBuffer(capacity: Self.exitRecordReserve)
            padded.append(UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count - 1)]))
            while padded.count < Self.exitRecordReserve - 1 { padded.append(byte: UInt8(ascii: " ")) }
            padded.append(byte: UInt8(ascii: "\n"))
            failure = Posix.writeAll(file, padded.bytes)
            if failure == nil, ftruncate(file, off_t(padded.count)) != 0 { failure = SystemError.current() }
        } else {
            failure = Posix.writeAll(file, bytes)
            if failure == nil, ftruncate(file, off_t(bytes.count)) != 0 { failure = SystemError.current() }
        }
        if failure == nil, fsync(file) != 0 { failure = SystemError.current() }
        if close(file) != 0, failure == nil, errno != EINTR { failure = SystemError.current() }
        if failure == nil, renameat(fd, temporary.cString, fd, StaticString("exit.json").cString) != 0 {
            failure = SystemError.current()
        }
        if let failure { return failure }
        if fsync(fd) != 0 { return SystemError.current() }
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
