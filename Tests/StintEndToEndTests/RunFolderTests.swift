import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The shim imports nothing of ours and spells its run folder's file names itself:
/// these tests pin them to `RunFolder`, the names the daemon and the CLI read.
@Suite("Run folder names")
struct RunFolderTests {
    @Test("a shim writes only files RunFolder names, and the lock, the pids, the exit record and adopted orphans under those names")
    func shimNames() throws {
        let harness = try StintHarness(start: false)
        let shim = (harness.binary as NSString).deletingLastPathComponent + "/stint-shim"
        let folder = harness.home + "/run/1.1"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: shim)
        // A double-forked orphan outlives its parent, so the shim adopts it as subreaper.
        process.arguments = [
            "--run-dir", folder, "--log", harness.home + "/1.1.log", "--output-cap", "0", "--",
            "/bin/sh", "-c", "(sleep 2.5 &); sleep 1.5",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: folder))
        #expect(names.isSubset(of: RunFolder.all), "unknown names: \(names.subtracting(RunFolder.all))")
        for name in [RunFolder.lock, RunFolder.pids, RunFolder.exitRecord, RunFolder.adopted] {
            #expect(names.contains(name), "no \(name) in \(names)")
        }
        #expect(!names.contains(RunFolder.exitRecordTemporary), "the temporary record was renamed")
    }

    /// Runs the shim on `folder` with a command that creates `marker`, returning the process.
    static func startShim(_ harness: StintHarness, folder: String, marker: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: (harness.binary as NSString).deletingLastPathComponent + "/stint-shim")
        process.arguments = [
            "--run-dir", folder, "--log", harness.home + "/1.1.log", "--output-cap", "0", "--",
            "/bin/sh", "-c", "touch '\(marker)'",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Waits up to 10 s for `shim` to exit, killing it after: a shim that ran its command in a
    /// deleted folder would keep retrying its exit record for an hour.
    static func exitStatus(of shim: Process) -> Int32? {
        for _ in 0..<200 where shim.isRunning { usleep(50_000) }
        guard !shim.isRunning else {
            kill(shim.processIdentifier, SIGKILL)
            shim.waitUntilExit()
            return nil
        }
        return shim.terminationStatus
    }

    @Test("a shim that starts late, after the daemon removed the never-started attempt's folder under its lock, runs nothing")
    func lateShim() throws {
        let harness = try StintHarness(start: false)
        let folder = harness.home + "/run/1.1"
        let marker = harness.home + "/ran"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // What a restarted daemon does with a claim that never started: take the lock itself…
        let lock = open(folder + "/" + RunFolder.lock, O_RDWR | O_CREAT | O_EXCL, 0o600)
        try #require(lock >= 0)
        #expect(flock(lock, LOCK_EX | LOCK_NB) == 0)
        let shim = try Self.startShim(harness, folder: folder, marker: marker)
        // …while the late shim opens the folder and waits for the lock…
        usleep(300_000)
        // …then remove the folder and let go.
        try FileManager.default.removeItem(atPath: folder)
        close(lock)
        #expect(Self.exitStatus(of: shim) == 71, "the shim gave up, as when it cannot lock its folder")
        #expect(!FileManager.default.fileExists(atPath: marker), "the command ran")
    }

    @Test("a shim never runs a command in a folder another shim already used")
    func usedFolder() throws {
        let harness = try StintHarness(start: false)
        let marker = harness.home + "/ran"
        for name in [RunFolder.pids, RunFolder.exitRecord] {
            let folder = harness.home + "/run/\(name)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: folder + "/" + name, contents: Data("1 2 3 4\n".utf8))
            let shim = try Self.startShim(harness, folder: folder, marker: marker)
            #expect(Self.exitStatus(of: shim) == 71, "\(name)")
            #expect(!FileManager.default.fileExists(atPath: marker), "the command ran beside \(name)")
        }
    }
}
