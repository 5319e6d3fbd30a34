import ArgumentParser
import Foundation
import Logging
import StintCore
import StintEngine
import StintRunner
import StintServer

/// `stint-daemon`: the daemon's own executable, which `stint daemon` runs.
///
/// It is separate from `stint` so that the CLI, started for every `add` and `wait`,
/// links none of the server (SwiftNIO, Hummingbird, GRDB) and can be a static executable.
@main
struct StintDaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stint-daemon",
        abstract: "The Stint daemon (normally started as `stint daemon`).",
        discussion: "SIGTERM or SIGINT stop it gracefully; running jobs keep running and the next daemon re-attaches to them.",
        version: StintVersion.current)

    // The one set of the daemon's flags: `stint daemon [run]` hands its arguments here.
    // Numbers are parsed `.unconditional` so that a negative value is named as one.

    @Option(parsing: .unconditional, help: "How many jobs run at once (default: the number of cores).")
    var parallel: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(parsing: .unconditional, help: "Delete ended jobs and their logs this long after they ended; 0 keeps them.")
    var retention: String = "7d"

    @Option(name: .customLong("notification-cap"), parsing: .unconditional, help: "Pending notifications kept per session; the oldest are dropped beyond.")
    var notificationCap: Int = Session.defaultNotificationCap

    @Option(parsing: .unconditional, help: "Attempts in all to deliver a notification to a webhook or command hook.")
    var deliveryAttempts: Int = DeliveryPolicy.defaultAttempts

    @Option(parsing: .unconditional, help: "The first and the longest delay between delivery attempts; delays double.")
    var deliveryBackoff: String = "30s..5m"

    @Option(parsing: .unconditional, help: "On a graceful stop, how long deliveries that are due may take; the rest wait for the next start.")
    var shutdownBudget: String = "10s"

    @Option(parsing: .unconditional, help: "Close a connection idle, or with a request half sent, this long; a request being answered is never cut.")
    var idleTimeout: String = "30s"

    @Option(
        help: ArgumentHelp(
            "Also serve the API on this TCP address, to clients with an API token (see `stint token`); a non-loopback address is warned about.",
            valueName: "HOST:PORT"))
    var listen: String?

    @Option(
        help: ArgumentHelp(
            "The store the daemon keeps jobs in: sqlite:PATH, or postgres://USER[:PASS]@HOST[:PORT]/DB shared by several daemons (default: $STINT_STORE, else stint.db in the state folder).",
            valueName: "URL"))
    var store: String?

    @Option(
        help: ArgumentHelp(
            "This daemon's node name, recorded on every attempt it claims; it reconciles only its node's attempts (default: the host name).",
            valueName: "NAME"))
    var node: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "On a shared store: how often this daemon renews its lease and its attempts', and looks for attempts to rescue.",
            valueName: "DUR"))
    var heartbeat: String = "5s"

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "On a shared store: how long a heartbeat's lease lasts; a node silent this long is down and its attempts are rescued (at least --heartbeat).",
            valueName: "DUR"))
    var lease: String = "15s"

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "On a shared store: how often to look for work, control requests and deliveries in case a notification was lost (jittered by 20%).",
            valueName: "DUR"))
    var poll: String = "1s"

    @Option(
        help: ArgumentHelp(
            "Append a time stamp for each step of each attempt (claimed, spawned, exited, recorded, answered) to this file, for measuring the daemon's hand-offs.",
            valueName: "PATH"))
    var traceHandOffs: String?

    /// `parallel`, or the number of cores; set by `validate()`.
    private var parallelJobs = 1
    /// `idleTimeout` in seconds, set by `validate()`.
    private var idleTimeoutSeconds = Daemon.defaultIdleTimeout
    /// `retention` in seconds, set by `validate()`.
    private var retentionSeconds = Retention.defaultSeconds
    /// The delivery policy, set by `validate()`.
    private var deliveryPolicy = DeliveryPolicy()
    /// `shutdownBudget` in seconds, set by `validate()`.
    private var shutdownBudgetSeconds = DeliveryPolicy.defaultShutdownBudget
    /// `listen` parsed, set by `validate()`.
    private var listenAddress: HostPort?
    /// `store` parsed, set by `validate()`; `nil`: the state folder's `stint.db`.
    private var storeURL: StoreURL?
    /// The cluster options, set by `validate()`.
    private var clusterOptions = ClusterService.Options()

    /// A duration flag's seconds: a negative value, or one that is not a duration, says so.
    private static func seconds(_ text: String, _ flag: String) throws -> Double {
        if text.trimmingCharacters(in: .whitespaces).hasPrefix("-") {
            throw ValidationError("\(flag) must not be negative: \(text)")
        }
        guard let seconds = DurationParser.seconds(text) else {
            throw ValidationError("invalid duration for \(flag): '\(text)' (use e.g. 30, 1.5s, 250ms, 10m, 2h, 1h30m)")
        }
        return seconds
    }

    /// A count of at least `minimum`: a negative value is named as one.
    private static func atLeast(_ value: Int, _ minimum: Int, _ flag: String) throws {
        guard value < minimum else { return }
        if value < 0 { throw ValidationError("\(flag) must not be negative: \(value)") }
        throw ValidationError("\(flag) must be at least \(minimum): \(value)")
    }

    mutating func validate() throws {
        parallelJobs = parallel ?? ProcessInfo.processInfo.activeProcessorCount
        try Self.atLeast(parallelJobs, 1, "--parallel")
        try Self.atLeast(notificationCap, 1, "--notification-cap")
        try Self.atLeast(deliveryAttempts, 1, "--delivery-attempts")
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("unknown log level: \(logLevel) (one of \(levels.joined(separator: ", ")))")
        }
        retentionSeconds = try Self.seconds(retention, "--retention")
        if deliveryBackoff.trimmingCharacters(in: .whitespaces).hasPrefix("-") {
            throw ValidationError("--delivery-backoff must not be negative: \(deliveryBackoff)")
        }
        guard let backoff = DeliveryPolicy.backoffRange(deliveryBackoff) else {
            throw ValidationError("--delivery-backoff takes MIN..MAX durations with MIN <= MAX, such as 30s..5m")
        }
        deliveryPolicy = DeliveryPolicy(attempts: deliveryAttempts, firstDelay: backoff.first, maxDelay: backoff.max)
        shutdownBudgetSeconds = try Self.seconds(shutdownBudget, "--shutdown-budget")
        idleTimeoutSeconds = try Self.seconds(idleTimeout, "--idle-timeout")
        guard idleTimeoutSeconds >= 1, idleTimeoutSeconds <= 86400 else {
            throw ValidationError("--idle-timeout takes a duration from 1s to 1d, such as 30s")
        }
        if let listen {
            guard let address = HostPort.parse(listen) else {
                throw ValidationError("--listen takes HOST:PORT, not '\(listen)' (for example 127.0.0.1:7070 or [::1]:7070)")
            }
            listenAddress = address
        }
        if let store = store ?? ProcessInfo.processInfo.environment["STINT_STORE"].flatMap({ $0.isEmpty ? nil : $0 }) {
            storeURL = try StoreURL.parse(store)
        }
        let heartbeatSeconds = try Self.seconds(heartbeat, "--heartbeat")
        let leaseSeconds = try Self.seconds(lease, "--lease")
        let pollSeconds = try Self.seconds(poll, "--poll")
        guard heartbeatSeconds >= 0.1, pollSeconds >= 0.01 else {
            throw ValidationError("--heartbeat must be at least 100ms, --poll at least 10ms")
        }
        guard leaseSeconds >= heartbeatSeconds else {
            throw ValidationError("--lease (\(lease)) must be at least --heartbeat (\(heartbeat)), or every lease runs out between beats")
        }
        clusterOptions = ClusterService.Options(
            heartbeat: heartbeatSeconds, lease: leaseSeconds, poll: pollSeconds,
            address: listenAddress.map(Self.advertised))
        if let node {
            do {
                try WorkerIdentity.validate(node: node)
            } catch {
                throw ValidationError("--node: \(error.message)")
            }
        }
    }

    /// The address other nodes reach this daemon's `--listen` API at: its host, or this
    /// host's name when it listens on every address.
    private static func advertised(_ address: HostPort) -> String {
        let host = ["0.0.0.0", "::", ""].contains(address.host) ? ProcessInfo.processInfo.hostName : address.host
        return "http://\(host.contains(":") ? "[\(host)]" : host):\(address.port)"
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "stint.daemon")
        do {

            guard let shim = ShimLauncher.locateShim(environment: environment) else {
                throw StintError(
                    .unavailable, "cannot find stint-shim beside the daemon or on PATH",
                    hint: "build it with `swift build --product stint-shim`")
            }
            try await Daemon.run(
                .init(
                    paths: StintPaths(environment: environment), parallel: parallelJobs, shimPath: shim,
                    retention: retentionSeconds, delivery: deliveryPolicy, shutdownBudget: shutdownBudgetSeconds,
                    listen: listenAddress, idleTimeout: idleTimeoutSeconds,
                    node: node ?? ProcessInfo.processInfo.hostName, traceHandOffs: traceHandOffs, cluster: clusterOptions),
                store: { paths, observer in
                    try await (storeURL ?? .sqlite(path: paths.database)).open(
                        notificationCap: notificationCap, observer: observer, logger: logger)
                },
                logger: logger)
        } catch let error as StintError {
            logger.error("\(error.description)")
            FileHandle.standardError.write(Data("stint-daemon: \(error.description)\n".utf8))
            throw ExitCode(error.code.exitStatus)
        }
    }
}
