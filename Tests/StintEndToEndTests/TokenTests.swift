import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A daemon with `--listen 127.0.0.1:0` (the kernel picks a free port) and its URL,
/// as `daemon status` reports it once the TCP listener is bound.
func startListening() throws -> (StintHarness, String) {
    let stint = try StintHarness(daemonArguments: ["--listen", "127.0.0.1:0"])
    var url: String?
    _ = try stint.eventually {
        url = try stint.run("daemon", "status", "-o", "json").data(DaemonStatus.self).listen
        return url != nil
    }
    return (stint, try #require(url, "no listen address in daemon status: \(stint.daemonLog)"))
}

/// Creates a token on the local socket and returns its secret.
private func createToken(_ stint: StintHarness, session: String? = nil) throws -> TokenView {
    let result = try stint.run(["token", "create", "-o", "json"] + (session.map { ["--session", $0] } ?? []))
    #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
    return try result.data(TokenView.self)
}

/// The environment of a TCP client of `url` holding `token`.
private func remote(_ url: String, _ token: String?) -> [String: String] {
    var environment = ["STINT_URL": url]
    if let token { environment["STINT_TOKEN"] = token }
    return environment
}

@Suite("API tokens: the TCP listener and remote clients")
struct TokenTests {
    @Test("TCP without a token is refused: 401 with the JSON envelope, and exit 1 with E_UNAUTHORIZED from the CLI")
    func noToken() throws {
        let (stint, url) = try startListening()
        let raw = try RawHTTP.tcp(url, "GET", "/v1/jobs")
        #expect(raw.status == 401)
        #expect(raw.errorCode == "E_UNAUTHORIZED")
        #expect(raw.headers.lowercased().contains("www-authenticate: bearer"))

        let json = try stint.run(["ls", "-o", "json"], env: remote(url, nil))
        #expect(json.status == 1)
        #expect(try json.error().code == .unauthorized)
        let text = try stint.run(["ls"], env: remote(url, nil))
        #expect(text.status == 1)
        #expect(text.stderr.contains("token"))
        // An unknown route answers 401 too: nothing is served before the token is checked.
        #expect(try RawHTTP.tcp(url, "GET", "/nothing-here").status == 401)
    }

    @Test("a wrong or malformed token is refused")
    func wrongToken() throws {
        let (stint, url) = try startListening()
        _ = try createToken(stint)
        let wrong = try stint.run(["ls", "-o", "json"], env: remote(url, "stint_" + String(repeating: "A", count: 43)))
        #expect(wrong.status == 1)
        #expect(try wrong.error().code == .unauthorized)
        for header in ["Basic dXNlcjpwYXNz", "Bearer", "stint_x"] {
            let raw = try RawHTTP.tcp(url, "GET", "/v1/jobs", headers: ["Authorization": header])
            #expect(raw.status == 401, "\(header)")
            #expect(raw.errorCode == "E_UNAUTHORIZED")
        }
    }

    @Test("with an unbound token, add, ls, show, wait and daemon status work over TCP")
    func unboundTokenWorks() throws {
        let (stint, url) = try startListening()
        let token = try createToken(stint)
        let secret = try #require(token.token)
        #expect(secret.hasPrefix("stint_"))
        #expect(secret.count == "stint_".count + 43)  // 32 bytes, base64url without padding
        #expect(token.session == nil)
        let env = remote(url, secret)

        let added = try stint.run(["add", "-p", "--", "sh", "-c", "echo over-tcp; exit 3"], env: env)
        #expect(added.status == 0, "\(added.stderr)")
        let id = try #require(Int64(added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try stint.run(["wait", String(id)], env: env).status == 3)
        let listed = try stint.run(["ls", "-o", "json"], env: env).data([JobView].self)
        #expect(listed.map(\.id) == [id])
        #expect(try stint.run(["show", String(id), "-o", "json"], env: env).data(JobView.self).state == .failed)
        #expect(try stint.run(["logs", String(id)], env: env).stdout == "over-tcp\n")
        let status = try stint.run(["daemon", "status", "-o", "json"], env: env).data(DaemonStatus.self)
        #expect(status.listen == url)
        // The job is the daemon's: the local socket sees the same one.
        #expect(try stint.show(id).state == .failed)
    }

    @Test("a session-bound token sees only its session: others' jobs are E_NOT_FOUND (exit 3), its adds land in its session")
    func boundTokenSeesOnlyItsSession() throws {
        let (stint, url) = try startListening()
        let token = try createToken(stint, session: "agent-a")
        #expect(token.session == "agent-a")
        let env = remote(url, try #require(token.token))
        let mine = try stint.add("--session", "agent-a", "--", "sleep", "30")
        let theirs = try stint.add("--session", "agent-b", "--", "sleep", "30")
        let unscoped = try stint.add("--", "true")

        let listed = try stint.run(["ls", "-o", "json"], env: env).data([JobView].self)
        #expect(listed.map(\.id) == [mine])
        // `--session agent-b` asks for another scope, which a bound token refuses.
        let widened = try stint.run(["ls", "--session", "agent-b", "-o", "json"], env: env)
        #expect(widened.status != 0)
        #expect(try widened.error().code == .forbidden)
        for id in [theirs, unscoped] {
            for command in [["show", String(id)], ["wait", String(id), "--timeout", "1"], ["logs", String(id)]] {
                let result = try stint.run(command + ["-o", "json"], env: env)
                #expect(result.status == 3, "\(command): \(result.stdout) \(result.stderr)")
                #expect(try result.error().code == .notFound, "\(command)")
            }
        }
        let stop = try stint.run(["stop", String(theirs), "-o", "json"], env: env)
        #expect(stop.status == 3, "\(stop.stdout) \(stop.stderr)")
        #expect(try stint.show(theirs).state == .running)

        // Queue changes and prune are not open to it.
        let pause = try stint.run(["queue", "pause", "default", "-o", "json"], env: env)
        #expect(try pause.error().code == .forbidden)

        let added = try stint.run(["add", "-p", "--", "true"], env: env)
        let id = try #require(Int64(added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try stint.show(id).session == "agent-a")
        let refused = try stint.run(["add", "--session", "agent-b", "-o", "json", "--", "true"], env: env)
        #expect(refused.status != 0)

        #expect(try stint.run(["stop", String(mine)], env: env).status == 0)
        #expect(try stint.show(mine).state == .cancelled)
        _ = try stint.run("stop", String(theirs))
    }

    @Test("a Stint-Session header cannot widen a bound token; an unbound token may use it to narrow")
    func headerCannotWiden() throws {
        let (stint, url) = try startListening()
        let bound = try #require(try createToken(stint, session: "agent-a").token)
        let unbound = try #require(try createToken(stint).token)
        let a = try stint.add("--session", "agent-a", "--", "true")
        let b = try stint.add("--session", "agent-b", "--", "true")

        let widened = try RawHTTP.tcp(
            url, "GET", "/v1/jobs", headers: ["Authorization": "Bearer \(bound)", "Stint-Session": "agent-b"])
        #expect(widened.status == 403)
        #expect(widened.errorCode == "E_FORBIDDEN")
        let show = try RawHTTP.tcp(
            url, "GET", "/v1/jobs/\(b)", headers: ["Authorization": "Bearer \(bound)", "Stint-Session": "agent-b"])
        #expect(show.status == 403)
        // Repeating its own session is fine.
        let same = try RawHTTP.tcp(
            url, "GET", "/v1/jobs", headers: ["Authorization": "Bearer \(bound)", "Stint-Session": "agent-a"])
        #expect(same.status == 200)
        #expect(try StintJSON.decoder().decode(Envelope<[JobView]>.self, from: Data(same.body.utf8)).data?.map(\.id) == [a])

        let narrowed = try RawHTTP.tcp(
            url, "GET", "/v1/jobs", headers: ["Authorization": "Bearer \(unbound)", "Stint-Session": "agent-b"])
        #expect(narrowed.status == 200)
        #expect(try StintJSON.decoder().decode(Envelope<[JobView]>.self, from: Data(narrowed.body.utf8)).data?.map(\.id) == [b])
        let all = try RawHTTP.tcp(url, "GET", "/v1/jobs", headers: ["Authorization": "Bearer \(unbound)"])
        #expect(try StintJSON.decoder().decode(Envelope<[JobView]>.self, from: Data(all.body.utf8)).data?.map(\.id) == [a, b])
    }

    @Test("a revoked token is refused from then on; the others still work")
    func revokedTokenIsRefused() throws {
        let (stint, url) = try startListening()
        let token = try createToken(stint)
        let other = try #require(try createToken(stint).token)
        let env = remote(url, try #require(token.token))
        #expect(try stint.run(["ls"], env: env).status == 0)
        let revoked = try stint.run("token", "revoke", String(token.id), "-o", "json")
        #expect(revoked.status == 0, "\(revoked.stdout) \(revoked.stderr)")
        let after = try stint.run(["ls", "-o", "json"], env: env)
        #expect(after.status == 1)
        #expect(try after.error().code == .unauthorized)
        #expect(try stint.run(["ls"], env: remote(url, other)).status == 0)
        let listed = try stint.run("token", "ls", "-o", "json").data([TokenView].self)
        #expect(listed.map(\.id).contains(token.id))
        #expect(listed.first { $0.id == token.id }?.revokedAt != nil)
        #expect(listed.allSatisfy { $0.token == nil })
        #expect(try stint.run("token", "revoke", "999", "-o", "json").status == 3)
    }

    @Test("tokens are managed on the local socket only: over TCP, and for another session, E_FORBIDDEN")
    func tokensAreManagedLocally() throws {
        let (stint, url) = try startListening()
        let secret = try #require(try createToken(stint).token)
        for command in [["token", "create"], ["token", "ls"], ["token", "revoke", "1"]] {
            let result = try stint.run(command + ["-o", "json"], env: remote(url, secret))
            #expect(result.status == 1, "\(command)")
            #expect(try result.error().code == .forbidden, "\(command)")
        }
        let socket = stint.home + "/stint.sock"
        let other = try RawHTTP.unix(
            socket, "POST", "/v1/tokens", headers: ["Stint-Session": "agent-a"], body: #"{"session":"agent-b"}"#)
        #expect(other.status == 403)
        let unbound = try RawHTTP.unix(socket, "POST", "/v1/tokens", headers: ["Stint-Session": "agent-a"], body: "{}")
        #expect(unbound.status == 403)
        let own = try RawHTTP.unix(
            socket, "POST", "/v1/tokens", headers: ["Stint-Session": "agent-a"], body: #"{"session":"agent-a"}"#)
        #expect(own.status == 200)
        let scopedList = try RawHTTP.unix(socket, "GET", "/v1/tokens", headers: ["Stint-Session": "agent-a"])
        let sessions = try StintJSON.decoder().decode(Envelope<[TokenView]>.self, from: Data(scopedList.body.utf8)).data
        #expect(sessions?.map(\.session) == ["agent-a"])
    }

    @Test("the store keeps the SHA-256 of a secret, never the secret")
    func secretIsNotStored() throws {
        let (stint, _) = try startListening()
        let secret = try #require(try createToken(stint).token)
        let database = stint.home + "/stint.db"
        for file in [database, database + "-wal"] {
            let bytes = FileManager.default.contents(atPath: file) ?? Data()
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(file) holds the secret")
        }
        let script = """
            import hashlib, sqlite3, sys
            rows = sqlite3.connect(sys.argv[1]).execute("SELECT hash FROM tokens").fetchall()
            print(rows == [(hashlib.sha256(sys.argv[2].encode()).hexdigest(),)])
            """
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", script, database, secret]
        let pipe = Pipe()
        python.standardOutput = pipe
        try python.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "True")
    }

    @Test("a remote client never starts a daemon: nothing listening is E_UNAVAILABLE naming the URL; https is E_USAGE")
    func remoteClientErrors() throws {
        let stint = try StintHarness(start: false)
        // A port that nothing listens on: bound, then closed.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        close(fd)
        let url = "http://127.0.0.1:\(UInt16(bigEndian: sin.sin_port))"
        var env = remote(url, "stint_x")
        env["STINT_NO_AUTOSTART"] = "0"
        let result = try stint.run(["ls", "-o", "json"], env: env)
        #expect(result.status == 5)
        #expect(try result.error().message.contains(url))
        #expect(!FileManager.default.fileExists(atPath: stint.home + "/stint.sock"))

        let https = try stint.run(["ls", "-o", "json"], env: remote("https://127.0.0.1:7070", "stint_x"))
        #expect(https.status == 64)
        let error = try https.error()
        #expect(error.code == .usage)
        #expect(error.message.contains("https is not supported"))
    }
}
