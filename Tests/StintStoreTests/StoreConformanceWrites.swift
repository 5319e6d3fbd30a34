import Foundation
import StintCore
import StintStore
import Testing

/// How every backend takes writes from many callers at once (the SQLite store groups them
/// into shared transactions): each caller gets its own result once durable, a write that
/// throws changes nothing and fails nobody else, and an insert or an ending can claim in
/// its own transaction.
@Suite("StoreConformance: concurrent writes and claims inside writes")
final class StoreConformanceWrites: Sendable {
    let fixture: StoreFixture
    var store: JobLedger { fixture.store }

    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    static let worker = WorkerIdentity(node: "box")

    init() async throws {
        fixture = try await StoreFixture()
    }

    static func spec(_ argv: [String] = ["true"], queue: String? = nil, after: [Int64]? = nil) -> JobSpec {
        JobSpec(argv: argv, cwd: "/tmp", env: ["PATH": "/usr/bin:/bin"], queue: queue, after: after)
    }

    @Test("200 concurrent inserts each get their own id, all distinct, all stored")
    func concurrentInserts() async throws {
        let store = store
        let ids = try await withThrowingTaskGroup(of: (Int, Int64).self) { group in
            for index in 0..<200 {
                group.addTask {
                    let inserted = try await store.insert([Self.spec(["echo", "\(index)"])], now: Self.t0)
                    return (index, try #require(inserted.first).id)
                }
            }
            var ids: [Int: Int64] = [:]
            for try await (index, id) in group { ids[index] = id }
            return ids
        }
        #expect(ids.count == 200)
        #expect(Set(ids.values).count == 200)
        for (index, id) in ids {
            let job = try #require(try await store.job(id))
            #expect(job.spec.argv == ["echo", "\(index)"])
        }
    }

    @Test("a write that fails among concurrent ones changes nothing and fails only its caller")
    func failingWriteAmongOthers() async throws {
        let store = store
        let results = await withTaskGroup(of: (Int, Result<Int64, any Error>).self) { group in
            for index in 0..<60 {
                group.addTask {
                    // Every fifth insert names a dependency that does not exist: E_NOT_FOUND, nothing added.
                    let spec = index % 5 == 0 ? Self.spec(["false"], after: [999_999]) : Self.spec(["echo", "\(index)"])
                    do {
                        let inserted = try await store.insert([spec], now: Self.t0)
                        return (index, .success(try #require(inserted.first).id))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var results: [Int: Result<Int64, any Error>] = [:]
            for await (index, result) in group { results[index] = result }
            return results
        }
        for (index, result) in results {
            switch result {
            case .success(let id):
                #expect(index % 5 != 0)
                #expect(try await store.job(id)?.spec.argv == ["echo", "\(index)"])
            case .failure(let error):
                #expect(index % 5 == 0)
                #expect((error as? StintError)?.code == .notFound)
            }
        }
        let all = try await store.list(JobFilter(limit: 1000))
        #expect(all.count == 48)
        #expect(all.allSatisfy { $0.spec.argv != ["false"] })
    }

    @Test("an insert with a claim request starts the job it added, in the same write")
    func insertThenClaim() async throws {
        let (inserted, claim) = try await store.insert(
            [Self.spec(), Self.spec()], now: Self.t0,
            thenClaim: ClaimRequest(limit: 1, worker: Self.worker, now: Self.t0))
        let claimed = try #require(claim).claimed
        #expect(claimed.map(\.id) == [inserted[0].id])
        #expect(claimed.first?.node == "box")
        #expect(try await store.job(inserted[0].id)?.state == .running)
        #expect(try await store.job(inserted[1].id)?.state == .queued)
    }

    @Test("an insert that fails claims nothing")
    func failedInsertClaimsNothing() async throws {
        let queued = try await store.insert([Self.spec()], now: Self.t0)
        await #expect(throws: StintError.self) {
            _ = try await self.store.insert(
                [Self.spec(after: [999_999])], now: Self.t0,
                thenClaim: ClaimRequest(limit: 2, worker: Self.worker, now: Self.t0))
        }
        #expect(try await store.job(queued[0].id)?.state == .queued)
        #expect(try await store.runningAttempts().isEmpty)
    }

    @Test("an ending with a claim request fills its slot with the next job, and its dependent")
    func finishThenClaim() async throws {
        let first = try #require(try await store.insert([Self.spec()], now: Self.t0).first).id
        let dependent = try #require(try await store.insert([Self.spec(after: [first])], now: Self.t0).first).id
        let claimed = try await store.claim(limit: 1, worker: Self.worker, now: Self.t0).claimed
        #expect(claimed.map(\.id) == [first])
        let ending = AttemptEnding(
            jobID: first, attempt: 1, outcome: AttemptOutcome(reason: .exited, exitCode: 0, endedAt: Self.t0),
            verdict: nil, retryAt: nil, shimPid: 10, outputTail: [], logPath: nil)
        let (finished, claim) = try await store.finish(
            ending, thenClaim: ClaimRequest(limit: 1, worker: Self.worker, now: Self.t0.addingTimeInterval(1)))
        #expect(finished.job.state == .succeeded)
        // The dependent became ready in the ending, and the same transaction claimed it.
        #expect(try #require(claim).claimed.map(\.id) == [dependent])
        #expect(try await store.job(dependent)?.state == .running)
    }
}
