import ArgumentParser
import Foundation
import Logging
import StintClient
import StintCore
import StintRunner
import StintServer

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run the daemon in the foreground, stop it, or show its health.",
        subcommands: [DaemonRun.self, DaemonStop.self, DaemonStatusCommand.self],
        defaultSubcommand: DaemonRun.self)
}

struct DaemonRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon in the foreground (what `stint daemon` does).",
        discussion: "SIGTERM or SIGINT stop it gracefully; running jobs keep running and the next daemon re-attaches to them.")

    @Option(help: "How many jobs run at once (default: the number of cores).")
    var parallel: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func run() async throws {
        guard parallel >= 1 else { throw StintError(.usage, "--parallel must be at least 1") }
        guard let level = Logger.Level(rawValue: logLevel) else { throw StintError(.usage, "unknown log level: \(logLevel)") }
        let environment = ProcessInfo.processInfo.environment
        guard let shim = ShimLauncher.locateShim(environment: environment) else {
            throw StintError(.unavailable, "cannot find stint-shim beside \(CLIEnvironment.executablePath) or on PATH", hint: "build it with `swift build --product stint-shim`")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "stint.daemon")
        try await Daemon.run(.init(paths: CLIEnvironment.paths, parallel: parallel, shimPath: shim), logger: logger)
    }
}

struct DaemonStop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Stop the daemon gracefully; running jobs keep running.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = StintClient(paths: CLIEnvironment.paths, autostartExecutable: nil)
        let status = try client.daemonStatus()
        try client.stopDaemon()
        Output(format: global.output).emit(status) { "stopped the daemon (pid \(status.pid)); running jobs continue" }
    }
}

struct DaemonStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the daemon's health (never starts it).")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let status = try StintClient(paths: CLIEnvironment.paths, autostartExecutable: nil).daemonStatus()
        Output(format: global.output).emit(status) {
            let counts = JobState.allCases.map { "\($0.rawValue) \(status.counts[$0.rawValue] ?? 0)" }.joined(separator: ", ")
            return """
                pid       \(status.pid)
                version   \(status.version)
                uptime    \(JobText.duration(status.uptime))
                store     \(status.store)
                socket    \(status.socket)
                parallel  \(status.parallel)
                jobs      \(counts)
                """
        }
    }
}
