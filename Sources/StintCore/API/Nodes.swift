public import Foundation

/// One daemon sharing the store (`stint nodes`, `GET /v1/nodes`).
public struct NodeView: Sendable, Codable, Hashable {
    /// The node's name (`--node`).
    public var node: String
    /// The daemon process now serving it (a new id at every start).
    public var instance: String
    /// Where its API listens (`--listen`), for logs of its jobs; `nil` when it serves only its socket.
    public var address: String?
    /// The Stint version it runs.
    public var version: String
    /// Its process id on its host.
    public var pid: Int64?
    /// When it started.
    public var startedAt: Date
    /// Its last heartbeat (the store's clock).
    public var heartbeatAt: Date
    /// The lease its heartbeats renew, in seconds: once its last heartbeat is older, it is down.
    public var lease: Double
    /// Whether its lease still holds.
    public var alive: Bool
    /// When it stopped gracefully, if it did (and has not started again).
    public var stoppedAt: Date?
    /// The attempts it runs now.
    public var running: Int
    /// The once-per-cluster roles it holds (`maintenance`: retention).
    public var roles: [String]

    /// Creates a node's view.
    public init(
        node: String, instance: String, address: String?, version: String, pid: Int64?, startedAt: Date,
        heartbeatAt: Date, lease: Double, alive: Bool, stoppedAt: Date?, running: Int, roles: [String]
    ) {
        self.node = node
        self.instance = instance
        self.address = address
        self.version = version
        self.pid = pid
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.lease = lease
        self.alive = alive
        self.stoppedAt = stoppedAt
        self.running = running
        self.roles = roles
    }
}

/// `GET /v1/nodes`: the daemons sharing the store, by name.
public struct NodesResponse: Sendable, Codable {
    /// The nodes; one, this daemon, on a store of one host (SQLite).
    public var nodes: [NodeView]
    /// Whether the store is shared by several daemons (PostgreSQL).
    public var shared: Bool
    /// Creates a response.
    public init(nodes: [NodeView], shared: Bool) {
        self.nodes = nodes
        self.shared = shared
    }
}

/// A `stop` or `kill` asked on one node for an attempt that another node runs; that node
/// takes it from the store and acts on it.
public struct ControlRequest: Sendable, Hashable {
    /// What to do.
    public enum Action: Sendable, Hashable {
        /// Stop the whole tree: SIGTERM, then SIGKILL after `grace` seconds (the default when `nil`).
        case stop(grace: Double?)
        /// Send `signal` to the whole tree.
        case signal(Int32)
    }

    /// The node that runs the attempt.
    public var node: String
    /// The job.
    public var job: Int64
    /// Its attempt.
    public var attempt: Int
    /// What to do.
    public var action: Action

    /// Creates a request.
    public init(node: String, job: Int64, attempt: Int, action: Action) {
        self.node = node
        self.job = job
        self.attempt = attempt
        self.action = action
    }

    /// The action as stored: `stop`, `stop GRACE` or `signal N`.
    public var actionText: String {
        switch action {
        case .stop(let grace?): "stop \(grace)"
        case .stop(nil): "stop"
        case .signal(let signal): "signal \(signal)"
        }
    }

    /// The action stored as `text`, or `nil` when it is none.
    public static func action(_ text: String) -> Action? {
        let parts = text.split(separator: " ")
        switch (parts.first, parts.count) {
        case ("stop", 1): return .stop(grace: nil)
        case ("stop", 2): return Double(parts[1]).map { .stop(grace: $0) }
        case ("signal", 2): return Int32(parts[1]).map { .signal($0) }
        default: return nil
        }
    }
}
