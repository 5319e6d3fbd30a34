public import Foundation
public import StintCore

extension JobLedger {
    /// The backend's batch checkpoints; `E_UNAVAILABLE` for a backend without them.
    public var batchStore: any BatchStore {
        get throws {
            guard let batches = store as? any BatchStore else {
                throw StintError(.unavailable, "the store \(location) keeps no batch checkpoints")
            }
            return batches
        }
    }

    /// The backend's API tokens; `E_UNAVAILABLE` for a backend without them.
    public var tokenStore: any TokenStore {
        get throws {
            guard let tokens = store as? any TokenStore else {
                throw StintError(.unavailable, "the store \(location) keeps no API tokens")
            }
            return tokens
        }
    }

    /// See ``BatchStore/acquireBatch(_:session:token:now:isAlive:)``.
    public func acquireBatch(
        _ request: BatchAcquireRequest, session: String?, token: String, now: Date,
        isAlive: @escaping @Sendable (BatchHolder, Date?) -> Bool
    ) async throws -> BatchView {
        try await batchStore.acquireBatch(request, session: session, token: token, now: now, isAlive: isAlive)
    }

    /// See ``BatchStore/saveBatch(_:_:now:)``.
    public func saveBatch(_ id: Int64, _ request: BatchSaveRequest, now: Date) async throws -> BatchView? {
        try await batchStore.saveBatch(id, request, now: now)
    }

    /// See ``BatchStore/heartbeatBatch(_:token:now:)``.
    public func heartbeatBatch(_ id: Int64, token: String, now: Date) async throws {
        try await batchStore.heartbeatBatch(id, token: token, now: now)
    }

    /// See ``BatchStore/batches(session:isAlive:)``.
    public func batches(session: String?, isAlive: @escaping @Sendable (BatchHolder, Date?) -> Bool) async throws -> [BatchView] {
        try await batchStore.batches(session: session, isAlive: isAlive)
    }

    /// See ``BatchStore/forgetBatches(_:session:isAlive:)``.
    public func forgetBatches(
        _ ids: [Int64], session: String?, isAlive: @escaping @Sendable (BatchHolder, Date?) -> Bool
    ) async throws -> [BatchView] {
        try await batchStore.forgetBatches(ids, session: session, isAlive: isAlive)
    }

    /// See ``TokenStore/createToken(hash:session:now:)``.
    public func createToken(hash: String, session: String?, now: Date) async throws -> TokenView {
        try await tokenStore.createToken(hash: hash, session: session, now: now)
    }

    /// See ``TokenStore/token(hash:)``.
    public func token(hash: String) async throws -> TokenView? {
        try await tokenStore.token(hash: hash)
    }

    /// See ``TokenStore/tokens()``.
    public func tokens() async throws -> [TokenView] {
        try await tokenStore.tokens()
    }

    /// See ``TokenStore/revokeToken(id:now:)``.
    public func revokeToken(id: Int64, now: Date) async throws -> TokenView {
        try await tokenStore.revokeToken(id: id, now: now)
    }
}
