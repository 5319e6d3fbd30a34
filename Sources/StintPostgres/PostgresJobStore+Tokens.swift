public import Foundation
import PostgresNIO
public import StintCore
import StintStore

extension PostgresJobStore {
    public func createToken(hash: String, session: String?, now: Date) async throws -> TokenView {
        try await transact { tx in
            guard
                let id = try tx.one(
                    """
                    INSERT INTO tokens (hash, session, created_at) VALUES (\(hash), \(session), \(now.timeIntervalSince1970))
                    RETURNING id
                    """)?.int64("id")
            else { throw StintError(.unavailable, "the store returned no id for a new token") }
            return TokenView(id: id, token: nil, session: session, createdAt: now)
        }
    }

    public func token(hash: String) async throws -> TokenView? {
        try await transact { tx in
            try tx.one("SELECT * FROM tokens WHERE hash = \(hash) AND revoked_at IS NULL").map(Self.token)
        }
    }

    public func tokens() async throws -> [TokenView] {
        try await transact { tx in try tx.rows("SELECT * FROM tokens ORDER BY id").map(Self.token) }
    }

    public func revokeToken(id: Int64, now: Date) async throws -> TokenView {
        try await transact { tx in
            try tx.run("UPDATE tokens SET revoked_at = \(now.timeIntervalSince1970) WHERE id = \(id) AND revoked_at IS NULL")
            guard let row = try tx.one("SELECT * FROM tokens WHERE id = \(id)") else {
                throw StintError(.notFound, "no token with id \(id)", hint: "list tokens with `stint token ls`")
            }
            return Self.token(row)
        }
    }

    private static func token(_ row: StoredRow) -> TokenView {
        TokenView(
            id: ((try? row.int64("id")) ?? nil) ?? 0, token: nil, session: (try? row.string("session")) ?? nil,
            createdAt: ((try? row.date("created_at")) ?? nil) ?? Date(timeIntervalSince1970: 0),
            revokedAt: (try? row.date("revoked_at")) ?? nil)
    }
}
