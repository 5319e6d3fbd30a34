import Foundation
import StintCore
import StintStore
import Testing

/// Claims, queues, retries, dependencies, unique keys, breaker and preflight, with
/// explicit times (no clock, no sleeps): what every backend must do, run against the one
/// `STINT_TEST_STORE` names (see ``StoreKind``).
@Suite("StoreConformance: queues and resilience")
final class StoreConformanceQueues: Sendable {
    let fixture: StoreFixture
    var store: JobLedger { fixture.store }

    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    static func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    init() async throws {
        fixture = try await StoreFixture()
    }

    static func spec(
        queue: String? = nil, priority: Int? = nil, delay: Double? = nil, after: [Int64]? = nil,
        unique: String? = nil, retries: Int? = nil
    ) -> JobSpec {
        JobSpec(
            argv: ["true"], cwd: "/tmp", queue: queue, priority: priority, delay: delay, after: after, unique: unique,
            retries: retries)
    }

    func add(_ spec: JobSpec = spec(), at seconds: Double = 0) async throws -> Int64 {
        try #require(try await store.insert([spec], now: Self.at(seconds)).first).id
    }

    func claim(_ limit: Int = 10, at seconds: Double = 0) async throws -> [Int64] {
        try await store.claim(limit: limit, host: "test", now: Self.at(seconds)).claimed.map(\.id)
    }

    @discardableResult
    func end(
        _ id: Int64, attempt: Int = 1, code: Int, at seconds: Double = 1, transient: Bool? = nil,
        retryAt: Double? = nil
    ) async throws -> FinishResult {
        let verdict = transient.map { FailureVerdict($0 ? .transient : .permanent, $0 ? "exit 75 (EX_TEMPFAIL) is transient" : "exit \(code) is permanent") }
        return try await store.finish(
            AttemptEnding(
                jobID: id, attempt: attempt,
                outcome: AttemptOutcome(reason: .exited, exitCode: code, endedAt: Self.at(seconds)),
                verdict: verdict, retryAt: retryAt.map(Self.at)))
    }

    // MARK: - Ordering and limits

    @Test("higher priority first, then oldest first, across queues")
    func priorityOrder() async throws {
        let low = try await add(Self.spec(queue: "a", priority: 0))
        let high = try await add(Self.spec(queue: "b", priority: 5))
        let middle = try await add(Self.spec(queue: "a", priority: 1))
        let highLater = try await add(Self.spec(queue: "a", priority: 5))
        #expect(try await claim(10) == [high, highLater, middle, low])
    }

    @Test("the global limit goes to the most urgent jobs of every queue")
    func globalLimit() async throws {
        _ = try await add(Self.spec(queue: "a"))
        let urgent = try await add(Self.spec(queue: "b", priority: 9))
        #expect(try await claim(1) == [urgent])
    }

    @Test("a queue's concurrency caps its running jobs; a paused queue claims nothing")
    func concurrencyAndPause() async throws {
        _ = try await store.updateQueue("build", QueueUpdate(concurrency: 2), now: Self.t0)
        var ids: [Int64] = []
        for _ in 0..<4 { ids.append(try await add(Self.spec(queue: "build"))) }
        #expect(try await claim(10) == Array(ids[0..<2]))
        #expect(try await claim(10).isEmpty)
        try await end(ids[0], code: 0)
        #expect(try await claim(10) == [ids[2]])
        _ = try await store.updateQueue("build", QueueUpdate(paused: true), now: Self.t0)
        try await end(ids[1], code: 0)
        #expect(try await claim(10).isEmpty)
        let queue = try #require(try await store.queues(now: Self.t0, session: nil).first { $0.name == "build" })
        #expect(queue.paused && queue.running == 1 && queue.queued == 1)
        _ = try await store.updateQueue("build", QueueUpdate(paused: false), now: Self.t0)
        #expect(try await claim(10) == [ids[3]])
    }

    @Test("a delayed job is not claimed before its time, and the claim says when to wake")
    func delay() async throws {
        let id = try await add(Self.spec(delay: 30))
        let early = try await store.claim(limit: 5, host: "test", now: Self.at(29.9))
        #expect(early.claimed.isEmpty)
        #expect(early.nextWake == Self.at(30))
        #expect(try await claim(5, at: 30) == [id])
    }

    // MARK: - Retries and stops

    @Test("a failure with a retry time goes back to queued and runs again only then")
    func retryBackoff() async throws {
        let id = try await add(Self.spec(retries: 2))
        #expect(try await claim() == [id])
        let result = try await end(id, code: 75, at: 1, transient: true, retryAt: 3)
        #expect(result.job.state == .queued)
        #expect(result.job.attempts.last?.verdict?.failureClass == .transient)
        #expect(result.job.attempts.last?.retryAt == Self.at(3))
        #expect(try await claim(5, at: 2.9).isEmpty)
        let second = try await store.claim(limit: 5, host: "test", now: Self.at(3))
        #expect(second.claimed.map(\.attempt) == [2])
        try await end(id, attempt: 2, code: 3, at: 4, transient: false)
        let job = try #require(try await store.job(id))
        #expect(job.state == .failed)
        #expect(job.attempts.map { $0.verdict?.failureClass } == [.transient, .permanent])
        let events = try await store.events(job: id, queue: nil, limit: 10)
        #expect(events.map(\.kind) == ["added", "started", "retry_scheduled", "started", "ended"])
    }

    @Test("a job's life is in the events table, in order, each in its change's transaction; read after an id, by session")
    func liveEvents() async throws {
        let before = try await store.lastEventID()
        var mine = Self.spec(retries: 1)
        mine.session = "alpha"
        var theirs = Self.spec()
        theirs.session = "beta"
        let id = try await add(mine)
        let other = try await add(theirs, at: 0.5)
        #expect(Set(try await claim()) == [id, other])
        try await end(id, code: 75, at: 1, transient: true, retryAt: 2)
        #expect(try await store.claim(limit: 5, host: "test", now: Self.at(2)).claimed.map(\.id) == [id])
        try await store.setProgress(id, ProgressRequest(done: 3, total: 4, message: "step"), now: Self.at(2.5))
        try await end(id, attempt: 2, code: 0, at: 3)
        let all = try await store.events(after: before, session: nil, limit: 100)
        #expect(all.map(\.id) == all.map(\.id).sorted(), "oldest first")
        #expect(try await store.lastEventID() == all.last?.id)
        let kinds = all.filter { $0.job == id }.map(\.kind)
        // A job of a session is told of its end in the outbox, too.
        #expect(kinds == ["added", "started", "retry_scheduled", "started", "progress", "ended", "notification"], "\(kinds)")
        #expect(all.first { $0.job == id && $0.kind == "ended" }?.message == "succeeded: exit 0")
        #expect(all.first { $0.job == id && $0.kind == "progress" }?.message == "3/4 step")
        let scoped = try await store.events(after: before, session: "alpha", limit: 100)
        #expect(!scoped.isEmpty && scoped.allSatisfy { $0.job == id }, "only alpha's job: \(scoped)")
        let page = try await store.events(after: before, session: nil, limit: 2)
        #expect(page.map(\.id) == Array(all.prefix(2).map(\.id)))
        let rest = try await store.events(after: page.last!.id, session: nil, limit: 100)
        #expect(page.map(\.id) + rest.map(\.id) == all.map(\.id), "paging after an id misses nothing")
    }

    @Test("a stop requested while running wins over a pending retry")
    func stopBeatsRetry() async throws {
        let id = try await add(Self.spec(retries: 5))
        #expect(try await claim() == [id])
        try await store.requestStop(id)
        let result = try await end(id, code: 75, at: 1, transient: true, retryAt: 2)
        #expect(result.job.state == .cancelled)
        #expect(try await claim(5, at: 10).isEmpty)
    }

    @Test("a job cancelled while it waits for its retry is never claimed again")
    func cancelDuringBackoff() async throws {
        let id = try await add(Self.spec(retries: 5))
        _ = try await claim()
        try await end(id, code: 75, at: 1, transient: true, retryAt: 5)
        #expect(try await store.apply(.cancel, to: id, now: Self.at(2)).job.state == .cancelled)
        #expect(try await claim(5, at: 10).isEmpty)
        #expect(try await store.job(id)?.attemptCount == 1)
    }

    // MARK: - Dependencies

    @Test("a dependent runs only after all its dependencies succeeded")
    func dependenciesSucceed() async throws {
        let a = try await add()
        let b = try await add()
        let c = try await add(Self.spec(after: [a, b]))
        #expect(try await claim(10) == [a, b])
        let first = try await end(a, code: 0)
        #expect(first.unblocked.isEmpty)
        #expect(try await claim(10).isEmpty)
        let second = try await end(b, code: 0)
        #expect(second.unblocked == [c])
        #expect(try await claim(10) == [c])
    }

    @Test("a failed dependency cancels its dependents transitively, naming the cause")
    func dependenciesFail() async throws {
        let a = try await add()
        let b = try await add(Self.spec(after: [a]))
        let c = try await add(Self.spec(after: [b]))
        _ = try await claim()
        let result = try await end(a, code: 2, transient: false)
        #expect(Set(result.cascaded) == [b, c])
        #expect(try await store.job(b)?.endReason == "dependency \(a) failed")
        #expect(try await store.job(c)?.endReason == "dependency \(b) was cancelled")
        #expect(try await store.job(c)?.state == .cancelled)
    }

    @Test("adding after a failed job cancels at once; after an unknown id adds nothing")
    func dependencyAtAdd() async throws {
        let a = try await add()
        _ = try await claim()
        try await end(a, code: 1, transient: false)
        let inserted = try #require(try await store.insert([Self.spec(after: [a])], now: Self.at(2)).first)
        #expect(inserted.state == .cancelled)
        await #expect(throws: StintError.self) {
            _ = try await self.store.insert([Self.spec(), Self.spec(after: [999])], now: Self.at(3))
        }
        #expect(try await store.list(JobFilter()).count == 2)
    }

    // MARK: - Unique keys

    @Test("a unique key returns the live job; once it ended, a new job is added")
    func uniqueKeys() async throws {
        let first = try await store.insert([Self.spec(unique: "nightly")], now: Self.t0)
        let again = try await store.insert([Self.spec(unique: "nightly"), Self.spec(unique: "nightly")], now: Self.t0)
        #expect(again.map(\.id) == [first[0].id, first[0].id])
        #expect(again.allSatisfy { $0.duplicate })
        _ = try await claim()
        try await end(first[0].id, code: 0)
        let later = try await store.insert([Self.spec(unique: "nightly")], now: Self.at(5))
        #expect(!later[0].duplicate && later[0].id != first[0].id)
    }

    // MARK: - Breaker and preflight

    @Test("the breaker opens after the threshold, then lets exactly one probe through")
    func breaker() async throws {
        _ = try await store.updateQueue("api", QueueUpdate(breakerThreshold: 2, breakerPause: 60), now: Self.t0)
        var ids: [Int64] = []
        for _ in 0..<6 { ids.append(try await add(Self.spec(queue: "api"))) }
        #expect(try await claim(2) == [ids[0], ids[1]])
        try await end(ids[0], code: 75, at: 1, transient: true)
        let opened = try await end(ids[1], code: 75, at: 2, transient: true)
        #expect(opened.transition?.to == .open)
        let during = try await store.claim(limit: 5, host: "test", now: Self.at(30))
        #expect(during.claimed.isEmpty)
        #expect(during.nextWake == Self.at(62))
        let probe = try await store.claim(limit: 5, host: "test", now: Self.at(62))
        #expect(probe.claimed.map(\.id) == [ids[2]])
        #expect(probe.transitions.map(\.transition.to) == [.half_open])
        #expect(try await claim(5, at: 63).isEmpty)
        let closed = try await end(ids[2], code: 0, at: 64)
        #expect(closed.transition?.to == .closed)
        #expect(try await claim(5, at: 65) == Array(ids[3...]))
        let kinds = try await store.events(job: nil, queue: "api", limit: 100).map(\.kind).filter { !LiveEventKinds.jobLife.contains($0) }
        #expect(kinds == ["breaker_open", "breaker_half_open", "breaker_closed"])
    }

    @Test("a permanent failure does not count toward the streak")
    func permanentDoesNotCount() async throws {
        _ = try await store.updateQueue("api", QueueUpdate(breakerThreshold: 3), now: Self.t0)
        var ids: [Int64] = []
        for _ in 0..<4 { ids.append(try await add(Self.spec(queue: "api"))) }
        _ = try await claim(4)
        try await end(ids[0], code: 75, transient: true)
        try await end(ids[1], code: 75, transient: true)
        try await end(ids[2], code: 1, transient: false)
        let last = try await end(ids[3], code: 75, transient: true)
        #expect(last.transition?.to == .open)
        _ = last
    }

    @Test("a queue with a preflight claims nothing until it passed, and nothing while it fails")
    func preflightGate() async throws {
        _ = try await store.updateQueue("deploy", QueueUpdate(preflight: "true", preflightTTL: 30), now: Self.t0)
        let id = try await add(Self.spec(queue: "deploy"))
        let unchecked = try await store.claim(limit: 5, host: "test", now: Self.at(1))
        #expect(unchecked.claimed.isEmpty)
        #expect(unchecked.preflightsDue.map(\.queue) == ["deploy"])
        try await store.recordPreflight(queue: "deploy", status: PreflightStatus(passed: false, checkedAt: Self.at(1), reason: "exit 1"))
        let failing = try await store.claim(limit: 5, host: "test", now: Self.at(2))
        #expect(failing.claimed.isEmpty && failing.preflightsDue.isEmpty)
        #expect(failing.nextWake == Self.at(31))
        #expect(try await store.job(id)?.attemptCount == 0)
        try await store.recordPreflight(queue: "deploy", status: PreflightStatus(passed: true, checkedAt: Self.at(31)))
        #expect(try await claim(5, at: 32) == [id])
        let kinds = try await store.events(job: nil, queue: "deploy", limit: 100).map(\.kind).filter { !LiveEventKinds.jobLife.contains($0) }
        #expect(kinds == ["preflight_failed", "preflight_passed"])
    }
}

/// The kinds of event that tell of a job's life (``LiveEvents``), which tests of other
/// events leave aside.
enum LiveEventKinds {
    static let jobLife: Set<String> = ["added", "started", "ended", "progress", "notification", "released", "retried"]
}
