import Foundation
import StintCore
import Testing

@testable import StintRunner

#if canImport(Glibc)
    import Glibc
#endif

/// How a daemon tells, after a restart, a claimed attempt that never started from one whose
/// shim ran: on real folders and locks.
@Suite("ShimHandle: never started")
struct ShimHandleTests {
    /// A fresh folder to stand for `RUN/JOB.ATTEMPT`, not yet created.
    static func folder() -> String {
        NSTemporaryDirectory() + "stint-handle-\(UUID().uuidString)/1.1"
    }

    static func create(_ path: String, with names: [String] = []) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for name in names { _ = FileManager.default.createFile(atPath: path + "/" + name, contents: Data()) }
    }

    @Test("no folder: never started")
    func noFolder() {
        #expect(ShimHandle(runDirectory: Self.folder()).removeIfNeverStarted())
    }

    @Test("a folder without a trace of a shim: never started, and removed")
    func emptyFolder() throws {
        let path = Self.folder()
        try Self.create(path)
        #expect(ShimHandle(runDirectory: path).removeIfNeverStarted())
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("a lock, a pid file or an exit record a shim left: it ran, and the folder stays", arguments: [
        RunFolder.lock, RunFolder.pids, RunFolder.exitRecord,
    ])
    func traces(name: String) throws {
        let path = Self.folder()
        try Self.create(path, with: [name])
        #expect(!ShimHandle(runDirectory: path).removeIfNeverStarted())
        #expect(FileManager.default.fileExists(atPath: path + "/" + name))
        if name != RunFolder.lock {
            #expect(!FileManager.default.fileExists(atPath: path + "/" + RunFolder.lock), "no lock is left behind")
        }
    }

    @Test("a lock a live shim holds: it runs, and the folder stays")
    func heldLock() throws {
        let path = Self.folder()
        try Self.create(path, with: [RunFolder.lock])
        let fd = open(path + "/" + RunFolder.lock, O_RDWR)
        try #require(fd >= 0)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        let handle = ShimHandle(runDirectory: path)
        #expect(handle.isAlive)
        #expect(!handle.removeIfNeverStarted())
        #expect(FileManager.default.fileExists(atPath: path))
    }
}
