import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("A hung or restarted daemon: every CLI request has deadlines, long polls stay up while it is healthy")
struct ClientDeadlineTests {
    /// Stops the harness's daemon with SIGSTOP for the length of `body`, and lets it go on after.
    private func whileStopped<T>(_ stint: StintHarness, _ body: () throws -> T) throws -> T {
        let pid = try #require(stint.daemon?.processIdentifier, "no daemon")
        kill(pid, SIGSTOP)
        defer { kill(pid, SIGCONT) }
        return try body()
    }

    @Test("with the daemon stopped (SIGSTOP), ls, add and show fail with exit 5 within STINT_TIMEOUT, and work once it goes on")
    func stoppedDaemon() throws {
        let stint = try StintHarness()
        let id = try stint.add("true")
        try whileStopped(stint) {
            for arguments in [["ls"], ["add", "--", "true"], ["show", String(id)], ["ls", "-o", "json"]] {
                let started = Date()
                let result = try stint.run(arguments, env: ["STINT_TIMEOUT": "1s"])
                let elapsed = Date().timeIntervalSince(started)
                #expect(result.status == 5, "\(arguments): \(result.status) \(result.stdout) \(result.stderr)")
                #expect(elapsed < 8, "\(arguments) took \(elapsed) s")
                if arguments.contains("json") {
                    #expect(try result.error().code == .unavailable)
                } else {
                    #expect(result.stderr.contains("not responding"), "\(result.stderr)")
                    #expect(result.stderr.contains("STINT_TIMEOUT"), "\(result.stderr)")
                }
            }
        }
        let after = try stint.run("ls", env: ["STINT_TIMEOUT": "5s"])
        #expect(after.status == 0, "\(after.stderr)")
    }

    @Test("a wait on a daemon that stops answering ends with exit 5, not never")
    func waitOnStoppedDaemon() throws {
        let stint = try StintHarness()
        let id = try stint.add("sleep 60")
        #expect(try stint.eventually { try stint.show(id).state == .running })
        let waiting = try stint.start(["wait", String(id)], env: ["STINT_TIMEOUT": "1s"])
        let result = try whileStopped(stint) { try waiting.collect() }
        #expect(result.status == 5, "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("not responding"), "\(result.stderr)")
        #expect(try stint.run("stop", "--grace", "0", String(id)).status == 0)
    }

    @Test("long polls outlive STINT_TIMEOUT while the daemon is healthy: wait, logs -f and run on a quiet job")
    func longPollsOutliveTheDeadline() throws {
        let stint = try StintHarness()
        let environment = ["STINT_TIMEOUT": "1s"]
        let quiet = try stint.add("sleep 3; echo done")
        let follow = try stint.start(["logs", "-f", String(quiet)], env: environment)
        let waited = try stint.run(["wait", String(quiet)], env: environment)
        #expect(waited.status == 0, "\(waited.stderr)")
        let followed = try follow.collect()
        #expect(followed.status == 0, "\(followed.stderr)")
        #expect(followed.stdout == "done\n")
        let ran = try stint.run(["run", "--", "sh", "-c", "sleep 2.5; echo ran"], env: environment)
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(ran.stdout == "ran\n")
    }

    @Test("wait --timeout counts from the call, the time spent reconnecting to an absent daemon included")
    func waitTimeoutCountsFromTheCall() throws {
        let stint = try StintHarness()
        let id = try stint.add("sleep 60")
        #expect(try stint.eventually { try stint.show(id).state == .running })
        stint.killDaemon()
        let started = Date()
        let result = try stint.run("wait", "--timeout", "2s", String(id))
        let elapsed = Date().timeIntervalSince(started)
        // Without a daemon it cannot say how the job stands: unavailable, and at the timeout, not 30 s later.
        #expect(result.status == 5, "\(result.stderr)")
        #expect(elapsed < 6, "took \(elapsed) s")
        try stint.startDaemon(parallel: 2)
        #expect(try stint.run("stop", "--grace", "0", String(id)).status == 0)
    }

    @Test("logs -f goes on across a daemon restart, each line once")
    func followAcrossRestart() throws {
        let stint = try StintHarness()
        let id = try stint.add("for i in 1 2 3 4 5 6 7 8; do echo line$i; sleep 0.4; done")
        let follow = try stint.start(["logs", "-f", String(id)])
        #expect(try stint.eventually { follow.stdoutSoFar.contains("line2") })
        stint.killDaemon()
        try stint.startDaemon(parallel: 2)
        let result = try follow.collect()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == (1...8).map { "line\($0)\n" }.joined(), "\(result.stdout)")
    }

    @Test("logs -f --tail N resumes after its prefix across a restart")
    func followTailAcrossRestart() throws {
        let stint = try StintHarness()
        let id = try stint.add("echo a; echo b; echo c; sleep 1; for i in 1 2 3 4 5; do echo line$i; sleep 0.4; done")
        #expect(try stint.eventually { (try stint.run("logs", String(id))).stdout.contains("c\n") })
        let follow = try stint.start(["logs", "-f", "--tail", "1", String(id)])
        #expect(try stint.eventually { follow.stdoutSoFar.contains("line1") })
        stint.killDaemon()
        try stint.startDaemon(parallel: 2)
        let result = try follow.collect()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "c\n" + (1...5).map { "line\($0)\n" }.joined(), "\(result.stdout)")
    }

    @Test("STINT_TIMEOUT that is not a duration, or negative, is a usage error (exit 64)")
    func invalidTimeout() throws {
        let stint = try StintHarness()
        let bad = try stint.run("ls", env: ["STINT_TIMEOUT": "soon"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("STINT_TIMEOUT"), "\(bad.stderr)")
        let negative = try stint.run("ls", env: ["STINT_TIMEOUT": "-5s"])
        #expect(negative.status == 64)
        #expect(negative.stderr.contains("must not be negative: -5s"), "\(negative.stderr)")
        #expect(try stint.run("ls", env: ["STINT_TIMEOUT": "2m"]).status == 0)
    }
}
