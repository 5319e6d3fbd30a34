package import Foundation

/// One stored row's columns by name, as a backend reads them, for ``StoreRows``: `nil`
/// for NULL (or a column the row lacks); a value of another type throws.
package protocol StoreRow {
    func string(_ column: String) throws -> String?
    func int(_ column: String) throws -> Int?
    func int64(_ column: String) throws -> Int64?
    func double(_ column: String) throws -> Double?
    func bool(_ column: String) throws -> Bool?
}

/// A column that must not be NULL was.
struct MissingColumnValue: Error, CustomStringConvertible {
    let column: String
    var description: String { "column \(column) is NULL" }
}

extension StoreRow {
    /// The value of a column that must not be NULL.
    package func required<T>(_ column: String, _ read: (String) throws -> T?) throws -> T {
        guard let value = try read(column) else { throw MissingColumnValue(column: column) }
        return value
    }

    /// A date stored as seconds since 1970, or `nil`.
    package func date(_ column: String) throws -> Date? { try double(column).map(Date.init(timeIntervalSince1970:)) }
}
