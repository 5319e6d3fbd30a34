import Crypto
import Foundation
import StintCore
import StintStore

/// API tokens for TCP clients: creates their secrets, and checks the secret a request
/// presents. The store keeps only each secret's SHA-256, so reading the database
/// does not yield a usable token.
struct APITokens: Sendable {
    let store: JobLedger

    /// What every secret starts with, so a leaked one is easy to recognise (and to scan for).
    static let prefix = "stint_"

    /// Creates a token bound to `session` (or to none) and returns it with its secret,
    /// which is shown this once.
    func create(session: String?) async throws -> TokenView {
        if let session { try Session.validate(session) }
        let secret = Self.newSecret()
        var view = try await store.createToken(hash: Self.hash(secret), session: session, now: Date())
        view.token = secret
        return view
    }

    /// The valid token whose secret an `Authorization: Bearer SECRET` header presents.
    /// Throws `E_UNAUTHORIZED` when the header is missing or malformed, or the secret is
    /// unknown or revoked.
    func authenticate(authorization: String?) async throws -> TokenView {
        let hint = "create a token on the daemon's machine with `stint token create` and set STINT_TOKEN"
        guard let authorization, !authorization.isEmpty else {
            throw StintError(.unauthorized, "this API needs a token: send Authorization: Bearer TOKEN", hint: hint)
        }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw StintError(.unauthorized, "the Authorization header must be `Bearer TOKEN`", hint: hint)
        }
        let secret = parts[1].trimmingCharacters(in: .whitespaces)
        guard secret.utf8.count <= 256, let token = try await store.token(hash: Self.hash(secret)) else {
            throw StintError(.unauthorized, "invalid or revoked API token", hint: hint)
        }
        return token
    }

    /// A new secret: 32 bytes from the system's CSPRNG (`getrandom(2)` on Linux, behind
    /// `SystemRandomNumberGenerator`), base64url without padding, after ``prefix``.
    static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = Data()
        for _ in 0..<4 { withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) } }
        let encoded = bytes.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return prefix + encoded
    }

    /// The SHA-256 of a secret, in lower-case hex: what the store keeps.
    static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
