import PostgresNIO
import StintStore

/// A PostgreSQL row read by column name for StintStore's `StoreRows`: a column the row
/// lacks reads as NULL (postgres-nio's subscript would trap).
struct StoredRow: StoreRow {
    let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) {
        self.row = row.makeRandomAccess()
    }

    func string(_ column: String) throws -> String? { row.contains(column) ? try row[column].decode(String?.self) : nil }
    func int(_ column: String) throws -> Int? { row.contains(column) ? try row[column].decode(Int?.self) : nil }
    func int64(_ column: String) throws -> Int64? { row.contains(column) ? try row[column].decode(Int64?.self) : nil }
    func double(_ column: String) throws -> Double? { row.contains(column) ? try row[column].decode(Double?.self) : nil }
    func bool(_ column: String) throws -> Bool? { row.contains(column) ? try row[column].decode(Bool?.self) : nil }
}
