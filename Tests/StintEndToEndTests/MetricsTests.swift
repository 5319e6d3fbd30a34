import Foundation
import StintCore
import Testing

/// `GET /metrics` against the README's table of metrics and against what really happened.
@Suite("Metrics")
struct MetricsTests {
    /// `name → type` of every row of the README's metrics table.
    static func documented() throws -> [String: String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "## Metrics: `GET /metrics`").dropFirst().first)
            .components(separatedBy: "\n## ").first ?? ""
        var table: [String: String] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| `stint_") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            table[cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = cells[1]
        }
        return table
    }

    /// `name → type` of every family the export declares, and its samples by line.
    static func exported(_ text: String) -> (types: [String: String], samples: [String: Double]) {
        var types: [String: String] = [:]
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                types[String(parts[2])] = String(parts[3])
            } else if !line.hasPrefix("#"), let space = line.lastIndex(of: " ") {
                samples[String(line[..<space])] = Double(line[line.index(after: space)...])
            }
        }
        return (types, samples)
    }

    static func scrape(_ harness: StintHarness, headers: [String: String] = [:]) throws -> RawHTTP {
        try RawHTTP.unix(harness.home + "/stint.sock", "GET", "/metrics", headers: headers)
    }

    @Test("the export has exactly the documented families, with their types, and counts what happened")
    func documentedAndTrue() throws {
        let harness = try StintHarness()
        let ok = try harness.add("--", "true")
        let failed = try harness.add("--", "sh", "-c", "exit 3")
        let held = try harness.add("--hold", "--", "true")
        #expect(try harness.run("queue", "set", "gated", "--preflight", "true").status == 0)
        let gated = try harness.add("--queue", "gated", "--", "true")
        #expect(try harness.run("schedule", "add", "nightly", "--cron", "0 3 * * *", "--", "true").status == 0)
        _ = try harness.run("wait", String(ok), String(failed), String(gated))
        #expect(try harness.show(held).state == .held)

        let answer = try Self.scrape(harness)
        #expect(answer.status == 200)
        #expect(answer.headers.lowercased().contains("content-type: text/plain; version=0.0.4"))
        let (types, samples) = Self.exported(answer.body)
        var documented = try Self.documented()
        #expect(documented.count >= 17, "the README's table was read: \(documented)")
        // Present once the delivery worker made its counters: compared when exported.
        if types["stint_deliveries_total"] == nil { documented["stint_deliveries_total"] = nil }
        let stint = types.filter { $0.key.hasPrefix("stint_") }
        #expect(stint == documented, "exported \(stint.sorted { $0.key < $1.key }), documented \(documented.sorted { $0.key < $1.key })")

        #expect(samples[#"stint_jobs{queue="default",state="succeeded"}"#] == 1)
        #expect(samples[#"stint_jobs{queue="default",state="failed"}"#] == 1)
        #expect(samples[#"stint_jobs{queue="default",state="held"}"#] == 1)
        #expect(samples[#"stint_jobs{queue="gated",state="succeeded"}"#] == 1)
        #expect(samples[#"stint_queue_preflight_passing{queue="gated"}"#] == 1)
        #expect(samples[#"stint_queue_breaker_state{queue="default",state="closed"}"#] == 1)
        #expect(samples[#"stint_queue_depth{queue="default"}"#] == 0)
        #expect(samples[#"stint_schedules{state="active"}"#] == 1)
        #expect(samples[#"stint_attempts_total{outcome="exited",failure_class="none"}"#] == 2)
        #expect(samples[#"stint_attempts_total{outcome="exited",failure_class="permanent"}"#] == 1)
        #expect(samples[#"stint_preflight_checks_total{result="passed"}"#] == 1)
        #expect(samples["stint_attempt_duration_seconds_count"] == 3)
        #expect(samples[#"stint_attempt_duration_seconds_bucket{le="+Inf"}"#] == 3)
        #expect(samples["stint_job_start_latency_seconds_count"] == 3)
        #expect((samples[#"stint_store_transaction_seconds_count{kind="write"}"#] ?? 0) > 0)
        #expect(samples["stint_notifications_pending"] == 0)
        #expect(samples[#"stint_build_info{version="\#(StintVersion.current)"}"#] == 1)
    }

    @Test("a queue's depth and the age of its oldest ready job, while a paused queue holds them")
    func depthAndAge() async throws {
        let harness = try StintHarness()
        #expect(try harness.run("queue", "pause", "slow").status == 0)
        let before = Date()
        for _ in 0..<3 { _ = try harness.add("--queue", "slow", "--", "true") }
        try await Task.sleep(for: .milliseconds(1100))
        let (_, samples) = Self.exported(try Self.scrape(harness).body)
        let elapsed = Date().timeIntervalSince(before)
        #expect(samples[#"stint_queue_depth{queue="slow"}"#] == 3)
        #expect(samples[#"stint_queue_paused{queue="slow"}"#] == 1)
        let age = try #require(samples[#"stint_queue_oldest_ready_age_seconds{queue="slow"}"#])
        // At least the pause above; at most the time this test has taken (a loaded machine may stretch it).
        #expect(age >= 1 && age <= elapsed + 0.1, "\(age) s, the test took \(elapsed) s")
    }

    @Test("a client scoped to a session may not read the metrics of every session")
    func scoped() throws {
        let harness = try StintHarness()
        let answer = try Self.scrape(harness, headers: ["Stint-Session": "alpha"])
        #expect(answer.status == 403)
        #expect(answer.errorCode == "E_FORBIDDEN")
    }
}
