import Foundation
import GRDB
import StintCore

#if canImport(Glibc)
    import Glibc
#endif

/// SQLite's failures of the storage itself, as the `E_UNAVAILABLE` every caller can act on.
///
/// A full disk (`SQLITE_FULL`, or an I/O error while the file system has no space left), an
/// I/O error or a busy database say nothing about the request: the same write may succeed
/// once space is freed or the lock is gone. They become `E_UNAVAILABLE` (exit 5), so the CLI
/// says "the disk is full" instead of `E_INTERNAL`, and the engine knows to try an outcome
/// again rather than give up on it. Other errors pass through unchanged.
enum StorageFailure {
    /// `error` translated for the store at `path`.
    static func translated(_ error: any Error, path: String) -> any Error {
        guard let database = error as? DatabaseError else { return error }
        let folder = (path as NSString).deletingLastPathComponent
        switch database.resultCode {
        case .SQLITE_FULL:
            return diskFull(folder)
        case .SQLITE_IOERR, .SQLITE_CANTOPEN:
            if hasNoSpace(folder) { return diskFull(folder) }
            return StintError(.unavailable, "the store cannot be written (\(database.message ?? "I/O error")): \(path)")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return StintError(.unavailable, "the store is busy: \(path)", hint: "try again")
        default:
            return error
        }
    }

    private static func diskFull(_ folder: String) -> StintError {
        StintError(
            .unavailable, "the disk is full: no space left for the state folder \(folder)",
            hint: "free some space; stint carries on by itself, with no restart")
    }

    /// Whether the file system of `folder` has no block left for an unprivileged writer.
    private static func hasNoSpace(_ folder: String) -> Bool {
        var info = statvfs()
        guard statvfs(folder, &info) == 0 else { return false }
        return info.f_bavail == 0
    }
}
