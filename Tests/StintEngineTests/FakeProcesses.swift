import Foundation
import StintCore
import StintEngine
import StintRunner
import StintStore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A ``ProcessSupervisor`` without processes: an attempt "runs" from its launch until the
/// test ends it with ``exit(_:code:reason:)`` or ``die(_:)``, and the test says what a
/// restarted daemon finds (``found``). Output goes to real (usually absent) log files in the
/// fixture's state folder, so the engine reads logs as it does in the daemon.
final class FakeProcesses: ProcessSupervisor {
    struct State {
        var nextPid: Int32 = 10_000
        /// Every launch, in order.
        var launched: [ClaimedJob] = []
        /// Attempts whose "process" runs now, with its pid.
        var running: [AttemptID: Int32] = [:]
        /// The most attempts that ran at once.
        var mostAtOnce = 0
        var watchers: [AttemptID: @Sendable (ShimExitStatus?) -> Void] = [:]
        /// Watched attempts, with the pid they were watched by.
        var watched: [AttemptID: Int32] = [:]
        var records: [AttemptID: AttemptOutcome] = [:]
        /// What a restarted daemon finds for an attempt; default: `.running` while it runs, else `.gone`.
        var found: [AttemptID: FoundProcess] = [:]
        var stops: [AttemptID] = []
        var signals: [(AttemptID, Int32)] = []
        var discarded: [AttemptID] = []
        var removed: [Int64] = []
        var preflights: [String] = []
        /// Whether an attempt asked to stop ends at once as `cancelled`, as a shim does.
        var exitOnStop = true
        /// The error the next launches throw, if any.
        var launchError: StintError?
        /// What every preflight returns.
        var preflightResult: (passed: Bool, reason: String?) = (true, nil)
    }

    let state = Mutex(State())
    private let paths: StintPaths
    private let clock: any StintClock

    init(paths: StintPaths, clock: any StintClock) {
        self.paths = paths
        self.clock = clock
    }

    /// The state now (a copy).
    var now: State { state.withLock { $0 } }

    // MARK: - Driving it from a test

    /// Ends `attempt` as its shim would: the exit record, then the exit the watcher sees.
    func exit(_ attempt: AttemptID, code: Int = 0, reason: AttemptReason = .exited) {
        let endedAt = clock.now()
        let outcome = AttemptOutcome(
            reason: reason, exitCode: reason == .exited ? code : nil, startedAt: endedAt.addingTimeInterval(-1),
            endedAt: endedAt)
        end(attempt, record: outcome, status: ShimExitStatus(raw: 0))
    }

    /// Ends `attempt` without an exit record, as a shim killed by SIGKILL.
    func die(_ attempt: AttemptID) {
        end(attempt, record: nil, status: ShimExitStatus(raw: SIGKILL))
    }

    private func end(_ attempt: AttemptID, record: AttemptOutcome?, status: ShimExitStatus) {
        let watcher = state.withLock { state -> (@Sendable (ShimExitStatus?) -> Void)? in
            state.running[attempt] = nil
            if let record { state.records[attempt] = record }
            return state.watchers.removeValue(forKey: attempt)
        }
        // Outside the lock, as a watcher's thread calls it.
        watcher?(status)
    }

    /// Marks `attempt` as running as `pid`, for a daemon to find after its restart.
    func keepRunning(_ attempt: AttemptID, pid: Int32) {
        state.withLock {
            $0.running[attempt] = pid
            $0.found[attempt] = .running(pid: pid)
        }
    }

    /// Writes `text` to `attempt`'s log, as its command's output.
    func write(_ text: String, to attempt: AttemptID) throws {
        let path = paths.log(job: attempt.job, attempt: attempt.attempt)
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
    }

    // MARK: - ProcessSupervisor

    func launch(_ job: ClaimedJob) throws -> Int32 {
        try state.withLock { state in
            if let error = state.launchError { throw error }
            state.nextPid += 1
            let id = AttemptID(job: job.id, attempt: job.attempt)
            state.launched.append(job)
            state.running[id] = state.nextPid
            state.mostAtOnce = max(state.mostAtOnce, state.running.count)
            return state.nextPid
        }
    }

    func watch(_ attempt: AttemptID, pid: Int32, onExit: @escaping @Sendable (ShimExitStatus?) -> Void) {
        let gone = state.withLock { state -> Bool in
            state.watched[attempt] = pid
            guard state.running[attempt] != nil else { return true }
            state.watchers[attempt] = onExit
            return false
        }
        if gone { onExit(nil) }
    }

    func find(_ attempt: AttemptID) async -> FoundProcess {
        state.withLock { state in
            let found = state.found[attempt] ?? (state.running[attempt].map { .running(pid: $0) } ?? .gone)
            // A real supervisor removes a never-started attempt's folder as it finds it.
            if found == .neverStarted { state.discarded.append(attempt) }
            return found
        }
    }

    func isAlive(_ attempt: AttemptID) -> Bool { state.withLock { $0.running[attempt] != nil } }

    func recordedPid(_ attempt: AttemptID) -> Int32? { state.withLock { $0.watched[attempt] } }

    func exitRecord(_ attempt: AttemptID) throws -> AttemptOutcome? { state.withLock { $0.records[attempt] } }

    func endLeftovers(_ attempt: AttemptID, pid: Int32?, missing: String) async -> LostAttempt {
        let report = LeftoverProcesses.Report(killed: [], survivors: [])
        return LostAttempt(message: missing + "; " + report.summary, report: report)
    }

    func stop(_ attempt: AttemptID, pid: Int32, grace: Double?) throws {
        let exitNow = try state.withLock { state -> Bool in
            guard state.running[attempt] != nil else { throw StintError(.conflict, "attempt \(attempt) is gone") }
            state.stops.append(attempt)
            return state.exitOnStop
        }
        if exitNow { exit(attempt, reason: .cancelled) }
    }

    func signal(_ attempt: AttemptID, pid: Int32, signal: Int32) throws {
        try state.withLock { state in
            guard state.running[attempt] != nil else { throw StintError(.conflict, "attempt \(attempt) is gone") }
            state.signals.append((attempt, signal))
        }
    }

    func isStopDeferred(_ attempt: AttemptID) -> Bool { false }

    func log(_ attempt: AttemptID, cap: Int64) -> LogReader {
        LogReader(path: paths.log(job: attempt.job, attempt: attempt.attempt), cap: cap)
    }

    func runPreflight(_ command: String, queue: String, timeout: Double) async -> (passed: Bool, reason: String?) {
        state.withLock { state in
            state.preflights.append(queue)
            return state.preflightResult
        }
    }

    func removeFiles(ofJob job: Int64) { state.withLock { $0.removed.append(job) } }
}
