import Foundation
import StintCore
import StintStore

/// Shorthands for tests that care about ids and states, not the extra results.
extension JobLedger {
    func insertIDs(_ specs: [JobSpec], now: Date) async throws -> [Int64] {
        try await insert(specs, now: now).map(\.id)
    }

    func claimJobs(limit: Int, host: String, now: Date) async throws -> [ClaimedJob] {
        try await claim(limit: limit, host: host, now: now).claimed
    }

    /// A claim by a worker on node `host`.
    func claim(limit: Int, host: String, now: Date) async throws -> ClaimResult {
        try await claim(limit: limit, worker: WorkerIdentity(node: host, instance: "test"), now: now)
    }

    func finish(jobID: Int64, attempt: Int, outcome: AttemptOutcome, shimPid: Int32?) async throws -> StoredJob {
        try await finish(AttemptEnding(jobID: jobID, attempt: attempt, outcome: outcome, shimPid: shimPid)).job
    }

    func applyJob(_ event: JobEvent, to id: Int64, now: Date) async throws -> StoredJob {
        try await apply(event, to: id, now: now).job
    }
}
