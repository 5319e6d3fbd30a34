import ArgumentParser
import Foundation
import StintClient
import StintCore

struct DaemonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run the daemon in the foreground, stop it, or show its health.",
        subcommands: [DaemonRun.self, DaemonStop.self, DaemonStatusCommand.self],
        defaultSubcommand: DaemonRun.self)
}

struct DaemonRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon in the foreground (what `stint daemon` does).",
        discussion: "SIGTERM or SIGINT stop it gracefully; running jobs keep running and the next daemon re-attaches to them.")

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

    @Option(
        help: ArgumentHelp(
            "Also serve the API on this TCP address, to clients with an API token (see `stint token`); a non-loopback address is warned about.",
            valueName: "HOST:PORT"))
    var listen: String?

    @Option(help: "Close a connection idle, or with a request half sent, this long; a request being answered is never cut (default 30s).")
    var idleTimeout: String = "30s"

    func run() throws {
        let idle = try ValueParsing.duration(idleTimeout, flag: "--idle-timeout")
        guard idle >= 1, idle <= 86400 else { throw StintError(.usage, "--idle-timeout takes a duration from 1s to 1d") }
        try ValueParsing.atLeast(parallel, 1, flag: "--parallel")
        try ValueParsing.atLeast(notificationCap, 1, flag: "--notification-cap")
        try ValueParsing.atLeast(deliveryAttempts, 1, flag: "--delivery-attempts")
        try ValueParsing.notNegative(deliveryBackoff, flag: "--delivery-backoff")
        guard DeliveryPolicy.backoffRange(deliveryBackoff) != nil else {
            throw StintError(.usage, "--delivery-backoff takes MIN..MAX durations with MIN <= MAX", hint: "for example 30s..5m")
        }
        guard try ValueParsing.duration(shutdownBudget, flag: "--shutdown-budget") >= 0 else {
            throw StintError(.usage, "--shutdown-budget must not be negative")
        }
        let retentionSeconds = try ValueParsing.duration(retention, flag: "--retention")
        guard retentionSeconds >= 0 else { throw StintError(.usage, "--retention must not be negative") }
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard levels.contains(logLevel) else { throw StintError(.usage, "unknown log level: \(logLevel)", hint: levels.joined(separator: ", ")) }
        // The daemon is its own executable (see docs/architecture.md); this process
        // becomes it, keeping its pid.
        let daemon = (CLIEnvironment.executablePath as NSString).deletingLastPathComponent + "/stint-daemon"
        guard access(daemon, X_OK) == 0 else {
            throw StintError(.unavailable, "cannot find \(daemon)", hint: "build it with `swift build --product stint-daemon`")
        }
        if let listen, HostPort.parse(listen) == nil {
            throw StintError(.usage, "--listen takes HOST:PORT, not '\(listen)'", hint: "for example 127.0.0.1:7070 or [::1]:7070")
        }
        let arguments = [
            daemon, "--parallel", String(parallel ?? ProcessInfo.processInfo.activeProcessorCount), "--log-level", logLevel, "--retention", retention,
            "--notification-cap", String(notificationCap),
            "--delivery-attempts", String(deliveryAttempts), "--delivery-backoff", deliveryBackoff,
            "--shutdown-budget", shutdownBudget, "--idle-timeout", idleTimeout,
        ] + (listen.map { ["--listen", $0] } ?? [])
        var argv = arguments.map { strdup($0) } + [nil]
        execv(daemon, &argv)
        throw StintError(.unavailable, "cannot run \(daemon): \(String(cString: strerror(errno)))")
    }
}

struct DaemonStop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Stop the daemon gracefully; running jobs keep running.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = CLIEnvironment.clientWithoutAutostart
        let status = try client.daemonStatus()
        try client.stopDaemon()
        Output(format: global.output).emit(status) { "stopped the daemon (pid \(status.pid)); running jobs continue" }
    }
}

struct DaemonStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the daemon's health (never starts it).")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        // The daemon's health is not a session's: no scope.
        var client = CLIEnvironment.clientWithoutAutostart
        client.session = nil
        let status = try client.daemonStatus()
        Output(format: global.output).emit(status) {
            let counts = JobState.allCases.map { "\($0.rawValue) \(status.counts[$0.rawValue] ?? 0)" }.joined(separator: ", ")
            return """
                pid       \(status.pid)
                version   \(status.version)
                uptime    \(DurationText.short(status.uptime))
                store     \(status.store ?? "(not shown to a session-scoped client)")
                socket    \(status.socket ?? "(not shown to a session-scoped client)")\(status.listen.map { "\nlisten    \($0)" } ?? "")
                parallel  \(status.parallel)
                jobs      \(counts)
                """
        }
    }
}
