import Glibc

/// The shim's life from start to exit: set up, start the command, supervise it, write the
/// exit record. See `main.swift` for what the shim is for.
enum Shim {
    /// Exit statuses. The daemon learns the job's outcome from exit.json, not from these;
    /// they only say what went wrong when no exit record could be written.
    enum Status {
        static let success: Int32 = 0
        static let usage: Int32 = 64  // EX_USAGE
        static let cannotSetUp: Int32 = 71  // EX_OSERR: no run directory, lock or self-pipe
        static let cannotRecord: Int32 = 74  // EX_IOERR: exit.json could not be written
    }

    static func main() -> Int32 {
        let (argc, argv) = ProcessArguments.load()
        let options: ShimOptions
        do {
            options = try ShimOptions.parse(argc: argc, argv: argv)
        } catch {
            var line = TextBuffer(capacity: 4096)
            error.describe(argv: argv, into: &line)
            Posix.printError(line)
            return Status.usage
        }

        becomeIndependent()

        let runDirectory: RunDirectory
        switch RunDirectory.open(options.runDirectory) {
        case .success(let opened): runDirectory = opened
        case .failure(let error): return reportFailure("cannot open the run directory: ", error)
        }
        if let error = runDirectory.holdLock() { return reportFailure("cannot lock the run directory: ", error) }
        runDirectory.reserveExitRecord()
        // Before spawning, so that not even the quickest child's SIGCHLD can be missed.
        let signals: SignalPipe
        switch SignalPipe.install() {
        case .success(let installed): signals = installed
        case .failure(let error): return reportFailure("cannot create the signal pipe: ", error)
        }

        let capture: OutputCapture
        do {
            capture = try OutputCapture(logPath: options.logPath, cap: options.outputCap)
        } catch {
            var message = TextBuffer(capacity: 4096)
            message.append("stint: cannot open log '")
            message.append(cString: options.logPath)
            message.append("': ")
            message.append(cString: error.text)
            return recordLaunchError(message, startedAt: Timestamp.now(), capture: nil, runDirectory: runDirectory)
        }

        // One pipe for both stdout and stderr, so that the log keeps their relative order. Only
        // the shim's end is non-blocking; the job's end stays an ordinary blocking pipe.
        let outputReadEnd: Int32
        let outputWriteEnd: Int32
        switch Posix.makePipe(nonBlockingReadEnd: true, nonBlockingWriteEnd: false) {
        case .success(let ends): (outputReadEnd, outputWriteEnd) = ends
        case .failure(let error):
            var message = TextBuffer(capacity: 4096)
            Launcher.Failure.cannotRun(error).describe(options, into: &message)
            return recordLaunchError(message, startedAt: Timestamp.now(), capture: capture, runDirectory: runDirectory)
        }

        let startedAt = Timestamp.now()
        let startedMonotonic = MonotonicClock.now()
        let spawned = Launcher.spawn(options, outputWriteEnd: outputWriteEnd)
        // The shim must not keep a write end open, or the pipe would never reach end of file.
        close(outputWriteEnd)
        let childPID: pid_t
        switch spawned {
        case .success(let pid): childPID = pid
        case .failure(let failure):
            close(outputReadEnd)
            var message = TextBuffer(capacity: 4096)
            failure.describe(options, into: &message)
            return recordLaunchError(message, startedAt: startedAt, capture: capture, runDirectory: runDirectory)
        }

        // "SHIM COMMAND SHIM_START COMMAND_START": the shim's pid is the job's session id and
        // the command's its process group id; with the start times, a daemon that finds the shim
        // dead can tell the job's leftover processes from others that reuse those pids.
        var pidFile = TextBuffer(capacity: 96)
        pidFile.append(decimal: Int64(getpid()))
        pidFile.append(" ")
        pidFile.append(decimal: Int64(childPID))
        pidFile.append(" ")
        pidFile.append(decimal: ProcessStartTime.of(getpid()) ?? 0)
        pidFile.append(" ")
        pidFile.append(decimal: ProcessStartTime.of(childPID) ?? 0)
        pidFile.append("\n")
        // Not fsynced: it outlives a crash of the shim or the daemon (the page cache does), and
        // after a machine crash no process of the job is left to find. A failure is not fatal:
        // the job runs and the exit record still comes.
        _ = runDirectory.writeAtomically("pid", pidFile, durable: false)

        let supervisor = Supervisor(
            childPID: childPID, outputReadEnd: outputReadEnd, capture: capture, signals: signals,
            runDirectory: runDirectory, killGraceNanos: options.killGraceNanos,
            deadline: options.timeoutNanos.map { startedMonotonic + $0 })
        let outcome = supervisor.run()
        let endedAt = Timestamp.now()
        capture.finish()

        let status = outcome.childStatus
        let reason: ExitRecord.Reason =
            if outcome.stopRequested { .cancelled }
            else if outcome.deadlineFired { .timeout }
            else if status?.terminatingSignal != nil { .signal }
            else { .exited }
        let record = ExitRecord(
            reason: reason, exitCode: status?.exitCode, signal: status?.terminatingSignal,
            startedAt: startedAt, endedAt: endedAt, pid: childPID, peakRSSBytes: peakChildRSS(),
            outputBytes: capture.totalBytes, droppedBytes: capture.droppedBytes)
        return write(record, message: nil, to: runDirectory)
    }

    /// Cuts the ties to the daemon, so that the shim and its job carry on if the daemon dies.
    private static func becomeIndependent() {
        // Descriptors that the daemon leaked without close-on-exec (a listening socket, say)
        // must not be kept alive by a shim that may outlive the daemon by days.
        closefrom(3)
        // Make sure 0, 1 and 2 are open (on /dev/null), so that no pipe or file the shim opens
        // later lands on a standard descriptor number by accident. Close-on-exec is fine on
        // these placeholders: the job's 0, 1 and 2 come from the spawn file actions.
        while true {
            let fd = open(StaticString("/dev/null").cString, O_RDWR | O_CLOEXEC)
            if fd < 0 { break }
            if fd > 2 {
                close(fd)
                break
            }
        }
        // The daemon spawns the shim as a session leader already (then this fails with EPERM).
        _ = setsid()
        setChildSubreaper()
    }

    /// prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants (double-forked daemons) are
    /// re-parented to the shim instead of init, so that the shim can find, kill and wait
    /// for them.
    private static func setChildSubreaper() {
        let prSetChildSubreaper: Int32 = 36  // <linux/prctl.h>, which the Glibc module leaves out
        _ = linuxPrctl(prSetChildSubreaper, 1, 0, 0, 0)
    }

    /// The peak resident set of the largest reaped descendant (ru_maxrss is in KiB on Linux).
    private static func peakChildRSS() -> UInt64 {
        var usage = rusage()
        guard getrusage(RUSAGE_CHILDREN.rawValue, &usage) == 0 else { return 0 }
        return UInt64(max(0, usage.ru_maxrss)) * 1024
    }

    /// The command never started: say why in the log (if there is one) and in the exit record.
    private static func recordLaunchError(
        _ message: borrowing TextBuffer, startedAt: Timestamp, capture: OutputCapture?, runDirectory: RunDirectory
    ) -> Int32 {
        capture?.note(message)
        capture?.finish()
        let record = ExitRecord(
            reason: .launchError, exitCode: nil, signal: nil, startedAt: startedAt, endedAt: Timestamp.now(),
            pid: nil, peakRSSBytes: 0, outputBytes: 0, droppedBytes: 0)
        return write(record, message: message.bytes, to: runDirectory)
    }

    /// How long the shim keeps trying to write exit.json (a full disk, say) before it gives up
    /// and exits without one, which the daemon records as `lost`: one hour.
    static let recordRetryNanos: Int64 = 3600 * 1_000 * MonotonicClock.nanosPerMillisecond

    /// Writes exit.json durably: it is the one thing the daemon must be able to rely on.
    ///
    /// Its space was set aside when the shim started, so a disk that filled up meanwhile does
    /// not stop it. A write that fails all the same (EIO, or a disk that was full before the
    /// job started) is tried again with a growing pause of up to 2 s, for up to
    /// ``recordRetryNanos``. Meanwhile the shim holds its lock, so the job stays `running`
    /// rather than ending in a state that is not true, and once space is freed the true
    /// outcome is recorded without a restart.
    private static func write(_ record: ExitRecord, message: UnsafeRawBufferPointer?, to runDirectory: RunDirectory) -> Int32 {
        // Large enough for the fixed fields plus a message of up to 4096 bytes, every one
        // of them escaped as \ufffd.
        var json = TextBuffer(capacity: 4096 * 6 + 512)
        record.render(message: message, into: &json)
        let giveUpAt = MonotonicClock.now() + recordRetryNanos
        var pauseMicros: UInt32 = 50_000
        while let error = runDirectory.writeExitRecord(json) {
            guard MonotonicClock.now() < giveUpAt else {
                return reportFailure("cannot write exit.json: ", error, status: Status.cannotRecord)
            }
            usleep(pauseMicros)
            pauseMicros = min(pauseMicros * 2, 2_000_000)
        }
        return Status.success
    }

    /// Reports a failure that leaves no way to write an exit record, on standard error.
    private static func reportFailure(_ what: StaticString, _ error: SystemError, status: Int32 = Status.cannotSetUp) -> Int32 {
        var line = TextBuffer(capacity: 256)
        line.append("stint-shim: ")
        line.append(what)
        line.append(cString: error.text)
        Posix.printError(line)
        return status
    }
}

/// prctl(2). It is variadic in C and Swift does not import variadic functions, so it is
/// declared here with the fixed arguments the kernel takes; for integer arguments that
/// matches the C calling convention on Linux's x86-64 and arm64 ABIs. (Looking it up with
/// dlsym would avoid the attribute, but finds nothing once the shim is linked with
/// -static-executable.)
@_silgen_name("prctl")
private func linuxPrctl(_ option: Int32, _ arg2: UInt, _ arg3: UInt, _ arg4: UInt, _ arg5: UInt) -> Int32
