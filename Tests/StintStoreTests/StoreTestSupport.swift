import Foundation
import StintCore
import StintStore
import Testing

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

/// The sqlite3 CLI, for assertions on the rows of an SQLite store's file.
enum SQLite3 {
    /// Runs `sql` on the database at `path` and returns its trimmed output.
    static func run(_ sql: String, on path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path, sql]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "sqlite3 \(sql)")
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
