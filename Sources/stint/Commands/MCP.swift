import ArgumentParser
import Foundation
import StintCore

struct MCPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the job tools to an AI agent over MCP (stdio).",
        discussion: """
            Speaks the Model Context Protocol on stdin and stdout, for an agent that starts it as an \
            MCP server. Every call is scoped to one session (--session, else $STINT_SESSION, else one \
            made up for this process); the agent is pushed a notification when a job of it ends.

            It reads STINT_HOME, STINT_SOCKET, STINT_SESSION, STINT_NO_AUTOSTART and STINT_TIMEOUT \
            as every command does (see `stint --help`); it talks to the local daemon only, not to \
            STINT_URL.
            """)

    @Option(help: "The session to scope every call to (default: $STINT_SESSION, else a new one).")
    var session: String?

    func run() throws {
        // The MCP server is its own executable, so that the CLI, started for every
        // command, does not carry the MCP library; this process becomes it.
        let server = (CLIEnvironment.executablePath as NSString).deletingLastPathComponent + "/stint-mcp"
        guard access(server, X_OK) == 0 else {
            throw StintError(.unavailable, "cannot find \(server)", hint: "build it with `swift build --product stint-mcp`")
        }
        let scope = session ?? CLIEnvironment.sessionOption
        if let scope { try Session.validate(scope) }
        let arguments = [server] + (scope.map { ["--session", $0] } ?? [])
        var argv = arguments.map { strdup($0) } + [nil]
        execv(server, &argv)
        throw StintError(.unavailable, "cannot run \(server): \(String(cString: strerror(errno)))")
    }
}
