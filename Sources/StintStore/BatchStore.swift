public import Foundation
public import StintCore

/// A store that also keeps `stint batch` checkpoints and their locks: an optional
/// ability of a backend, beside ``JobStore``.
///
/// `isAlive` tells whether a recorded holder still runs (given its last heartbeat); the
/// backend calls it inside its transaction, so that taking a lock and checking the
/// holder it replaces are one step.
public protocol BatchStore: Sendable {
    /// Takes the lock of the batch (command, target) of `session`, creating its row, and
    /// returns its checkpoint with the lock token. A live holder, or a queue of
    /// `exclusiveWith` that is not paused, throws `E_CONFLICT` (unless `allowConcurrent`,
    /// which takes no lock).
    func acquireBatch(
        _ request: BatchAcquireRequest, session: String?, token: String, now: Date,
        isAlive: @escaping @Sendable (BatchHolder, Date?) -> Bool
    ) async throws -> BatchView

    /// Records a batch's checkpoint (and heartbeat); releases the lock or deletes the row as
    /// asked. A token that no longer holds the lock throws `E_CONFLICT`; returns `nil` when
    /// the row is gone.
    func saveBatch(_ id: Int64, _ request: BatchSaveRequest, now: Date) async throws -> BatchView?

    /// Records that the holder with `token` still runs.
    func heartbeatBatch(_ id: Int64, token: String, now: Date) async throws

    /// Every batch checkpoint (of `session` only, when given), by id.
    func batches(session: String?, isAlive: @escaping @Sendable (BatchHolder, Date?) -> Bool) async throws -> [BatchView]

    /// Deletes batch checkpoints; a batch with a live holder throws `E_CONFLICT`, an
    /// unknown (or other session's) id `E_NOT_FOUND`, and nothing is deleted then.
    func forgetBatches(
        _ ids: [Int64], session: String?, isAlive: @escaping @Sendable (BatchHolder, Date?) -> Bool
    ) async throws -> [BatchView]
}
