import Hummingbird
import StintCore

/// Admits a request on the TCP listener only with a valid API token, and scopes it to
/// the token's session. Runs before ``SessionHeaderMiddleware``: for a session-bound
/// token, a `Stint-Session` header may repeat the token's session but never name
/// another, so a header cannot widen what the token sees. An unbound token may use the
/// header to narrow itself to a session.
///
/// With `dashboard` sessions, the dashboard's pages pass (they log in with a token), and a
/// request without `Authorization` but with a dashboard session cookie is admitted as the
/// dashboard's listener admits it (CSRF token and origin on every change).
struct TokenAuthMiddleware: RouterMiddleware {
    typealias Context = StintRequestContext
    let tokens: APITokens
    var dashboard: DashboardSessions? = nil

    func handle(
        _ request: Request, context: StintRequestContext,
        next: (Request, StintRequestContext) async throws -> Response
    ) async throws -> Response {
        if let dashboard, request.headers[.authorization] == nil,
            DashboardAuthMiddleware.isPage(request.uri.path) || DashboardCookie.value(in: request) != nil
        {
            return try await DashboardAuthMiddleware(sessions: dashboard).handle(request, context: context, next: next)
        }
        let token: TokenView
        do {
            token = try await tokens.authenticate(authorization: request.headers[.authorization])
        } catch {
            var response = errorResponse(error)
            response.headers[.wwwAuthenticate] = "Bearer realm=\"stint\""
            return response
        }
        var context = context
        if let bound = token.session {
            if let asked = request.headers[.init(Session.header)!], !asked.isEmpty, asked != bound {
                return errorResponse(
                    StintError(
                        .forbidden, "this token is bound to session \(bound); it cannot act for session \(asked)",
                        hint: "drop --session and STINT_SESSION, or use a token of session \(asked)"))
            }
            context.session = bound
        }
        return try await next(request, context)
    }
}
