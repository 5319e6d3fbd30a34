import Foundation
import GRDB
import StintCore
import Testing

@testable import StintStore

/// Rows the engine cannot process, and claims that never started: the store must neither
/// throw for every job because of one row, nor lose a job, nor spend its retries.
@Suite("Damaged rows and undone claims")
final class DamagedRowTests: Sendable {
    let directory: URL
    let store: JobLedger
    let sqlite: SQLiteJobStore

    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("stint-damaged-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        sqlite = try SQLiteJobStore(path: directory.appendingPathComponent("stint.db").path)
        store = JobLedger(sqlite)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    static func spec(_ argv: [String] = ["true"], retries: Int? = nil, session: String? = nil) -> JobSpec {
        JobSpec(argv: argv, cwd: "/tmp", env: ["PATH": "/bin"], session: session, retries: retries)
    }

    static func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    /// Writes `sql` straight into the database file, as a damaged or hand-edited row would be.
    func plant(_ sql: String, _ arguments: StatementArguments = StatementArguments()) async throws {
        try await sqlite.pool.write { db in try db.execute(sql: sql, arguments: arguments) }
    }

    @Test("a job whose argv is not JSON still lists and shows, and the claim fails it with the reason")
    func undecodableArgvIsFailedByTheClaim() async throws {
        let ids = try await store.insertIDs([Self.spec(["echo", "bad"]), Self.spec(["echo", "good"])], now: Self.t0)
        try await plant("UPDATE jobs SET argv = 'not json' WHERE id = ?", [ids[0]])

        let listed = try await store.list(JobFilter())
        #expect(listed.map(\.id) == ids)
        #expect(listed[0].damage?.contains("does not decode") == true)
        #expect(listed[1].damage == nil)

        let result = try await store.claim(limit: 2, host: "box", now: Self.at(1))
        #expect(result.claimed.map(\.id) == [ids[1]])
        #expect(result.claimed.first?.spec.argv == ["echo", "good"])
        #expect(result.failed.map(\.job.id) == [ids[0]])
        let bad = try #require(try await store.job(ids[0]))
        #expect(bad.state == .failed)
        #expect(bad.attemptCount == 0)
        #expect(bad.endReason?.contains("does not decode") == true)
        // Failed once: the next claim neither fails it again nor starts it.
        let again = try await store.claim(limit: 2, host: "box", now: Self.at(2))
        #expect(again.failed.isEmpty)
        #expect(again.claimed.isEmpty)
    }

    @Test("a value of the wrong type (text in a number column) does not trap a list or a claim")
    func wrongTypeIsDamageNotATrap() async throws {
        let ids = try await store.insertIDs([Self.spec(), Self.spec()], now: Self.t0)
        try await plant("UPDATE jobs SET timeout = 'soon' WHERE id = ?", [ids[0]])
        #expect(try await store.list(JobFilter()).map { $0.damage != nil } == [true, false])
        let result = try await store.claim(limit: 2, host: "box", now: Self.at(1))
        #expect(result.claimed.map(\.id) == [ids[1]])
        #expect(result.failed.map(\.job.id) == [ids[0]])
    }

    @Test("runningAttempts returns a damaged running job with its damage instead of throwing")
    func runningAttemptsWithADamagedRow() async throws {
        let ids = try await store.insertIDs([Self.spec(), Self.spec()], now: Self.t0)
        _ = try await store.claim(limit: 2, host: "box", now: Self.at(1))
        try await plant("UPDATE jobs SET labels = '{' WHERE id = ?", [ids[0]])
        try await plant("UPDATE environments SET json = 'nope'")
        let running = try await store.runningAttempts()
        #expect(running.map(\.id) == ids)
        #expect(running[0].damage?.contains("does not decode") == true)
        #expect(running[1].damage?.contains("environment") == true)
    }

    @Test("failUnprocessable closes the open attempt as lost and fails the job with the reason, once")
    func failUnprocessable() async throws {
        let id = try await store.insertIDs([Self.spec(session: "s1")], now: Self.t0)[0]
        _ = try await store.claim(limit: 1, host: "box", now: Self.at(1))
        let result = try await store.failUnprocessable(job: id, attempt: 1, reason: "cannot be stored", now: Self.at(2))
        #expect(result.job.state == .failed)
        #expect(result.job.endReason == "cannot be stored")
        #expect(result.job.attempts.first?.outcome?.reason == .lost)
        #expect(result.job.attempts.first?.outcome?.message == "cannot be stored")
        #expect(result.notifications.map(\.job) == [id])
        #expect(try await store.runningAttempts().isEmpty)
        // An ended job stays as it ended.
        let again = try await store.failUnprocessable(job: id, attempt: 1, reason: "other", now: Self.at(3))
        #expect(again.job.endReason == "cannot be stored")
    }

    @Test("unclaim puts a claimed job back in the queue with its attempt count and retries untouched")
    func unclaim() async throws {
        let id = try await store.insertIDs([Self.spec(retries: 1)], now: Self.t0)[0]
        let first = try await store.claimJobs(limit: 1, host: "box", now: Self.at(1))
        #expect(first.map(\.attempt) == [1])

        let result = try await store.unclaim(job: id, attempt: 1, now: Self.at(2))
        #expect(result.job.state == .queued)
        #expect(result.job.attemptCount == 0)
        #expect(result.job.attempts.isEmpty)
        #expect(try await store.runningAttempts().isEmpty)
        #expect(try await store.events(job: id, queue: nil, limit: 10).contains { $0.kind == "requeued" })

        // Claimed again, it is attempt 1 again, and its retry is still there.
        let second = try await store.claimJobs(limit: 1, host: "box", now: Self.at(3))
        #expect(second.map(\.attempt) == [1])
        let retried = try await store.finish(
            AttemptEnding(
                jobID: id, attempt: 1, outcome: AttemptOutcome(reason: .exited, exitCode: 1, endedAt: Self.at(4)),
                verdict: FailureVerdict(.transient, "exit 1"), retryAt: Self.at(5)))
        #expect(retried.job.state == .queued)
    }

    @Test("unclaim refuses an attempt that is not the job's open latest one")
    func unclaimRefusesOthers() async throws {
        let id = try await store.insertIDs([Self.spec()], now: Self.t0)[0]
        await #expect(throws: StintError.self) { try await self.store.unclaim(job: id, attempt: 1, now: Self.at(1)) }
        _ = try await store.claimJobs(limit: 1, host: "box", now: Self.at(1))
        _ = try await store.finish(jobID: id, attempt: 1, outcome: AttemptOutcome(reason: .exited, exitCode: 0, endedAt: Self.at(2)), shimPid: nil)
        let error = await #expect(throws: StintError.self) { try await self.store.unclaim(job: id, attempt: 1, now: Self.at(3)) }
        #expect(error?.code == .conflict)
        #expect(try await store.job(id)?.state == .succeeded)
    }
}

extension DamagedRowTests {
    @Test("a damaged queue row takes its defaults instead of stopping every claim")
    func damagedQueueRow() async throws {
        let id = try await store.insertIDs([Self.spec()], now: Self.t0)[0]
        try await plant("UPDATE queues SET concurrency = 'many', breaker_pause = x'00ff' WHERE name = 'default'")
        #expect(try await store.queues(now: Self.at(1), session: nil).map(\.name) == ["default"])
        #expect(try await store.claimJobs(limit: 1, host: "box", now: Self.at(1)).map(\.id) == [id])
    }
}

extension DamagedRowTests {
    @Test("a damaged delivery ends permanent with the reason; a damaged notification is left out; the others go on")
    func damagedOutboxRows() async throws {
        let specs = ["a", "b"].map { name in
            var spec = Self.spec(session: "s1")
            spec.notify = "http://127.0.0.1:9/\(name)"
            return spec
        }
        let ids = try await store.insertIDs(specs, now: Self.t0)
        _ = try await store.claim(limit: 2, host: "box", now: Self.at(1))
        for id in ids {
            _ = try await store.finish(
                AttemptEnding(jobID: id, attempt: 1, outcome: AttemptOutcome(reason: .exited, exitCode: 0, endedAt: Self.at(2))))
        }
        try await plant("UPDATE deliveries SET created_at = 'yesterday' WHERE job_id = ?", [ids[0]])
        try await plant("UPDATE notifications SET body = 'not json' WHERE job_id = ?", [ids[0]])

        let due = try await store.dueDeliveries(now: Self.at(100), limit: 10)
        #expect(due.map(\.job) == [ids[1]])
        #expect(try await store.dueDeliveries(now: Self.at(100), limit: 10).map(\.job) == [ids[1]])
        let listed = try await store.deliveries(job: nil, limit: 10)
        #expect(listed.map(\.job) == [ids[1]])
        let status = try await sqlite.pool.read { db in
            try String.fetchOne(db, sql: "SELECT status || ': ' || last_error FROM deliveries WHERE job_id = ?", arguments: [ids[0]])
        }
        #expect(status?.hasPrefix("permanent: the stored delivery does not decode") == true, "\(status ?? "")")
        #expect(try await store.notifications(session: "s1", after: 0, limit: 10).notifications.map(\.job) == [ids[1]])
    }
}

extension DamagedRowTests {
    @Test("counts and events leave out what does not decode instead of trapping")
    func countsAndEvents() async throws {
        let ids = try await store.insertIDs([Self.spec(), Self.spec(), Self.spec()], now: Self.t0)
        _ = try await store.apply(.cancel, to: ids[2], now: Self.at(1))
        try await plant("UPDATE jobs SET state = 5 WHERE id = ?", [ids[0]])
        try await plant("UPDATE events SET kind = x'00ff' WHERE job_id = ?", [ids[2]])
        #expect(try await store.counts(session: nil) == [.queued: 1, .cancelled: 1])
        #expect(try await store.events(job: ids[2], queue: nil, limit: 10).isEmpty)
        #expect(try await store.list(JobFilter()).count == 3)
    }
}
