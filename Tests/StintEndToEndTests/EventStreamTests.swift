import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `GET /v1/events` as server-sent events, and `stint events --follow`, against a real daemon.
@Suite("Live events: server-sent events and events --follow")
struct EventStreamTests {
    /// A raw stream on the daemon's socket: the test's own reader, independent of the client.
    final class RawStream {
        let fd: Int32
        private(set) var text = ""

        init(_ harness: StintHarness, path: String = "/v1/events", headers: [String: String] = [:]) throws {
            fd = try RawHTTP.connectUnix(harness.home + "/stint.sock")
            var request = "GET \(path) HTTP/1.1\r\nHost: stint\r\nAccept: text/event-stream\r\n"
            for (name, value) in headers { request += "\(name): \(value)\r\n" }
            request += "\r\n"
            _ = request.withCString { write(fd, $0, strlen($0)) }
        }

        deinit { close(fd) }

        /// Reads what arrives for up to `seconds`, or until `done` holds of all read so far.
        /// False when the connection closed. It awaits between looks rather than block a
        /// thread of the test process's small cooperative pool, which other tests need, and
        /// takes what has arrived before each verdict, so a look that wakes late (a busy
        /// pool) still sees everything sent by then.
        @discardableResult
        func read(for seconds: Double, until done: (String) -> Bool = { _ in false }) async -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while true {
                guard takeArrived() else { return false }
                if done(text) || Date() >= deadline { return true }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }

        /// Appends what the socket holds now, without waiting; false when it closed.
        private func takeArrived() -> Bool {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 0) > 0 else { return true }
                let count = Glibc.read(fd, &buffer, buffer.count)
                if count <= 0 { return false }
                text += String(decoding: buffer[0..<count], as: UTF8.self)
            }
        }

        /// The `id:` of every message that carries data, in order.
        var eventIDs: [Int64] {
            // "\r\n" (of the chunked framing) is one Character to Swift: split it first.
            text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n").compactMap { message -> Int64? in
                let lines = message.split(separator: "\n")
                guard lines.contains(where: { $0.hasPrefix("data:") }) else { return nil }
                return lines.first { $0.hasPrefix("id: ") }.flatMap { Int64($0.dropFirst(4)) }
            }
        }
    }

    @Test("every job event streams with its durable id; Last-Event-ID resumes after a daemon restart with nothing missed")
    func resumeAcrossRestart() async throws {
        let harness = try StintHarness()
        let stream = try RawStream(harness)
        #expect(await stream.read(for: 5) { $0.contains("id: 0\n") }, "the stream starts by saying where")
        let first = try harness.add("--", "sh", "-c", "exit 3")
        _ = try harness.run("wait", String(first))
        await stream.read(for: 10) { $0.contains(#""kind":"ended""#) }
        #expect(stream.text.contains("event: added"))
        #expect(stream.text.contains("event: started"))
        #expect(stream.text.contains("event: ended"))
        #expect(stream.text.contains(#""message":"failed: exit 3""#))
        let seen = try #require(stream.eventIDs.last)

        // The daemon goes away; more happens after it is back; the client resumes.
        harness.killDaemon()
        let open = await stream.read(for: 5)
        #expect(!open, "the stream ended with the daemon")
        try harness.startDaemon(parallel: 4)
        let second = try harness.add("--hold", "--", "true")
        let resumed = try RawStream(harness, headers: ["Last-Event-ID": String(seen)])
        await resumed.read(for: 10) { $0.contains(#""job":\#(second),"kind":"added""#) }
        let stored = try harness.run("events", "--limit", "1000", "-o", "json").data([EventView].self)
        let expected = stored.map(\.id).filter { $0 > seen }
        #expect(!expected.isEmpty)
        #expect(resumed.eventIDs == expected, "resumed: \(resumed.eventIDs), stored after \(seen): \(expected); \(resumed.text)")
    }

    @Test("a client scoped to a session streams only its session's jobs' events")
    func sessionScoped() async throws {
        let harness = try StintHarness()
        let mine = try RawStream(harness, headers: ["Stint-Session": "alpha"])
        let everything = try RawStream(harness)
        await mine.read(for: 5) { $0.contains("id: ") }
        await everything.read(for: 5) { $0.contains("id: ") }
        let theirs = try harness.add("--session", "beta", "--", "true")
        let own = try harness.add("--session", "alpha", "--", "true")
        _ = try harness.run("wait", String(theirs), String(own))
        await mine.read(for: 10) { $0.contains(#""job":\#(own),"kind":"ended""#) }
        await everything.read(for: 10) { $0.contains(#""job":\#(own),"kind":"ended""#) && $0.contains(#""job":\#(theirs),"kind":"ended""#) }
        #expect(mine.text.contains(#""job":\#(own)"#))
        #expect(!mine.text.contains(#""job":\#(theirs)"#), "another session's job leaked: \(mine.text)")
        #expect(everything.text.contains(#""job":\#(theirs)"#))
    }

    @Test("an idle stream sends a keep-alive comment every 15 s")
    func keepAlive() async throws {
        let harness = try StintHarness()
        let stream = try RawStream(harness)
        #expect(await stream.read(for: 20) { $0.contains(": keep-alive\n\n") }, "no keep-alive in 20 s: \(stream.text)")
    }

    @Test("a client that reads nothing is sent cut_off and disconnected; the daemon serves on")
    func slowClientCutOff() async throws {
        let harness = try StintHarness()
        let stuck = try RawStream(harness)
        // Far more events than the socket's buffers hold: 6,000 held jobs, an `added` each.
        let lines = (1...6000).map { "echo \($0)" }.joined(separator: "\n")
        let added = try harness.run(["add", "--hold", "--from", "-"], stdin: lines)
        #expect(added.status == 0, "\(added.stderr)")
        // Nothing read for 12 s: past the 10 s the daemon allows.
        try await Task.sleep(for: .seconds(12))
        // The response ends (its last chunk) right after the final event.
        await stuck.read(for: 20) { $0.hasSuffix("\n\n\r\n0\r\n\r\n") }
        #expect(stuck.text.hasSuffix("\n\n\r\n0\r\n\r\n"), "the stream ended: \(stuck.text.suffix(300))")
        #expect(stuck.text.contains("event: cut_off\ndata: {\"reason\":\"the client did not keep up\""), "tail: \(stuck.text.suffix(300))")
        #expect(try harness.run("daemon", "status").status == 0)
    }

    @Test("stint events --follow prints events as they happen and carries on across a daemon restart")
    func follow() async throws {
        let harness = try StintHarness()
        let follower = try harness.start(["events", "--follow", "-o", "json"])
        defer { kill(follower.pid, SIGTERM) }
        try await Task.sleep(for: .milliseconds(500))
        let first = try harness.add("--", "true")
        _ = try harness.run("wait", String(first))
        #expect(await Self.until(10) { follower.stdoutSoFar.contains(#""job":\#(first),"kind":"ended""#) })
        harness.killDaemon()
        try harness.startDaemon(parallel: 4)
        let second = try harness.add("--", "true")
        _ = try harness.run("wait", String(second))
        #expect(
            await Self.until(15) { follower.stdoutSoFar.contains(#""job":\#(second),"kind":"ended""#) },
            "after the restart: \(follower.stdoutSoFar) \(follower.stderrSoFar)")
        let lines = follower.stdoutSoFar.split(separator: "\n")
        let events = try lines.map { try StintJSON.decoder().decode(EventView.self, from: Data($0.utf8)) }
        #expect(events.map(\.id) == events.map(\.id).sorted(), "in order")
        #expect(Set(events.map(\.id)).count == events.count, "none twice")
    }

    /// Whether `condition` holds within `seconds`, looking every 50 ms without blocking a thread.
    static func until(_ seconds: Double, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    @Test("events --follow refuses bad flags with E_USAGE (exit 64)")
    func usage() async throws {
        let harness = try StintHarness()
        #expect(try harness.run("events", "--after", "5").status == 64)
        #expect(try harness.run("events", "--follow", "--after", "-1").status == 64)
        #expect(try harness.run("events", "--follow", "--after", "x").status == 64)
    }
}
