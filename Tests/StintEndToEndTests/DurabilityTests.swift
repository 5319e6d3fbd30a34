import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Durability: the truth survives the daemon", .serialized)
struct DurabilityTests {
    @Test("SIGKILL of the daemon while 20 jobs run: every job ends with its true exit code and complete output")
    func daemonKilledMidRun() throws {
        let stint = try StintHarness(parallel: 20)
        // One `add --from`, so all 20 start together however slow the machine is.
        let lines = (1...20).map { index in
            // Half finish while the daemon is down, half are still running when it returns.
            let sleep = index % 2 == 0 ? "2" : "6"
            return "echo start \(index); sleep \(sleep); echo end \(index); exit \(index % 7)"
        }
        let added = try stint.run(["add", "--from", "-"], stdin: lines.joined(separator: "\n"))
        let ids = added.stdout.split(separator: "\n").compactMap { Int64($0) }
        try #require(ids.count == 20)
        try #require(try stint.eventually { try stint.run("ls", "--state", "running", "-o", "json").data([JobView].self).count == 20 })
        stint.killDaemon()
        usleep(3_000_000)
        try stint.startDaemon(parallel: 20)
        for (offset, id) in ids.enumerated() {
            let index = offset + 1
            #expect(try stint.run("wait", String(id)).status == Int32(index % 7), "job \(id)")
            #expect(try stint.run("logs", String(id)).stdout == "start \(index)\nend \(index)\n", "job \(id)")
        }
        #expect(stint.daemonLog.contains("re-attached"))
    }

    @Test("daemon stop leaves running jobs running; the next daemon reports their outcome")
    func gracefulStopKeepsJobs() throws {
        let stint = try StintHarness()
        let id = try stint.add("sleep 1; echo survived; exit 9")
        #expect(try stint.eventually { try stint.show(id).state == .running })
        #expect(try stint.run("daemon", "stop").status == 0)
        #expect(try stint.run("daemon", "status").status == 5)
        #expect(!stint.processes(job: id).isEmpty)
        try stint.startDaemon(parallel: 2)
        #expect(try stint.run("wait", String(id)).status == 9)
        #expect(try stint.run("logs", String(id)).stdout == "survived\n")
    }

    @Test("a job whose shim vanished without an exit record is lost, never a success")
    func lostJob() throws {
        let stint = try StintHarness()
        let id = try stint.add("--", "sleep", "30")
        #expect(try stint.eventually { (try stint.show(id).attemptList?.first?.shimPid) != nil })
        let shim = try #require(try stint.show(id).attemptList?.first?.shimPid)
        stint.killDaemon()
        for pid in stint.processes(job: id) { kill(pid, SIGKILL) }
        kill(shim, SIGKILL)
        try stint.startDaemon(parallel: 2)
        let result = try stint.run("wait", String(id))
        #expect(result.status == 1)
        let job = try stint.show(id)
        #expect(job.state == .failed)
        #expect(job.reason == .lost)
        #expect(job.exitCode == nil)
    }

    @Test("wait keeps waiting across a daemon restart")
    func waitSurvivesRestart() throws {
        let stint = try StintHarness()
        let id = try stint.add("sleep 1.5; exit 3")
        let waiter = Process()
        waiter.executableURL = URL(fileURLWithPath: stint.binary)
        waiter.arguments = ["wait", String(id)]
        waiter.environment = stint.environment
        waiter.standardOutput = FileHandle.nullDevice
        waiter.standardError = FileHandle.nullDevice
        try waiter.run()
        usleep(300_000)
        stint.killDaemon()
        usleep(300_000)
        try stint.startDaemon(parallel: 2)
        waiter.waitUntilExit()
        #expect(waiter.terminationStatus == 3)
    }

    @Test("the CLI starts the daemon by itself when none answers")
    func autostart() throws {
        let stint = try StintHarness(start: false)
        let id = try stint.run(["add", "-p", "--", "echo", "auto"], env: ["STINT_NO_AUTOSTART": "0"])
        #expect(id.status == 0)
        let status = try stint.run("daemon", "status", "-o", "json").data(DaemonStatus.self)
        // The daemon outlives the `stint add` that started it: it must hold none of that
        // process's descriptors (here: the files its stdout and stderr went to).
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(status.pid)/fd").compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(status.pid)/fd/\($0)")
        }
        #expect(!descriptors.isEmpty)
        #expect(descriptors.allSatisfy { !$0.contains("/.run-") }, "\(descriptors)")
        #expect(try stint.run("wait", id.stdout.trimmingCharacters(in: .whitespacesAndNewlines)).status == 0)
        #expect(try stint.run("daemon", "stop").status == 0)
    }
}
