public import Foundation
public import StintCore

/// A store shared by several daemons, each a node (PostgreSQL): an optional ability of a
/// backend, beside ``JobStore``. A store of one host (SQLite) has none of this.
///
/// Times are the store's clock (``now()``), so every node agrees on leases and run_at.
public protocol ClusterStore: Sendable {
    /// The store's clock now.
    func now() async throws -> Date

    /// Records that `worker` serves its node from now on (replacing the node's last instance),
    /// with its API `address`, its `lease` in seconds and its version.
    func registerNode(_ worker: WorkerIdentity, address: String?, lease: Double, version: String, pid: Int64) async throws

    /// Renews the lease of `worker`'s node and of every attempt it runs; returns those of
    /// `running` (attempts it supervises) that are no longer open in the store: another node
    /// rescued them, and their processes must end.
    func heartbeat(_ worker: WorkerIdentity, running: [AttemptKey]) async throws -> [AttemptKey]

    /// Records that `worker` stopped gracefully (its attempts keep their leases until they run out).
    func stopNode(_ worker: WorkerIdentity) async throws

    /// Open attempts of other instances whose lease has run out, oldest first, with their jobs.
    func expiredAttempts(excluding worker: WorkerIdentity, limit: Int) async throws -> [ClaimedJob]

    /// Takes or keeps `role` for `worker` until `lease` seconds from now, unless another
    /// instance holds it and its lease has not run out; returns whether `worker` holds it.
    func holdRole(_ role: String, worker: WorkerIdentity, lease: Double) async throws -> Bool

    /// Every node, by name.
    func nodes() async throws -> [NodeView]

    /// Stores `request` for its node and tells that node.
    func requestControl(_ request: ControlRequest) async throws

    /// Takes (deletes and returns) the control requests stored for `node`, oldest first.
    func takeControls(node: String) async throws -> [ControlRequest]

    /// Calls `handler` with what other daemons announce, until the task is cancelled,
    /// reconnecting after a lost connection (a notification missed meanwhile is covered by
    /// the caller's polling).
    func listen(node: String, _ handler: @escaping @Sendable (ClusterSignal) -> Void) async
}

/// An attempt by job and number.
public struct AttemptKey: Sendable, Hashable {
    public var job: Int64
    public var attempt: Int
    public init(job: Int64, attempt: Int) {
        self.job = job
        self.attempt = attempt
    }
}

/// What one daemon tells the others through the store.
public enum ClusterSignal: Sendable, Hashable {
    /// There may be jobs to claim (added, made ready, a slot or a queue freed).
    case work
    /// Job `id` ended.
    case ended(Int64)
    /// A control request for this node is stored.
    case control
    /// The connection that listens was (re)established: anything may have been missed.
    case reconnected
}
