import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Secrets stay private: the state folder holds every job's environment and output.
@Suite("State folder privacy")
struct StateFolderTests {
    static func mode(_ path: String) -> mode_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o777 : nil
    }

    @Test("a state folder open to others is refused, with the fix named; it keeps its mode")
    func openFolderRefused() throws {
        let harness = try StintHarness(start: false)
        chmod(harness.home, 0o755)
        let daemon = try harness.run("daemon")
        #expect(daemon.status == 64, "\(daemon.stderr)")
        #expect(daemon.stderr.contains("chmod 700 \(harness.home)"), "\(daemon.stderr)")
        #expect(Self.mode(harness.home) == 0o755)
        #expect(!FileManager.default.fileExists(atPath: harness.home + "/stint.db"))
    }

    @Test("every file the daemon and the shims write is 0600 and every folder 0700; jobs keep the caller's umask")
    func modes() throws {
        let previous = umask(0o022)
        defer { umask(previous) }
        let harness = try StintHarness()
        let made = harness.home + "/made-by-job"
        let id = try harness.add("-p", "--env", "API_KEY=hunter2", "echo out; touch \(made)")
        #expect(try harness.run("wait", String(id)).status == 0)
        #expect(Self.mode(made) == 0o644, "the job's own file follows the daemon's starting umask")
        let manager = FileManager.default
        var checked = 0
        for name in try manager.subpathsOfDirectory(atPath: harness.home) {
            let path = harness.home + "/" + name
            if path == made || name == "daemon.log" { continue }
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            let kind = info.st_mode & S_IFMT
            if kind == S_IFDIR {
                #expect(info.st_mode & 0o777 == 0o700, "\(name) is \(String(info.st_mode & 0o777, radix: 8))")
            } else if kind == S_IFREG || kind == S_IFSOCK {
                #expect(info.st_mode & 0o077 == 0, "\(name) is \(String(info.st_mode & 0o777, radix: 8))")
            }
            checked += 1
        }
        #expect(checked >= 6)
        #expect(Self.mode(harness.home + "/stint.db") == 0o600)
    }
}
