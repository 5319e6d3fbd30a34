import ArgumentParser
import Foundation
import StintClient
import StintCore

/// `stint-mcp`: the MCP server over stdio (what `stint mcp` runs).
@main
struct StintMCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stint-mcp",
        abstract: "Serve Stint's job tools to an AI agent over MCP (stdio).",
        discussion: """
            Reads JSON-RPC from stdin and writes it to stdout, one message per line. Every call is \
            scoped to one session: --session, else $STINT_SESSION, else one made up for this process. \
            STINT_HOME, STINT_SOCKET, STINT_NO_AUTOSTART and STINT_TIMEOUT (default 30s) are read as \
            by the stint CLI.
            """,
        version: StintVersion.current)

    @Option(help: "The session to scope every call to (default: $STINT_SESSION, else a new one).")
    var session: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let session = try Self.session(given: session, environment: environment)
        let paths = StintPaths(environment: environment)
        let executable = ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        // The daemon is started as `stint daemon`, by the CLI that lives next to this executable.
        let cli = (executable as NSString).deletingLastPathComponent + "/stint"
        let autostart = environment["STINT_NO_AUTOSTART"] != "1" && FileManager.default.isExecutableFile(atPath: cli)
        var client = StintClient(paths: paths, autostartExecutable: autostart ? cli : nil, session: session)
        client.autostartDisabledByUser = environment["STINT_NO_AUTOSTART"] == "1"
        client.timeout = try Self.timeout(environment)
        let tools = JobTools(
            session: session, client: client, calls: BlockingCalls(),
            workingDirectory: FileManager.default.currentDirectoryPath,
            environment: environment.filter { !JobTools.jobVariables.contains($0.key) })
        let server = StintMCPServer(tools: tools, watcher: NotificationWatcher(client: client))
        do {
            try await server.run()
        } catch let error as StintError {
            FileHandle.standardError.write(Data("stint-mcp: \(error)\n".utf8))
            throw ExitCode(error.code.exitStatus)
        }
    }

    /// `STINT_TIMEOUT`, as the CLI reads it: how long connecting to the daemon, and each
    /// silence while it answers, may last.
    static func timeout(_ environment: [String: String]) throws -> Double {
        guard let text = environment["STINT_TIMEOUT"], !text.isEmpty else { return StintClient.defaultTimeout }
        guard !text.hasPrefix("-"), let seconds = DurationParser.seconds(text), seconds > 0 else {
            throw ValidationError("invalid STINT_TIMEOUT: '\(text)' (a duration above zero, such as 30s or 2m)")
        }
        return seconds
    }

    /// The session given, or from the environment, or a new one unique to this process.
    static func session(given: String?, environment: [String: String]) throws -> String {
        if let name = given ?? environment[Session.environmentVariable].flatMap({ $0.isEmpty ? nil : $0 }) {
            do {
                try Session.validate(name)
            } catch {
                throw ValidationError("invalid session: \(error.message)")
            }
            return name
        }
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return "mcp-\(getpid())-\(suffix)"
    }
}
