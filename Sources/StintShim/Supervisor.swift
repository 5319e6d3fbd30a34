import Glibc

/// Watches a running job until its whole process tree is gone: copies output into the log,
/// reaps children, enforces the deadline, and carries out stop and signal requests.
///
/// Everything happens on one thread in one poll(2) loop over the output pipe and the signal
/// self-pipe, with a timeout computed from the next timer (deadline, critical-section retry,
/// SIGKILL escalation, kill sweep, or the look for adopted orphans once a second), so the shim
/// sleeps until something actually needs doing.
///
/// A stop or timeout that arrives while a `stint critical` step runs is deferred: the tree is
/// terminated only once the shim holds `critical` exclusively, that is, once every step ended.
final class Supervisor {
    /// How the job ended, as far as the exit record cares.
    struct Outcome {
        /// The command's own wait status (nil only if it somehow was never reaped).
        var childStatus: WaitStatus?
        var stopRequested: Bool
        var deadlineFired: Bool
    }

    /// Progress of terminating the tree (after a timeout or a stop request).
    private enum Termination {
        case notRequested
        /// Wanted while a critical step runs; `critical` is tried again at `retryAt`. The grace
        /// period starts only when the termination begins.
        case deferred(grace: Int64, retryAt: Int64)
        /// SIGTERM sent; SIGKILL follows at `killAt`.
        case graceful(killAt: Int64)
        /// SIGKILL sent; repeated at `nextSweep` to catch anything forked meanwhile.
        case killing(nextSweep: Int64)
    }

    private static let killSweepIntervalNanos: Int64 = 100 * MonotonicClock.nanosPerMillisecond
    /// How often a deferred termination tries `critical` again. A step that ends waits this
    /// long at most for its stop to be carried out (see `stint critical`).
    private static let criticalRetryIntervalNanos: Int64 = 50 * MonotonicClock.nanosPerMillisecond
    /// One read of output, which is also the most output the shim ever holds in memory.
    private static let readChunkBytes = 64 * 1024
    /// Reads allowed when draining a pipe whose writers escaped the tree (see `run`).
    private static let finalDrainReads = 256

    private let childPID: pid_t
    private let tree: ProcessTree
    private let capture: OutputCapture
    private let signals: SignalPipe
    private let runDirectory: RunDirectory
    private let killGraceNanos: Int64
    private let deadline: Int64?

    /// Read end of the command's stdout/stderr pipe; -1 once it reached end of file.
    private var outputReadEnd: Int32
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: readChunkBytes, alignment: 16)
    /// [signal pipe, output pipe]
    private let pollSet = UnsafeMutablePointer<pollfd>.allocate(capacity: 2)

    private var childStatus: WaitStatus?
    /// waitpid reported ECHILD: no process is left anywhere below the shim.
    private var treeGone = false
    private var stopRequested = false
    private var deadlineFired = false
    private var termination = Termination.notRequested
    private let adopted: AdoptedProcesses

    init(
        childPID: pid_t, outputReadEnd: Int32, capture: OutputCapture, signals: SignalPipe,
        runDirectory: RunDirectory, killGraceNanos: Int64, deadline: Int64?
    ) {
        self.childPID = childPID
        self.tree = ProcessTree(shimPID: getpid(), groupID: childPID)
        self.outputReadEnd = outputReadEnd
        self.capture = capture
        self.signals = signals
        self.runDirectory = runDirectory
        self.killGraceNanos = killGraceNanos
        self.deadline = deadline
        self.adopted = AdoptedProcesses(childPID: childPID, runDirectory: runDirectory, now: MonotonicClock.now())
    }

    deinit {
        buffer.deallocate()
        pollSet.deallocate()
    }

    /// Runs until every process below the shim has exited and the output pipe is drained.
    func run() -> Outcome {
        while true {
            if treeGone {
                // Normally the pipe reaches end of file with its last writer. If it is still
                // open, a process outside the tree holds it (one that was handed the descriptor,
                // or ended up under another subreaper); take what is already there and finish
                // rather than wait on a process the shim cannot see.
                drainOutput(maximumReads: Self.finalDrainReads)
                break
            }
            let now = MonotonicClock.now()
            fireDueTimers(now: now)

            pollSet[0] = pollfd(fd: signals.readEnd, events: Int16(POLLIN), revents: 0)
            pollSet[1] = pollfd(fd: outputReadEnd, events: Int16(POLLIN), revents: 0)
            let watched: nfds_t = outputReadEnd >= 0 ? 2 : 1
            if poll(pollSet, watched, pollTimeout(now: now)) < 0 {
                if errno != EINTR { usleep(10_000) }  // cannot really happen; never spin if it does
                continue
            }
            if pollSet[0].revents != 0 { handleSignals() }
            if watched == 2, pollSet[1].revents != 0 { drainOutput(maximumReads: 1) }
        }
        if outputReadEnd >= 0 {
            close(outputReadEnd)
            outputReadEnd = -1
        }
        // The tree ended by itself while its termination waited.
        if case .deferred = termination { runDirectory.clearTerminationDeferred() }
        return Outcome(childStatus: childStatus, stopRequested: stopRequested, deadlineFired: deadlineFired)
    }

    // MARK: - Events

    private func handleSignals() {
        let received = signals.drain()
        if received.contains(SIGTERM) || received.contains(SIGINT) || received.contains(SIGHUP) { requestStop() }
        if received.contains(SIGUSR1) { forwardSignal() }
        if received.contains(SIGCHLD) { reapChildren() }
    }

    /// A stop request: cancel the job, with the grace period from `stop` if the daemon wrote one.
    private func requestStop() {
        stopRequested = true
        requestTermination(grace: runDirectory.stopGraceNanos() ?? killGraceNanos, now: MonotonicClock.now())
    }

    /// Sends the signal named in `signal` to every process of the job (never to the shim).
    private func forwardSignal() {
        guard !treeGone, let signal = runDirectory.signalToForward() else { return }
        tree.signalAll(signal, groupLeaderUnreaped: childStatus == nil)
    }

    /// Collects every exited child. The command's own status is kept; the others are orphans
    /// that were re-parented to the shim. ECHILD means nothing is left below the shim at all.
    private func reapChildren() {
        while true {
            var status: Int32 = 0
            // __WALL: also wait for children created by clone() with an unusual exit signal,
            // so that ECHILD really means "no children of any kind".
            let pid = waitpid(-1, &status, WNOHANG | __WALL)
            if pid > 0 {
                if pid == childPID { childStatus = WaitStatus(raw: status) }
                continue
            }
            if pid < 0 {
                if errno == EINTR { continue }
                if errno == ECHILD { treeGone = true }
            }
            return
        }
    }

    /// Reads up to `maximumReads` chunks of output without blocking. The main loop reads one
    /// chunk per wake-up, so a job that never stops writing cannot starve signal handling.
    private func drainOutput(maximumReads: Int) {
        for _ in 0..<maximumReads where outputReadEnd >= 0 {
            let count = read(outputReadEnd, buffer.baseAddress, buffer.count)
            if count > 0 {
                capture.append(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                continue
            }
            if count < 0 && (errno == EINTR || errno == EAGAIN) { return }
            // End of file (every writer is gone), or an error a pipe should never give.
            close(outputReadEnd)
            outputReadEnd = -1
        }
    }

    // MARK: - Termination

    /// Asks for the tree to be terminated: SIGTERM, then SIGKILL after `grace` — at once, or
    /// once the running critical steps have ended. A later request never restarts (extends)
    /// the grace period, but may shorten it, so that a second, impatient stop with a smaller
    /// grace in `stop` takes effect.
    private func requestTermination(grace: Int64, now: Int64) {
        switch termination {
        case .notRequested:
            if runDirectory.excludeCriticalSections() {
                beginTermination(grace: grace, now: now)
            } else {
                runDirectory.noteTerminationDeferred(byStop: stopRequested)
                termination = .deferred(grace: grace, retryAt: now + Self.criticalRetryIntervalNanos)
            }
        case .deferred(let pending, let retryAt):
            // A stop after a deferred timeout: the record will say cancelled, and so does the file.
            runDirectory.noteTerminationDeferred(byStop: stopRequested)
            termination = .deferred(grace: min(pending, grace), retryAt: retryAt)
        case .graceful(let killAt):
            termination = .graceful(killAt: min(killAt, now + grace))
        case .killing:
            break
        }
    }

    /// SIGTERM to the tree now, SIGKILL after `grace`.
    private func beginTermination(grace: Int64, now: Int64) {
        // SIGCONT after SIGTERM, so that a stopped process wakes up to act on the SIGTERM.
        if !treeGone { tree.signalAll(SIGTERM, then: SIGCONT, groupLeaderUnreaped: childStatus == nil) }
        termination = .graceful(killAt: now + grace)
    }

    private func fireDueTimers(now: Int64) {
        if !treeGone, now >= adopted.nextScan { adopted.scan(now: now) }
        if let deadline, !deadlineFired, now >= deadline {
            deadlineFired = true
            requestTermination(grace: killGraceNanos, now: now)
        }
        switch termination {
        case .deferred(let grace, let retryAt):
            guard now >= retryAt else { return }
            if runDirectory.excludeCriticalSections() {
                beginTermination(grace: grace, now: now)
                // Only after the SIGTERM: a `stint critical` that just ended waits for the file
                // to go, so that its caller cannot run on in between.
                runDirectory.clearTerminationDeferred()
            } else {
                termination = .deferred(grace: grace, retryAt: now + Self.criticalRetryIntervalNanos)
            }
        case .graceful(let due), .killing(let due):
            guard now >= due else { return }
            // Sweep again and again until waitpid says nothing is left: a process may have
            // forked between the scan and the kill.
            tree.signalAll(SIGKILL, groupLeaderUnreaped: childStatus == nil)
            termination = .killing(nextSweep: now + Self.killSweepIntervalNanos)
        case .notRequested:
            break
        }
    }

    /// Milliseconds until the next timer (the look for adopted orphans, at least), or -1 (wait
    /// indefinitely) if none is pending.
    private func pollTimeout(now: Int64) -> Int32 {
        var next: Int64? = treeGone ? nil : adopted.nextScan
        if let deadline, !deadlineFired { next = min(next ?? deadline, deadline) }
        switch termination {
        case .deferred(_, let due), .graceful(let due), .killing(let due): next = min(next ?? due, due)
        case .notRequested: break
        }
        guard let next else { return -1 }
        return MonotonicClock.pollTimeout(until: next, now: now)
    }
}
