import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Input is validated, not altered, and every answer — unknown routes and oversized
/// bodies included — is the JSON envelope.
@Suite("Input validation and HTTP edges")
struct InputValidationTests {
    /// `POST /v1/jobs` of one job: `fields`, and whichever of argv, cwd, env and labels they do not give.
    static func add(_ harness: StintHarness, _ fields: String) throws -> RawHTTP {
        var parts = [fields]
        for (key, value) in [("argv", #"["true"]"#), ("cwd", #""/tmp""#), ("env", "{}"), ("labels", "{}")]
        where !fields.contains("\"\(key)\":") {
            parts.append("\"\(key)\":\(value)")
        }
        return try RawHTTP.unix(
            harness.home + "/stint.sock", "POST", "/v1/jobs", body: #"{"jobs":[{\#(parts.joined(separator: ","))}]}"#)
    }

    @Test("env keys with '=' or NUL, NUL in values or cwd, empty or path-like sessions are refused; nothing is added")
    func refusedNotAltered() throws {
        let harness = try StintHarness()
        for fields in [
            #""env":{"A=B":"x"}"#, #""env":{"A\u0000B":"x"}"#, #""env":{"":"x"}"#, #""env":{"A":"x\u0000y"}"#,
            #""cwd":"/tmp\u0000/x""#, #""session":"""#, #""session":"a/b""#, #""session":"..""#, #""session":" padded ""#,
            #""labels":{"k":"v\u0000"}"#,
        ] {
            let answer = try Self.add(harness, fields)
            #expect(answer.status == 400 && answer.errorCode == "E_USAGE", "\(fields): \(answer.status) \(answer.body)")
            #expect(!answer.body.contains("malformed"), "\(fields): \(answer.body)")
        }
        let header = try RawHTTP.unix(harness.home + "/stint.sock", "GET", "/v1/jobs", headers: ["Stint-Session": "a/b"])
        #expect(header.status == 400 && header.errorCode == "E_USAGE", "\(header.body)")
        #expect(try harness.run("add", "--session", "", "--", "true").status == 64)
        let jobs = try harness.run("ls", "-o", "json").data([JobView].self)
        #expect(jobs.isEmpty)
    }

    @Test("an argument over the kernel's per-string limit, or argv over ARG_MAX, is refused at add")
    func argumentLimits() throws {
        let harness = try StintHarness()
        let big = String(repeating: "x", count: 200_000)
        let one = try Self.add(harness, #""argv":["echo","\#(big)"]"#)
        #expect(one.status == 400 && one.body.contains("at most 131072"), "\(one.status) \(one.body.prefix(300))")
        let piece = String(repeating: "y", count: 120_000)
        let many = Array(repeating: "\"\(piece)\"", count: 40).joined(separator: ",")
        let all = try Self.add(harness, #""argv":["echo",\#(many)]"#)
        #expect(all.status == 400 && all.body.contains("ARG_MAX"), "\(all.status) \(all.body.prefix(300))")
        #expect(try harness.run("ls", "-o", "json").data([JobView].self).isEmpty)
    }

    @Test("unknown routes answer 404 and other methods 405 (with Allow), oversized bodies 413: all in the envelope")
    func envelopes() throws {
        let harness = try StintHarness()
        let socket = harness.home + "/stint.sock"
        let unknown = try RawHTTP.unix(socket, "GET", "/v1/nothing-here")
        #expect(unknown.status == 404 && unknown.errorCode == "E_NOT_FOUND", "\(unknown.body)")
        let method = try RawHTTP.unix(socket, "DELETE", "/v1/jobs/1")
        #expect(method.status == 405 && method.errorCode == "E_USAGE", "\(method.body)")
        #expect(method.headers.lowercased().contains("allow: get"), "\(method.headers)")
        let huge = "{\"ids\":[1],\"pad\":\"" + String(repeating: "z", count: 5 << 20) + "\"}"
        let tooLarge = try RawHTTP.unix(socket, "POST", "/v1/wait", body: huge)
        #expect(tooLarge.status == 413 && tooLarge.errorCode == "E_USAGE", "\(tooLarge.status) \(tooLarge.body.prefix(200))")
        #expect(try RawHTTP.unix(socket, "GET", "/v1/daemon").status == 200)
    }

    @Test("idle and half-sent connections are closed after the idle timeout; a long wait is not cut")
    func idleConnections() throws {
        let harness = try StintHarness(daemonArguments: ["--idle-timeout", "1s"])
        let socket = harness.home + "/stint.sock"
        for partial in ["", "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"jo", "GET /v1/da"] {
            let fd = try RawHTTP.connectUnix(socket)
            defer { close(fd) }
            if !partial.isEmpty { _ = partial.withCString { send(fd, $0, strlen($0), 0) } }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let started = Date()
            var buffer = [UInt8](repeating: 0, count: 4096)
            var received = 1
            while received > 0 { received = recv(fd, &buffer, buffer.count, 0) }
            #expect(received == 0, "the daemon did not close a connection holding \(partial.debugDescription)")
            #expect(Date().timeIntervalSince(started) < 8)
        }
        let id = try harness.add("-p", "--", "sleep", "3")
        let wait = try harness.run("wait", String(id))
        #expect(wait.status == 0, "\(wait.stderr)")
    }

    @Test("logs --tail of a single 20 MB line answers at most 16 MiB")
    func tailBytes() throws {
        let harness = try StintHarness()
        let id = try harness.add("-p", "head -c 20000000 /dev/zero | tr '\\0' a")
        #expect(try harness.run("wait", String(id)).status == 0)
        let started = Date()
        let tail = try harness.run("logs", "--tail", "5", String(id))
        #expect(tail.status == 0)
        #expect(tail.stdout.utf8.count == Limits.maxLogWindowBytes, "\(tail.stdout.utf8.count)")
        #expect(Date().timeIntervalSince(started) < 20)
    }
}
