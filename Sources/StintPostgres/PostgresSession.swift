import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import StintCore

/// One connection to the server, used by one thread at a time, whose queries block that
/// thread until answered. Only the store's own pool threads use it (never an event loop
/// or a task of the cooperative pool): the store seam's bodies are synchronous.
final class PostgresSession: @unchecked Sendable {
    let connection: PostgresConnection
    private let logger: Logger
    /// Set when the connection failed: it is closed instead of put back in the pool.
    private(set) var broken = false
    /// Set once COMMIT was sent in the current transaction: after it, a failure may hide a
    /// commit that happened, so the transaction is never run again.
    var sentCommit = false

    private init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Connects, blocking the calling thread; `E_UNAVAILABLE` naming `url` (password masked).
    static func connect(_ url: PostgresURL, timeout: Double, logger: Logger, id: Int) throws -> PostgresSession {
        let configuration = configuration(url, timeout: timeout)
        do {
            let connection = try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: id, logger: logger
            ).wait()
            return PostgresSession(connection: connection, logger: logger)
        } catch {
            throw StintError(.unavailable, "cannot reach the store \(url): \(PostgresFailure.describe(error))")
        }
    }

    /// How to connect to `url`: plain TCP (TLS is left to the network, as for `--listen`).
    static func configuration(_ url: PostgresURL, timeout: Double) -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
            tls: .disable)
        configuration.options.connectTimeout = .milliseconds(Int64(timeout * 1000))
        return configuration
    }

    /// Runs `query` and returns its rows; marks the session broken when the connection failed.
    ///
    /// A query on a connection the server has closed is refused here: postgres-nio would
    /// write it to the closed channel and never answer. A query unanswered after
    /// ``statementTimeout`` (a server that vanished without closing) fails too, and the
    /// connection is closed.
    @discardableResult
    func query(_ query: PostgresQuery) throws -> PostgresQueryResult {
        guard !connection.isClosed else {
            broken = true
            throw SessionClosed()
        }
        let loop = connection.eventLoop
        let answer = loop.makePromise(of: PostgresQueryResult.self)
        connection.query(query, logger: logger).cascade(to: answer)
        let timeout = loop.scheduleTask(in: .seconds(Int64(Self.statementTimeout))) { answer.fail(StatementTimedOut()) }
        do {
            let result = try answer.futureResult.wait()
            timeout.cancel()
            return result
        } catch {
            timeout.cancel()
            if !PostgresFailure.isServerError(error) {
                broken = true
                if error is StatementTimedOut { close() }
            }
            throw error
        }
    }

    /// Seconds a statement may go unanswered: 60 (a lock wait is answered, or a deadlock is
    /// detected, well before).
    static let statementTimeout: Double = 60

    /// The connection was closed (by the server, or a failure).
    struct SessionClosed: Error, CustomStringConvertible {
        var description: String { "the connection to the server was closed" }
    }

    /// No answer within ``statementTimeout``.
    struct StatementTimedOut: Error, CustomStringConvertible {
        var description: String { "the server did not answer within \(Int(PostgresSession.statementTimeout)) s" }
    }

    /// The number of rows `query` changed.
    func execute(_ query: PostgresQuery) throws -> Int {
        try self.query(query).metadata.rows ?? 0
    }

    func close() {
        let closing: EventLoopFuture<Void> = connection.close()
        try? closing.wait()
    }
}

/// What a PostgreSQL error means to the store.
enum PostgresFailure {
    /// The SQLSTATE of a server error, or `nil` for any other error (a connection's).
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    static func isServerError(_ error: any Error) -> Bool {
        guard let state = sqlState(error) else { return false }
        // Class 08 (connection exception) and 57P0x (the server shutting down) end the connection.
        return !state.hasPrefix("08") && !state.hasPrefix("57P")
    }

    /// Whether running the transaction again may succeed: a serialization failure, a
    /// deadlock, or a unique or foreign-key violation that a concurrent transaction caused
    /// (the body then sees that transaction's rows).
    static func isRetryable(_ error: any Error) -> Bool {
        guard let state = sqlState(error) else { return false }
        return ["40001", "40P01", "23505", "23503"].contains(state)
    }

    /// A readable message: the server's, or the connection's failure (PSQLError's own
    /// description hides both).
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                return "\(message) (SQLSTATE \(error.serverInfo?[.sqlState] ?? "?"))"
            }
            if let underlying = error.underlying { return "\(error.code): \(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }
}
