import Foundation
public import StintCore
import StintStore

extension Engine {
    /// How long a batch holder on another host may go without a heartbeat before its lock is
    /// stale. Holders on this host are checked by pid and start time instead.
    static let batchLease: Double = 60

    private func batchHolderLives() -> @Sendable (BatchHolder, Date?) -> Bool {
        let now = clock.now()
        return { holder, heartbeat in ProcessIdentity.isAlive(holder, heartbeat: heartbeat, now: now, lease: Engine.batchLease) }
    }

    /// Takes the lock of a batch and returns its checkpoint (see ``JobStore/acquireBatch``).
    public func acquireBatch(_ request: BatchAcquireRequest, scope: String?) async throws -> BatchView {
        try request.validate()
        return try await store.acquireBatch(
            request, session: scope, token: UUID().uuidString, now: clock.now(), isAlive: batchHolderLives())
    }

    /// Records a batch's checkpoint; `nil` when the batch is finished (its row is gone).
    public func saveBatch(_ id: Int64, _ request: BatchSaveRequest, scope: String?) async throws -> BatchView? {
        try await visibleBatch(id, scope: scope)
        try request.validate()
        return try await store.saveBatch(id, request, now: clock.now())
    }

    /// Records that a batch's holder lives (for holders on other hosts).
    public func heartbeatBatch(_ id: Int64, token: String, scope: String?) async throws {
        try await visibleBatch(id, scope: scope)
        try await store.heartbeatBatch(id, token: token, now: clock.now())
    }

    /// Every batch checkpoint visible to `scope`.
    public func batches(scope: String?) async throws -> [BatchView] {
        try await store.batches(session: scope, isAlive: batchHolderLives())
    }

    /// Deletes batch checkpoints that no live process holds.
    public func forgetBatches(_ ids: [Int64], scope: String?) async throws -> [BatchView] {
        try await store.forgetBatches(ids, session: scope, isAlive: batchHolderLives())
    }

    private func visibleBatch(_ id: Int64, scope: String?) async throws {
        guard let scope else { return }
        guard try await store.batches(session: scope, isAlive: { _, _ in false }).contains(where: { $0.id == id }) else {
            throw StintError(.notFound, "no batch with id \(id)", hint: "list them with `stint batch ls`")
        }
    }
}
