import Glibc

/// The shim's life from start to exit: set up, start the command, supervise it, write the
/// exit record. See `main.swift` for what the shim is for.
enum Shim {
    /// Exit statuses. The daemon reads the outcome from exit.json, not from these; they only
    /// tell a person (or a log) what went wrong when no exit record could be written.
    enum Status {
        static let success: Int32 = 0
        static let usage: Int32 = 64  // EX_USAGE
        static let cannotSetUp: Int32 = 71  // EX_OSERR: no run directory, lock or self-pipe
        static let cannotRecord: Int32 = 74  // EX_IOERR: exit.json could not be written
    }

    /// Signals routed into the self-pipe. SIGTERM, SIGINT, SIGHUP: stop request. SIGUSR1:
    /// forward the signal named in `signal`. SIGCHLD: something below the shim exited.
    private static let handledSignals = [SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1]

    static func main() -> Int32 {
        let options: ShimOptions
        do {
            options = try ShimOptions.parse(argc: Int(CommandLine.argc), argv: CommandLine.unsafeArgv)
        } catch {
            Posix.printError("stint-shim: \(error.problem); \(ShimOptions.usage)")
            return Status.usage
        }

        becomeIndependent()

        let runDirectory: RunDirectory
        switch RunDirectory.open(options.runDirectory) {
        case .success(let opened): runDirectory = opened
        case .failure(let error):
            Posix.printError("stint-shim: cannot open run directory '\(String(cString: options.runDirectory))': \(error.text)")
            return Status.cannotSetUp
        }
        if let error = runDirectory.holdLock() {
            Posix.printError("stint-shim: cannot lock the run directory: \(error.text)")
            return Status.cannotSetUp
        }
        // Before spawning, so not even the quickest child's SIGCHLD can be missed.
        let signals: SignalPipe
        switch SignalPipe.install(handledSignals) {
        case .success(let installed): signals = installed
        case .failure(let error):
            Posix.printError("stint-shim: cannot create the signal pipe: \(error.text)")
            return Status.cannotSetUp
        }

        let capture: OutputCapture
        do {
            capture = try OutputCapture(logPath: options.logPath, cap: options.outputCap)
        } catch {
            let message = "stint: cannot open log '\(String(cString: options.logPath))': \(error.text)"
            return recordLaunchError(message, startedAt: Timestamp.now(), capture: nil, runDirectory: runDirectory)
        }

        // One pipe for both stdout and stderr, so the log keeps their relative order.
        // Only the shim's end is non-blocking; the job's end stays an ordinary blocking pipe.
        let outputReadEnd: Int32
        let outputWriteEnd: Int32
        switch Posix.makePipe(nonBlockingReadEnd: true, nonBlockingWriteEnd: false) {
        case .success(let ends): (outputReadEnd, outputWriteEnd) = ends
        case .failure(let error):
            let message = "stint: cannot run '\(options.commandName)': \(error.text)"
            return recordLaunchError(message, startedAt: Timestamp.now(), capture: capture, runDirectory: runDirectory)
        }

        let startedAt = Timestamp.now()
        let startedMonotonic = MonotonicClock.now()
        let spawned = Launcher.spawn(
            options.command, workingDirectory: options.workingDirectory, outputWriteEnd: outputWriteEnd)
        // The shim must not hold a write end, or the pipe would never reach end of file.
        close(outputWriteEnd)
        let childPID: pid_t
        switch spawned {
        case .success(let pid): childPID = pid
        case .failure(let failure):
            close(outputReadEnd)
            return recordLaunchError(failure.message, startedAt: startedAt, capture: capture, runDirectory: runDirectory)
        }

        // Not fsynced: after a machine crash the pids mean nothing anyway. A failure is not
        // fatal: the job runs and the exit record still comes.
        _ = runDirectory.writeAtomically("pid", "\(getpid()) \(childPID)\n", durable: false)

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
            outputBytes: capture.totalBytes, droppedBytes: capture.droppedBytes, message: nil)
        return write(record, to: runDirectory)
    }

    /// Cuts the ties to the daemon, so the shim and its job carry on if the daemon dies.
    private static func becomeIndependent() {
        // Descriptors the daemon leaked without close-on-exec (a listening socket, say) must
        // not be kept alive by a shim that may outlive the daemon by days.
        closefrom(3)
        // Make sure 0, 1 and 2 are open (to /dev/null) so that no pipe or file the shim opens
        // later lands on a standard descriptor number by accident.
        while true {
            let fd = open("/dev/null", O_RDWR | O_CLOEXEC)
            if fd < 0 { break }
            if fd > 2 {
                close(fd)
                break
            }
            // Close-on-exec is fine on these placeholders: the job's 0, 1 and 2 are set up by
            // the spawn file actions.
        }
        // The daemon spawns the shim as a session leader already (EPERM then); harmless.
        _ = setsid()
        setChildSubreaper()
    }

    /// prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants (double-forked daemons) are
    /// re-parented to the shim instead of init, so the shim can find, kill and wait for them.
    ///
    /// prctl is variadic in C and Swift does not import variadic functions, so it is looked up
    /// with dlsym and called through a fixed-argument pointer, which matches the calling
    /// convention for integer arguments on Linux's x86-64 and arm64 ABIs.
    private static func setChildSubreaper() {
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        let prSetChildSubreaper: Int32 = 36  // <linux/prctl.h>, not exposed by the Glibc module
        guard let symbol = dlsym(nil, "prctl") else { return }
        _ = unsafeBitCast(symbol, to: Prctl.self)(prSetChildSubreaper, 1, 0, 0, 0)
    }

    /// The peak resident set of the largest reaped descendant (ru_maxrss is in KiB on Linux).
    private static func peakChildRSS() -> UInt64 {
        var usage = rusage()
        guard getrusage(RUSAGE_CHILDREN.rawValue, &usage) == 0 else { return 0 }
        return UInt64(max(0, usage.ru_maxrss)) * 1024
    }

    /// The command never started: say why in the log (if there is one) and the exit record.
    private static func recordLaunchError(
        _ message: String, startedAt: Timestamp, capture: OutputCapture?, runDirectory: RunDirectory
    ) -> Int32 {
        capture?.note(message)
        capture?.finish()
        let record = ExitRecord(
            reason: .launchError, exitCode: nil, signal: nil, startedAt: startedAt, endedAt: Timestamp.now(),
            pid: nil, peakRSSBytes: 0, outputBytes: 0, droppedBytes: 0, message: message)
        return write(record, to: runDirectory)
    }

    /// Writes exit.json durably; it is the one thing the daemon must be able to rely on.
    private static func write(_ record: ExitRecord, to runDirectory: RunDirectory) -> Int32 {
        if let error = runDirectory.writeAtomically("exit.json", record.json, durable: true) {
            Posix.printError("stint-shim: cannot write exit.json: \(error.text)")
            return Status.cannotRecord
        }
        return Status.success
    }
}
