import AsyncHTTPClient
import Foundation
import Logging
import Prometheus
import StintCore
import StintEngine
import StintStore
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A state folder with a real SQLite store, a manual clock, an HTTP client and a
/// Prometheus registry: what a delivery worker needs, minus the daemon.
final class DeliveryFixture: Sendable {
    let paths: StintPaths
    let store: JobLedger
    let sqlite: SQLiteJobStore
    let clock = ManualClock()
    let http = DeliveryWorker.makeHTTPClient()
    let registry = PrometheusCollectorRegistry()
    private let servers = Mutex<[WebhookServer]>([])

    private init() throws {
        var template = Array("/tmp/stint-delivery-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw StintError(.internal, "mkdtemp failed") }
        paths = StintPaths(home: String(cString: made))
        try FileManager.default.createDirectory(atPath: paths.run, withIntermediateDirectories: true)
        sqlite = try SQLiteJobStore(path: paths.database)
        store = JobLedger(sqlite)
    }

    /// Runs `body` with a new fixture and always cleans up after it.
    static func with(_ body: (DeliveryFixture) async throws -> Void) async throws {
        let fixture = try DeliveryFixture()
        do {
            try await body(fixture)
        } catch {
            await fixture.close()
            throw error
        }
        await fixture.close()
    }

    /// Starts a webhook server (see ``WebhookServer/start(_:)``), stopped with the fixture.
    func startServer(_ scripts: [String: [WebhookServer.Reply]] = [:]) async throws -> WebhookServer {
        let server = try await WebhookServer.start(scripts)
        servers.withLock { $0.append(server) }
        return server
    }

    private func close() async {
        for server in servers.withLock({ $0 }) { await server.stop() }
        try? await http.shutdown()
        try? FileManager.default.removeItem(atPath: paths.home)
    }

    /// A worker over `store` (default: the fixture's) with the fixture's clock and registry.
    /// The default policy waits a minute for a webhook's answer, not ten seconds: the
    /// receiver runs in the test process, which a loaded machine can keep from answering
    /// for longer than the real default, and a test that meant a 404 would then see a
    /// timeout.
    func worker(_ policy: DeliveryPolicy = DeliveryPolicy(webhookTimeout: 60), store: JobLedger? = nil) -> DeliveryWorker {
        DeliveryWorker(
            store: store ?? self.store, configuration: .init(policy: policy, paths: paths, environment: ["PATH": "/usr/bin:/bin"]),
            httpClient: http, clock: clock, metricsFactory: PrometheusMetricsFactory(registry: registry),
            logger: Logger(label: "stint.test.delivery", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// Adds a job with these hooks, runs its attempt 1 for 2.5 s and ends it with
    /// `exitCode` at the clock's now: the store queues its deliveries, due now.
    func endedJob(notify: String? = nil, onEnd: String? = nil, exitCode: Int = 0) async throws -> Int64 {
        var spec = JobSpec(argv: ["make", "test"], cwd: "/tmp", session: "agent-1")
        spec.notify = notify
        spec.onEnd = onEnd
        let now = clock.now()
        let id = try #require(try await store.insert([spec], now: now.addingTimeInterval(-5)).first?.id)
        let claimed = try await store.claim(limit: 1, worker: WorkerIdentity(node: "test"), now: now.addingTimeInterval(-5)).claimed
        try #require(claimed.map(\.id) == [id])
        let outcome = AttemptOutcome(
            reason: .exited, exitCode: exitCode, startedAt: now.addingTimeInterval(-2.5), endedAt: now)
        let result = try await store.finish(
            AttemptEnding(jobID: id, attempt: 1, outcome: outcome, outputTail: ["all tests passed"], logPath: "/logs/\(id).1.log"))
        #expect(result.deliveriesQueued)
        return id
    }

    /// The one delivery of job `id`.
    func delivery(of id: Int64) async throws -> DeliveryView {
        let deliveries = try await store.deliveries(job: id, limit: 10)
        try #require(deliveries.count == 1, "job \(id) has \(deliveries.count) deliveries")
        return deliveries[0]
    }

    /// The value of `stint_deliveries_total{status, channel}` in the registry's text output.
    func deliveriesMetric(status: String, channel: String) -> Int? {
        for line in registry.emitToString().split(separator: "\n") where line.hasPrefix(DeliveryWorker.metricLabel + "{") {
            guard line.contains("status=\"\(status)\""), line.contains("channel=\"\(channel)\""),
                let value = line.split(separator: " ").last
            else { continue }
            return Int(value)
        }
        return nil
    }
}
