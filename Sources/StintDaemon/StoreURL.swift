import ArgumentParser
import Foundation
import StintCore
import StintStore

/// The store a daemon opens, as `--store URL` names it.
///
/// Only `sqlite:PATH` today; a store that speaks to a server (PostgreSQL) is a new case
/// here, and `Daemon` does not change.
enum StoreURL: Equatable, Codable {
    /// The SQLite database at `path` (created if missing; its folder must exist).
    case sqlite(path: String)

    /// `--store`'s value, checked. A relative path is taken from the current directory.
    static func parse(_ text: String) throws -> StoreURL {
        let scheme = "sqlite:"
        guard text.hasPrefix(scheme) else {
            throw ValidationError("--store takes sqlite:PATH, not '\(text)' (no other store is supported)")
        }
        let path = String(text.dropFirst(scheme.count))
        guard !path.isEmpty else {
            throw ValidationError("--store sqlite: needs a path, such as sqlite:/var/lib/stint/stint.db")
        }
        return .sqlite(path: path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path)
    }

    /// Opens the store; `E_UNAVAILABLE` when it cannot be opened.
    func open(notificationCap: Int) throws -> JobLedger {
        switch self {
        case .sqlite(let path):
            do {
                return JobLedger(try SQLiteJobStore(path: path), notificationCap: notificationCap)
            } catch let error as StintError {
                throw error
            } catch {
                throw StintError(.unavailable, "cannot open the store sqlite:\(path): \(error)")
            }
        }
    }
}
