public import Foundation
public import StintCore
public import StintRunner
import StintStore

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's ``ProcessSupervisor``: one `stint-shim` per attempt (StintRunner's
/// ``ShimLauncher``, ``ShimWatcher`` and ``ShimHandle``), and the files it keeps in the
/// state folder's `run/ID.N/` and `logs/`.
public struct ShimSupervisor: ProcessSupervisor {
    /// How shims are started.
    public struct Configuration: Sendable {
        /// The `stint-shim` executable.
        public var shimPath: String
        /// Seconds between SIGTERM and SIGKILL for a timeout, or a stop without `--grace`. Default 10.
        public var killGrace: Double
        /// The umask jobs start with; `nil`: the daemon's own. Default `nil`.
        public var jobUmask: mode_t?

        /// Creates a configuration.
        public init(shimPath: String, killGrace: Double = 10, jobUmask: mode_t? = nil) {
            self.shimPath = shimPath
            self.killGrace = killGrace
            self.jobUmask = jobUmask
        }
    }

    private let paths: StintPaths
    private let configuration: Configuration
    private let launcher: ShimLauncher
    private let watcher = ShimWatcher()

    /// Creates a supervisor for the state folder `paths`.
    public init(paths: StintPaths, configuration: Configuration) {
        self.paths = paths
        self.configuration = configuration
        launcher = ShimLauncher(
            shimPath: configuration.shimPath, paths: paths, killGrace: configuration.killGrace,
            jobUmask: configuration.jobUmask)
    }

    private func handle(_ attempt: AttemptID) -> ShimHandle {
        ShimHandle(runDirectory: paths.runDirectory(job: attempt.job, attempt: attempt.attempt))
    }

    public func launch(_ job: ClaimedJob) throws -> Int32 {
        try launcher.launch(job: job.id, attempt: job.attempt, queue: job.queue, spec: job.spec)
    }

    public func watch(_ attempt: AttemptID, pid: Int32, onExit: @escaping @Sendable (ShimExitStatus?) -> Void) {
        watcher.watch(pid: pid, onExit: onExit)
    }

    /// Liveness is the shim's `flock` on `RUN/lock`, which pid reuse cannot fake; a folder
    /// without a trace of a shim is a claim that never started, removed under a lock that
    /// keeps a late shim from running in it (``ShimHandle/removeIfNeverStarted()``).
    public func find(_ attempt: AttemptID) async -> FoundProcess {
        let handle = handle(attempt)
        if let pid = await Self.livePid(handle) { return .running(pid: pid) }
        if handle.removeIfNeverStarted() { return .neverStarted }
        // A shim that took its lock in this instant.
        if let pid = await Self.livePid(handle) { return .running(pid: pid) }
        return .gone
    }

    /// How long a daemon waits for the pid file of a shim that holds its lock: 10 s.
    static let pidFileWait: Duration = .seconds(10)

    /// The pid of the shim still running in `handle`'s folder, if one is.
    private static func livePid(_ handle: ShimHandle) async -> Int32? {
        guard handle.isAlive else { return nil }
        // A shim writes its pid file right after starting the command; give a shim caught
        // in that instant (on a loaded machine, a long one) up to ``pidFileWait``.
        let clock = ContinuousClock()
        let deadline = clock.now + pidFileWait
        while clock.now < deadline {
            if let pids = handle.pids { return pids.shim }
            guard handle.isAlive, (try? handle.exitRecord()) == nil else { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    public func isAlive(_ attempt: AttemptID) -> Bool { handle(attempt).isAlive }

    public func recordedPid(_ attempt: AttemptID) -> Int32? { handle(attempt).pids?.shim }

    public func exitRecord(_ attempt: AttemptID) throws -> AttemptOutcome? { try handle(attempt).exitRecord()?.outcome }

    public func endLeftovers(_ attempt: AttemptID, pid: Int32?, missing: String) async -> LostAttempt {
        await LostAttempt.investigate(handle(attempt), shimPid: pid, missing: missing)
    }

    public func stop(_ attempt: AttemptID, pid: Int32, grace: Double?) throws {
        try handle(attempt).stop(shimPid: pid, grace: grace ?? configuration.killGrace)
    }

    public func signal(_ attempt: AttemptID, pid: Int32, signal: Int32) throws {
        try handle(attempt).forward(signal: signal, shimPid: pid)
    }

    public func isStopDeferred(_ attempt: AttemptID) -> Bool { handle(attempt).stopDeferred }

    public func log(_ attempt: AttemptID, cap: Int64) -> LogReader {
        LogReader(path: paths.log(job: attempt.job, attempt: attempt.attempt), cap: cap)
    }

    public func runPreflight(_ command: String, queue: String, timeout: Double) async -> (passed: Bool, reason: String?) {
        await PreflightRunner.run(
            command, directory: paths.home, scratch: "\(paths.run)/preflight-\(queue).out", timeout: timeout)
    }

    public func removeFiles(ofJob job: Int64) {
        let manager = FileManager.default
        for folder in [paths.logs, paths.run] {
            let names = (try? manager.contentsOfDirectory(atPath: folder)) ?? []
            for name in names where name.hasPrefix("\(job).") {
                try? manager.removeItem(atPath: "\(folder)/\(name)")
            }
        }
    }
}
