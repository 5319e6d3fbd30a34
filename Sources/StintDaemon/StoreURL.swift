import ArgumentParser
import Foundation
import Logging
import StintCore
import StintPostgres
import StintStore

/// The store a daemon opens, as `--store URL` (or `$STINT_STORE`) names it.
enum StoreURL: Equatable, Codable {
    /// The SQLite database at `path` (created if missing; its folder must exist).
    case sqlite(path: String)
    /// A PostgreSQL database, shared by any number of daemons.
    case postgres(PostgresURL)

    /// `--store`'s value, checked. A relative SQLite path is taken from the current directory.
    static func parse(_ text: String) throws -> StoreURL {
        if PostgresURL.isPostgres(text) {
            do {
                return .postgres(try PostgresURL.parse(text))
            } catch {
                throw ValidationError("--store: \(error.message)")
            }
        }
        let scheme = "sqlite:"
        guard text.hasPrefix(scheme) else {
            throw ValidationError("--store takes sqlite:PATH or postgres://USER[:PASS]@HOST[:PORT]/DB, not '\(text)'")
        }
        let path = String(text.dropFirst(scheme.count))
        guard !path.isEmpty else {
            throw ValidationError("--store sqlite: needs a path, such as sqlite:/var/lib/stint/stint.db")
        }
        return .sqlite(path: path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path)
    }

    /// Opens the store. A SQLite file that cannot be opened throws `E_UNAVAILABLE`; a
    /// PostgreSQL server that cannot be reached is tried again with backoff (0.5 s
    /// doubling to 30 s), each failure logged with the URL (password masked), until it answers.
    func open(notificationCap: Int, observer: (any TransactionObserver)?, logger: Logger) async throws -> JobLedger {
        switch self {
        case .sqlite(let path):
            do {
                return JobLedger(try SQLiteJobStore(path: path), notificationCap: notificationCap, observer: observer)
            } catch let error as StintError {
                throw error
            } catch {
                throw StintError(.unavailable, "cannot open the store sqlite:\(path): \(error)")
            }
        case .postgres(let url):
            var delay = 0.5
            while true {
                do {
                    return JobLedger(
                        try await PostgresJobStore(url: url, logger: logger), notificationCap: notificationCap, observer: observer)
                } catch let error as StintError where error.code == .unavailable {
                    logger.error("\(error.message); trying again in \(DurationText.short(delay))")
                    try await Task.sleep(for: .seconds(delay))
                    delay = min(delay * 2, 30)
                }
            }
        }
    }
}
