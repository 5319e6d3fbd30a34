import Foundation
import StintCore
import StintStore
import Testing

/// API tokens: looked up by the hash of their secret, listed, revoked. For backends that have the ability (TokenStore); run against the one
/// `STINT_TEST_STORE` names (see ``StoreKind``).
@Suite("StoreConformance: API tokens", .enabled(if: StoreKind.current.keepsTokenStore))
final class StoreConformanceTokens: Sendable {
    let fixture: StoreFixture
    var store: JobLedger { fixture.store }

    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    init() async throws {
        fixture = try await StoreFixture()
    }

    @Test("a created token is found by its hash, with its session; another hash finds nothing")
    func createAndLookUp() async throws {
        let unbound = try await store.createToken(hash: "aa", session: nil, now: Self.t0)
        let bound = try await store.createToken(hash: "bb", session: "agent-1", now: Self.t0)
        #expect(unbound.id != bound.id)
        #expect(bound.token == nil)
        let found = try #require(try await store.token(hash: "bb"))
        #expect(found.id == bound.id)
        #expect(found.session == "agent-1")
        #expect(found.createdAt == Self.t0)
        #expect(found.revokedAt == nil)
        #expect(try await store.token(hash: "aa")?.session == nil)
        #expect(try await store.token(hash: "cc") == nil)
    }

    @Test("two tokens cannot share a hash")
    func hashIsUnique() async throws {
        _ = try await store.createToken(hash: "aa", session: nil, now: Self.t0)
        await #expect(throws: (any Error).self) {
            _ = try await self.store.createToken(hash: "aa", session: "s", now: Self.t0)
        }
    }

    @Test("a revoked token is no longer found by its hash but stays listed with its revocation time")
    func revoke() async throws {
        let kept = try await store.createToken(hash: "aa", session: nil, now: Self.t0)
        let revoked = try await store.createToken(hash: "bb", session: "s", now: Self.t0)
        let later = Self.t0.addingTimeInterval(60)
        let answer = try await store.revokeToken(id: revoked.id, now: later)
        #expect(answer.revokedAt == later)
        #expect(try await store.token(hash: "bb") == nil)
        #expect(try await store.token(hash: "aa")?.id == kept.id)
        // Revoking again keeps the first time.
        #expect(try await store.revokeToken(id: revoked.id, now: later.addingTimeInterval(60)).revokedAt == later)
        let all = try await store.tokens()
        #expect(all.map(\.id) == [kept.id, revoked.id])
        #expect(all.map(\.revokedAt) == [nil, later])
    }

    @Test("revoking an unknown token answers E_NOT_FOUND")
    func revokeUnknown() async throws {
        let error = await #expect(throws: StintError.self) {
            _ = try await self.store.revokeToken(id: 42, now: Self.t0)
        }
        #expect(error?.code == .notFound)
    }
}
