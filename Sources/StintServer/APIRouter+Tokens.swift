import Foundation
import Hummingbird
import StintCore
import StintStore

extension APIRouter {
    /// The listener a router serves.
    enum Transport: Sendable {
        /// The local unix socket (mode 0600): no token needed.
        case unixSocket
        /// `--listen HOST:PORT`: every request needs an API token.
        case tcp
        /// The dashboard's listener (`stint ui`): a session cookie and, to change anything,
        /// its CSRF token.
        case dashboard
    }

    /// `POST /v1/tokens`, `GET /v1/tokens` and `POST /v1/tokens/:id/revoke`: only on the
    /// local socket, whose 0600 mode already limits it to the daemon's user. A client
    /// scoped to a session manages only that session's tokens.
    func addTokenRoutes(to router: inout RouteRecorder) {
        router.post("/v1/tokens", .init("Creates an API token (the local socket only)", body: TokenRequest.self, returns: TokenView.self)) { request, context in
            try await json {
                try localOnly()
                let body = try await decode(TokenRequest.self, request)
                if let scope = context.session, body.session != scope {
                    throw StintError(
                        .forbidden, "a client scoped to session \(scope) creates tokens of that session only",
                        hint: "add --session \(scope)")
                }
                return try await tokens.create(session: body.session)
            }
        }
        router.get("/v1/tokens", .init("API tokens (the local socket only)", returns: [TokenView].self)) { _, context in
            try await json {
                try localOnly()
                let all = try await tokens.store.tokens()
                guard let scope = context.session else { return all }
                return all.filter { $0.session == scope }
            }
        }
        router.post("/v1/tokens/:id/revoke", .init("Revokes an API token (the local socket only)", returns: TokenView.self)) { _, context in
            try await json {
                try localOnly()
                let text = context.parameters.get("id") ?? ""
                guard let id = Int64(text), id > 0 else { throw StintError(.usage, "not a token id: \(text)") }
                if let scope = context.session {
                    let owned = try await tokens.store.tokens().contains { $0.id == id && $0.session == scope }
                    guard owned else { throw StintError(.notFound, "no token with id \(id) in session \(scope)") }
                }
                return try await tokens.store.revokeToken(id: id, now: Date())
            }
        }
    }

    private func localOnly() throws {
        guard transport == .unixSocket else {
            throw StintError(
                .forbidden, "tokens are managed only on the daemon's local socket, not over TCP",
                hint: "run `stint token …` on the daemon's machine without STINT_URL")
        }
    }
}
