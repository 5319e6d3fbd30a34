import Foundation
import StintCore
import Testing

/// `stint batch` as a stint job: stopped by `stint stop` (which signals the job's whole
/// tree, units included) and resumed by `stint retry`.
@Suite("stint batch as a job: stop and retry", .serialized)
struct BatchJobTests {
    @Test("a stopped batch job keeps its killed unit undone; the retry resumes from the checkpoint; each unit succeeds once")
    func stopAndRetry() throws {
        let stint = try StintHarness()
        defer { stint.shutDown() }
        let log = stint.home + "/units.log"
        let id = try stint.add(
            "--", stint.binary, "batch", "--range", "1-8", "--checkpoint-every", "1", "--progress-every", "1", "--",
            "sh", "-c", "sleep 0.4; echo $1 >> '\(log)'", "_", "{}")
        #expect(try stint.eventually { (try stint.show(id).progress?.done ?? 0) >= 2 })
        #expect(try stint.run("stop", "\(id)").status == 0)
        #expect(try stint.run("wait", "\(id)").status == 125)
        let first = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(first.count < 8, "stopped before the end: \(first)")
        let view = try stint.show(id)
        #expect(view.checkpoint == String(first.count + 1), "the job's checkpoint is the next unit to run")
        #expect(try stint.run("retry", "\(id)").status == 0)
        #expect(try stint.run("wait", "\(id)").status == 0)
        let all = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(all.sorted { Int($0)! < Int($1)! } == (1...8).map(String.init), "every unit ran exactly once: \(all)")
        #expect(try stint.show(id).progress?.done == 8)
        #expect(try stint.show(id).progress?.total == 8)
        #expect(try stint.run("logs", "\(id)").stdout.contains("resuming after the checkpoint"))
    }
}
