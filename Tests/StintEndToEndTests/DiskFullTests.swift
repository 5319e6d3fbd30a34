import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The state folder on a real, full file system: a small tmpfs mounted on the harness's home.
@Suite("Disk full", .serialized)
struct DiskFullTests {
    /// Whether this process may mount a tmpfs (root, or a user namespace that allows it);
    /// tried once on a scratch folder.
    static let canMount: Bool = {
        let probe = "/tmp/stint-mount-probe-\(getpid())"
        try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
        defer { rmdir(probe) }
        guard (try? run("/bin/mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe)) == 0 else {
            print("DiskFullTests skipped: mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN)")
            return false
        }
        _ = try? run("/bin/umount", probe)
        return true
    }()

    @discardableResult
    static func run(_ arguments: String...) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Writes zeros to `path` until the file system refuses (ENOSPC).
    static func fill(_ path: String) throws {
        let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                try #require(errno == ENOSPC, "filling failed with \(String(cString: strerror(errno)))")
                break
            }
        }
        // The last partial page too: write byte by byte until nothing more fits.
        while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, 1) }) == 1 {}
    }

    /// Moves the database's write-ahead log into the database file and truncates it, with
    /// sqlite3's own checkpoint, so that the next write must find new space: with the disk
    /// full, it cannot. (Otherwise a write may still fit in room the log already holds.)
    static func emptyLog(_ stint: StintHarness) throws {
        let wal = stint.home + "/stint.db-wal"
        for _ in 0..<50 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            process.arguments = ["-cmd", ".timeout 2000", stint.home + "/stint.db", "PRAGMA wal_checkpoint(TRUNCATE);"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            var info = stat()
            if stat(wal, &info) == 0, info.st_size == 0 { return }
            usleep(20_000)
        }
        Issue.record("the write-ahead log could not be truncated")
    }

    @Test(
        "a full disk: add answers E_UNAVAILABLE saying so, a job that ends meanwhile is recorded once space is freed, no restart",
        .enabled(if: DiskFullTests.canMount, "needs mount privileges for a tmpfs"))
    func diskFull() throws {
        let stint = try StintHarness(start: false)
        // The daemon's log and the CLI's captured output stay off the full disk.
        let scratch = "/tmp/stint-disk-full-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        stint.scratch = scratch
        try #require(try Self.run("/bin/mount", "-t", "tmpfs", "-o", "size=6m,mode=0700", "tmpfs", stint.home) == 0)
        defer {
            stint.shutDown()
            _ = try? Self.run("/bin/umount", stint.home)
            rmdir(stint.home)
            try? FileManager.default.removeItem(atPath: scratch)
        }
        try stint.startDaemon(parallel: 2)
        let flag = "/tmp/stint-disk-full-flag-\(UUID().uuidString)"
        defer { unlink(flag) }
        let id = try stint.add("--", "sh", "-c", "until [ -e \(flag) ]; do sleep 0.05; done; exit 7")
        #expect(try stint.eventually { stint.processes(job: id).count >= 2 })
        let waiter = try stint.start(["wait", String(id)])
        let fill = stint.home + "/fill"

        // Full: an add is refused as unavailable, saying why; reads still work.
        try Self.emptyLog(stint)
        try Self.fill(fill)
        let refusal = try stint.run("add", "--hold", "--", "true")
        #expect(refusal.status == 5, "\(refusal.stdout) \(refusal.stderr)")
        #expect(refusal.stderr.contains("disk is full"), "\(refusal.stderr)")
        #expect(try stint.run("ls").status == 0)

        // Full again, from an empty log: the job ends, but its outcome cannot be stored yet,
        // so it is not over: it stays running while the daemon keeps trying.
        unlink(fill)
        try Self.emptyLog(stint)
        try Self.fill(fill)
        #expect(FileManager.default.createFile(atPath: flag, contents: nil))
        #expect(try stint.eventually { stint.daemonLog.contains("cannot record outcome yet") }, "\(stint.daemonLog)")
        #expect(try stint.holds(for: 1) { try stint.show(id).state == .running })

        // Space is freed: the true outcome is stored and the waiter told, with no restart.
        unlink(fill)
        let waited = try waiter.collect()
        #expect(waited.status == 7, "\(waited.stdout) \(waited.stderr)")
        let job = try stint.show(id)
        #expect(job.state == .failed)
        #expect(job.reason == .exited)
        #expect(job.exitCode == 7)
        #expect(stint.daemonLog.contains("recorded an outcome the store could not take before"))
        let after = try stint.add("--", "true")
        #expect(try stint.run("wait", String(after)).status == 0)
    }

    @Test(
        "a shim whose disk was full before it started keeps trying to write its exit record, and writes the truth once space is freed",
        .enabled(if: DiskFullTests.canMount, "needs mount privileges for a tmpfs"))
    func shimRetriesItsExitRecord() throws {
        let folder = "/tmp/stint-shim-full-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try #require(try Self.run("/bin/mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", folder) == 0)
        defer {
            _ = try? Self.run("/bin/umount", folder)
            rmdir(folder)
        }
        let runDirectory = folder + "/run"
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        try Self.fill(folder + "/fill")

        let shim = Process()
        let binary = try StintHarness.locateBinary()
        shim.executableURL = URL(fileURLWithPath: (binary as NSString).deletingLastPathComponent + "/stint-shim")
        shim.arguments = ["--run-dir", runDirectory, "--log", folder + "/job.log", "--output-cap", "0", "--", "sh", "-c", "exit 7"]
        shim.standardOutput = FileHandle.nullDevice
        shim.standardError = FileHandle.nullDevice
        try shim.run()
        defer { if shim.isRunning { kill(shim.processIdentifier, SIGKILL) } }

        // The command is long gone; its record cannot be written, and the shim does not give up.
        let record = runDirectory + "/exit.json"
        let until = Date().addingTimeInterval(1)
        while Date() < until {
            #expect(shim.isRunning && !FileManager.default.fileExists(atPath: record))
            usleep(50_000)
        }

        unlink(folder + "/fill")
        let deadline = Date().addingTimeInterval(10)
        while shim.isRunning, Date() < deadline { usleep(20_000) }
        try #require(!shim.isRunning, "the shim did not write its record after space was freed")
        #expect(shim.terminationStatus == 0)
        let text = try String(contentsOfFile: record, encoding: .utf8)
        #expect(text.contains("\"reason\":\"exited\",\"exit_code\":7,"), "\(text)")
    }
}
