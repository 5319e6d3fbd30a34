import GRDB

/// A GRDB row read by column name for ``StoreRows``. GRDB's subscripts trap on a value of
/// another type; these throw.
extension Row: StoreRow {
    package func string(_ column: String) throws -> String? { try decode(String?.self, forColumn: column) }
    package func int(_ column: String) throws -> Int? { try decode(Int?.self, forColumn: column) }
    package func int64(_ column: String) throws -> Int64? { try decode(Int64?.self, forColumn: column) }
    package func double(_ column: String) throws -> Double? { try decode(Double?.self, forColumn: column) }
    package func bool(_ column: String) throws -> Bool? { try decode(Bool?.self, forColumn: column) }
}
