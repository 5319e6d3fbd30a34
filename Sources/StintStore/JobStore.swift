import Foundation
import StintCore

/// Where jobs and attempts live: a backend of row operations inside transactions.
///
/// A backend decides nothing. The rules (what a claim starts, what an ending does, the
/// dependency cascade, the notifications) are StintCore's, applied by ``JobLedger``
/// through the operations of ``StoreTransaction``; a backend only reads and writes the
/// rows it is told to. Every backend must pass the `StoreConformance` suite.
///
/// ## What a backend must guarantee
/// - **Atomicity.** ``write(_:)`` runs its body in one transaction: if the body returns,
///   every write it made is durable (on disk, or acknowledged by the server) before
///   `write` returns; if the body or the commit throws, none of them happened.
/// - **Isolation.** Write transactions are serialisable with respect to each other for
///   the rows they touch: two claims must never start the same job, an ending must see
///   the queue's breaker as the last committed write left it, and a dependency cascade
///   must see every dependent link. A single-writer database (SQLite) gets this by
///   running one write at a time; a shared server (PostgreSQL) must lock the rows it
///   reads for writing (the claimed jobs, the queue rows whose breakers it changes).
/// - **Snapshots.** ``read(_:)`` sees one committed state, never a write half done.
/// - **Storage failures.** A failure of the storage itself (a full disk, an I/O error, a
///   busy or unreachable database) throws `E_UNAVAILABLE`: the same call may succeed
///   later, and the engine tries outcomes again on it. Other errors the body throws pass
///   through unchanged.
/// - **Concurrency.** Both methods may be called from any task at once.
///
/// The body runs synchronously, on a thread of the backend's choosing, while the
/// backend holds the transaction open; it must do nothing but operations on `tx` and
/// pure computation. A backend may run several callers' bodies in one transaction
/// (the SQLite store's group commit), each in a savepoint: a body that throws undoes
/// only its own changes, and every caller is answered only once the transaction holding
/// its body has committed. The body escapes only until then.
///
/// Optional abilities are separate protocols, checked where used: ``BatchStore`` and ``TokenStore``.
public protocol JobStore: Sendable {
    /// A short description for `daemon status`, such as `sqlite:/home/me/.local/state/stint/stint.db`.
    var location: String { get }

    /// Runs `body` in one write transaction and returns what it returns, once committed.
    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T

    /// Runs `body` over one consistent snapshot and returns what it returns.
    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReading) throws -> T) async throws -> T
}
