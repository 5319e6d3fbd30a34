import Foundation
import GRDB
import StintCore

extension SQLiteJobStore {
    public func count(_ filter: JobFilter) async throws -> Int {
        try await read { db in
            let (whereSQL, arguments) = Self.filterClause(filter)
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs j \(whereSQL)", arguments: arguments) ?? 0
        }
    }

    /// The `WHERE` clause that `filter` (its limit aside) makes over `jobs j`, with its
    /// arguments; empty when it filters nothing.
    static func filterClause(_ filter: JobFilter) -> (String, StatementArguments) {
        var clauses: [String] = []
        var arguments = StatementArguments()
        if !filter.states.isEmpty {
            clauses.append("j.state IN (\(filter.states.map { _ in "?" }.joined(separator: ",")))")
            for state in filter.states.sorted(by: { $0.rawValue < $1.rawValue }) {
                arguments += [state.rawValue]
            }
        }
        if let session = filter.session {
            clauses.append("j.session = ?")
            arguments += [session]
        }
        if let queue = filter.queue {
            clauses.append("j.queue = ?")
            arguments += [queue]
        }
        for (key, value) in filter.labels.sorted(by: { $0.key < $1.key }) {
            clauses.append("json_extract(j.labels, ?) = ?")
            arguments += ["$.\"\(key.replacingOccurrences(of: "\"", with: ""))\"", value]
        }
        return (clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND "), arguments)
    }
}
