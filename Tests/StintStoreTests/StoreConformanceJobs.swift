import Foundation
import StintCore
import StintStore
import Testing

/// What every backend must do with jobs and attempts, through ``JobLedger``: run against
/// the backend `STINT_TEST_STORE` names (see ``StoreKind``). Each test gets a fresh
/// instance, and so a new, empty store.
@Suite("StoreConformance: jobs and attempts")
final class StoreConformanceJobs: Sendable {
    let fixture: StoreFixture
    var store: JobLedger { fixture.store }

    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    static let env = ["PATH": "/usr/bin:/bin", "HOME": "/home/me", "LD_LIBRARY_PATH": "/opt/lib"]

    init() async throws {
        fixture = try await StoreFixture()
    }

    // MARK: - Helpers

    static func spec(
        _ argv: [String] = ["true"], env: [String: String] = env, labels: [String: String] = [:],
        session: String? = nil, hold: Bool? = nil
    ) -> JobSpec {
        JobSpec(argv: argv, cwd: "/tmp", env: env, labels: labels, session: session, hold: hold)
    }

    static func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    static func exited(_ code: Int, at seconds: Double = 10) -> AttemptOutcome {
        AttemptOutcome(reason: .exited, exitCode: code, endedAt: at(seconds))
    }

    /// Runs the sqlite3 CLI on the store's file and returns its trimmed output; `nil` when
    /// the backend is not SQLite (the assertions on its rows are then skipped).
    func sqlite(_ sql: String) throws -> String? {
        guard let sqlite = fixture.sqlite else { return nil }
        return try SQLite3.run(sql, on: sqlite.path)
    }

    func insertOne(_ spec: JobSpec = spec(), now: Date = t0) async throws -> Int64 {
        try #require(try await store.insertIDs([spec], now: now).first)
    }

    /// Inserts one job, claims it and returns its id (attempt 1 is running).
    func runningJob(_ spec: JobSpec = spec()) async throws -> Int64 {
        let id = try await insertOne(spec)
        let claimed = try await store.claimJobs(limit: 1, host: "box", now: Self.at(1))
        #expect(claimed.map(\.id) == [id])
        return id
    }

    /// A job that ran once and ended with `outcome`.
    func endedJob(_ outcome: AttemptOutcome, spec: JobSpec = spec()) async throws -> Int64 {
        let id = try await runningJob(spec)
        _ = try await store.finish(jobID: id, attempt: 1, outcome: outcome, shimPid: 100)
        return id
    }

    func state(_ id: Int64) async throws -> JobState? {
        try await store.job(id)?.state
    }

    func expectError(
        _ code: StintError.Code, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> Void
    ) async {
        let error = await #expect(throws: StintError.self, sourceLocation: sourceLocation) {
            try await body()
        }
        #expect(error?.code == code, sourceLocation: sourceLocation)
    }

    // MARK: - Opening

    @Test("the suite runs against the backend STINT_TEST_STORE names")
    func backendUnderTest() {
        #expect(store.location.hasPrefix("\(StoreKind.current.rawValue):"))
    }

    @Test("insert returns increasing ids in order")
    func insertIDs() async throws {
        let first = try await store.insertIDs([Self.spec(), Self.spec(), Self.spec()], now: Self.t0)
        #expect(first == [1, 2, 3])
        let second = try await store.insertIDs([Self.spec()], now: Self.t0)
        #expect(second == [4])
        #expect(try await store.insertIDs([], now: Self.t0) == [])
    }

    @Test("ids are never reused after a delete")
    func idsNotReused() async throws {
        let id = try await endedJob(Self.exited(0))
        try await store.delete(id)
        #expect(try await insertOne() == id + 1)
    }

    @Test("an argv job reads back with every spec field")
    func argvFields() async throws {
        let spec = JobSpec(
            argv: ["make", "-j", "8", "two words"], cwd: "/src", env: ["A": "1", "B_C": "2"],
            labels: ["build": "42", "team": "infra"], session: "agent-7", timeout: 90.5,
            outputCap: 1024, hold: nil)
        let id = try await insertOne(spec, now: Self.at(0.5))
        let job = try #require(try await store.job(id))
        #expect(job.id == id)
        #expect(job.state == .queued)
        #expect(job.queue == "default")
        #expect(job.createdAt == Self.at(0.5))
        #expect(job.endedAt == nil)
        #expect(job.attemptCount == 0)
        #expect(job.attempts.isEmpty)
        #expect(job.spec.argv == ["make", "-j", "8", "two words"])
        #expect(job.spec.shell == nil)
        #expect(job.spec.cwd == "/src")
        #expect(job.spec.env == [:], "job(_:) leaves the environment out")
        #expect(job.spec.labels == ["build": "42", "team": "infra"])
        #expect(job.spec.session == "agent-7")
        #expect(job.spec.timeout == 90.5)
        #expect(job.spec.outputCap == 1024)
        let claimed = try #require(try await store.claimJobs(limit: 1, host: "box", now: Self.at(1)).first)
        #expect(claimed.spec.env == ["A": "1", "B_C": "2"])
        #expect(claimed.spec.argv == spec.argv)
        #expect(claimed.spec.labels == spec.labels)
        #expect(claimed.spec.session == "agent-7")
        #expect(claimed.spec.timeout == 90.5)
        #expect(claimed.spec.outputCap == 1024)
        #expect(claimed.spec.resolvedArgv == ["make", "-j", "8", "two words"])
    }

    @Test("a shell job reads back as a shell job")
    func shellFields() async throws {
        let id = try await insertOne(JobSpec(shell: "echo $HOME | wc -c", cwd: "/", env: ["HOME": "/h"]))
        let job = try #require(try await store.job(id))
        #expect(job.spec.shell == "echo $HOME | wc -c")
        #expect(job.spec.argv == nil)
        #expect(job.spec.displayCommand == "echo $HOME | wc -c")
        #expect(job.spec.timeout == nil)
        #expect(job.spec.session == nil)
        #expect(job.spec.labels == [:])
        let claimed = try #require(try await store.claimJobs(limit: 1, host: "box", now: Self.at(1)).first)
        #expect(claimed.spec.resolvedArgv == ["/bin/sh", "-c", "echo $HOME | wc -c"])
        #expect(claimed.spec.env == ["HOME": "/h"])
    }

    @Test("the output cap defaults to 64 MiB; 0 stays 0")
    func outputCapDefault() async throws {
        let ids = try await store.insertIDs(
            [JobSpec(argv: ["a"], cwd: "/"), JobSpec(argv: ["b"], cwd: "/", outputCap: 0)], now: Self.t0)
        #expect(try await store.job(ids[0])?.spec.outputCap == 64 << 20)
        #expect(try await store.job(ids[1])?.spec.outputCap == 0)
    }

    @Test("hold: true adds the job held; false and nil add it queued")
    func hold() async throws {
        let ids = try await store.insertIDs(
            [Self.spec(hold: true), Self.spec(hold: false), Self.spec(hold: nil)], now: Self.t0)
        #expect(try await state(ids[0]) == .held)
        #expect(try await state(ids[1]) == .queued)
        #expect(try await state(ids[2]) == .queued)
    }

    @Test("concurrent inserts get distinct ids, increasing within each insert")
    func concurrentInserts() async throws {
        let store = self.store
        let ids = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for _ in 0..<10 {
                group.addTask { try await store.insertIDs((0..<20).map { _ in Self.spec() }, now: Self.t0) }
            }
            var all: [Int64] = []
            for try await batch in group {
                // A single writer (SQLite) gives each insert one consecutive block; a server
                // running inserts side by side interleaves them, in order within each.
                #expect(batch == batch.sorted() && Set(batch).count == 20, "one insert's ids increase")
                all += batch
            }
            return all
        }
        #expect(Set(ids).count == 200)
        #expect(Set(ids) == Set(1...200))
    }

    // MARK: - Claim

    @Test("claim takes the oldest queued jobs up to the limit and starts attempt 1")
    func claimOrderAndLimit() async throws {
        let ids = try await store.insertIDs((0..<5).map { Self.spec(["job", "\($0)"]) }, now: Self.t0)
        let first = try await store.claimJobs(limit: 2, host: "box-1", now: Self.at(5))
        #expect(first.map(\.id) == [ids[0], ids[1]])
        for claimed in first {
            #expect(claimed.attempt == 1)
            #expect(claimed.queue == "default")
            #expect(claimed.shimPid == nil)
            #expect(claimed.startedAt == Self.at(5))
            #expect(claimed.spec.env == Self.env)
        }
        #expect(first.map { $0.spec.argv } == [["job", "0"], ["job", "1"]])
        let job = try #require(try await store.job(ids[0]))
        #expect(job.state == .running)
        #expect(job.attemptCount == 1)
        #expect(job.endedAt == nil)
        let attempt = try #require(job.attempts.first)
        #expect(job.attempts.count == 1)
        #expect(attempt.number == 1)
        #expect(attempt.host == "box-1")
        #expect(attempt.startedAt == Self.at(5))
        #expect(attempt.shimPid == nil)
        #expect(attempt.outcome == nil)
        #expect(try await state(ids[2]) == .queued)

        let rest = try await store.claimJobs(limit: 10, host: "box-1", now: Self.at(6))
        #expect(rest.map(\.id) == Array(ids[2...]))
        #expect(try await store.claimJobs(limit: 10, host: "box-1", now: Self.at(7)).isEmpty)
    }

    @Test("claim with a limit of 0 or less claims nothing", arguments: [0, -1])
    func claimZero(limit: Int) async throws {
        let id = try await insertOne()
        #expect(try await store.claimJobs(limit: limit, host: "box", now: Self.t0).isEmpty)
        #expect(try await state(id) == .queued)
    }

    @Test("claim skips held and cancelled jobs")
    func claimSkipsHeld() async throws {
        let ids = try await store.insertIDs(
            [Self.spec(hold: true), Self.spec(), Self.spec(hold: true), Self.spec()], now: Self.t0)
        _ = try await store.applyJob(.cancel, to: ids[3], now: Self.t0)
        let claimed = try await store.claimJobs(limit: 10, host: "box", now: Self.at(1))
        #expect(claimed.map(\.id) == [ids[1]])
        #expect(try await state(ids[0]) == .held)
        #expect(try await state(ids[2]) == .held)
        #expect(try await state(ids[3]) == .cancelled)
        _ = try await store.applyJob(.release, to: ids[2], now: Self.at(2))
        #expect(try await store.claimJobs(limit: 10, host: "box", now: Self.at(3)).map(\.id) == [ids[2]])
    }

    @Test("claim prefers higher priority, then the lowest id")
    func claimPriority() async throws {
        let ids = try await store.insertIDs(
            (0..<4).map { index in
                var spec = Self.spec()
                spec.priority = index >= 2 ? 5 : nil
                return spec
            }, now: Self.t0)
        let claimed = try await store.claimJobs(limit: 3, host: "box", now: Self.at(1))
        #expect(claimed.map(\.id) == [ids[2], ids[3], ids[0]])
    }

    // MARK: - Finish

    @Test(
        "finish moves the job to the state its outcome implies",
        arguments: [
            (AttemptReason.exited, Int?.some(0), JobState.succeeded),
            (.exited, 3, .failed),
            (.exited, nil, .failed),
            (.signal, nil, .failed),
            (.timeout, nil, .failed),
            (.lost, nil, .failed),
            (.launch_error, nil, .failed),
            (.cancelled, nil, .cancelled),
        ])
    func finishState(reason: AttemptReason, exitCode: Int?, state: JobState) async throws {
        let id = try await runningJob()
        let outcome = AttemptOutcome(
            reason: reason, exitCode: exitCode, signal: reason == .signal ? 9 : nil,
            endedAt: Self.at(20), message: reason == .launch_error ? "no such file" : nil)
        let job = try await store.finish(jobID: id, attempt: 1, outcome: outcome, shimPid: 4321)
        #expect(job.state == state)
        #expect(job.endedAt == Self.at(20))
        let stored = try #require(try await store.job(id))
        #expect(stored.state == state)
        #expect(stored.endedAt == Self.at(20))
        let attempt = try #require(stored.attempts.first)
        #expect(attempt.shimPid == 4321)
        let recorded = try #require(attempt.outcome)
        #expect(recorded.reason == reason)
        #expect(recorded.exitCode == exitCode)
        #expect(recorded.signal == outcome.signal)
        #expect(recorded.endedAt == Self.at(20))
        #expect(recorded.message == outcome.message)
        #expect(try await store.runningAttempts().isEmpty)
    }

    @Test("finish records every measurement of the outcome")
    func finishRecordsOutcome() async throws {
        let id = try await runningJob()
        let outcome = AttemptOutcome(
            reason: .exited, exitCode: 3, signal: nil, startedAt: Self.at(1.5), endedAt: Self.at(30),
            peakRssBytes: 123_456_789, outputBytes: 2048, droppedBytes: 512, message: "detail")
        let job = try await store.finish(jobID: id, attempt: 1, outcome: outcome, shimPid: nil)
        let attempt = try #require(job.attempts.first)
        #expect(attempt.startedAt == Self.at(1.5), "the shim's start time replaces the claim time")
        #expect(attempt.shimPid == nil)
        let recorded = try #require(attempt.outcome)
        #expect(recorded.exitCode == 3)
        #expect(recorded.peakRssBytes == 123_456_789)
        #expect(recorded.outputBytes == 2048)
        #expect(recorded.droppedBytes == 512)
        #expect(recorded.message == "detail")
        #expect(recorded.endedAt == Self.at(30))
    }

    @Test("finishing an attempt twice changes nothing the second time")
    func finishTwice() async throws {
        let id = try await runningJob()
        let first = try await store.finish(jobID: id, attempt: 1, outcome: Self.exited(0, at: 10), shimPid: 11)
        #expect(first.state == .succeeded)
        let second = try await store.finish(
            jobID: id, attempt: 1,
            outcome: AttemptOutcome(reason: .lost, endedAt: Self.at(99), message: "late"), shimPid: 22)
        #expect(second == first)
        let stored = try #require(try await store.job(id))
        #expect(stored == first)
        #expect(stored.state == .succeeded)
        #expect(stored.endedAt == Self.at(10))
        #expect(stored.attempts.first?.outcome?.reason == .exited)
        #expect(stored.attempts.first?.outcome?.exitCode == 0)
        #expect(stored.attempts.first?.shimPid == 11)
    }

    @Test("finish of an unknown job or attempt throws not found")
    func finishUnknown() async throws {
        let id = try await runningJob()
        await expectError(.notFound) {
            _ = try await self.store.finish(jobID: 999, attempt: 1, outcome: Self.exited(0), shimPid: nil)
        }
        await expectError(.notFound) {
            _ = try await self.store.finish(jobID: id, attempt: 2, outcome: Self.exited(0), shimPid: nil)
        }
        #expect(try await state(id) == .running)
    }

    @Test("finish of a job that was never claimed throws and changes nothing")
    func finishQueued() async throws {
        let id = try await insertOne()
        await expectError(.notFound) {
            _ = try await self.store.finish(jobID: id, attempt: 1, outcome: Self.exited(0), shimPid: nil)
        }
        #expect(try await state(id) == .queued)
    }

    // MARK: - Apply

    @Test("release moves a held job to queued")
    func release() async throws {
        let id = try await insertOne(Self.spec(hold: true))
        let job = try await store.applyJob(.release, to: id, now: Self.at(3))
        #expect(job.state == .queued)
        #expect(job.endedAt == nil)
        #expect(try await state(id) == .queued)
    }

    @Test("cancel moves a queued or held job to cancelled and records when", arguments: [false, true])
    func cancel(held: Bool) async throws {
        let id = try await insertOne(Self.spec(hold: held))
        let job = try await store.applyJob(.cancel, to: id, now: Self.at(4))
        #expect(job.state == .cancelled)
        #expect(job.endedAt == Self.at(4))
        #expect(job.attemptCount == 0)
        #expect(try await store.job(id) == job)
    }

    @Test("retry of a failed job queues it again; the next claim starts attempt 2")
    func retry() async throws {
        let id = try await endedJob(Self.exited(3))
        #expect(try await state(id) == .failed)
        let job = try await store.applyJob(.retry, to: id, now: Self.at(50))
        #expect(job.state == .queued)
        #expect(job.endedAt == nil)
        #expect(job.attemptCount == 1)
        let claimed = try await store.claimJobs(limit: 1, host: "box-2", now: Self.at(60))
        #expect(claimed.map(\.id) == [id])
        #expect(claimed.first?.attempt == 2)
        #expect(claimed.first?.spec.env == Self.env)
        let stored = try #require(try await store.job(id))
        #expect(stored.state == .running)
        #expect(stored.attemptCount == 2)
        #expect(stored.attempts.map(\.number) == [1, 2])
        #expect(stored.attempts[0].outcome?.exitCode == 3)
        #expect(stored.attempts[1].outcome == nil)
        #expect(stored.attempts[1].host == "box-2")
        let done = try await store.finish(jobID: id, attempt: 2, outcome: Self.exited(0, at: 70), shimPid: nil)
        #expect(done.state == .succeeded)
        #expect(done.endedAt == Self.at(70))
        #expect(done.attempts.map { $0.outcome?.exitCode } == [3, 0])
    }

    @Test("retry works from succeeded and cancelled too")
    func retryFromEveryEnd() async throws {
        let succeeded = try await endedJob(Self.exited(0))
        let cancelled = try await insertOne()
        _ = try await store.applyJob(.cancel, to: cancelled, now: Self.t0)
        #expect(try await store.applyJob(.retry, to: succeeded, now: Self.t0).state == .queued)
        let requeued = try await store.applyJob(.retry, to: cancelled, now: Self.t0)
        #expect(requeued.state == .queued)
        #expect(requeued.endedAt == nil)
        let claimed = try await store.claimJobs(limit: 5, host: "box", now: Self.at(100))
        #expect(claimed.map(\.id) == [succeeded, cancelled])
        #expect(claimed.map(\.attempt) == [2, 1])
    }

    @Test("illegal transitions throw a conflict and change nothing")
    func illegal() async throws {
        let succeeded = try await endedJob(Self.exited(0, at: 10))
        let running = try await runningJob()
        let queued = try await insertOne()
        let held = try await insertOne(Self.spec(hold: true))
        let before = try await store.list(JobFilter())
        let attemptsBefore = try sqlite("SELECT count(*) FROM attempts")

        for (event, id) in [
            (JobEvent.release, queued), (.retry, queued), (.retry, running), (.release, running),
            (.release, succeeded), (.cancel, succeeded), (.retry, held),
        ] {
            await expectError(.conflict) { _ = try await self.store.applyJob(event, to: id, now: Self.at(500)) }
        }
        #expect(try await store.list(JobFilter()) == before)
        if let rows = try sqlite("SELECT count(*) FROM attempts") { #expect(rows == attemptsBefore) }
    }

    @Test("a conflict names the job, its state and the event")
    func conflictMessage() async throws {
        let id = try await insertOne()
        let error = await #expect(throws: StintError.self) {
            _ = try await self.store.applyJob(.release, to: id, now: Self.t0)
        }
        #expect(error?.code == .conflict)
        #expect(error?.message.contains("\(id)") == true)
        #expect(error?.message.contains("queued") == true)
        #expect(error?.code.exitStatus == 9)
    }

    @Test("apply, delete and job on an unknown id")
    func unknownID() async throws {
        #expect(try await store.job(404) == nil)
        for event in JobEvent.allCases {
            await expectError(.notFound) { _ = try await self.store.applyJob(event, to: 404, now: Self.t0) }
        }
        await expectError(.notFound) { try await self.store.delete(404) }
    }

    @Test("apply refuses to cancel a running job; its attempt can still be finished")
    func applyCancelRunning() async throws {
        // Cancelling a running job through apply would mark it cancelled with its attempt
        // still open, and no later `finish` could record the attempt's outcome.
        let id = try await runningJob()
        await expectError(.conflict) { _ = try await self.store.applyJob(.cancel, to: id, now: Self.at(5)) }
        #expect((try? await state(id)) == .running)
        let outcome = AttemptOutcome(reason: .cancelled, signal: 15, endedAt: Self.at(6))
        let finished = try? await store.finish(jobID: id, attempt: 1, outcome: outcome, shimPid: nil)
        #expect(finished?.state == .cancelled)
        #expect(finished?.attempts.first?.outcome?.reason == .cancelled)
        #expect((try? await store.runningAttempts())?.isEmpty == true)
    }

    @Test("apply refuses the engine's own events (start, succeed, fail)")
    func applyEngineEvents() async throws {
        // `start` through apply makes a running job with no attempt, which no shim and no
        // reconciliation will ever end; `succeed`/`fail` end a running job without recording
        // an outcome and leave its attempt open.
        let running = try await runningJob()
        let queued = try await insertOne()
        await expectError(.conflict) { _ = try await self.store.applyJob(.start, to: queued, now: Self.t0) }
        #expect((try? await state(queued)) == .queued)
        await expectError(.conflict) { _ = try await self.store.applyJob(.succeed, to: running, now: Self.t0) }
        await expectError(.conflict) { _ = try await self.store.applyJob(.fail, to: running, now: Self.t0) }
        #expect((try? await state(running)) == .running)
    }

    // MARK: - List

    @Test("list filters by state, session, queue and labels")
    func listFilters() async throws {
        let ids = try await store.insertIDs(
            [
                Self.spec(labels: ["team": "a", "kind": "build"], session: "s1"),
                Self.spec(labels: ["team": "b", "kind": "build"], session: "s1"),
                Self.spec(labels: ["team": "a", "kind": "test"], session: "s2"),
                Self.spec(labels: [:], session: nil, hold: true),
            ], now: Self.t0)
        _ = try await store.claimJobs(limit: 1, host: "box", now: Self.at(1))
        _ = try await store.finish(jobID: ids[0], attempt: 1, outcome: Self.exited(0), shimPid: nil)
        _ = try await store.applyJob(.cancel, to: ids[2], now: Self.at(2))

        func listed(_ filter: JobFilter) async throws -> [Int64] { try await store.list(filter).map(\.id) }
        #expect(try await listed(JobFilter()) == ids)
        #expect(try await listed(JobFilter(states: [.succeeded])) == [ids[0]])
        #expect(try await listed(JobFilter(states: [.queued, .held])) == [ids[1], ids[3]])
        #expect(try await listed(JobFilter(states: [.succeeded, .cancelled, .failed])) == [ids[0], ids[2]])
        #expect(try await listed(JobFilter(states: [.running])) == [])
        #expect(try await listed(JobFilter(session: "s1")) == [ids[0], ids[1]])
        #expect(try await listed(JobFilter(session: "nobody")) == [])
        #expect(try await listed(JobFilter(queue: "default")) == ids)
        #expect(try await listed(JobFilter(queue: "other")) == [])
        #expect(try await listed(JobFilter(labels: ["team": "a"])) == [ids[0], ids[2]])
        #expect(try await listed(JobFilter(labels: ["team": "a", "kind": "build"])) == [ids[0]])
        #expect(try await listed(JobFilter(labels: ["team": "c"])) == [])
        #expect(try await listed(JobFilter(labels: ["missing": "x"])) == [])
        #expect(try await listed(JobFilter(states: [.queued], session: "s1", labels: ["kind": "build"])) == [ids[1]])
    }

    @Test("list with a limit returns the newest jobs in ascending id order")
    func listLimit() async throws {
        let ids = try await store.insertIDs((0..<10).map { _ in Self.spec() }, now: Self.t0)
        #expect(try await store.list(JobFilter(limit: 3)).map(\.id) == Array(ids[7...]))
        #expect(try await store.list(JobFilter(limit: 1)).map(\.id) == [ids[9]])
        #expect(try await store.list(JobFilter(limit: 0)).isEmpty)
        #expect(try await store.list(JobFilter(limit: 100)).map(\.id) == ids)
        #expect(try await store.list(JobFilter()).count == 10)
    }

    @Test("list applies the limit after the filters")
    func listLimitAfterFilter() async throws {
        let ids = try await store.insertIDs(
            (0..<10).map { Self.spec(session: $0 % 2 == 0 ? "even" : "odd") }, now: Self.t0)
        #expect(try await store.list(JobFilter(session: "even", limit: 2)).map(\.id) == [ids[6], ids[8]])
    }

    @Test("list carries only the last attempt and no environment")
    func listLastAttempt() async throws {
        let id = try await endedJob(Self.exited(3, at: 10))
        _ = try await store.applyJob(.retry, to: id, now: Self.at(20))
        _ = try await store.claimJobs(limit: 1, host: "box-2", now: Self.at(30))
        let other = try await insertOne()
        let jobs = try await store.list(JobFilter())
        #expect(jobs.map(\.id) == [id, other])
        let job = jobs[0]
        #expect(job.attemptCount == 2)
        #expect(job.attempts.map(\.number) == [2])
        #expect(job.attempts.first?.host == "box-2")
        #expect(job.attempts.first?.startedAt == Self.at(30))
        #expect(job.attempts.first?.outcome == nil)
        #expect(job.spec.env == [:])
        #expect(job.spec.argv == ["true"])
        #expect(jobs[1].attempts.isEmpty)
    }

    // MARK: - Delete and prune

    @Test("delete refuses jobs that have not ended")
    func deleteRefuses() async throws {
        let running = try await runningJob()
        let queued = try await insertOne()
        let held = try await insertOne(Self.spec(hold: true))
        for id in [queued, held, running] {
            await expectError(.conflict) { try await self.store.delete(id) }
            #expect(try await store.job(id) != nil)
        }
        if let rows = try sqlite("SELECT count(*) FROM attempts") { #expect(rows == "1") }
    }

    @Test("delete removes an ended job with its attempts and its unused environment")
    func deleteEnded() async throws {
        let keep = try await insertOne(Self.spec(env: ["KEEP": "1"], hold: true))
        let id = try await endedJob(Self.exited(1))
        _ = try await store.applyJob(.retry, to: id, now: Self.at(20))
        _ = try await store.claimJobs(limit: 1, host: "box", now: Self.at(21))
        _ = try await store.finish(jobID: id, attempt: 2, outcome: Self.exited(2, at: 22), shimPid: nil)
        if let rows = try sqlite("SELECT count(*) FROM attempts WHERE job_id = \(id)") { #expect(rows == "2") }
        try await store.delete(id)
        #expect(try await store.job(id) == nil)
        if let rows = try sqlite("SELECT count(*) FROM attempts WHERE job_id = \(id)") { #expect(rows == "0") }
        if let rows = try sqlite("SELECT count(*) FROM environments") { #expect(rows == "1") }
        if let rows = try sqlite("SELECT json FROM environments") { #expect(rows == #"{"KEEP":"1"}"#) }
        #expect(try await state(keep) == .held)
        await expectError(.notFound) { try await self.store.delete(id) }
    }

    @Test("delete of each terminal state", arguments: [JobState.succeeded, .failed, .cancelled])
    func deleteTerminal(state: JobState) async throws {
        let id: Int64
        switch state {
        case .succeeded: id = try await endedJob(Self.exited(0))
        case .failed: id = try await endedJob(Self.exited(1))
        default: id = try await endedJob(AttemptOutcome(reason: .cancelled, signal: 15, endedAt: Self.at(10)))
        }
        #expect(try await self.state(id) == state)
        try await store.delete(id)
        #expect(try await store.job(id) == nil)
        if let rows = try sqlite("SELECT count(*) FROM attempts") { #expect(rows == "0") }
        if let rows = try sqlite("SELECT count(*) FROM environments") { #expect(rows == "0") }
    }

    @Test("prune removes only jobs that ended before the cutoff and returns their ids")
    func prune() async throws {
        let early = try await endedJob(Self.exited(0, at: 100))
        let cancelledEarly = try await insertOne()
        _ = try await store.applyJob(.cancel, to: cancelledEarly, now: Self.at(50))
        let late = try await endedJob(Self.exited(1, at: 300))
        let running = try await runningJob()
        let queued = try await insertOne()
        let held = try await insertOne(Self.spec(hold: true))

        let removed = try await store.prune(endedBefore: Self.at(200))
        #expect(removed == [early, cancelledEarly])
        #expect(try await store.job(early) == nil)
        #expect(try await store.job(cancelledEarly) == nil)
        if let rows = try sqlite("SELECT count(*) FROM attempts WHERE job_id = \(early)") { #expect(rows == "0") }
        #expect(try await store.list(JobFilter()).map(\.id) == [late, running, queued, held])

        #expect(try await store.prune(endedBefore: Self.at(200)) == [])
        #expect(try await store.prune(endedBefore: Self.at(1_000_000)) == [late])
        #expect(try await store.list(JobFilter()).map(\.id) == [running, queued, held])
        #expect(try await state(running) == .running)
    }

    @Test("a retried job is not pruned by the end time of its earlier attempt")
    func pruneRetried() async throws {
        let id = try await endedJob(Self.exited(1, at: 100))
        _ = try await store.applyJob(.retry, to: id, now: Self.at(150))
        #expect(try await store.prune(endedBefore: Self.at(1_000_000)) == [])
        #expect(try await state(id) == .queued)
    }

    @Test("prune on an empty store")
    func pruneEmpty() async throws {
        #expect(try await store.prune(endedBefore: Self.at(1_000_000)) == [])
    }

    // MARK: - Running attempts and counts

    @Test("runningAttempts returns exactly the attempts still running, with their environment")
    func runningAttempts() async throws {
        let ids = try await store.insertIDs(
            [Self.spec(env: ["N": "0"]), Self.spec(env: ["N": "1"]), Self.spec(env: ["N": "2"]), Self.spec()],
            now: Self.t0)
        _ = try await store.claimJobs(limit: 3, host: "box", now: Self.at(7))
        _ = try await store.finish(jobID: ids[1], attempt: 1, outcome: Self.exited(0), shimPid: nil)
        let running = try await store.runningAttempts()
        #expect(running.map(\.id) == [ids[0], ids[2]])
        #expect(running.map(\.attempt) == [1, 1])
        #expect(running.map { $0.spec.env } == [["N": "0"], ["N": "2"]])
        #expect(running.map(\.startedAt) == [Self.at(7), Self.at(7)])
        #expect(running.map(\.queue) == ["default", "default"])
        #expect(running.allSatisfy { $0.shimPid == nil })
        #expect(running.map { $0.spec.argv } == [["true"], ["true"]])
    }

    @Test("runningAttempts after a retry reports the new attempt")
    func runningAttemptsAfterRetry() async throws {
        let id = try await endedJob(Self.exited(1))
        _ = try await store.applyJob(.retry, to: id, now: Self.at(20))
        let claimed = try await store.claimJobs(limit: 1, host: "box", now: Self.at(21))
        let running = try await store.runningAttempts()
        #expect(running == claimed)
        #expect(running.first?.attempt == 2)
    }

    @Test("counts per state; states without jobs are absent")
    func counts() async throws {
        #expect(try await store.counts(session: nil) == [:])
        let ids = try await store.insertIDs(
            [Self.spec(), Self.spec(), Self.spec(), Self.spec(), Self.spec(hold: true), Self.spec()], now: Self.t0)
        _ = try await store.claimJobs(limit: 3, host: "box", now: Self.at(1))
        _ = try await store.finish(jobID: ids[0], attempt: 1, outcome: Self.exited(0), shimPid: nil)
        _ = try await store.finish(jobID: ids[1], attempt: 1, outcome: Self.exited(2), shimPid: nil)
        _ = try await store.applyJob(.cancel, to: ids[5], now: Self.at(2))
        #expect(try await store.counts(session: nil) == [.succeeded: 1, .failed: 1, .running: 1, .queued: 1, .held: 1, .cancelled: 1])
        try await store.delete(ids[0])
        #expect(try await store.counts(session: nil) == [.failed: 1, .running: 1, .queued: 1, .held: 1, .cancelled: 1])
    }
}
