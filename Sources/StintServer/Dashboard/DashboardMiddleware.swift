import Foundation
import Hummingbird
import StintCore

/// The dashboard's cookie: its name and how it is set.
enum DashboardCookie {
    static let name = "stint_ui"

    /// `Set-Cookie` for a session: unreadable by scripts, never sent by another site.
    static func set(_ id: String) -> String {
        "\(name)=\(id); HttpOnly; SameSite=Strict; Path=/; Max-Age=\(Int(DashboardSessions.idleLifetime))"
    }

    /// `Set-Cookie` that removes it.
    static let clear = "\(name)=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"

    /// The session id a request's `Cookie` header carries.
    static func value(in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == name { return String(parts[1]) }
            }
        }
        return nil
    }
}

/// Security headers on every dashboard answer: a strict Content-Security-Policy (the page's
/// own scripts, styles and connections only; no inline code, no frames, no plug-ins), no
/// sniffing, no referrer, no framing, no caching.
struct DashboardHeadersMiddleware: RouterMiddleware {
    typealias Context = StintRequestContext

    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    func handle(
        _ request: Request, context: StintRequestContext, next: (Request, StintRequestContext) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.init("Referrer-Policy")!] = "no-referrer"
        response.headers[.init("X-Frame-Options")!] = "DENY"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

/// The API behind the dashboard: a request needs the session cookie, and one that changes
/// anything (every POST) also the session's CSRF token in `X-Stint-CSRF` and, when the
/// browser sends one, an `Origin` of the dashboard itself. The session's scope is the
/// request's, whatever `Stint-Session` says. Pages and assets pass (their handlers check).
struct DashboardAuthMiddleware: RouterMiddleware {
    typealias Context = StintRequestContext
    let sessions: DashboardSessions

    static let csrfHeader = HTTPFields.Element.Name("X-Stint-CSRF")!

    /// Paths of pages and assets, which answer without a session (the login page) or check it themselves.
    static func isPage(_ path: String) -> Bool {
        path == "/" || path == "/login" || path == "/logout" || path.hasPrefix("/assets/")
    }

    func handle(
        _ request: Request, context: StintRequestContext, next: (Request, StintRequestContext) async throws -> Response
    ) async throws -> Response {
        if Self.isPage(request.uri.path) { return try await next(request, context) }
        guard let id = DashboardCookie.value(in: request), let session = sessions.session(id) else {
            return errorResponse(StintError(.unauthorized, "log in to the dashboard first", hint: "run `stint ui` for a login URL"))
        }
        if request.method != .get && request.method != .head {
            guard request.headers[Self.csrfHeader] == session.csrf else {
                return errorResponse(StintError(.forbidden, "missing or wrong CSRF token"))
            }
            if let origin = request.headers[.origin], !Self.sameOrigin(origin, host: request.head.authority) {
                return errorResponse(StintError(.forbidden, "a request from another origin (\(origin.prefix(100))) is refused"))
            }
        }
        var context = context
        context.session = session.scope
        // The session's scope is the request's: no `Stint-Session` header may change it.
        context.sessionFixed = true
        return try await next(request, context)
    }

    /// Whether `origin` (`http://HOST:PORT`) names the host the request was sent to.
    static func sameOrigin(_ origin: String, host: String?) -> Bool {
        guard let host else { return false }
        return origin == "http://\(host)"
    }
}
