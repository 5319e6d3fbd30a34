import Crypto
import Foundation
import StintCore
import Synchronization

/// Who may use the dashboard: one-time login codes (`stint ui` prints one in its URL) and
/// the sessions they open, each with its cookie and its CSRF token, scoped as the client
/// that asked for the code (or the API token that logged in) was.
///
/// Kept in memory: a daemon restart logs every browser out (`stint ui` gives a new code).
final class DashboardSessions: Sendable {
    struct Session: Sendable {
        /// The cookie's value.
        let id: String
        /// What every state-changing request must send back in `X-Stint-CSRF`.
        let csrf: String
        /// The session scope (`nil`: every job), as on the API.
        let scope: String?
        var expiresAt: Date
    }

    /// How long a login code may wait to be used: 5 minutes.
    static let codeLifetime: Double = 300
    /// How long a session lasts without a request: 12 hours.
    static let idleLifetime: Double = 12 * 3600
    /// The most codes and sessions kept; beyond, the oldest go: 100 and 1,000.
    static let maxCodes = 100
    static let maxSessions = 1000

    private struct State {
        var codes: [String: (scope: String?, expiresAt: Date)] = [:]
        var sessions: [String: Session] = [:]
    }

    private let state = Mutex(State())

    /// A new one-time code for a session scoped to `scope`, and when it expires.
    func issueCode(scope: String?, now: Date = Date()) -> (code: String, expiresAt: Date) {
        let code = Self.secret()
        let expiresAt = now.addingTimeInterval(Self.codeLifetime)
        state.withLock { state in
            state.codes = state.codes.filter { $0.value.expiresAt > now }
            if state.codes.count >= Self.maxCodes, let oldest = state.codes.min(by: { $0.value.expiresAt < $1.value.expiresAt }) {
                state.codes[oldest.key] = nil
            }
            state.codes[Self.digest(code)] = (scope, expiresAt)
        }
        return (code, expiresAt)
    }

    /// Opens a session for `code`, which cannot be used again; `nil` for an unknown, used
    /// or expired one.
    func redeem(_ code: String, now: Date = Date()) -> Session? {
        guard code.utf8.count <= 256 else { return nil }
        let scope: String?? = state.withLock { state in
            guard let entry = state.codes.removeValue(forKey: Self.digest(code)), entry.expiresAt > now else { return nil }
            return .some(entry.scope)
        }
        guard let scope else { return nil }
        return open(scope: scope, now: now)
    }

    /// Opens a session scoped to `scope` (an API token's login).
    func open(scope: String?, now: Date = Date()) -> Session {
        let session = Session(id: Self.secret(), csrf: Self.secret(), scope: scope, expiresAt: now.addingTimeInterval(Self.idleLifetime))
        state.withLock { state in
            state.sessions = state.sessions.filter { $0.value.expiresAt > now }
            if state.sessions.count >= Self.maxSessions,
                let oldest = state.sessions.min(by: { $0.value.expiresAt < $1.value.expiresAt })
            {
                state.sessions[oldest.key] = nil
            }
            state.sessions[Self.digest(session.id)] = session
        }
        return session
    }

    /// The live session of cookie value `id`, its lifetime renewed; `nil` for none.
    func session(_ id: String, now: Date = Date()) -> Session? {
        guard id.utf8.count <= 256 else { return nil }
        return state.withLock { state in
            let key = Self.digest(id)
            guard var session = state.sessions[key], session.expiresAt > now else {
                state.sessions[key] = nil
                return nil
            }
            session.expiresAt = now.addingTimeInterval(Self.idleLifetime)
            state.sessions[key] = session
            return session
        }
    }

    /// Ends the session of cookie value `id`.
    func close(_ id: String) {
        _ = state.withLock { $0.sessions.removeValue(forKey: Self.digest(id)) }
    }

    /// 32 bytes of the system's CSPRNG, base64url.
    static func secret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Secrets are kept by their SHA-256, so a comparison takes the same time for every
    /// guess (a dictionary lookup of a digest, not of the secret).
    private static func digest(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
