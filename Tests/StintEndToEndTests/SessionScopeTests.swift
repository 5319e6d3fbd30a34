import Foundation
import StintCore
import Testing

/// Session scope holds on every route: batches, `--unique`, queue listings and the
/// daemon's status tell a session-scoped client nothing of another session.
@Suite("Session scope everywhere")
struct SessionScopeTests {
    static let acquire =
        #"{"command":"./render {}","target":"range 1-10 in /tmp","total":10,"holder":{"pid":1,"started":"x","host":"elsewhere"},"allow_concurrent":false,"exclusive_with":[]}"#

    static func batch(_ answer: RawHTTP) throws -> BatchView {
        try #require(try StintJSON.decoder().decode(Envelope<BatchView>.self, from: Data(answer.body.utf8)).data, "\(answer.body)")
    }

    @Test("a batch is keyed by its session: B's acquire of A's command and target is B's own batch, and A's lock holds")
    func batchesPerSession() throws {
        let harness = try StintHarness()
        let socket = harness.home + "/stint.sock"
        let first = try RawHTTP.unix(socket, "POST", "/v1/batches/acquire", headers: ["Stint-Session": "a"], body: Self.acquire)
        #expect(first.status == 200, "\(first.body)")
        let mine = try Self.batch(first)
        let other = try RawHTTP.unix(socket, "POST", "/v1/batches/acquire", headers: ["Stint-Session": "b"], body: Self.acquire)
        #expect(other.status == 200, "\(other.body)")
        let theirs = try Self.batch(other)
        #expect(theirs.id != mine.id)
        #expect(theirs.session == "b")
        // A's batch still holds its lock for A: a second acquire by A conflicts (exit 9 for the CLI)…
        let again = try RawHTTP.unix(socket, "POST", "/v1/batches/acquire", headers: ["Stint-Session": "a"], body: Self.acquire)
        #expect(again.status == 409 && again.errorCode == "E_CONFLICT", "\(again.body)")
        // …and B sees, saves to and forgets none of A's.
        let listed = try RawHTTP.unix(socket, "GET", "/v1/batches", headers: ["Stint-Session": "b"])
        let views = try #require(try StintJSON.decoder().decode(Envelope<[BatchView]>.self, from: Data(listed.body.utf8)).data)
        #expect(views.map(\.id) == [theirs.id])
        let save = try RawHTTP.unix(
            socket, "POST", "/v1/batches/\(mine.id)/checkpoint", headers: ["Stint-Session": "b"],
            body: #"{"completed":3,"succeeded":3,"failed":0,"failed_units":[],"release":false,"finished":false}"#)
        #expect(save.status == 404, "\(save.body)")
        let forget = try RawHTTP.unix(socket, "POST", "/v1/batches/forget", headers: ["Stint-Session": "b"], body: #"{"ids":[\#(mine.id)]}"#)
        #expect(forget.status == 404, "\(forget.body)")
    }

    @Test("--unique is per session: another session's key adds a job of its own and reveals nothing")
    func uniquePerSession() throws {
        let harness = try StintHarness()
        let a = try harness.add("-p", "--session", "a", "--unique", "sync", "--", "sleep", "30")
        let again = try harness.add("-p", "--session", "a", "--unique", "sync", "--", "sleep", "30")
        #expect(again == a)
        let result = try harness.run("add", "-p", "--session", "b", "--unique", "sync", "--", "sleep", "30")
        #expect(result.status == 0, "\(result.stderr)")
        let b = try #require(Int64(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(b != a)
        #expect(!result.stderr.contains("another session"))
        _ = try harness.run("stop", String(a), String(b))
    }

    @Test("queue listings give a scoped client only its session's counts, and no preflight output")
    func queueListings() throws {
        let harness = try StintHarness()
        #expect(try harness.run("queue", "set", "api", "--preflight", "echo secret-token-123; exit 1").status == 0)
        _ = try harness.add("--session", "a", "--queue", "api", "--", "true")
        _ = try harness.add("--session", "a", "--queue", "api", "--", "true")
        #expect(try harness.eventually { try harness.queue("api").preflight?.status == "failed" })
        #expect(try harness.queue("api").queued == 2)
        let socket = harness.home + "/stint.sock"
        let answer = try RawHTTP.unix(socket, "GET", "/v1/queues", headers: ["Stint-Session": "b"])
        let queues = try #require(try StintJSON.decoder().decode(Envelope<[QueueView]>.self, from: Data(answer.body.utf8)).data)
        let api = try #require(queues.first { $0.name == "api" })
        #expect(api.queued == 0 && api.running == 0 && api.held == 0)
        #expect(!answer.body.contains("secret-token-123"), "\(answer.body)")
        let own = try RawHTTP.unix(socket, "GET", "/v1/queues", headers: ["Stint-Session": "a"])
        let ownQueues = try #require(try StintJSON.decoder().decode(Envelope<[QueueView]>.self, from: Data(own.body.utf8)).data)
        #expect(ownQueues.first { $0.name == "api" }?.queued == 2)
    }

    @Test("/v1/daemon gives a scoped client no paths and only its own counts")
    func daemonStatus() throws {
        let harness = try StintHarness()
        _ = try harness.add("--session", "a", "--hold", "--", "true")
        let socket = harness.home + "/stint.sock"
        let answer = try RawHTTP.unix(socket, "GET", "/v1/daemon", headers: ["Stint-Session": "b"])
        let status = try #require(try StintJSON.decoder().decode(Envelope<DaemonStatus>.self, from: Data(answer.body.utf8)).data)
        #expect(status.home == nil && status.socket == nil && status.store == nil)
        #expect(!answer.body.contains(harness.home), "\(answer.body)")
        #expect(status.counts["held"] == 0)
        let full = try harness.run("daemon", "status", "-o", "json").data(DaemonStatus.self)
        #expect(full.home == harness.home)
        #expect(full.counts["held"] == 1)
    }
}
