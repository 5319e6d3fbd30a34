import Foundation
import StintCore
import Testing

@testable import StintStore
import GRDB

/// What only the SQLite backend promises: its file, its mode, its schema, its environment
/// rows and the indexes its claim reads through. Everything else a store does is in the
/// `StoreConformance` suites.
@Suite("SQLiteJobStore")
final class SQLiteJobStoreTests: Sendable {
    let directory: URL
    let path: String
    let store: JobLedger
    let sqlite: SQLiteJobStore

    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    static let env = ["PATH": "/usr/bin:/bin", "HOME": "/home/me", "LD_LIBRARY_PATH": "/opt/lib"]

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("stint-store-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("stint.db").path
        sqlite = try SQLiteJobStore(path: path)
        store = JobLedger(sqlite)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    static func spec(_ argv: [String] = ["true"], env: [String: String] = env) -> JobSpec {
        JobSpec(argv: argv, cwd: "/tmp", env: env)
    }

    /// Runs the sqlite3 CLI on the store's file and returns its trimmed output.
    func sqlite(_ sql: String) throws -> String {
        try SQLite3.run(sql, on: path)
    }

    @Test("location names the file")
    func location() {
        #expect(store.location == "sqlite:" + path)
        #expect(sqlite.path == path)
    }

    @Test("the file is in WAL mode")
    func walMode() throws {
        #expect(try sqlite("PRAGMA journal_mode") == "wal")
    }

    @Test("the connection that commits syncs each commit (synchronous = FULL, not the pool's NORMAL)")
    func writerSyncsEveryCommit() throws {
        #expect(try sqlite.writerSynchronous() == 2)
        let reopened = try SQLiteJobStore(path: path)
        #expect(try reopened.writerSynchronous() == 2)
    }

    @Test("the schema has the three tables")
    func schema() throws {
        #expect(try sqlite("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('jobs','attempts','environments') ORDER BY name")
            == "attempts\nenvironments\njobs")
    }

    @Test("a second store on the same file sees the jobs; reopening does not migrate twice")
    func durability() async throws {
        let ids = try await store.insertIDs([Self.spec(["echo", "one"]), Self.spec(["echo", "two"])], now: Self.t0)
        let second = JobLedger(try SQLiteJobStore(path: path))
        let jobs = try await second.list(JobFilter())
        #expect(jobs.map(\.id) == ids)
        #expect(jobs.map { $0.spec.argv } == [["echo", "one"], ["echo", "two"]])
        let more = try await second.insertIDs([Self.spec()], now: Self.t0)
        #expect(more == [ids[1] + 1])
        #expect(try await store.job(more[0])?.state == .queued)
    }

    // MARK: - Insert

    @Test("many jobs sharing one environment store it once")
    func environmentStoredOnce() async throws {
        let shared = (0..<500).map { Self.spec(["echo", "\($0)"]) }
        let ids = try await store.insertIDs(shared + [Self.spec(env: ["OTHER": "1"])], now: Self.t0)
        #expect(ids.count == 501)
        #expect(try sqlite("SELECT count(*) FROM environments") == "2")
        // A later insert with the same environment reuses the stored row.
        _ = try await store.insertIDs([Self.spec(), Self.spec(env: ["OTHER": "1"])], now: Self.t0)
        #expect(try sqlite("SELECT count(*) FROM environments") == "2")
        #expect(try sqlite("SELECT count(DISTINCT env_id) FROM jobs") == "2")
        #expect(try sqlite("SELECT count(*) FROM jobs") == "503")
    }

    @Test("environments equal up to key order are one environment")
    func environmentKeyOrder() async throws {
        var a: [String: String] = [:]
        var b: [String: String] = [:]
        for i in 0..<50 { a["K\(i)"] = "\(i)" }
        for i in (0..<50).reversed() { b["K\(i)"] = "\(i)" }
        _ = try await store.insertIDs([Self.spec(env: a)], now: Self.t0)
        _ = try await store.insertIDs([Self.spec(env: b)], now: Self.t0)
        #expect(try sqlite("SELECT count(*) FROM environments") == "1")
    }

    // MARK: - The claim's query plan

    @Test("every statement of a claim reads through an index, without sorting")
    func claimUsesIndexes() async throws {
        for index in 0..<200 {
            var spec = Self.spec()
            spec.queue = "q\(index % 10)"
            spec.priority = index % 3
            _ = try await store.insert([spec], now: Self.t0)
        }
        let candidates = try sqlite.queryPlan(ClaimSQL.candidates, arguments: ["q1", 5]).joined(separator: " | ")
        #expect(candidates.contains("USING INDEX jobs_ready (queue=?)"), "\(candidates)")
        #expect(!candidates.contains("TEMP B-TREE"), "\(candidates)")
        let promote = try sqlite.queryPlan(ClaimSQL.promote, arguments: [1]).joined(separator: " | ")
        #expect(promote.contains("USING INDEX jobs_waiting (run_at<?)"), "\(promote)")
        let nextWake = try sqlite.queryPlan(ClaimSQL.nextWake).joined(separator: " | ")
        #expect(nextWake.contains("jobs_waiting"), "\(nextWake)")
        let running = try sqlite.queryPlan(ClaimSQL.runningByQueue).joined(separator: " | ")
        #expect(running.contains("jobs_running"), "\(running)")
        let ready = try sqlite.queryPlan(ClaimSQL.hasReady, arguments: ["q1"]).joined(separator: " | ")
        #expect(ready.contains("USING COVERING INDEX jobs_ready (queue=?)") || ready.contains("USING INDEX jobs_ready (queue=?)"), "\(ready)")
    }
}
