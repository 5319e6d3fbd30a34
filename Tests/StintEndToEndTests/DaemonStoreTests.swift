import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `stint daemon --store URL`: the daemon executable chooses the store.
@Suite("stint daemon --store")
struct DaemonStoreTests {
    @Test("--store sqlite:PATH keeps the jobs in that database (0600), which daemon status names")
    func sqlitePath() throws {
        let stint = try StintHarness(start: false)
        let folder = stint.home + "/elsewhere"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let database = folder + "/jobs.db"
        try stint.startDaemon(parallel: 2, arguments: ["--store", "sqlite:\(database)"])

        let status = try stint.run("daemon", "status", "-o", "json").data(DaemonStatus.self)
        #expect(status.store == "sqlite:\(database)")
        let id = try stint.add("--", "echo", "kept elsewhere")
        #expect(try stint.run("wait", String(id)).status == 0)
        #expect(FileManager.default.fileExists(atPath: database))
        #expect(!FileManager.default.fileExists(atPath: stint.home + "/stint.db"))
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: database)[.posixPermissions] as? Int)
        #expect(mode & 0o077 == 0, "the store is open to others: \(String(mode, radix: 8))")

        // The next daemon, given the same store, has the job.
        #expect(try stint.run("daemon", "stop").status == 0)
        try stint.startDaemon(parallel: 2, arguments: ["--store", "sqlite:\(database)"])
        #expect(try stint.show(id).state == .succeeded)
    }

    @Test("any other --store is a usage error naming the form it takes (exit 64), and no daemon starts")
    func otherStores() throws {
        let stint = try StintHarness(start: false)
        for (url, form) in [
            ("postgres://localhost/stint", "postgres://USER"), ("sqlite:", "sqlite:"), ("/var/lib/stint.db", "sqlite:PATH"),
            ("mysql://me@db/stint", "postgres://USER"),
        ] {
            let result = try stint.run("daemon", "--store", url)
            #expect(result.status == 64, "\(url): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("--store"), "\(url): \(result.stderr)")
            #expect(result.stderr.contains(form), "\(url): \(result.stderr)")
        }
        #expect(try stint.run("daemon", "status").status != 0)
        #expect(try stint.run("daemon", "run", "--help").stdout.contains("--store <URL>"))
    }
}
