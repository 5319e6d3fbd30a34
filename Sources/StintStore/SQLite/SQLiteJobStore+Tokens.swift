public import Foundation
import GRDB
public import StintCore

extension SQLiteJobStore {
    public func createToken(hash: String, session: String?, now: Date) async throws -> TokenView {
        try await writeDatabase { db in
            try db.execute(
                sql: "INSERT INTO tokens (hash, session, created_at) VALUES (?, ?, ?)",
                arguments: [hash, session, now.timeIntervalSince1970])
            return TokenView(id: db.lastInsertedRowID, token: nil, session: session, createdAt: now)
        }
    }

    public func token(hash: String) async throws -> TokenView? {
        try await readDatabase { db in
            try Row.fetchOne(
                try db.cachedStatement(sql: "SELECT * FROM tokens WHERE hash = ? AND revoked_at IS NULL"), arguments: [hash]
            ).map(Self.token)
        }
    }

    public func tokens() async throws -> [TokenView] {
        try await readDatabase { db in
            try Row.fetchAll(try db.cachedStatement(sql: "SELECT * FROM tokens ORDER BY id")).map(Self.token)
        }
    }

    public func revokeToken(id: Int64, now: Date) async throws -> TokenView {
        try await writeDatabase { db in
            try db.execute(
                sql: "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                arguments: [now.timeIntervalSince1970, id])
            guard let row = try Row.fetchOne(try db.cachedStatement(sql: "SELECT * FROM tokens WHERE id = ?"), arguments: [id])
            else {
                throw StintError(.notFound, "no token with id \(id)", hint: "list tokens with `stint token ls`")
            }
            return Self.token(row)
        }
    }

    private static func token(_ row: Row) -> TokenView {
        let revoked: Double? = row["revoked_at"]
        return TokenView(
            id: row["id"], token: nil, session: row["session"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            revokedAt: revoked.map(Date.init(timeIntervalSince1970:)))
    }
}
