import ArgumentParser
import Foundation
import StintClient
import StintCore

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke API tokens for TCP clients (`stint daemon --listen`).",
        discussion: """
            A TCP client sets STINT_URL=http://HOST:PORT and STINT_TOKEN=SECRET. A token bound \
            to a session (--session) sees, waits on and stops only that session's jobs. Tokens \
            are managed only on the daemon's own machine, over its local socket; the daemon \
            keeps only a SHA-256 of each secret, so a lost secret cannot be shown again: \
            revoke it and create another.
            """,
        subcommands: [TokenCreate.self, TokenList.self, TokenRevoke.self],
        defaultSubcommand: TokenList.self)
}

struct TokenCreate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a token and print its secret, once.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        // `--session` (or STINT_SESSION) binds the token to that session.
        let session = CLIEnvironment.session
        let client = CLIEnvironment.client
        let token = try client.createToken(session: session)
        let output = Output(format: global.output)
        output.emit(token) { token.token ?? "" }
        let url = (try? client.daemonStatus().listen) ?? nil
        let scope = token.session.map { "bound to session \($0)" } ?? "not bound to a session"
        output.note("token \(token.id), \(scope); its secret is shown only this once.")
        if let url {
            output.note("Use it with: export STINT_URL=\(url) STINT_TOKEN=<the secret above>")
        } else {
            output.note("Set STINT_TOKEN=<the secret> and STINT_URL=http://HOST:PORT of a daemon started with --listen HOST:PORT.")
        }
    }
}

struct TokenList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List tokens (never their secrets).")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let tokens = try CLIEnvironment.client.tokens()
        Output(format: global.output).emit(tokens, ndjson: tokens) {
            guard !tokens.isEmpty else { return "no tokens" }
            var table = Table(header: ["ID", "SESSION", "CREATED", "REVOKED"])
            for token in tokens {
                let session = token.session ?? "-"
                let created = JobText.age(token.createdAt) + " ago"
                let revoked = token.revokedAt.map { JobText.age($0) + " ago" } ?? "-"
                table.rows.append([
                    ("\(token.id)", "\(token.id)"), (session, session), (created, created), (revoked, revoked),
                ])
            }
            return table.render(palette: Palette.stdout, width: terminalWidth())
        }
    }
}

struct TokenRevoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke tokens: the daemon refuses them from then on.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Token ids, as `stint token ls` shows.")
    var ids: [String] = []

    func run() throws {
        guard !ids.isEmpty else { throw StintError(.usage, "no token id given") }
        var revoked: [TokenView] = []
        for text in ids {
            guard let id = Int64(text), id > 0 else {
                throw StintError(.usage, "not a token id: '\(text)'", hint: "see `stint token ls`")
            }
            revoked.append(try CLIEnvironment.client.revokeToken(id))
        }
        Output(format: global.output).emit(revoked, ndjson: revoked) {
            revoked.map { "revoked token \($0.id)" }.joined(separator: "\n")
        }
    }
}
