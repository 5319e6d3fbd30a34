public import Foundation
import Hummingbird
public import Logging
import Metrics
import Prometheus
import ServiceLifecycle
public import StintCore
public import StintEngine
public import StintStore
import AsyncHTTPClient
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// `stint daemon`: the single writer of the store, serving the API on a unix socket.
///
/// Stopping it (SIGTERM, SIGINT or `stint daemon stop`) ends the API gracefully and
/// leaves every running job running under its shim; the next daemon re-attaches.
public enum Daemon {
    /// How to run the daemon.
    public struct Options: Sendable {
        /// The state folder layout.
        public var paths: StintPaths
        /// Jobs that may run at once. Default: the number of cores.
        public var parallel: Int
        /// The `stint-shim` executable.
        public var shimPath: String
        /// Seconds ended jobs are kept; 0 keeps them forever.
        public var retention: Double
        /// How webhooks and command hooks are retried. Default: ``DeliveryPolicy``'s defaults.
        public var delivery: DeliveryPolicy
        /// Seconds a graceful stop gives the deliveries that are due. Default 10.
        public var shutdownBudget: Double
        /// Also serve the API on this TCP address, to clients with an API token. Default:
        /// `nil`, only the unix socket.
        public var listen: HostPort?
        /// Seconds a connection may sit idle, or with a request half sent, before the
        /// daemon closes it. A request being answered (a long `wait`, a follow) is never
        /// cut. Default 30.
        public var idleTimeout: Double
        /// The node this daemon claims as (``WorkerIdentity/node``). Default: the host name.
        public var node: String
        /// The file each attempt's steps are stamped in (StintEngine's `HandOffTrace`).
        /// Default: `nil`, none.
        public var traceHandOffs: String?
        /// How this daemon takes part in a shared store (heartbeat, lease, poll, address).
        /// Default: StintEngine's `ClusterService.Options` defaults.
        public var cluster: ClusterService.Options
        /// Creates options.
        public init(
            paths: StintPaths, parallel: Int, shimPath: String, retention: Double = Retention.defaultSeconds,
            delivery: DeliveryPolicy = DeliveryPolicy(),
            shutdownBudget: Double = DeliveryPolicy.defaultShutdownBudget, listen: HostPort? = nil,
            idleTimeout: Double = Daemon.defaultIdleTimeout, node: String = ProcessInfo.processInfo.hostName,
            traceHandOffs: String? = nil, cluster: ClusterService.Options = .init()
        ) {
            self.cluster = cluster
            self.node = node
            self.traceHandOffs = traceHandOffs
            self.idleTimeout = idleTimeout
            self.paths = paths
            self.parallel = parallel
            self.shimPath = shimPath
            self.retention = retention
            self.delivery = delivery
            self.shutdownBudget = shutdownBudget
            self.listen = listen
        }
    }

    /// The default of ``Options/idleTimeout``: 30 s.
    public static let defaultIdleTimeout: Double = 30

    /// The registry `GET /metrics` exports. swift-metrics is bootstrapped with it once per
    /// process, the first time a daemon runs, so every metric of every library lands there.
    static let metrics: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// Runs until a graceful shutdown completes, over the store `openStore` opens. Throws
    /// `E_CONFLICT` when another daemon already serves this state folder.
    ///
    /// `openStore` is called once the state folder is private (umask 077) and this daemon
    /// holds its lock: the store's files are created 0600, and no second daemon opens them.
    /// It is given the observer of the store's transactions for `/metrics`.
    public static func run(
        _ options: Options, store openStore: (StintPaths, any TransactionObserver) async throws -> JobLedger, logger: Logger
    ) async throws {
        let paths = options.paths
        let jobUmask = try StateFolder.prepare(paths)
        let lock = try DaemonLock(path: paths.daemonLock)
        let counted = EngineMetrics()
        let store = try await openStore(paths, counted)
        let processes = ShimSupervisor(paths: paths, configuration: .init(shimPath: options.shimPath, jobUmask: jobUmask))
        var trace: HandOffTrace?
        if let path = options.traceHandOffs {
            guard let opened = HandOffTrace(path: path) else {
                throw StintError(.usage, "--trace-hand-offs: cannot open \(path): \(String(cString: strerror(errno)))")
            }
            trace = opened
        }
        // On a shared store, the store's clock decides: this host's, moved by the measured
        // difference (measured again at every heartbeat).
        var clock: any StintClock = SystemClock()
        if let cluster = store.store as? any ClusterStore {
            let before = Date()
            let storeNow = try await cluster.now()
            clock = OffsetClock(offset: storeNow.timeIntervalSince(before.addingTimeInterval(Date().timeIntervalSince(before) / 2)))
        }
        let engine = Engine(
            store: store, paths: paths, processes: processes,
            configuration: .init(
                parallel: options.parallel, retention: .init(retention: options.retention),
                worker: WorkerIdentity(node: options.node), trace: trace, cluster: options.cluster, metrics: counted),
            clock: clock, logger: logger)
        try await engine.start()

        let metrics = Self.metrics
        let http = DeliveryWorker.makeHTTPClient()
        let deliveries = DeliveryWorker(
            store: store, configuration: deliveryConfiguration(options, shared: store.store is any ClusterStore), httpClient: http,
            metricsFactory: PrometheusMetricsFactory(registry: metrics), logger: logger)
        // Deliveries queued while the engine started are due already: the worker's first round sends them.
        engine.setDeliveryObserver { deliveries.poke() }

        let info = DaemonInfo(paths: paths, parallel: engine.configuration.parallel)
        let tokens = APITokens(store: store)
        // On a shared store, this daemon's own token for the other daemons' APIs (logs of their jobs).
        var peers: PeerLink?
        var peerToken: TokenView?
        if store.store is any ClusterStore, store.store is any TokenStore {
            let created = try await tokens.create(session: nil)
            peerToken = created
            peers = created.token.map { PeerLink(http: http, token: $0) }
        }
        let dashboard = DashboardServer()
        let peerLink = peers
        let router = APIRouter(
            engine: engine, daemon: info, metrics: metrics, counted: counted, tokens: tokens, transport: .unixSocket, peers: peers,
            dashboard: dashboard
        ).build()
        let socket = paths.socket
        let app = Application(
            router: router, server: .http1(configuration: .init(idleTimeout: .milliseconds(Int64(options.idleTimeout * 1000)))),
            configuration: .init(address: .unixDomainSocket(path: socket), serverName: nil),
            onServerRunning: { _ in
                chmod(socket, 0o600)
                logger.info("stint daemon ready", metadata: ["socket": "\(socket)", "pid": "\(getpid())", "node": "\(options.node)"])
            },
            logger: logger)
        // Shut down in reverse order: waiters are released, the engine's loops end (claims
        // stop; running jobs go on), then deliveries drain, then the APIs.
        var services: [any Service] = [app]
        if let listen = options.listen {
            services.append(
                tcpApplication(
                    listen, idleTimeout: options.idleTimeout,
                    router: APIRouter(
                        engine: engine, daemon: info, metrics: metrics, counted: counted, tokens: tokens, transport: .tcp, peers: peers,
                        dashboard: dashboard
                    ).build(),
                    info: info, logger: logger))
        }
        services.append(
            DashboardService(
                server: dashboard,
                router: {
                    APIRouter(
                        engine: engine, daemon: info, metrics: metrics, counted: counted, tokens: tokens, transport: .dashboard,
                        peers: peerLink, dashboard: dashboard
                    ).build()
                }, idleTimeout: options.idleTimeout, logger: logger))
        services.append(DeliveryService(worker: deliveries, options: .init(shutdownBudget: options.shutdownBudget)))
        services += engine.services
        services.append(ShutdownService(engine: engine, info: info))
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        info.attach(group)
        do {
            try await group.run()
        } catch {
            if let peerToken { _ = try? await store.revokeToken(id: peerToken.id, now: Date()) }
            try? await http.shutdown()
            throw error
        }
        if let peerToken { _ = try? await store.revokeToken(id: peerToken.id, now: Date()) }
        try await http.shutdown()
        unlink(socket)
        withExtendedLifetime(lock) {}
        logger.info("stint daemon stopped; running jobs continue under their shims")
    }
}

/// How deliveries are sent. On a shared store, a round takes as many as go at once and holds
/// them for as long as they may take (each one's timeout, one after another), plus 30 s.
private func deliveryConfiguration(_ options: Daemon.Options, shared: Bool) -> DeliveryWorker.Configuration {
    var configuration = DeliveryWorker.Configuration(policy: options.delivery, paths: options.paths)
    if shared {
        configuration.batchSize = configuration.concurrency
        let longest = max(options.delivery.webhookTimeout, options.delivery.commandTimeout)
        configuration.lease = Double(configuration.batchSize) * longest + 30
    }
    return configuration
}

/// The API on `address` for clients with an API token: same routes as the socket.
private func tcpApplication(
    _ address: HostPort, idleTimeout: Double, router: Router<StintRequestContext>, info: DaemonInfo, logger: Logger
) -> some Service {
    if !address.isLoopback {
        logger.warning(
            "the API listens on a non-loopback address over plain HTTP: tokens and job output cross the network unencrypted",
            metadata: ["listen": "\(address)"])
    }
    return Application(
        router: router, server: .http1(configuration: .init(idleTimeout: .milliseconds(Int64(idleTimeout * 1000)))),
        configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
        onServerRunning: { channel in
            let bound = HostPort(
                host: channel.localAddress?.ipAddress ?? address.host, port: channel.localAddress?.port ?? address.port)
            info.listening(at: bound)
            logger.info("stint daemon listening on TCP (API tokens required)", metadata: ["listen": "http://\(bound)"])
        },
        logger: logger)
}

/// Releases long requests (waits, follows) when shutdown begins, so the server can
/// drain; clients reconnect to the next daemon.
private struct ShutdownService: Service {
    let engine: Engine
    let info: DaemonInfo

    func run() async throws {
        try? await gracefulShutdown()
        info.markStopping()
        await engine.shutdown()
        await engine.releaseWaiters()
    }
}

/// An exclusive `flock` on `daemon.lock`: one daemon per state folder.
final class DaemonLock: Sendable {
    private let fd: Int32

    init(path: String) throws {
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StintError(.unavailable, "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw StintError(.conflict, "another stint daemon already serves this state folder", hint: "see `stint daemon status`")
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
    }

    deinit { close(fd) }
}
