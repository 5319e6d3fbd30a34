import ArgumentParser
import Foundation
import StintClient
import StintCore

#if canImport(Glibc)
    import Glibc
#endif

struct UICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Open the web dashboard: the daemon serves it on 127.0.0.1; this prints its URL with a one-time login code.",
        discussion: """
            The code opens one browser session (a cookie; the code then leaves the address bar) and expires \\
            after 5 minutes unused; run `stint ui` again for another. The session sees what this command would: \\
            with --session (or STINT_SESSION), only that session's jobs. The dashboard keeps running until the \\
            daemon stops; a daemon restart logs browsers out. Someone who reaches the port without a code can \\
            log in with an API token (`stint token create`). Only on the daemon's machine: a remote client \\
            (STINT_URL) is refused.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "The loopback port to serve it on (default: a free one, or the one it runs on already).")
    var port: Int?

    @Flag(help: "Open the URL in the desktop's browser (xdg-open).")
    var open = false

    func run() throws {
        if let port, !(0...65535).contains(port) { throw StintError(.usage, "--port is 0 to 65535, not \(port)") }
        let answer = try CLIEnvironment.client.openUI(port: port)
        Output(format: global.output).emit(answer) {
            "\(answer.url)\n" + "one-time login code, valid until \(RFC3339.format(answer.expiresAt)); the dashboard listens on \(answer.address)"
        }
        if open { Self.openInBrowser(answer.url) }
    }

    /// Runs `xdg-open URL`, saying on stderr when there is none.
    static func openInBrowser(_ url: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["xdg-open", url]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
            process.waitUntilExit()
            if process.terminationStatus != 0 { Output.err("stint: xdg-open could not open the URL; open it yourself\n") }
        } catch {
            Output.err("stint: cannot run xdg-open (\(error)); open the URL yourself\n")
        }
    }
}
