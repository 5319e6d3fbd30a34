public import Foundation

/// A claim asked of a write that may make jobs runnable (an insert, an ending): in the
/// same transaction, claim at most `limit` jobs for `worker` at `now`, as a claim of its
/// own would.
public struct ClaimRequest: Sendable, Hashable {
    /// The most jobs to claim: the slots the engine reserved for this write.
    public var limit: Int
    /// Who claims.
    public var worker: WorkerIdentity
    /// The claim's "now": when the attempts it starts start.
    public var now: Date

    /// Creates a request.
    public init(limit: Int, worker: WorkerIdentity, now: Date) {
        self.limit = limit
        self.worker = worker
        self.now = now
    }
}
