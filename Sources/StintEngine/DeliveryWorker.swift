public import AsyncHTTPClient
public import Foundation
public import Logging
public import Metrics
import NIOCore
public import StintCore
import StintRunner
public import StintStore
import NIOHTTP1

/// Delivers notifications to webhooks (`--notify URL`) and command hooks (`--on-end
/// CMD`), retrying transient failures by ``DeliveryPolicy``.
///
/// The store is the whole truth: a delivery is a row written with the change it reports,
/// and each attempt is recorded before the next is planned, so a daemon that dies, or
/// stops, mid-backoff loses none: the next one delivers what is pending. Delivery is at
/// least once: an attempt cut short by a crash, or by the end of a shutdown's budget,
/// is not recorded and goes again; receivers dedupe by the `Stint-Delivery` header.
public actor DeliveryWorker {
    /// How the worker runs.
    public struct Configuration: Sendable {
        /// Retries, delays and timeouts. Default: ``DeliveryPolicy``'s defaults.
        public var policy: DeliveryPolicy
        /// The state folder layout: command hooks run in its home, with scratch files in `run`.
        public var paths: StintPaths
        /// The environment command hooks start from, before the `STINT_*` variables. Default: the daemon's.
        public var environment: [String: String]
        /// Jobs whose deliveries go at once; one job's deliveries go one after another. Default 4.
        public var concurrency: Int
        /// Deliveries read from the store per round. Default 100.
        public var batchSize: Int
        /// Seconds a round's deliveries are held for this daemon, on a store shared by several
        /// (each delivery goes from one daemon; one whose daemon died goes again after it).
        /// Default 0: a store of one host, where nothing else takes them.
        public var lease: Double

        /// Creates a configuration.
        public init(
            policy: DeliveryPolicy = DeliveryPolicy(), paths: StintPaths,
            environment: [String: String] = ProcessInfo.processInfo.environment, concurrency: Int = 4,
            batchSize: Int = 100, lease: Double = 0
        ) {
            self.lease = max(0, lease)
            self.policy = policy
            self.paths = paths
            self.environment = environment
            self.concurrency = max(1, concurrency)
            self.batchSize = max(1, batchSize)
        }
    }

    /// The metric counting deliveries that reached a final status.
    public static let metricLabel = "stint_deliveries_total"
    /// The longest the loop sleeps without looking at the store: a wall-clock jump or a
    /// write by another process is noticed within this many seconds.
    static let longestSleep: Double = 60
    /// Seconds before the store is asked again after it failed.
    static let storeRetryDelay: Double = 5

    /// The worker's configuration.
    public nonisolated let configuration: Configuration
    private let store: JobLedger
    private let clock: any StintClock
    private let http: HTTPClient
    private let logger: Logger
    private let counters: [String: Counter]

    /// The round in progress; rounds never overlap, so no delivery goes twice at once.
    private var round: Task<Date?, Never>?
    /// Set by ``drain(budget:)``: the loop ends after its current round.
    private var stopping = false
    /// A poke that came while the loop was not asleep: the next sleep returns at once.
    private var poked = false
    private var sleeper: CheckedContinuation<Void, Never>?
    private var sleepTimer: Task<Void, Never>?
    private var sleepGeneration = 0

    /// Creates a worker. `httpClient` is the caller's to shut down, after ``drain(budget:)``;
    /// it should not follow redirects (see ``makeHTTPClient()``), so that a 3xx counts as
    /// the permanent failure it is. Metrics go to `metricsFactory`, by default the one
    /// `MetricsSystem` was bootstrapped with.
    public init(
        store: JobLedger, configuration: Configuration, httpClient: HTTPClient, clock: any StintClock = SystemClock(),
        metricsFactory: (any MetricsFactory)? = nil, logger: Logger
    ) {
        self.store = store
        self.configuration = configuration
        self.http = httpClient
        self.clock = clock
        self.logger = logger
        let factory = metricsFactory ?? MetricsSystem.factory
        var counters: [String: Counter] = [:]
        for status in [DeliveryStatus.success, .exhausted, .permanent] {
            for channel in DeliveryChannel.allCases {
                counters[Self.counterKey(status, channel)] = Counter(
                    label: Self.metricLabel, dimensions: [("status", status.rawValue), ("channel", channel.rawValue)],
                    factory: factory)
            }
        }
        self.counters = counters
    }

    /// An HTTP client for webhooks: it follows no redirects, and a connection that cannot
    /// be made fails the attempt at once (the worker's own retries, which survive restarts,
    /// take over) instead of being retried within the attempt until its timeout.
    public static func makeHTTPClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    // MARK: - Rounds

    /// Makes one attempt of every delivery due at the clock's now, records each result,
    /// and returns when the next pending delivery is due (`nil`: none is pending).
    ///
    /// Waits for a round already in progress first. Cancelling the caller cancels the
    /// attempts in flight, which are then not recorded and stay due.
    public func runDue() async -> Date? {
        while let running = round {
            _ = await withTaskCancellationHandler {
                await running.value
            } onCancel: {
                running.cancel()
            }
            if round == running { round = nil }
        }
        guard !Task.isCancelled else { return nil }
        // Awaited just below; a task of its own so a second caller can wait for it.
        let task = Task { await self.deliverDue() }
        round = task
        let next = await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            task.cancel()
        }
        if round == task { round = nil }
        return next
    }

    private func deliverDue() async -> Date? {
        let now = clock.now()
        let due: [DeliveryView]
        do {
            due = try await store.dueDeliveries(now: now, limit: configuration.batchSize, lease: configuration.lease)
        } catch {
            logger.error("cannot read due deliveries", metadata: ["error": "\(error)"])
            return now.addingTimeInterval(Self.storeRetryDelay)
        }
        // One job's deliveries go in order (its stall before its end); jobs go side by side.
        var byJob: [[DeliveryView]] = []
        var position: [Int64: Int] = [:]
        for delivery in due {
            if let index = position[delivery.job] {
                byJob[index].append(delivery)
            } else {
                position[delivery.job] = byJob.count
                byJob.append([delivery])
            }
        }
        let concurrency = configuration.concurrency
        let allRecorded = await withTaskGroup(of: Bool.self) { group in
            var allRecorded = true
            for (index, deliveries) in byJob.enumerated() {
                if index >= concurrency, let recorded = await group.next() { allRecorded = allRecorded && recorded }
                group.addTask {
                    var recorded = true
                    for delivery in deliveries where !Task.isCancelled {
                        recorded = await self.attempt(delivery) && recorded
                    }
                    return recorded
                }
            }
            for await recorded in group { allRecorded = allRecorded && recorded }
            return allRecorded
        }
        guard !Task.isCancelled else { return nil }
        // An attempt the store could not record is still due: wait a little rather than spin.
        guard allRecorded else { return clock.now().addingTimeInterval(Self.storeRetryDelay) }
        do {
            return try await store.nextDeliveryAt()
        } catch {
            logger.error("cannot read the next delivery time", metadata: ["error": "\(error)"])
            return clock.now().addingTimeInterval(Self.storeRetryDelay)
        }
    }

    /// Makes one attempt of `delivery` and records what came of it; `false` when the store
    /// failed to record it.
    private func attempt(_ delivery: DeliveryView) async -> Bool {
        let number = delivery.attempts + 1
        let result: DeliveryResult
        let detail: String?
        switch delivery.channel {
        case .webhook: (result, detail) = await post(delivery)
        case .command: (result, detail) = await runCommand(delivery, attempt: number)
        }
        var metadata: Logger.Metadata = [
            "delivery": "\(delivery.id)", "job": "\(delivery.job)", "channel": "\(delivery.channel.rawValue)",
            "attempt": "\(number)",
        ]
        guard !Task.isCancelled else {
            logger.info("delivery interrupted; it stays pending", metadata: metadata)
            return true
        }
        let policy = configuration.policy
        let now = clock.now()
        var decision = policy.decide(after: number, verdict: policy.verdict(for: result, now: now), now: now)
        if let error = decision.error, let detail { decision.error = "\(error): \(detail)" }
        do {
            try await store.recordDelivery(
                id: delivery.id, status: decision.status, nextAt: decision.nextAt, error: decision.error, now: now)
        } catch {
            metadata["error"] = "\(error)"
            logger.error("cannot record a delivery attempt; it will go again", metadata: metadata)
            return false
        }
        metadata["status"] = "\(decision.status.rawValue)"
        if let error = decision.error { metadata["error"] = "\(error)" }
        switch decision.status {
        case .success:
            logger.debug("delivered", metadata: metadata)
        case .pending:
            metadata["next"] = "\(decision.nextAt.map(RFC3339.format) ?? "")"
            logger.notice("delivery failed; will retry", metadata: metadata)
        case .exhausted, .permanent:
            logger.warning("delivery given up", metadata: metadata)
        }
        // Counted once, at the final status (no counter exists for `pending`).
        counters[Self.counterKey(decision.status, delivery.channel)]?.increment()
        return true
    }

    // MARK: - Channels

    /// POSTs the payload; returns the answer and the first line of its body.
    private nonisolated func post(_ delivery: DeliveryView) async -> (DeliveryResult, String?) {
        var request = HTTPClientRequest(url: delivery.target)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "stint/\(StintVersion.current)")
        request.headers.add(name: "Stint-Delivery", value: String(delivery.id))
        request.headers.add(name: "Stint-Event", value: delivery.kind.rawValue)
        request.body = .bytes(ByteBuffer(string: delivery.payload))
        let timeout = TimeAmount.milliseconds(Int64(configuration.policy.webhookTimeout * 1000))
        do {
            let response = try await http.execute(request, timeout: timeout)
            // Only the start of the body is read, for the error message; the rest is dropped.
            let body = try? await response.body.collect(upTo: 4096)
            let firstLine = body.flatMap { String(buffer: $0).split(whereSeparator: \.isNewline).first }
                .map { String($0.prefix(200)) }
            return (.http(status: Int(response.status.code), retryAfter: response.headers.first(name: "Retry-After")), firstLine)
        } catch let error as HTTPClientError {
            switch error {
            case .invalidURL, .emptyHost, .emptyScheme:
                return (.invalidTarget("invalid URL \(delivery.target)"), nil)
            case .connectTimeout, .readTimeout, .writeTimeout, .deadlineExceeded, .tlsHandshakeTimeout,
                .getConnectionFromPoolTimeout:
                return (.timedOut, nil)
            default:
                return (.connectionFailed(Self.shortened("\(error)")), nil)
            }
        } catch {
            return (.connectionFailed(Self.shortened("\(error)")), nil)
        }
    }

    /// Runs the command hook with the payload on stdin and the job in `STINT_*` variables.
    private nonisolated func runCommand(_ delivery: DeliveryView, attempt: Int) async -> (DeliveryResult, String?) {
        let paths = configuration.paths
        let (result, lastLine) = await CommandHook.run(
            delivery.target, directory: paths.home, environment: hookEnvironment(delivery, attempt: attempt),
            input: Data(delivery.payload.utf8), output: "\(paths.run)/hook-\(delivery.id).out",
            timeout: configuration.policy.commandTimeout)
        return (result, lastLine.map { String($0.prefix(200)) })
    }

    /// The daemon's environment plus the job's facts. Every variable is set, empty when
    /// unknown, so none leaks through from the daemon's own environment.
    private nonisolated func hookEnvironment(_ delivery: DeliveryView, attempt: Int) -> [String: String] {
        let notification = try? StintJSON.decoder().decode(NotificationView.self, from: Data(delivery.payload.utf8))
        var environment = configuration.environment
        environment["STINT_JOB_ID"] = String(delivery.job)
        environment["STINT_ATTEMPT"] = String(delivery.attempt)
        environment["STINT_EVENT"] = delivery.kind.rawValue
        environment["STINT_STATE"] = notification?.state.rawValue ?? ""
        environment["STINT_EXIT_CODE"] = notification?.exitCode.map { String($0) } ?? ""
        environment["STINT_REASON"] = notification?.reason ?? ""
        environment["STINT_DURATION"] = notification?.duration.map { String(format: "%.3f", $0) } ?? ""
        environment["STINT_QUEUE"] = notification?.queue ?? ""
        environment["STINT_SESSION"] = notification?.session ?? ""
        environment["STINT_LOG"] = notification?.log ?? ""
        environment["STINT_NOTIFICATION"] = delivery.payload
        environment["STINT_DELIVERY_ID"] = String(delivery.id)
        environment["STINT_DELIVERY_ATTEMPT"] = String(attempt)
        return environment
    }

    private static func shortened(_ text: String) -> String {
        text.count > 300 ? String(text.prefix(300)) + "…" : text
    }

    private static func counterKey(_ status: DeliveryStatus, _ channel: DeliveryChannel) -> String {
        "\(status.rawValue)/\(channel.rawValue)"
    }

    // MARK: - The loop

    /// Delivers until cancelled or drained: a round, then sleep until the next delivery
    /// is due or ``poke()`` says new ones were queued.
    public func run() async {
        await withTaskCancellationHandler {
            while !stopping, !Task.isCancelled {
                let next = await runDue()
                guard !stopping, !Task.isCancelled else { break }
                await sleep(until: next)
            }
        } onCancel: {
            poke()
        }
    }

    /// Tells the loop that deliveries were queued. Safe to call from anywhere.
    public nonisolated func poke() {
        // Not awaited: the poke only has to reach the actor; a lost race costs one round.
        Task { await self.wake() }
    }

    /// Gracefully stops: ends the loop after its current round, then makes the attempts
    /// due now, all within `budget` seconds. Attempts still in flight when the budget runs
    /// out are cancelled and not recorded, so they, and everything not yet due, stay
    /// pending for the next start.
    public func drain(budget: Double = DeliveryPolicy.defaultShutdownBudget) async {
        stopping = true
        wake()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = await self.runDue() }
            // Elapsed time, not the engine's clock: the budget bounds how long a stopping
            // daemon takes, in the seconds its operator waits.
            group.addTask { try? await Task.sleep(for: .seconds(max(0, budget))) }
            await group.next()
            group.cancelAll()
        }
    }

    private func sleep(until next: Date?) async {
        if poked {
            poked = false
            return
        }
        let wait = next.map { min(Self.longestSleep, $0.timeIntervalSince(clock.now())) } ?? Self.longestSleep
        guard wait > 0 else { return }
        sleepGeneration += 1
        let generation = sleepGeneration
        await withCheckedContinuation { continuation in
            sleeper = continuation
            // Not awaited: cancelled by `wake()`; when it fires, it wakes only this sleep.
            sleepTimer = Task { [clock] in
                guard (try? await clock.sleep(for: wait)) != nil else { return }
                self.timerFired(generation)
            }
        }
    }

    private func timerFired(_ generation: Int) {
        guard generation == sleepGeneration, let sleeper else { return }
        self.sleeper = nil
        sleepTimer = nil
        sleeper.resume()
    }

    private func wake() {
        sleepTimer?.cancel()
        sleepTimer = nil
        if let sleeper {
            self.sleeper = nil
            sleeper.resume()
        } else {
            poked = true
        }
    }
}
