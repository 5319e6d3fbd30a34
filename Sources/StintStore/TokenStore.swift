public import Foundation
public import StintCore

/// A store that also keeps API tokens: an optional ability of a backend, beside ``JobStore``.
public protocol TokenStore: Sendable {
    /// Stores a token by the hash of its secret.
    func createToken(hash: String, session: String?, now: Date) async throws -> TokenView

    /// The token with this hash, if it exists and was not revoked.
    func token(hash: String) async throws -> TokenView?

    /// Every token, revoked ones included, by id; never their secrets.
    func tokens() async throws -> [TokenView]

    /// Revokes a token: its secret is refused from then on. Revoking a revoked token
    /// changes nothing; an unknown id throws `E_NOT_FOUND`.
    func revokeToken(id: Int64, now: Date) async throws -> TokenView
}
