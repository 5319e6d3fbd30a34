public import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
public import StintCore
public import StintStore

extension PostgresJobStore: ClusterStore {
    /// The channels daemons listen on: work to claim, a job's end, a control request.
    enum Channel {
        static let work = PostgresTransaction.wakeChannel
        static let ended = PostgresTransaction.endedChannel
        static let control = "stint_control"
    }

    public func now() async throws -> Date {
        try await transact { tx in try Self.serverNow(tx) }
    }

    static func serverNow(_ tx: PostgresTransaction) throws -> Date {
        try tx.one("SELECT extract(epoch FROM clock_timestamp())::float8 AS now")?.date("now") ?? Date()
    }

    public func registerNode(_ worker: WorkerIdentity, address: String?, lease: Double, version: String, pid: Int64) async throws {
        try await transact { tx in
            let now = try Self.serverNow(tx).timeIntervalSince1970
            try tx.run(
                """
                INSERT INTO nodes (name, instance, address, version, pid, started_at, heartbeat_at, lease, stopped_at)
                VALUES (\(worker.node), \(worker.instance), \(address), \(version), \(pid), \(now), \(now), \(lease), NULL)
                ON CONFLICT (name) DO UPDATE SET instance = excluded.instance, address = excluded.address,
                    version = excluded.version, pid = excluded.pid, started_at = excluded.started_at,
                    heartbeat_at = excluded.heartbeat_at, lease = excluded.lease, stopped_at = NULL
                """)
        }
    }

    public func heartbeat(_ worker: WorkerIdentity, running: [AttemptKey]) async throws -> [AttemptKey] {
        try await transact { tx in
            let now = try Self.serverNow(tx).timeIntervalSince1970
            try tx.run("UPDATE nodes SET heartbeat_at = \(now) WHERE name = \(worker.node)")
            // Every open attempt of this node, those re-attached from its earlier runs too.
            try tx.run(
                """
                UPDATE attempts SET lease_until = \(now) + (SELECT lease FROM nodes WHERE name = \(worker.node))
                WHERE ended_at IS NULL AND host = \(worker.node)
                """)
            guard !running.isEmpty else { return [] }
            return try tx.rows(
                """
                SELECT r.job, r.number FROM unnest(\(running.map(\.job))::bigint[], \(running.map { Int64($0.attempt) })::bigint[])
                    AS r(job, number)
                LEFT JOIN attempts a ON a.job_id = r.job AND a.number = r.number
                WHERE a.job_id IS NULL OR a.ended_at IS NOT NULL
                """
            ).compactMap { row in
                guard let job = try row.int64("job"), let number = try row.int("number") else { return nil }
                return AttemptKey(job: job, attempt: number)
            }
        }
    }

    public func stopNode(_ worker: WorkerIdentity) async throws {
        try await transact { tx in
            let now = try Self.serverNow(tx).timeIntervalSince1970
            try tx.run("UPDATE nodes SET stopped_at = \(now) WHERE name = \(worker.node) AND instance = \(worker.instance)")
            try tx.run("DELETE FROM leaders WHERE instance = \(worker.instance)")
        }
    }

    public func expiredAttempts(excluding worker: WorkerIdentity, limit: Int) async throws -> [ClaimedJob] {
        try await transact { tx in
            let now = try Self.serverNow(tx).timeIntervalSince1970
            return try tx.rows(
                """
                SELECT j.*, e.json AS env_json, a.number AS a_number, a.shim_pid AS a_shim_pid,
                       a.started_at AS a_started_at, a.host AS a_host, a.instance AS a_instance
                FROM attempts a JOIN jobs j ON j.id = a.job_id LEFT JOIN environments e ON e.id = j.env_id
                WHERE a.ended_at IS NULL AND a.lease_until < \(now) AND a.host != \(worker.node)
                ORDER BY a.lease_until LIMIT \(Int64(limit))
                """
            ).map(StoreRows.openAttempt)
        }
    }

    public func holdRole(_ role: String, worker: WorkerIdentity, lease: Double) async throws -> Bool {
        try await transact { tx in
            let now = try Self.serverNow(tx).timeIntervalSince1970
            return try tx.one(
                """
                INSERT INTO leaders (role, node, instance, until) VALUES (\(role), \(worker.node), \(worker.instance), \(now + lease))
                ON CONFLICT (role) DO UPDATE SET node = excluded.node, instance = excluded.instance, until = excluded.until
                WHERE leaders.instance = excluded.instance OR leaders.until < \(now)
                RETURNING instance
                """) != nil
        }
    }

    public func nodes() async throws -> [NodeView] {
        try await transact { tx in
            let now = try Self.serverNow(tx).timeIntervalSince1970
            var running: [String: Int] = [:]
            for row in try tx.rows("SELECT host, COUNT(*) AS n FROM attempts WHERE ended_at IS NULL GROUP BY host") {
                if let host = try row.string("host") { running[host] = try row.int("n") ?? 0 }
            }
            var roles: [String: [String]] = [:]
            for row in try tx.rows("SELECT role, node FROM leaders WHERE until >= \(now) ORDER BY role") {
                if let node = try row.string("node"), let role = try row.string("role") { roles[node, default: []].append(role) }
            }
            return try tx.rows("SELECT * FROM nodes ORDER BY name").map { row in
                let name = try row.required("name", row.string)
                let heartbeat = try row.required("heartbeat_at", row.double)
                let lease = try row.required("lease", row.double)
                let stopped = try row.date("stopped_at")
                return NodeView(
                    node: name, instance: try row.required("instance", row.string), address: try row.string("address"),
                    version: try row.required("version", row.string), pid: try row.int64("pid"),
                    startedAt: try row.required("started_at", row.date), heartbeatAt: Date(timeIntervalSince1970: heartbeat),
                    lease: lease, alive: stopped == nil && heartbeat + lease >= now, stoppedAt: stopped,
                    running: running[name] ?? 0, roles: roles[name] ?? [])
            }
        }
    }

    public func requestControl(_ request: ControlRequest) async throws {
        try await transact { tx in
            let now = try Self.serverNow(tx).timeIntervalSince1970
            try tx.run(
                """
                INSERT INTO controls (node, job_id, attempt, action, created_at)
                VALUES (\(request.node), \(request.job), \(request.attempt), \(request.actionText), \(now))
                """)
            try tx.run("SELECT pg_notify(\(Channel.control), \(request.node))")
        }
    }

    public func takeControls(node: String) async throws -> [ControlRequest] {
        try await transact { tx in
            var taken: [(id: Int64, request: ControlRequest)] = []
            for row in try tx.rows("DELETE FROM controls WHERE node = \(node) RETURNING *") {
                guard let id = try row.int64("id"), let job = try row.int64("job_id"), let attempt = try row.int("attempt"),
                    let action = try row.string("action").flatMap(ControlRequest.action)
                else { continue }
                taken.append((id, ControlRequest(node: node, job: job, attempt: attempt, action: action)))
            }
            return taken.sorted { $0.id < $1.id }.map(\.request)
        }
    }

    public func listen(node: String, _ handler: @escaping @Sendable (ClusterSignal) -> Void) async {
        let origin = self.origin
        var delay = 0.1
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    on: MultiThreadedEventLoopGroup.singleton.any(),
                    configuration: PostgresSession.configuration(url, timeout: connectTimeout), id: 0, logger: logger
                ).get()
                let contexts = [Channel.work, Channel.ended, Channel.control].map { channel in
                    connection.addListener(channel: channel) { _, message in
                        switch message.channel {
                        case Channel.work where message.payload != origin:
                            handler(.work)
                        case Channel.ended:
                            // "ORIGIN JOB": a job this store ended is settled here already.
                            let parts = message.payload.split(separator: " ")
                            if parts.count == 2, parts[0] != origin, let id = Int64(parts[1]) { handler(.ended(id)) }
                        case Channel.control where message.payload == node:
                            handler(.control)
                        default:
                            break
                        }
                    }
                }
                handler(.reconnected)
                delay = 0.1
                await withTaskCancellationHandler {
                    try? await connection.closeFuture.get()
                } onCancel: {
                    let closing: EventLoopFuture<Void> = connection.close()
                    _ = closing
                }
                for context in contexts { context.stop() }
            } catch {
                logger.warning(
                    "cannot listen to the store; polling meanwhile",
                    metadata: ["store": "\(url)", "error": "\(PostgresFailure.describe(error))"])
            }
            guard !Task.isCancelled else { return }
            try? await Task.sleep(for: .seconds(delay * Double.random(in: 0.5...1.5)))
            delay = min(delay * 2, 5)
        }
    }
}
