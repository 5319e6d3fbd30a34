import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Concurrent adds while the daemon is SIGKILLed at random moments: every acknowledged
/// job exists, its command ran exactly as often as its design says, and none is stuck.
///
/// Small counts by default, so that it runs in CI on every change; `STINT_CHAOS_ROUNDS`
/// raises them (`STINT_CHAOS_ROUNDS=50 swift test --filter ChaosTests`).
@Suite("Chaos: daemon SIGKILLs during adds")
struct ChaosTests {
    static var rounds: Int { Int(ProcessInfo.processInfo.environment["STINT_CHAOS_ROUNDS"] ?? "") ?? 5 }

    /// What a job is meant to do.
    enum Design: CaseIterable {
        /// Runs once and succeeds, with no retries: a lost or doubled run shows.
        case once
        /// Exits 75 (transient) on attempt 1 and succeeds on attempt 2.
        case flaky

        var expectedRuns: Int { self == .once ? 1 : 2 }
    }

    @Test("every acknowledged job exists, ran the right number of times, and ends")
    func killsDuringAdds() throws {
        let harness = try StintHarness(parallel: 4)
        let runs = harness.home + "/runs.log"
        FileManager.default.createFile(atPath: runs, contents: nil)
        var acknowledged: [Int64: Design] = [:]
        var generator = SystemRandomNumberGenerator()
        for round in 0..<Self.rounds {
            // One add acknowledged before the kill, whatever the machine's load: on a busy
            // CI runner the CLI can take longer to start than the random delay below, and a
            // round where every add met the dead daemon would check nothing.
            let first = try harness.run("add", "-p", #"echo "$STINT_JOB_ID $STINT_ATTEMPT" >> \#(runs)"#)
            let firstID = try #require(Int64(first.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "round \(round): \(first.stderr)")
            acknowledged[firstID] = .once
            var invocations: [(StintHarness.Invocation, Design)] = []
            for index in 0..<8 {
                let design: Design = index % 3 == 0 ? .flaky : .once
                // Each run appends "JOB ATTEMPT" to the log; O_APPEND keeps lines whole.
                let record = #"echo "$STINT_JOB_ID $STINT_ATTEMPT" >> \#(runs)"#
                let script: String
                switch design {
                case .once: script = "\(record); sleep 0.\(Int.random(in: 1...4, using: &generator))"
                case .flaky: script = #"\#(record); [ "$STINT_ATTEMPT" -ge 2 ] || exit 75"#
                }
                let retries = design == .flaky ? ["--retries", "3", "--backoff", "0.2s..0.5s"] : []
                invocations.append((try harness.start(["add", "-p"] + retries + [script]), design))
            }
            // SIGKILL at a random moment among the adds, then start the next daemon.
            usleep(UInt32.random(in: 0...80_000, using: &generator))
            harness.killDaemon()
            for (invocation, design) in invocations {
                let result = try invocation.collect()
                // An add that got its id is acknowledged; one that met the dead daemon was refused.
                if result.status == 0, let id = Int64(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) {
                    acknowledged[id] = design
                } else {
                    #expect(result.status == 5 || result.status == 1, "round \(round): \(result.status) \(result.stderr)")
                }
            }
            try harness.startDaemon(parallel: 4)
        }
        #expect(acknowledged.count > 0)
        // One more kill while the last jobs run, then everything must end.
        usleep(100_000)
        harness.killDaemon()
        try harness.startDaemon(parallel: 4)
        let ids = acknowledged.keys.sorted()
        let wait = try harness.run(["wait", "--timeout", "120s"] + ids.map(String.init))
        #expect(wait.status == 0, "not every job succeeded in time: \(wait.stdout) \(wait.stderr)")

        let lines = (try String(contentsOfFile: runs, encoding: .utf8)).split(separator: "\n")
        var counts: [Int64: Int] = [:]
        for line in lines {
            guard let id = line.split(separator: " ").first.flatMap({ Int64($0) }) else { continue }
            counts[id, default: 0] += 1
        }
        for id in ids {
            let job = try harness.show(id)
            let design = acknowledged[id]!
            #expect(job.state == .succeeded, "job \(id) (\(design)) is \(job.state): \(job.reason.map { "\($0)" } ?? "")")
            #expect(counts[id, default: 0] == design.expectedRuns, "job \(id) (\(design)) ran \(counts[id, default: 0]) times")
        }
        // Adds that met the kill after their commit exist too, unacknowledged: they end as well.
        let settled = try harness.eventually(60) {
            try harness.run("ls", "--state", "queued,running,held", "-o", "json").data([JobView].self).isEmpty
        }
        let listing = try harness.run("ls").stdout
        #expect(settled, "jobs still queued, running or held: \(listing)")
    }
}
