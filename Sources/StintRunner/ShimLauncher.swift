public import Foundation
public import StintCore

#if canImport(Glibc)
    import Glibc
#endif

/// Starts `stint-shim` for one attempt. The daemon is never the parent of a job's
/// command: the shim is, in its own session, so the job outlives the daemon.
public struct ShimLauncher: Sendable {
    /// The `stint-shim` executable.
    public var shimPath: String
    /// The state folder layout.
    public var paths: StintPaths
    /// Seconds between SIGTERM and SIGKILL when a timeout fires.
    public var killGrace: Double
    /// The umask jobs start with; `nil`: the daemon's own. Default: `nil`.
    public var jobUmask: mode_t?

    /// Creates a launcher.
    public init(shimPath: String, paths: StintPaths, killGrace: Double = 10, jobUmask: mode_t? = nil) {
        self.shimPath = shimPath
        self.paths = paths
        self.killGrace = killGrace
        self.jobUmask = jobUmask
    }

    /// Finds `stint-shim` beside the running executable, then on `PATH`.
    public static func locateShim(environment: [String: String]) -> String? {
        var candidates: [String] = []
        if let explicit = environment["STINT_SHIM"] { candidates.append(explicit) }
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append((executable as NSString).deletingLastPathComponent + "/stint-shim")
        }
        for dir in (environment["PATH"] ?? "").split(separator: ":") {
            candidates.append("\(dir)/stint-shim")
        }
        return candidates.first { access($0, X_OK) == 0 }
    }

    /// Starts the shim for `job`'s attempt; returns its pid.
    ///
    /// The environment is the job's, plus `STINT_JOB_ID`, `STINT_ATTEMPT`, `STINT_QUEUE` and
    /// `STINT_RUN_DIR` (the run folder as an absolute path, where `stint critical` finds the
    /// lock it shares with the shim), and for a schedule's job `STINT_SCHEDULE` and
    /// `STINT_FIRE_TIME`.
    public func launch(job: Int64, attempt: Int, queue: String, spec: JobSpec) throws -> Int32 {
        let runDir = paths.runDirectory(job: job, attempt: attempt)
        // One mkdir each in the common case (the parents exist); FileManager makes what is missing.
        if mkdir(runDir, 0o777) != 0, errno != EEXIST {
            try FileManager.default.createDirectory(atPath: runDir, withIntermediateDirectories: true)
        }
        if mkdir(paths.logs, 0o777) != 0, errno != EEXIST {
            try FileManager.default.createDirectory(atPath: paths.logs, withIntermediateDirectories: true)
        }
        var arguments = [
            shimPath, "--run-dir", runDir, "--log", paths.log(job: job, attempt: attempt),
            "--output-cap", String(spec.outputCap ?? JobSpec.defaultOutputCap),
            "--kill-grace", String(killGrace), "--cwd", spec.cwd,
        ]
        if let timeout = spec.timeout { arguments += ["--timeout", String(timeout)] }
        if let jobUmask { arguments += ["--umask", String(jobUmask)] }
        arguments.append("--")
        arguments += spec.resolvedArgv
        var environment = spec.env
        environment["STINT_JOB_ID"] = String(job)
        environment["STINT_ATTEMPT"] = String(attempt)
        environment["STINT_QUEUE"] = queue
        // A schedule's job knows its schedule and fire time (its labels under `stint.`).
        if let schedule = spec.labels["stint.schedule"] {
            environment["STINT_SCHEDULE"] = schedule
            environment["STINT_FIRE_TIME"] = spec.labels["stint.fire_time"] ?? ""
        }
        // What a job adds joins its session, whichever way the session was given.
        environment[Session.environmentVariable] = spec.session
        // Absolute: the job runs in its own working directory, not the daemon's.
        environment["STINT_RUN_DIR"] =
            runDir.hasPrefix("/") ? runDir : FileManager.default.currentDirectoryPath + "/" + runDir
        let envp = environment.map { "\($0.key)=\($0.value)" }
        return try Self.spawnDetached(arguments, environment: envp)
    }
}

/// Calls `body` with a NULL-terminated C array of `strings`.
func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    var pointers = strings.map { strdup($0) }
    pointers.append(nil)
    defer { pointers.forEach { free($0) } }
    return body(pointers)
}
