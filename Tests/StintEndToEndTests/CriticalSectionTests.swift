import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Critical sections: stint critical defers a stop until the step has ended", .serialized)
struct CriticalSectionTests {
    /// A job whose critical step signs `STARTED`, sleeps `seconds`, then writes "step-done" to
    /// `MARKER`; the job prints "after" once the step returns.
    private static func criticalJob(_ stint: StintHarness, seconds: Double) -> String {
        "'\(stint.binary)' critical -- sh -c 'touch \"$STARTED\"; sleep \(seconds); echo step-done > \"$MARKER\"'; echo after"
    }

    @Test("a stop during a critical step returns only after the step, which completes; the rest of the job is cut")
    func stopWaitsForTheStep() throws {
        let stint = try StintHarness()
        let started = stint.home + "/started"
        let marker = stint.home + "/marker"
        let id = try stint.add(
            "--env", "STARTED=\(started)", "--env", "MARKER=\(marker)", Self.criticalJob(stint, seconds: 2))
        #expect(try stint.eventually { FileManager.default.fileExists(atPath: started) })

        let deferredFile = stint.home + "/run/\(id).1/stop-deferred"
        let stop = Background { try stint.run("stop", "--grace", "1s", String(id)) }
        #expect(try stint.eventually(5) { FileManager.default.fileExists(atPath: deferredFile) })
        #expect(try String(contentsOfFile: deferredFile, encoding: .utf8) == "stop\n")
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(try stint.show(id).state == .running)

        let stopped = try stop.value()
        #expect(stopped.status == 0)
        // The stop came back only once the step had written its marker.
        #expect(try String(contentsOfFile: marker, encoding: .utf8) == "step-done\n")
        #expect(!FileManager.default.fileExists(atPath: deferredFile))
        #expect(!(try stint.run("logs", String(id)).stdout.contains("after")))
        #expect(try stint.run("wait", String(id)).status == 125)
        let job = try stint.show(id)
        #expect(job.state == .cancelled)
        #expect(job.reason == .cancelled)
        #expect(stint.processes(job: id).isEmpty)
    }

    @Test("a timeout during a critical step waits for the step, then ends the job as timed out")
    func timeoutWaitsForTheStep() throws {
        let stint = try StintHarness()
        let started = stint.home + "/started"
        let marker = stint.home + "/marker"
        let id = try stint.add(
            "--timeout", "1s", "--env", "STARTED=\(started)", "--env", "MARKER=\(marker)",
            Self.criticalJob(stint, seconds: 2.5))
        let deferredFile = stint.home + "/run/\(id).1/stop-deferred"
        #expect(try stint.eventually(5) { FileManager.default.fileExists(atPath: deferredFile) })
        #expect(try String(contentsOfFile: deferredFile, encoding: .utf8) == "timeout\n")
        #expect(try stint.run("wait", String(id)).status == 124)
        #expect(try String(contentsOfFile: marker, encoding: .utf8) == "step-done\n")
        #expect(!(try stint.run("logs", String(id)).stdout.contains("after")))
        #expect(try stint.show(id).reason == .timeout)
    }

    @Test("a stop with no critical step running is not delayed, also after a step has ended")
    func stopWithoutStepIsImmediate() throws {
        let stint = try StintHarness()
        let id = try stint.add("echo \"$STINT_RUN_DIR\"; '\(stint.binary)' critical -- true; echo step-ended; exec sleep 30")
        #expect(try stint.eventually { try stint.run("logs", String(id)).stdout.contains("step-ended") })
        #expect(try stint.run("logs", String(id)).stdout.hasPrefix(stint.home + "/run/\(id).1\n"))
        let plain = try stint.add("--", "sleep", "30")
        #expect(try stint.eventually { try stint.show(plain).state == .running })

        for job in [id, plain] {
            let start = Date()
            #expect(try stint.run("stop", "--grace", "5s", String(job)).status == 0)
            #expect(Date().timeIntervalSince(start) < 1)
            #expect(try stint.run("wait", String(job)).status == 125)
        }
    }

    @Test("SIGTERM to critical itself does not cut the step; the step keeps SIGTERM's default action")
    func signalsDuringTheStep() throws {
        // In a job, where the shim gives the command an empty signal mask (the test runner's
        // threads block most signals, and a process started from them inherits that).
        let stint = try StintHarness()
        let critical = "'\(stint.binary)' critical --"
        let id = try stint.add(
            "\(critical) sh -c 'kill -TERM $PPID; sleep 0.2; echo survived'; echo \"code $?\"; "
                + "\(critical) sh -c 'kill -TERM $$; echo not-killed'; echo \"code $?\"")
        #expect(try stint.run("wait", String(id)).status == 0)
        #expect(try stint.run("logs", String(id)).stdout == "survived\ncode 0\ncode 143\n")
    }

    @Test("outside a job, critical runs the command and exits with its code, 128+N or 127")
    func outsideAJob() throws {
        let stint = try StintHarness(start: false)
        let outside = ["STINT_RUN_DIR": ""]
        #expect(try stint.run(["critical", "--", "sh", "-c", "exit 3"], env: outside).status == 3)
        #expect(try stint.run(["critical", "--", "sh", "-c", "kill -KILL $$"], env: outside).status == 128 + 9)
        // critical ignores SIGTERM, SIGINT and SIGHUP itself, but the command must not inherit that.
        let dispositions = try stint.run(["critical", "--", "grep", "SigIgn", "/proc/self/status"], env: outside)
        let ignored = try #require(UInt64(dispositions.stdout.split(separator: "\t").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "", radix: 16))
        for signal in [SIGTERM, SIGINT, SIGHUP] { #expect(ignored & (1 << UInt64(signal - 1)) == 0) }
        let missing = try stint.run(["critical", "--", "/nonexistent/command"], env: outside)
        #expect(missing.status == 127)
        #expect(missing.stderr.contains("/nonexistent/command"))
        #expect(try stint.run(["critical"], env: outside).status == 64)
    }
}

/// Runs `body` on another thread while the test goes on; `value()` waits for its result.
private final class Background<T>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    // Written once by the worker before `done` is signalled, read only after waiting on it.
    private var result: Swift.Result<T, any Error>?

    init(_ body: @escaping @Sendable () throws -> T) {
        DispatchQueue.global().async {
            self.result = Swift.Result(catching: body)
            self.done.signal()
        }
    }

    func value() throws -> T {
        done.wait()
        return try result!.get()
    }
}
