import ArgumentParser
import Foundation
import StintClient
import StintCore

struct DaemonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run the daemon in the foreground, stop it, or show its health.",
        discussion: "`stint daemon [run] FLAGS…` runs stint-daemon with FLAGS; `stint daemon run --help` lists them.",
        subcommands: [DaemonRun.self, DaemonStop.self, DaemonStatusCommand.self],
        defaultSubcommand: DaemonRun.self)
}

struct DaemonRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon in the foreground (what `stint daemon` does).",
        discussion: """
            SIGTERM or SIGINT stop it gracefully; running jobs keep running and the next daemon re-attaches to them.
            The flags are stint-daemon's, handed over as given: `stint daemon --help` lists them.
            """)

    @Argument(parsing: .captureForPassthrough, help: "stint-daemon's flags (see `stint daemon --help`).")
    var arguments: [String] = []

    func run() throws {
        // The daemon is its own executable (see docs/architecture.md), which defines and
        // checks its flags once; this process becomes it, keeping its pid.
        let daemon = (CLIEnvironment.executablePath as NSString).deletingLastPathComponent + "/stint-daemon"
        guard access(daemon, X_OK) == 0 else {
            throw StintError(.unavailable, "cannot find \(daemon)", hint: "build it with `swift build --product stint-daemon`")
        }
        var argv = ([daemon] + arguments).map { strdup($0) } + [nil]
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
