import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Faults in a job's life that must end in a true, recoverable state: a dead shim, a claim
/// that never started, rows the daemon cannot read.
@Suite("Lifecycle faults", .serialized)
struct LifecycleFaultTests {
    /// Whether `pid` is a live process (not gone, not a zombie).
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    /// Runs SQL on the harness's database with the sqlite3 command-line shell.
    static func sql(_ stint: StintHarness, _ statements: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [stint.home + "/stint.db", statements]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        try #require(process.terminationStatus == 0, "sqlite3 failed: \(message)")
    }

    /// A job running `sh -c 'sleep 300 & sleep 300 & wait'` with one retry, once all three of
    /// its processes run; returns the id, the shim's pid and the command's processes.
    static func startTwoSleeps(_ stint: StintHarness) throws -> (id: Int64, shim: Int32, leftovers: [Int32]) {
        let id = try stint.add("--retries", "1", "--backoff", "200ms..1s", "--", "sh", "-c", "sleep 300 & sleep 300 & wait")
        var shim: Int32 = 0
        var leftovers: [Int32] = []
        try #require(
            try stint.eventually(20) {
                guard let pid = try stint.show(id).attemptList?.first?.shimPid else { return false }
                shim = pid
                leftovers = stint.processes(job: id).filter { $0 != pid }.sorted()
                return leftovers.count == 3
            }, "the job's sh and two sleeps never all ran")
        return (id, shim, leftovers)
    }

    /// What a lost attempt 1 whose leftovers were killed must show (`died`: how it says the
    /// shim died), and that attempt 2 ran only after they were all gone.
    static func expectLeftoversEnded(_ stint: StintHarness, id: Int64, leftovers: [Int32], died: String) throws {
        #expect(
            try stint.eventually(20) { (try stint.show(id).attemptList?.count ?? 0) >= 2 },
            "no second attempt: \(stint.daemonLog)")
        for pid in leftovers { #expect(!isAlive(pid), "leftover process \(pid) still runs") }
        let job = try stint.show(id)
        let first = try #require(job.attemptList?.first)
        #expect(first.reason == .lost)
        let message = try #require(first.message)
        #expect(message.hasPrefix("\(died); killed 3 leftover processes of the job: "), "\(message)")
        for pid in leftovers { #expect(message.contains(String(pid)), "\(message) lacks \(pid)") }
        let second = try #require(job.attemptList?.dropFirst().first)
        let firstEnded = try #require(first.endedAt)
        #expect(second.startedAt >= firstEnded)
        // The retry's own processes are new ones, none of attempt 1's.
        #expect(try stint.eventually(20) { stint.processes(job: id).count >= 4 })
        #expect(Set(stint.processes(job: id)).isDisjoint(with: leftovers))
        #expect(try stint.run("stop", String(id)).status == 0)
    }

    @Test("kill -9 of a running job's shim: its processes are killed before the attempt is lost and retried")
    func deadShimLive() throws {
        let stint = try StintHarness()
        let (id, shim, leftovers) = try Self.startTwoSleeps(stint)
        kill(shim, SIGKILL)
        try Self.expectLeftoversEnded(
            stint, id: id, leftovers: leftovers, died: "the shim died (no exit record; it got signal 9)")
    }

    @Test("the daemon and the shim SIGKILLed together: reconciliation kills the job's leftovers first")
    func deadShimAtReconciliation() throws {
        let stint = try StintHarness()
        let (id, shim, leftovers) = try Self.startTwoSleeps(stint)
        stint.killDaemon()
        kill(shim, SIGKILL)
        // Without the shim, the job's processes run on under init while no daemon runs.
        usleep(100_000)
        for pid in leftovers { try #require(Self.isAlive(pid)) }
        try stint.startDaemon(parallel: 2)
        // A shim the daemon did not start itself: how it ended is not known.
        try Self.expectLeftoversEnded(stint, id: id, leftovers: leftovers, died: "the shim died (no exit record)")
    }

    @Test("a double-forked process that left the job's session and group is still found, from the shim's record")
    func escapedProcessIsFound() throws {
        let stint = try StintHarness()
        // `setsid -f` forks, and its child calls setsid() and execs sleep; the parent exits, so
        // the sleep is adopted by the shim: in neither the job's session nor its group.
        let id = try stint.add("--", "sh", "-c", "setsid -f sleep 300; sleep 300")
        var shim: Int32 = 0
        var escaped: Int32 = 0
        try #require(
            try stint.eventually(20) {
                guard let pid = try stint.show(id).attemptList?.first?.shimPid else { return false }
                shim = pid
                let adopted = (try? String(contentsOfFile: stint.home + "/run/\(id).1/adopted", encoding: .utf8)) ?? ""
                guard let first = adopted.split(separator: " ").first, let pid = Int32(first) else { return false }
                escaped = pid
                return true
            }, "the shim never recorded the adopted sleep")
        let leftovers = stint.processes(job: id).filter { $0 != shim }
        #expect(leftovers.contains(escaped))
        kill(shim, SIGKILL)
        #expect(try stint.eventually(20) { try stint.show(id).state == .failed })
        #expect(!Self.isAlive(escaped), "the escaped process \(escaped) still runs")
        for pid in leftovers { #expect(!Self.isAlive(pid), "leftover process \(pid) still runs") }
        let message = try #require(try stint.show(id).attemptList?.first?.message)
        #expect(message.contains(String(escaped)), "\(message)")
    }

    @Test("a job claimed but never started (daemon SIGKILLed before the shim) runs as if claimed once: no retry used")
    func claimedNeverStarted() throws {
        let stint = try StintHarness()
        let marker = stint.home + "/ran"
        // Fails transiently every time, so the runs count what its retry budget allowed.
        let id = try stint.add(
            "--hold", "--retries", "1", "--retry-on", "3", "--backoff", "100ms..200ms", "--", "sh", "-c",
            "echo ran >> \(marker); exit 3")
        stint.killDaemon()
        // What a claim writes, with no run folder and no shim after it.
        try Self.sql(
            stint,
            """
            UPDATE jobs SET state = 'running', attempts = 1, ready = 0 WHERE id = \(id);
            INSERT INTO attempts (job_id, number, started_at, host) VALUES (\(id), 1, strftime('%s','now'), 'box');
            """)
        #expect(!FileManager.default.fileExists(atPath: stint.home + "/run/\(id).1"))
        try stint.startDaemon(parallel: 2)
        #expect(try stint.run("wait", String(id)).status == 3, "\(stint.daemonLog)")
        let job = try stint.show(id)
        #expect(job.state == .failed)
        // Attempt 1 and its one retry both ran the command; none was spent on the claim.
        #expect(job.attempts == 2)
        #expect(job.attemptList?.map(\.number) == [1, 2])
        #expect(job.attemptList?.map(\.reason) == [.exited, .exited])
        #expect(try String(contentsOfFile: marker, encoding: .utf8) == "ran\nran\n")
        #expect(try stint.events(job: id).contains { $0.kind == "requeued" })
    }

    @Test("rows the daemon cannot process are failed with a reason at start-up; the daemon serves the rest")
    func badRowsDoNotBrickTheDaemon() throws {
        let stint = try StintHarness()
        let good = try stint.add("--", "true")
        #expect(try stint.run("wait", String(good)).status == 0)
        let recorded = try stint.add("--", "sh", "-c", "exit 4")
        #expect(try stint.run("wait", String(recorded)).status == 4)
        let bad = try stint.add("--delay", "1h", "--", "echo", "never")
        let later = try stint.add("--delay", "1h", "--", "echo", "fine")
        stint.killDaemon()
        try Self.sql(
            stint,
            """
            UPDATE jobs SET argv = 'not json', run_at = 0 WHERE id = \(bad);
            UPDATE jobs SET state = 'queued', ready = 0, run_at = 1e12, ended_at = NULL WHERE id = \(recorded);
            UPDATE attempts SET ended_at = NULL WHERE job_id = \(recorded);
            UPDATE jobs SET run_at = 0 WHERE id = \(later);
            """)
        try stint.startDaemon(parallel: 2)

        #expect(try stint.run("ls").status == 0)
        let failed = try stint.show(bad)
        #expect(failed.state == .failed)
        #expect(failed.endReason?.contains("does not decode") == true, "\(failed)")
        // Its exit record is there, but the row it belongs to cannot take it.
        let unstorable = try stint.show(recorded)
        #expect(unstorable.state == .failed)
        #expect(unstorable.endReason?.contains("cannot be stored") == true, "\(unstorable)")
        #expect(try stint.show(good).state == .succeeded)
        #expect(try stint.run("wait", String(later)).status == 0)
        let fresh = try stint.add("--", "true")
        #expect(try stint.run("wait", String(fresh)).status == 0)
        #expect(stint.daemonLog.contains("cannot be read") || stint.daemonLog.contains("cannot record outcome"))
    }
}
