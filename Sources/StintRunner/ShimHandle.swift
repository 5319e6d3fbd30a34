public import Foundation
import StintCore

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's view of one attempt's shim, through the files in its run folder.
///
/// The shim holds an exclusive `flock` on `RUN_DIR/lock` for its whole life, so
/// liveness is tested by trying that lock — immune to pid reuse.
public struct ShimHandle: Sendable, Hashable {
    /// The attempt's run folder.
    public var runDirectory: String

    /// Creates a handle.
    public init(runDirectory: String) { self.runDirectory = runDirectory }

    /// Whether a shim still holds this attempt's lock.
    public var isAlive: Bool {
        let fd = open(RunFolder.path(runDirectory, RunFolder.lock), O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }

    /// The shim's and the command's pids, from `RUN_DIR/pid`, once the command started.
    public var pids: (shim: Int32, command: Int32)? {
        processes.map { ($0.shimPid, $0.commandPid) }
    }

    /// Who the job's processes are, from `RUN_DIR/pid`, once the command started.
    public var processes: JobProcesses? {
        guard let text = try? String(contentsOfFile: RunFolder.path(runDirectory, RunFolder.pids), encoding: .utf8) else {
            return nil
        }
        let parts = text.split(whereSeparator: \.isWhitespace)
        // "SHIM COMMAND" from shims before the start times were recorded; "SHIM COMMAND
        // SHIM_START COMMAND_START" since (0: unknown).
        guard parts.count == 2 || parts.count == 4, let shim = Int32(parts[0]), let command = Int32(parts[1])
        else { return nil }
        func start(_ index: Int) -> String? {
            guard parts.count == 4, parts[index] != "0" else { return nil }
            return String(parts[index])
        }
        return JobProcesses(
            shimPid: shim, shimStart: start(2), commandPid: command, commandStart: start(3), adopted: adopted)
    }

    /// When `RUN_DIR/pid` was written, if it was.
    public var processesRecordedAt: Date? {
        (try? FileManager.default.attributesOfItem(atPath: RunFolder.path(runDirectory, RunFolder.pids)))?[.modificationDate] as? Date
    }

    /// `RUN_DIR/adopted`: "PID START" per line, for each orphan the shim adopted.
    private var adopted: [Int32: String] {
        guard let text = try? String(contentsOfFile: RunFolder.path(runDirectory, RunFolder.adopted), encoding: .utf8) else { return [:] }
        var result: [Int32: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            // A line cut short by a crash of the shim mid-write is skipped.
            guard parts.count == 2, let pid = Int32(parts[0]), UInt64(parts[1]) != nil else { continue }
            result[pid] = String(parts[1])
        }
        return result
    }

    /// Whether the launcher created this attempt's run folder: it does so before it starts the
    /// shim, so a claimed attempt without one never started.
    public var exists: Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: runDirectory, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Whether no shim ever ran for this attempt, for a daemon that finds it claimed but not
    /// running after a restart (it stopped between the claim and the shim's start). If so,
    /// the folder is removed, so that the attempt can be claimed again under its number.
    ///
    /// Decided without guessing how long a shim may take to start: the daemon creates `lock`
    /// itself (exclusively, so no shim had) and holds it while it removes the folder. A shim
    /// that starts late then finds no folder, or waits for the lock and finds its file
    /// deleted, and runs nothing (the shim's `RunDirectory.holdLock`). A `lock` a shim made,
    /// or one a shim holds, means a shim ran: not "never started".
    public func removeIfNeverStarted() -> Bool {
        guard exists else { return true }
        if [RunFolder.pids, RunFolder.exitRecord].contains(where: { access(runDirectory + "/" + $0, F_OK) == 0 }) {
            return false
        }
        let fd = open(RunFolder.path(runDirectory, RunFolder.lock), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return false }
        try? FileManager.default.removeItem(atPath: runDirectory)
        return !exists
    }

    /// Whether the shim put off a stop or timeout because a `stint critical` step of the job
    /// is running: `RUN_DIR/stop-deferred` exists from the request until the termination
    /// begins.
    public var stopDeferred: Bool {
        access(RunFolder.path(runDirectory, RunFolder.stopDeferred), F_OK) == 0
    }

    /// The exit record, once the shim wrote it.
    public func exitRecord() throws -> ExitRecord? {
        try ExitRecord.read(runDirectory: runDirectory)
    }

    /// Asks the shim to cancel: SIGTERM to the job's tree, SIGKILL after `grace` seconds.
    /// The shim escalates by itself, so the job stays bounded even if the daemon dies.
    public func stop(shimPid: Int32, grace: Double) throws {
        try write(String(grace), to: RunFolder.stop)
        guard kill(shimPid, SIGTERM) == 0 else { throw Self.signalError(shimPid) }
    }

    /// Asks the shim to send `signal` to every process of the job's tree.
    public func forward(signal: Int32, shimPid: Int32) throws {
        try write(String(signal), to: RunFolder.signal)
        guard kill(shimPid, SIGUSR1) == 0 else { throw Self.signalError(shimPid) }
    }

    private func write(_ text: String, to name: String) throws {
        let temporary = "\(runDirectory)/\(name).tmp"
        try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary, "\(runDirectory)/\(name)") == 0 else {
            throw StintError(.internal, "cannot write \(runDirectory)/\(name)")
        }
    }

    private static func signalError(_ pid: Int32) -> StintError {
        StintError(.conflict, "the job's shim (pid \(pid)) is gone: \(String(cString: strerror(errno)))")
    }
}
