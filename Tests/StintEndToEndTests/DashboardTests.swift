import Foundation
import StintCore
import Testing

/// The dashboard's login and its guards, over raw HTTP (the browser tests are scripts/ui-test).
@Suite("Dashboard: login, cookies, CSRF, CSP, scope")
struct DashboardTests {
    /// `stint ui`'s answer.
    static func open(_ harness: StintHarness, session: String? = nil) throws -> UIResponse {
        var arguments = ["ui", "-o", "json"]
        if let session { arguments += ["--session", session] }
        let result = try harness.run(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        return try result.data(UIResponse.self)
    }

    /// `http://127.0.0.1:PORT`.
    static func base(_ answer: UIResponse) -> String { "http://" + answer.address }

    /// The path and query of the login URL.
    static func loginPath(_ answer: UIResponse) -> String {
        String(answer.url.dropFirst(base(answer).count))
    }

    /// The cookie a login answer sets, and the whole `Set-Cookie` line.
    static func cookie(_ answer: RawHTTP) -> (value: String, line: String)? {
        guard let line = answer.headers.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("set-cookie:") }) else {
            return nil
        }
        let text = String(line.dropFirst("set-cookie:".count)).trimmingCharacters(in: .whitespaces)
        return (String(text.split(separator: ";")[0]), text)
    }

    /// The CSRF token of the app page.
    static func csrf(_ page: String) -> String? {
        guard let range = page.range(of: #"<meta name="stint-csrf" content=""#) else { return nil }
        return String(page[range.upperBound...].prefix { $0 != "\"" })
    }

    @Test("a one-time code logs in once with an HttpOnly, SameSite=Strict cookie and leaves the URL; pages carry a strict CSP")
    func loginOnce() throws {
        let harness = try StintHarness()
        let answer = try Self.open(harness)
        #expect(answer.url.hasPrefix("http://127.0.0.1:"))
        let login = try RawHTTP.tcp(Self.base(answer), "GET", Self.loginPath(answer))
        #expect(login.status == 303)
        #expect(login.headers.contains("Location: /\r\n"), "the code leaves the address bar: \(login.headers)")
        let cookie = try #require(Self.cookie(login))
        #expect(cookie.line.contains("HttpOnly") && cookie.line.contains("SameSite=Strict"), "\(cookie.line)")
        #expect(login.headers.contains("Content-Security-Policy: default-src 'none'; script-src 'self'"))

        let again = try RawHTTP.tcp(Self.base(answer), "GET", Self.loginPath(answer))
        #expect(again.status == 401, "a code works once")
        #expect(Self.cookie(again) == nil)

        let page = try RawHTTP.tcp(Self.base(answer), "GET", "/", headers: ["Cookie": cookie.value])
        #expect(page.status == 200)
        #expect(Self.csrf(page.body)?.isEmpty == false)
        #expect(!page.body.contains("<script>"), "no inline script")
        #expect(page.headers.contains("X-Frame-Options: DENY"))
        let anonymous = try RawHTTP.tcp(Self.base(answer), "GET", "/")
        #expect(anonymous.status == 303, "without a session, the app sends to the login page")
    }

    @Test("the API behind the dashboard needs the cookie, and every change its CSRF token and its own origin")
    func csrf() throws {
        let harness = try StintHarness()
        let job = try harness.add("--hold", "--", "true")
        let answer = try Self.open(harness)
        let cookie = try #require(Self.cookie(try RawHTTP.tcp(Self.base(answer), "GET", Self.loginPath(answer)))).value
        let token = try #require(Self.csrf(try RawHTTP.tcp(Self.base(answer), "GET", "/", headers: ["Cookie": cookie]).body))
        let body = #"{"ids":[\#(job)]}"#
        #expect(try RawHTTP.tcp(Self.base(answer), "GET", "/v1/jobs").status == 401)
        #expect(try RawHTTP.tcp(Self.base(answer), "GET", "/v1/jobs", headers: ["Cookie": cookie]).status == 200)
        let noToken = try RawHTTP.tcp(Self.base(answer), "POST", "/v1/release", headers: ["Cookie": cookie], body: body)
        #expect(noToken.status == 403 && noToken.errorCode == "E_FORBIDDEN")
        let wrong = try RawHTTP.tcp(
            Self.base(answer), "POST", "/v1/release", headers: ["Cookie": cookie, "X-Stint-CSRF": "guess"], body: body)
        #expect(wrong.status == 403)
        let foreign = try RawHTTP.tcp(
            Self.base(answer), "POST", "/v1/release",
            headers: ["Cookie": cookie, "X-Stint-CSRF": token, "Origin": "http://evil.example"], body: body)
        #expect(foreign.status == 403)
        #expect(try harness.show(job).state == .held, "nothing refused changed anything")
        let good = try RawHTTP.tcp(
            // RawHTTP sends `Host: test`: the page's own origin is then http://test.
            Self.base(answer), "POST", "/v1/release", headers: ["Cookie": cookie, "X-Stint-CSRF": token, "Origin": "http://test"],
            body: body)
        #expect(good.status == 200, "\(good.body)")
        #expect(try harness.eventually { try harness.show(job).state == .succeeded })
        // Tokens are never managed from the dashboard.
        let tokens = try RawHTTP.tcp(
            Self.base(answer), "POST", "/v1/tokens", headers: ["Cookie": cookie, "X-Stint-CSRF": token], body: "{}")
        #expect(tokens.status == 403)
    }

    @Test("a session-bound login sees only its session, by code (stint ui --session) and by API token")
    func scoped() throws {
        let harness = try StintHarness()
        let alpha = try harness.add("--session", "alpha", "--hold", "--", "true")
        let beta = try harness.add("--session", "beta", "--hold", "--", "true")
        let answer = try Self.open(harness, session: "alpha")
        let cookie = try #require(Self.cookie(try RawHTTP.tcp(Self.base(answer), "GET", Self.loginPath(answer)))).value
        let jobs = try RawHTTP.tcp(Self.base(answer), "GET", "/v1/jobs", headers: ["Cookie": cookie, "Stint-Session": "beta"])
        let listed = try StintJSON.decoder().decode(Envelope<[JobView]>.self, from: Data(jobs.body.utf8)).data ?? []
        #expect(listed.map(\.id) == [alpha], "a header cannot widen it: \(listed.map(\.id))")
        #expect(try RawHTTP.tcp(Self.base(answer), "GET", "/v1/jobs/\(beta)", headers: ["Cookie": cookie]).status == 404)

        let created = try harness.run("token", "create", "--session", "beta", "-o", "json").data(TokenView.self)
        let secret = try #require(created.token)
        let login = try RawHTTP.tcp(
            Self.base(answer), "POST", "/login", headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: "token=" + secret)
        #expect(login.status == 303)
        let tokenCookie = try #require(Self.cookie(login)).value
        let theirs = try RawHTTP.tcp(Self.base(answer), "GET", "/v1/jobs", headers: ["Cookie": tokenCookie])
        let seen = try StintJSON.decoder().decode(Envelope<[JobView]>.self, from: Data(theirs.body.utf8)).data ?? []
        #expect(seen.map(\.id) == [beta])
        let bad = try RawHTTP.tcp(
            Self.base(answer), "POST", "/login", headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: "token=stint_nothing")
        #expect(bad.status == 401 && Self.cookie(bad) == nil)
    }

    @Test("stint ui keeps one dashboard; another port while it runs is E_CONFLICT; a remote client is refused")
    func oneDashboard() throws {
        let harness = try StintHarness()
        let first = try Self.open(harness)
        let second = try Self.open(harness)
        #expect(first.address == second.address)
        #expect(first.url != second.url, "a new code each time")
        let port = Int(first.address.split(separator: ":").last!)!
        let other = try harness.run("ui", "--port", String(port == 65535 ? 1 : port + 1))
        #expect(other.status == 9, "\(other.stderr)")
        #expect(try harness.run("ui", "--port", "70000").status == 64)
    }

    @Test("on a --listen daemon the dashboard is also at the listen address, behind token login; its cookie cannot be widened")
    func onTheListenAddress() throws {
        let (harness, url) = try startListening()
        let own = try harness.add("--session", "alpha", "--hold", "--", "true")
        let other = try harness.add("--session", "beta", "--hold", "--", "true")
        let anonymous = try RawHTTP.tcp(url, "GET", "/")
        #expect(anonymous.status == 303, "to the login page")
        #expect(try RawHTTP.tcp(url, "GET", "/login").status == 200)
        #expect(try RawHTTP.tcp(url, "GET", "/v1/jobs").status == 401, "the API still needs a token or a session")
        let secret = try #require(try harness.run("token", "create", "--session", "alpha", "-o", "json").data(TokenView.self).token)
        let login = try RawHTTP.tcp(
            url, "POST", "/login", headers: ["Content-Type": "application/x-www-form-urlencoded"], body: "token=" + secret)
        #expect(login.status == 303)
        let cookie = try #require(Self.cookie(login)).value
        let jobs = try RawHTTP.tcp(url, "GET", "/v1/jobs", headers: ["Cookie": cookie, "Stint-Session": "beta"])
        let listed = try StintJSON.decoder().decode(Envelope<[JobView]>.self, from: Data(jobs.body.utf8)).data ?? []
        #expect(listed.map(\.id) == [own], "the header cannot widen the session: \(listed.map(\.id)), not \(other)")
        let refused = try RawHTTP.tcp(url, "POST", "/v1/release", headers: ["Cookie": cookie], body: #"{"ids":[\#(own)]}"#)
        #expect(refused.status == 403, "a change needs the CSRF token")
        #expect(try harness.show(own).state == .held)
    }
}

