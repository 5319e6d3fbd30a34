import Foundation
import StintCore
import Testing

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
}
