import Foundation
import StintCore
import Synchronization

/// A store in memory: nothing survives the process. For engine tests that run in
/// milliseconds, and as the second backend that keeps ``JobStore`` honest: it passes
/// the same `StoreConformance` suite as SQLite. It keeps neither batches nor tokens.
///
/// One lock serialises every transaction; a write works on a copy of the tables and
/// commits by keeping it, so a body that throws changes nothing.
public final class MemoryJobStore: JobStore {
    private let tables = Mutex(MemoryTables())

    /// An empty store.
    public init() {}

    public var location: String { "memory:" }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        try tables.withLock { tables in
            let transaction = MemoryTransaction(tables)
            let value = try body(transaction)
            tables = transaction.tables
            return value
        }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReading) throws -> T) async throws -> T {
        try body(MemoryTransaction(tables.withLock { $0 }))
    }
}

extension JobStore where Self == MemoryJobStore {
    /// A new, empty store in memory.
    public static var memory: MemoryJobStore { MemoryJobStore() }
}
