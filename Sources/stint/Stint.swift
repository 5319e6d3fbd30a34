import ArgumentParser
import Foundation
import StintClient
import StintCore

#if canImport(Glibc)
    import Glibc
#endif

/// The `stint` command line: thin over ``StintClient``; parsing, formats and exit codes.
struct Stint: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stint",
        abstract: "Run long commands in the background, durably.",
        discussion: """
            Jobs survive the death or upgrade of the daemon that started them, their true \
            outcome is never lost, and `stint wait` tells you how they ended. The daemon \
            starts by itself on first use (unless STINT_NO_AUTOSTART=1).

            Every command takes -o text|json|ndjson and --session S (default $STINT_SESSION: \
            only that session's jobs are seen, and new jobs join it), before or after the \
            subcommand. With STINT_URL and STINT_TOKEN the CLI talks to a daemon over TCP.

            Environment:
              STINT_HOME          the state folder
                                  (default ${XDG_STATE_HOME:-~/.local/state}/stint)
              STINT_SOCKET        the API socket (default $STINT_HOME/stint.sock)
              STINT_SESSION       the session, as --session
              STINT_URL           http://HOST:PORT of a daemon to use instead
                                  (the CLI never starts that one)
              STINT_TOKEN         the API token for STINT_URL
              STINT_STORE         the store a daemon started here opens: sqlite:PATH or
                                  postgres://USER[:PASS]@HOST[:PORT]/DB (`stint daemon --help`)
              STINT_NO_AUTOSTART  1: never start the daemon
              STINT_TIMEOUT       the longest wait to connect, and for each part of
                                  an answer; then exit 5 (default 30s)
              NO_COLOR            no colours in `ls`

            Waits (`wait`, `run`, `add --wait/--follow/--yield`, `stop`), `logs -f` and \
            `notifications --watch` are quiet while the daemon is healthy: after each quiet \
            STINT_TIMEOUT they check that it still answers, and go on. They survive a daemon \
            restart (reconnecting for up to 30 s); `wait --timeout` counts from the call.
            """,
        version: StintVersion.current,
        subcommands: [
            Add.self, Run.self, List.self, Show.self, Logs.self, Wait.self, Stop.self, Kill.self,
            Retry.self, Release.self, Remove.self, Prune.self, QueueCommand.self, Events.self, Critical.self,
            Notifications.self, Ack.self, Summary.self, ProgressCommand.self, CheckpointCommand.self, BatchCommand.self,
            ScheduleCommand.self, DaemonCommand.self, NodesCommand.self, TokenCommand.self, MCPCommand.self, UICommand.self,
        ])
}

@main
enum Main {
    static func main() async {
        // A parent may have left signals blocked (test runners and agent runtimes do);
        // `stint notifications --watch` and `stint wait` must still die of SIGTERM.
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
        // `stint -o json ls` as well as `stint ls -o json`: a format given before the
        // subcommand becomes every command's default.
        let (leading, rootFormat) = OutputFormat.extractLeading(Array(CommandLine.arguments.dropFirst()))
        let arguments = OutputFormat.splitAttached(leading)
        if let rootFormat { OutputFormat.rootDefault = rootFormat }
        let format = rootFormat ?? OutputFormat.sniff(arguments)
        do {
            if let session = CLIEnvironment.sessionOption { try Session.validate(session) }
            if let command = FastCommandLine.command(arguments, rootFormat: rootFormat) {
                try command()
                return
            }
            var command = try Stint.parse(fast: arguments)
            _ = try CLIEnvironment.timeout()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as StintError {
            Output(format: format).fail(error)
        } catch let exit as CLIExit {
            Foundation.exit(exit.status)
        } catch {
            // --help and --version, and ArgumentParser's own exits, stay as they are;
            // parse errors become one line (or the JSON envelope) with exit 64.
            guard Stint.exitCode(for: error).rawValue != 0, !(error is CleanExit), !(error is ExitCode) else {
                Stint.exit(withError: error)
            }
            var message = Stint.message(for: error).trimmingCharacters(in: .whitespacesAndNewlines)
            // ArgumentParser reads `-5` as an option: say what it is, a negative value. (Not
            // for commands that run a command: there `-1` is likely its argument, before a missing `--`.)
            let beforeTerminator = arguments.prefix { $0 != "--" }
            let runsCommand = ["add", "run", "batch", "critical"].contains(arguments.first ?? "")
            if !runsCommand, let index = beforeTerminator.firstIndex(where: { $0.count > 1 && $0.hasPrefix("-") && ($0.dropFirst().first?.isNumber ?? false) }) {
                let value = arguments[index]
                let previous = index > 0 ? arguments[index - 1] : ""
                message = previous.hasPrefix("-") ? "\(previous) must not be negative: \(value)" : "values must not be negative: \(value)"
            }
            let command = arguments.first { !$0.hasPrefix("-") }.flatMap { name in
                Stint.configuration.subcommands.first { $0._commandName == name || $0.configuration.aliases.contains(name) }
                    .map { _ in name }
            }
            let help = command.map { "stint \($0) --help" } ?? "stint --help"
            Output(format: format).fail(StintError(.usage, message, hint: "see `\(help)`"))
        }
    }
}

extension Stint {
    /// Parses like `parseAsRoot`, but straight into the named subcommand when there is no
    /// help or version to print: building the whole command tree reflects over every
    /// command and took about half of `stint add`'s run time.
    static func parse(fast arguments: [String]) throws -> any ParsableCommand {
        // Names written out: asking each command for its name reflects over it too.
        let commandsByName: [String: any ParsableCommand.Type] = [
            "add": Add.self, "run": Run.self, "ls": List.self, "status": List.self, "show": Show.self,
            "logs": Logs.self, "wait": Wait.self, "stop": Stop.self, "kill": Kill.self, "retry": Retry.self,
            "release": Release.self, "rm": Remove.self, "prune": Prune.self, "daemon": DaemonCommand.self,
            "queue": QueueCommand.self, "events": Events.self, "critical": Critical.self,
            "notifications": Notifications.self, "ack": Ack.self, "summary": Summary.self,
            "progress": ProgressCommand.self, "checkpoint": CheckpointCommand.self, "batch": BatchCommand.self,
        ]
        let wantsHelp = arguments.contains { ["-h", "--help", "--version", "help", "--experimental-dump-help", "--generate-completion-script"].contains($0) }
        guard !wantsHelp, let name = arguments.first, let subcommand = commandsByName[name] else {
            return try parseAsRoot(arguments)
        }
        return try subcommand.parseAsRoot(Array(arguments.dropFirst()))
    }
}

/// Ends the process with `status` after output has been written.
struct CLIExit: Error {
    var status: Int32
}
