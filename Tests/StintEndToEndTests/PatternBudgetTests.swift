import Foundation
import StintCore
import Testing

/// User regular expressions cannot stall the daemon: a pattern that backtracks
/// catastrophically runs out of its step budget, that one match fails with a reason,
/// and every other client is answered meanwhile.
@Suite("Pattern budget")
struct PatternBudgetTests {
    /// A last line of 60 `a`s and a `b`: `(.*a){12}$` tries every split of it.
    static let line = "printf '%060d' 0 | tr 0 a; echo b"

    @Test("--transient-pattern that backtracks catastrophically classifies the failure permanent, with the reason")
    func transientPattern() throws {
        let harness = try StintHarness()
        let started = Date()
        let id = try harness.add("-p", "--retries", "3", "--transient-pattern", "(.*a){12}$", "\(Self.line); exit 1")
        let wait = try harness.run("wait", String(id), "--timeout", "60s")
        #expect(wait.status == 1, "\(wait.stderr)")
        #expect(Date().timeIntervalSince(started) < 30)
        let job = try harness.show(id)
        #expect(job.state == .failed)
        #expect(job.attempts == 1)
        #expect(job.failureClass == .permanent)
        #expect(job.classReason?.contains("match budget") == true, "\(job.classReason ?? "")")
        // A restart concludes nothing again and stays responsive.
        harness.killDaemon()
        try harness.startDaemon(parallel: 2)
        #expect(try harness.run("ls").status == 0)
    }

    @Test("a valid pattern still makes a matching failure transient; an invalid one is refused at add")
    func validAndInvalid() throws {
        let harness = try StintHarness()
        let id = try harness.add("-p", "--retries", "1", "--backoff", "1s..1s", "--transient-pattern", #"connection (refused|reset)"#, "echo 'curl: connection refused'; exit 7")
        #expect(try harness.eventually(30) { try harness.show(id).attempts == 2 && harness.show(id).state.isTerminal })
        let invalid = try harness.run("add", "--transient-pattern", "(unclosed", "--", "true")
        #expect(invalid.status == 64)
        #expect(invalid.stderr.contains("not a valid regular expression"), "\(invalid.stderr)")
    }

    @Test("wait --until output: with such a pattern fails fast with the reason, and other clients are answered meanwhile")
    func waitPattern() throws {
        let harness = try StintHarness()
        let id = try harness.add("-p", "\(Self.line); sleep 30")
        let waiting = try harness.start(["wait", String(id), "--until", "output:(.*a){12}$", "--timeout", "20s"])
        // Meanwhile the daemon answers others at once.
        for _ in 0..<5 {
            let started = Date()
            #expect(try harness.run("ls").status == 0)
            #expect(Date().timeIntervalSince(started) < 5)
        }
        let result = try waiting.collect()
        #expect(result.status == 64, "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("match budget"), "\(result.stderr)")
        _ = try harness.run("stop", String(id))
    }

    @Test("wait --until output: with an ordinary pattern and a timeout: the timeout holds")
    func waitTimeoutHolds() throws {
        let harness = try StintHarness()
        let id = try harness.add("-p", "yes hello | head -c 50000000; sleep 30")
        let started = Date()
        let result = try harness.run("wait", String(id), "--until", "output:never-(printed)+", "--timeout", "2s")
        #expect(result.status == 75, "\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 10)
        _ = try harness.run("stop", String(id))
    }
}
