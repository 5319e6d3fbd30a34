import ArgumentParser
import Foundation
import Logging
import StintCore
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

    @Option(help: "How many jobs run at once (default: the number of cores).")
    var parallel: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(help: "Delete ended jobs and their logs this long after they ended; 0 keeps them (default 7d).")
    var retention: String = "7d"

    @Option(name: .customLong("notification-cap"), help: "Pending notifications kept per session; the oldest are dropped beyond (default 1000).")
    var notificationCap: Int = Session.defaultNotificationCap

    @Option(help: "Attempts in all to deliver a notification to a webhook or command hook (default 3).")
    var deliveryAttempts: Int = DeliveryPolicy.defaultAttempts

    @Option(help: "The first and the longest delay between delivery attempts; delays double (default 30s..5m).")
    var deliveryBackoff: String = "30s..5m"

    @Option(help: "On a graceful stop, how long deliveries that are due may take; the rest wait for the next start (default 10s).")
    var shutdownBudget: String = "10s"

    @Option(help: "Close a connection idle, or with a request half sent, this long; a request being answered is never cut (default 30s).")
    var idleTimeout: String = "30s"

    /// `idleTimeout` in seconds, set by `validate()`.
    private var idleTimeoutSeconds = Daemon.defaultIdleTimeout
    /// `retention` in seconds, set by `validate()`.
    private var retentionSeconds = Retention.defaultSeconds
    /// The delivery policy, set by `validate()`.
    private var deliveryPolicy = DeliveryPolicy()
    /// `shutdownBudget` in seconds, set by `validate()`.
    private var shutdownBudgetSeconds = DeliveryPolicy.defaultShutdownBudget

    @Option(
        help: ArgumentHelp(
            "Also serve the API on this TCP address, to clients with an API token (`stint token create`); a non-loopback address is warned about.",
            valueName: "HOST:PORT"))
    var listen: String?

    /// `listen` parsed, set by `validate()`.
    private var listenAddress: HostPort?

    mutating func validate() throws {
        guard parallel >= 1 else { throw ValidationError("--parallel must be at least 1") }
        guard notificationCap >= 1 else { throw ValidationError("--notification-cap must be at least 1") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown log level: \(logLevel)") }
        guard let seconds = DurationParser.seconds(retention), seconds >= 0 else {
            throw ValidationError("--retention takes a duration such as 7d, 12h or 0 (keep forever)")
        }
        retentionSeconds = seconds
        guard deliveryAttempts >= 1 else { throw ValidationError("--delivery-attempts must be at least 1") }
        guard let backoff = DeliveryPolicy.backoffRange(deliveryBackoff) else {
            throw ValidationError("--delivery-backoff takes MIN..MAX durations, such as 30s..5m")
        }
        deliveryPolicy = DeliveryPolicy(attempts: deliveryAttempts, firstDelay: backoff.first, maxDelay: backoff.max)
        guard let budget = DurationParser.seconds(shutdownBudget), budget >= 0 else {
            throw ValidationError("--shutdown-budget takes a duration such as 10s")
        }
        shutdownBudgetSeconds = budget
        guard let idle = DurationParser.seconds(idleTimeout), idle >= 1, idle <= 86400 else {
            throw ValidationError("--idle-timeout takes a duration from 1s to 1d, such as 30s")
        }
        idleTimeoutSeconds = idle
        if let listen {
            guard let address = HostPort.parse(listen) else {
                throw ValidationError("--listen takes HOST:PORT, such as 127.0.0.1:7070 or [::1]:7070")
            }
            listenAddress = address
        }
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
                    paths: StintPaths(environment: environment), parallel: parallel, shimPath: shim,
                    retention: retentionSeconds, notificationCap: notificationCap, delivery: deliveryPolicy,
                    shutdownBudget: shutdownBudgetSeconds, listen: listenAddress, idleTimeout: idleTimeoutSeconds),
                logger: logger)
        } catch let error as StintError {
            logger.error("\(error.description)")
            FileHandle.standardError.write(Data("stint-daemon: \(error.description)\n".utf8))
            throw ExitCode(error.code.exitStatus)
        }
    }
}
