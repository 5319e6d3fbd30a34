import Foundation
public import StintCore

/// Where a PostgreSQL store is: `postgres://USER[:PASS]@HOST[:PORT]/DB` (or `postgresql://`).
/// User and password may be percent-encoded; the password never appears in
/// ``description``, which every message and `daemon status` use.
public struct PostgresURL: Sendable, Hashable, Codable, CustomStringConvertible {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String

    /// The default port, 5432.
    public static let defaultPort = 5432

    /// Whether `text` names a PostgreSQL store at all (by its scheme).
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// `text` parsed; `E_USAGE` saying which part is wrong.
    public static func parse(_ text: String) throws(StintError) -> PostgresURL {
        let example = "postgres://USER[:PASS]@HOST[:PORT]/DB, such as postgres://stint@db.internal/stint"
        guard let schemeEnd = text.range(of: "://"), isPostgres(text) else {
            throw StintError(.usage, "a PostgreSQL store is \(example)")
        }
        let rest = text[schemeEnd.upperBound...]
        guard let at = rest.lastIndex(of: "@") else { throw StintError(.usage, "the store URL names no user: use \(example)") }
        let credentials = rest[..<at]
        let location = rest[rest.index(after: at)...]
        guard let slash = location.firstIndex(of: "/") else {
            throw StintError(.usage, "the store URL names no database: use \(example)")
        }
        let database = String(location[location.index(after: slash)...])
        guard !database.isEmpty, !database.contains("?"), !database.contains("/") else {
            throw StintError(
                .usage, "the store URL's database must be a plain name (no query options such as ?sslmode): use \(example)")
        }
        let userPart = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let user = decoded(userPart.first ?? ""), !user.isEmpty else {
            throw StintError(.usage, "the store URL names no user: use \(example)")
        }
        let password = userPart.count > 1 ? decoded(userPart[1]) : nil
        let authority = String(location[..<slash])
        let hasPort = authority.hasPrefix("[") ? authority.contains("]:") : authority.contains(":")
        guard let hostPort = HostPort.parse(hasPort ? authority : authority + ":\(defaultPort)"), hostPort.port > 0 else {
            throw StintError(.usage, "the store URL's host is not HOST[:PORT]: use \(example)")
        }
        return PostgresURL(user: user, password: password, host: hostPort.host, port: hostPort.port, database: database)
    }

    /// The URL with its password masked.
    public var description: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "postgres://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)"
    }

    private static func decoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%") {
                let high = utf8.index(after: index)
                guard high != utf8.endIndex else { return nil }
                let low = utf8.index(after: high)
                guard low != utf8.endIndex, let value = UInt8(String(decoding: [utf8[high], utf8[low]], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
                index = utf8.index(after: low)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
