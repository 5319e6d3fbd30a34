import Foundation
import Hummingbird
import NIOCore
import StintCore

/// The dashboard's pages and assets: the app (which needs a session), the login page (a
/// one-time code from `stint ui`, or an API token), log out, and the page's script and
/// style. Compiled into the daemon (`Assets/`, embedded by SwiftPM).
struct DashboardPages {
    let sessions: DashboardSessions
    let tokens: APITokens

    /// The largest login form: 4 KiB.
    static let maxFormBytes = 4096

    func register(on pages: Router<StintRequestContext>) {
        pages.get("/") { request, _ in
            guard let id = DashboardCookie.value(in: request), let session = sessions.session(id) else {
                return Self.redirect("/login")
            }
            let page = Self.text(PackageResources.index_html)
                .replacingOccurrences(of: "{{csrf}}", with: session.csrf)
                .replacingOccurrences(of: "{{scope}}", with: Self.escape(session.scope ?? ""))
            return Self.html(page)
        }
        pages.get("/login") { request, _ in
            guard let code = request.uri.queryParameters.get("code") else { return Self.loginPage(error: "") }
            guard let session = sessions.redeem(code) else {
                return Self.loginPage(
                    error: "This login code is unknown, used or expired: run `stint ui` for a new one.", status: .unauthorized)
            }
            // The code leaves the address bar at once: the next page is plain `/`.
            return Self.redirect("/", cookie: DashboardCookie.set(session.id))
        }
        pages.post("/login") { request, _ in
            if let origin = request.headers[.origin], !DashboardAuthMiddleware.sameOrigin(origin, host: request.head.authority) {
                return Self.loginPage(error: "A login from another site is refused.", status: .forbidden)
            }
            let secret = try await Self.formField("token", of: request)
            guard let secret, let token = try? await tokens.authenticate(authorization: "Bearer \(secret)") else {
                return Self.loginPage(error: "That API token is unknown or revoked.", status: .unauthorized)
            }
            let session = sessions.open(scope: token.session)
            return Self.redirect("/", cookie: DashboardCookie.set(session.id))
        }
        pages.post("/logout") { request, _ in
            if let id = DashboardCookie.value(in: request), let session = sessions.session(id) {
                guard try await Self.formField("csrf", of: request) == session.csrf else {
                    return Self.loginPage(error: "Log out was refused: the page's token did not match.", status: .forbidden)
                }
                sessions.close(id)
            }
            return Self.redirect("/login", cookie: DashboardCookie.clear)
        }
        pages.get("/assets/app.js") { _, _ in Self.asset(PackageResources.app_js, type: "text/javascript; charset=utf-8") }
        pages.get("/assets/app.css") { _, _ in Self.asset(PackageResources.app_css, type: "text/css; charset=utf-8") }
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static func html(_ page: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
    }

    static func loginPage(error: String, status: HTTPResponse.Status = .ok) -> Response {
        html(text(PackageResources.login_html).replacingOccurrences(of: "{{error}}", with: escape(error)), status: status)
    }

    static func asset(_ bytes: [UInt8], type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func redirect(_ location: String, cookie: String? = nil) -> Response {
        var headers: HTTPFields = [.location: location]
        if let cookie { headers[.setCookie] = cookie }
        return Response(status: .seeOther, headers: headers)
    }

    /// `&`, `<`, `>`, `"` and `'` as entities.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }

    /// Field `name` of a form body (`application/x-www-form-urlencoded`, at most 4 KiB).
    static func formField(_ name: String, of request: Request) async throws -> String? {
        var request = request
        guard let body = try? await request.collectBody(upTo: maxFormBytes) else { return nil }
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if parts.count == 2, parts[0] == name { return parts[1] }
        }
        return nil
    }
}
