import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Job lifecycle through the real CLI and daemon", .serialized)
struct JobLifecycleTests {
    @Test("wait returns the job's own exit code and the log holds stdout and stderr")
    func exitCodeAndOutput() throws {
        let stint = try StintHarness()
        let id = try stint.add("echo out; echo err >&2; exit 3")
        #expect(try stint.run("wait", String(id)).status == 3)
        #expect(try stint.run("logs", String(id)).stdout == "out\nerr\n")
        let job = try stint.show(id)
        #expect(job.state == .failed)
        #expect(job.exitCode == 3)
        #expect(job.reason == .exited)
        #expect(job.attemptList?.first?.host.isEmpty == false)
    }

    @Test("wait exits 124 after a timeout, 125 after a stop, 128+N after a signal, 127 when the command cannot start")
    func waitCodes() throws {
        let stint = try StintHarness(parallel: 4)
        let timedOut = try stint.add("--timeout", "300ms", "--", "sleep", "30")
        let stopped = try stint.add("--", "sleep", "30")
        let signalled = try stint.add("kill -TERM $$; sleep 5")
        let missing = try stint.add("--", "/nonexistent/command")
        #expect(try stint.eventually { try stint.show(stopped).state == .running })
        #expect(try stint.run("stop", "--grace", "2s", String(stopped)).status == 0)
        #expect(try stint.run("wait", String(timedOut)).status == 124)
        #expect(try stint.run("wait", String(stopped)).status == 125)
        #expect(try stint.run("wait", String(signalled)).status == 128 + 15)
        #expect(try stint.run("wait", String(missing)).status == 127)
        #expect(try stint.show(timedOut).reason == .timeout)
        #expect(try stint.show(stopped).state == .cancelled)
        #expect(try stint.show(missing).reason == .launch_error)
        #expect(try stint.run("logs", String(missing)).stdout.contains("/nonexistent/command"))
    }

    @Test("kill -s sends the signal to the tree without changing the state itself")
    func killSignal() throws {
        let stint = try StintHarness()
        let id = try stint.add("trap 'echo got USR1' USR1; while :; do sleep 0.05; done")
        #expect(try stint.eventually { try stint.run("logs", String(id)).stdout.isEmpty && stint.show(id).state == .running })
        usleep(200_000)
        #expect(try stint.run("kill", "-s", "USR1", String(id)).status == 0)
        #expect(try stint.eventually { try stint.run("logs", String(id)).stdout.contains("got USR1") })
        #expect(try stint.show(id).state == .running)
        #expect(try stint.run("kill", "-s", "KILL", String(id)).status == 0)
        #expect(try stint.run("wait", String(id)).status == 128 + 9)
    }

    @Test("stop on a job that double-forks a background daemon leaves none of its processes alive")
    func stopKillsWholeTree() throws {
        let stint = try StintHarness()
        let pidFile = stint.home + "/grandchild.pid"
        // Written to a temporary name and renamed, so the file never exists half-written.
        let id = try stint.add("setsid sh -c 'trap \"\" TERM; sleep 1000 & echo $! > \(pidFile).tmp; mv \(pidFile).tmp \(pidFile)'; sleep 1000")
        #expect(try stint.eventually { FileManager.default.fileExists(atPath: pidFile) })
        let grandchild = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(grandchild, 0) == 0)
        #expect(stint.processes(job: id).count >= 2)
        #expect(try stint.run("stop", "--grace", "500ms", String(id)).status == 0)
        #expect(try stint.show(id).state == .cancelled)
        #expect(stint.processes(job: id).isEmpty)
        #expect(kill(grandchild, 0) == -1)
    }

    @Test("a job runs with the cwd and environment captured at add, plus STINT_JOB_ID and STINT_ATTEMPT")
    func capturedContext() throws {
        let stint = try StintHarness()
        let directory = stint.home + "/work dir"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let id = try Int64(
            stint.run(["add", "-p", "--env", "EXTRA=given", "echo $PWD $FROM_CALLER $EXTRA $STINT_JOB_ID $STINT_ATTEMPT"], cwd: directory, env: ["FROM_CALLER": "caller"])
                .stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let job = try #require(id)
        #expect(try stint.run("wait", String(job)).status == 0)
        #expect(try stint.run("logs", String(job)).stdout == "\(directory) caller given \(job) 1\n")
    }

    @Test("a job's command starts with no signal ignored, caught or blocked, whatever the daemon and the shim ignore or catch")
    func defaultSignalDispositions() throws {
        let stint = try StintHarness()
        // cat itself catches and ignores nothing (grep would: it catches SIGSEGV).
        let id = try stint.add("--", "cat", "/proc/self/status")
        #expect(try stint.run("wait", String(id)).status == 0)
        let lines = try stint.run("logs", String(id)).stdout.split(separator: "\n").map(String.init)
            .filter { $0.hasPrefix("SigBlk:") || $0.hasPrefix("SigIgn:") || $0.hasPrefix("SigCgt:") }
        // Signals 32 and 33 too, which posix_spawn's reset skipped (the job inherited them ignored).
        #expect(lines == ["SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000", "SigCgt:\t0000000000000000"])
    }

    @Test("run follows the output and exits like wait")
    func runFollows() throws {
        let stint = try StintHarness()
        let result = try stint.run("run", "--", "sh", "-c", "echo one; sleep 0.3; echo two; exit 2")
        #expect(result.status == 2)
        #expect(result.stdout == "one\ntwo\n")
    }

    @Test("add --yield prints the id and exits 75 while the job goes on")
    func yieldReturnsStillRunning() throws {
        let stint = try StintHarness()
        let result = try stint.run("add", "--yield", "300ms", "--", "sh", "-c", "echo started; sleep 30")
        #expect(result.status == 75)
        #expect(result.stdout.contains("started"))
        let ids = try stint.run("ls", "-o", "json").data([JobView].self)
        let job = try #require(ids.first)
        #expect(job.state == .running)
        #expect(try stint.run("wait", "--timeout", "200ms", String(job.id)).status == 75)
        #expect(try stint.run("stop", "--grace", "1s", String(job.id)).status == 0)
    }

    @Test("held jobs wait for release; retry starts a new attempt")
    func holdReleaseRetry() throws {
        let stint = try StintHarness()
        let id = try stint.add("--hold", "echo attempt $STINT_ATTEMPT; test $STINT_ATTEMPT -ge 2")
        #expect(try stint.show(id).state == .held)
        #expect(try stint.run("release", String(id)).status == 0)
        #expect(try stint.run("wait", String(id)).status == 1)
        #expect(try stint.run("retry", String(id)).status == 0)
        #expect(try stint.run("wait", String(id)).status == 0)
        let job = try stint.show(id)
        #expect(job.attempts == 2)
        #expect(try stint.run("logs", String(id)).stdout == "attempt 2\n")
        #expect(try stint.run("logs", "--attempt", "1", String(id)).stdout == "attempt 1\n")
    }

    @Test("add --from enqueues shell lines and NDJSON objects in one go")
    func addFromFile() throws {
        let stint = try StintHarness()
        let lines = """
            # a comment
            echo first
            {"argv": ["sh", "-c", "echo second $X"], "env": {"X": "x"}, "labels": {"kind": "ndjson"}}

            {"command": "exit 4", "timeout": "5s"}
            """
        let result = try stint.run("add", "--from", "-", stdin: lines)
        #expect(result.status == 0)
        let ids = result.stdout.split(separator: "\n").compactMap { Int64($0) }
        #expect(ids.count == 3)
        #expect(try stint.run("wait", ids.map(String.init).joined(separator: ",")).status == 6)
        #expect(try stint.run("logs", String(ids[1])).stdout == "second x\n")
        #expect(try stint.show(ids[1]).labels == ["kind": "ndjson"])
        #expect(try stint.show(ids[2]).timeout == 5)
        #expect(try stint.run("wait", String(ids[2])).status == 4)
    }

    @Test("rm refuses a running job and deletes an ended one with its log; prune removes ended jobs")
    func removeAndPrune() throws {
        let stint = try StintHarness()
        let running = try stint.add("--", "sleep", "30")
        let done = try stint.add("--", "echo", "bye")
        #expect(try stint.run("wait", String(done)).status == 0)
        let log = try #require(try stint.show(done).log)
        #expect(FileManager.default.fileExists(atPath: log))
        #expect(try stint.eventually { try stint.show(running).state == .running })
        let refused = try stint.run("rm", String(running), "-o", "json")
        #expect(refused.status == 9)
        #expect(try refused.error().code == .conflict)
        #expect(try stint.run("rm", String(done)).status == 0)
        #expect(try stint.run("show", String(done)).status == 3)
        #expect(!FileManager.default.fileExists(atPath: log))
        #expect(try stint.run("stop", String(running)).status == 0)
        let pruned = try stint.run("prune", "-o", "json").data(PruneResponse.self)
        #expect(pruned.removed == [running])
    }

    @Test("ls prints a table with the columns of the contract; -o ndjson ends with _meta")
    func listFormats() throws {
        let stint = try StintHarness()
        let id = try stint.add("--label", "team=infra", "--", "true")
        #expect(try stint.run("wait", String(id)).status == 0)
        let table = try stint.run("ls").stdout
        let header = try #require(table.split(separator: "\n").first)
        #expect(header.split(separator: " ", omittingEmptySubsequences: true) == ["ID", "STATE", "QUEUE", "EXIT", "DURATION", "AGE", "COMMAND", "LABELS"])
        #expect(table.contains("succeeded"))
        #expect(table.contains("team=infra"))
        #expect(!table.contains("\u{1B}["))
        let lines = try stint.run("ls", "-o", "ndjson").stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.last == #"{"_meta":{"count":1}}"#)
        #expect(try stint.run("-o", "json", "ls", "--label", "team=other").data([JobView].self).isEmpty)
    }
}
