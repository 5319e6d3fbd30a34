import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `stint batch` end to end: a real daemon, the real binary, real unit processes and real
/// signals sent with kill(2) to the batch process. Units log to a record file in the
/// harness home, so that each test can count how many times every unit ran.
@Suite("stint batch: exit codes, signals, checkpoints, conflicts, output", .serialized)
struct BatchTests {
    // MARK: - Helpers

    /// `-o json` of `stint batch`: the `data` of its envelope.
    struct Document: Codable, Sendable {
        struct Unit: Codable, Sendable {
            var unit: String
            var position: Int64
            var ok: Bool
            var exitCode: Int32?
            var signal: Int32?
            var message: String?
            var duration: Double
            var outputTail: String?
        }

        struct Summary: Codable, Sendable {
            var total: Int64
            var succeeded: Int64
            var failed: Int64
            var skipped: Int64
            var ran: Int64
            var failedUnits: [String]
            var abortedBy: String?
            var completed: Int64
            var lastCompleted: String?
            var resumeFrom: String?
            var resumeCommand: String?
            var duration: Double
        }

        var units: [Unit]
        var summary: Summary
    }

    /// Unit commands that log to a record file in the harness home, and what that file says.
    struct Record {
        let stint: StintHarness

        var path: String { stint.home + "/record" }

        /// A file in the harness home (gates, switches).
        func file(_ name: String) -> String { stint.home + "/" + name }

        func touch(_ name: String) { _ = FileManager.default.createFile(atPath: file(name), contents: nil) }

        func remove(_ name: String) { try? FileManager.default.removeItem(atPath: file(name)) }

        /// `sh -c BODY _ {}`: the unit is `$1` in `body`.
        func unit(_ body: String) -> [String] { ["sh", "-c", body, "_", "{}"] }

        /// A unit that logs `start N`, runs `middle`, then logs `done N`.
        func logged(_ middle: String = ":") -> [String] {
            unit("echo \"start $1\" >> '\(path)'; \(middle); echo \"done $1\" >> '\(path)'")
        }

        /// Shell text that waits until the file `name` exists.
        func waitFor(_ name: String) -> String { "while [ ! -e '\(file(name))' ]; do sleep 0.05; done" }

        var exists: Bool { FileManager.default.fileExists(atPath: path) }

        var lines: [String] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
            return text.split(separator: "\n").map(String.init)
        }

        func has(_ line: String) -> Bool { lines.contains(line) }

        /// How many times each unit logged `word` (the lines `word UNIT …`).
        func counts(_ word: String) -> [String: Int] {
            var counts: [String: Int] = [:]
            for line in lines {
                let fields = line.split(separator: " ")
                if fields.count >= 2, fields[0] == word { counts[String(fields[1]), default: 0] += 1 }
            }
            return counts
        }

        /// Every unit of `units`, `times` times each.
        static func each(_ units: ClosedRange<Int>, _ times: Int = 1) -> [String: Int] {
            Dictionary(uniqueKeysWithValues: units.map { ("\($0)", times) })
        }
    }

    /// `stint batch ls -o json`.
    func batches(_ stint: StintHarness) throws -> [BatchView] {
        try stint.run("batch", "ls", "-o", "json").data([BatchView].self)
    }

    /// The top-level `status` of a JSON envelope.
    func envelopeStatus(_ result: StintHarness.Result) -> String? {
        let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return object?["status"] as? String
    }

    /// Live processes of the harness other than its daemon: units, their children, batches.
    func leftovers(_ stint: StintHarness) -> [Int32] {
        let daemon = stint.daemon?.processIdentifier
        return stint.processes().filter { $0 != daemon }
    }

    /// Whether `pid` is a live process (a zombie is dead, just not reaped: orphans are
    /// reparented to an init that may reap late).
    func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    /// The N of `Aborted at N.` in a batch's stderr.
    func abortedAt(_ stderr: String) throws -> String? {
        guard let match = try Regex("Aborted at ([^ ]+)\\.").firstMatch(in: stderr) else { return nil }
        return match.output[1].substring.map(String.init)
    }

    /// The command after `Resume with: ` in a batch's stderr.
    func resumeCommand(_ stderr: String) -> String? {
        guard let range = stderr.range(of: "Resume with: ") else { return nil }
        return stderr[range.upperBound...].split(separator: "\n").first.map(String.init)
    }

    // MARK: - Exit 0 and 6

    @Test("every unit succeeds: exit 0, each unit ran once with its value and position, progress lines, the checkpoint is forgotten")
    func allSucceed() throws {
        let stint = try StintHarness()
        let record = Record(stint: stint)
        let body = "echo \"done $1 $STINT_BATCH_UNIT $STINT_BATCH_POSITION\" >> '\(record.path)'"
        let json = try stint.run(["batch", "--range", "3-7", "-o", "json", "--"] + record.unit(body))
        #expect(json.status == 0, "\(json.stderr)")
        #expect(envelopeStatus(json) == "ok")
        let document = try json.data(Document.self)
        #expect(document.summary.total == 5)
        #expect(document.summary.succeeded == 5)
        #expect(document.summary.failed == 0)
        #expect(document.summary.ran == 5)
        #expect(document.summary.failedUnits.isEmpty)
        #expect(document.summary.abortedBy == nil)
        #expect(document.summary.completed == 5)
        #expect(document.summary.resumeFrom == nil)
        #expect(document.units.map(\.unit).sorted() == ["3", "4", "5", "6", "7"])
        #expect(document.units.allSatisfy { $0.ok && $0.exitCode == 0 })
        #expect(record.lines.sorted() == ["done 3 3 1", "done 4 4 2", "done 5 5 3", "done 6 6 4", "done 7 7 5"])
        // A batch that ran to its end forgets its checkpoint.
        #expect(try batches(stint).isEmpty)

        // Text mode: progress lines on stderr every --progress-every units (stderr is a file
        // here, not a terminal), the summary on stdout.
        try FileManager.default.removeItem(atPath: record.path)
        let text = try stint.run(["batch", "--range", "1-4", "--progress-every", "2", "--"] + record.logged())
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.hasPrefix("4 units: 4 succeeded, 0 failed; this run: 4 in "), "\(text.stdout)")
        let progress = text.stderr.split(separator: "\n").filter { $0.hasPrefix("batch: ") && $0.contains("units/s") }
        #expect(progress.count == 2, "\(text.stderr)")
        #expect(progress.first?.hasPrefix("batch: 2/4 (50") == true, "\(text.stderr)")
        #expect(progress.first?.contains("ETA") == true, "\(text.stderr)")
        #expect(progress.last?.hasPrefix("batch: 4/4 (100") == true, "\(text.stderr)")
        #expect(record.counts("done") == Record.each(1...4))

        // Units from a file: blank lines and comments skipped.
        let list = record.file("units.txt")
        try "# the units\n\nalpha\n  beta  \n# done\n".write(toFile: list, atomically: true, encoding: .utf8)
        let fromFile = try stint.run(["batch", "--from", list, "-o", "json", "--"] + record.logged())
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(try fromFile.data(Document.self).units.map(\.unit) == ["alpha", "beta"])
        #expect(record.counts("done")["alpha"] == 1)
        #expect(record.counts("done")["beta"] == 1)
    }

    @Test("some units fail: exit 6, E_PARTIAL, failed_units lists them, succeeded + failed == total, every unit ran once")
    func someFail() throws {
        let stint = try StintHarness()
        let record = Record(stint: stint)
        let body = "echo \"ran $1\" >> '\(record.path)'; case \"$1\" in b|d) echo \"bad $1\"; exit 3;; esac; echo \"fine $1\""
        let arguments = ["batch", "--ids", "a,b,c,d,e"]
        let json = try stint.run(arguments + ["-o", "json", "--"] + record.unit(body))
        #expect(json.status == 6, "\(json.stderr)")
        #expect(envelopeStatus(json) == "error")
        let error = try json.error()
        #expect(error.code == .partial)
        #expect(error.message == "2 of 5 units failed")
        #expect(error.hint?.contains("--ids b,d") == true, "\(error)")
        let document = try json.data(Document.self)
        #expect(document.summary.failedUnits == ["b", "d"])
        #expect(document.summary.succeeded == 3)
        #expect(document.summary.failed == 2)
        #expect(document.summary.succeeded + document.summary.failed == document.summary.total)
        #expect(document.summary.total == 5)
        #expect(document.summary.abortedBy == nil)
        let failed = document.units.filter { !$0.ok }
        #expect(failed.map(\.unit).sorted() == ["b", "d"])
        #expect(failed.allSatisfy { $0.exitCode == 3 })
        #expect(document.units.first { $0.unit == "b" }?.outputTail == "bad b")
        #expect(document.units.first { $0.unit == "a" }?.outputTail == "fine a")
        #expect(record.counts("ran") == ["a": 1, "b": 1, "c": 1, "d": 1, "e": 1])
        // The range finished (with failures): nothing to resume.
        #expect(try batches(stint).isEmpty)

        // Text mode: each failure's last output line on stderr, the failed units in the summary.
        let text = try stint.run(arguments + ["--"] + record.unit(body))
        #expect(text.status == 6)
        #expect(text.stderr.contains("unit b failed (exit 3): bad b"), "\(text.stderr)")
        #expect(text.stderr.contains("unit d failed (exit 3): bad d"), "\(text.stderr)")
        #expect(text.stdout.hasPrefix("5 units: 3 succeeded, 2 failed (b, d)"), "\(text.stdout)")
        // It started over: every unit ran a second time.
        #expect(record.counts("ran") == ["a": 2, "b": 2, "c": 2, "d": 2, "e": 2])
    }

    // MARK: - Exit 8

    @Test("--max-failures: exit 8 with aborted_by max_failures; a rerun after the fix runs the failed streak again and finishes")
    func maxFailures() throws {
        let stint = try StintHarness()
        let record = Record(stint: stint)
        record.touch("broken")
        let body = """
            if [ -e '\(record.file("broken"))' ] && [ "$1" -ge 4 ]; then echo "fail $1" >> '\(record.path)'; exit 1; fi
            echo "ok $1" >> '\(record.path)'
            """
        let options = ["batch", "--range", "1-10", "--max-failures", "3", "--checkpoint-every", "1"]
        let first = try stint.run(options + ["-o", "json", "--"] + record.unit(body))
        #expect(first.status == 8, "\(first.stderr)")
        let error = try first.error()
        #expect(error.code == .maxFailures)
        #expect(error.hint?.contains("--resume-from 4") == true, "\(error)")
        let summary = try first.data(Document.self).summary
        #expect(summary.abortedBy == "max_failures")
        #expect(summary.failedUnits == ["4", "5", "6"])
        #expect(summary.ran == 6)
        #expect(summary.completed == 3)
        #expect(summary.lastCompleted == "3")
        #expect(summary.resumeFrom == "4")
        // The breaker stopped it: nothing after the streak ran.
        #expect(record.counts("ok") == Record.each(1...3))
        #expect(record.counts("fail") == Record.each(4...6))

        // The checkpoint is rewound to before the streak (it had moved past it, one unit at a time).
        let stored = try batches(stint)
        #expect(stored.count == 1)
        #expect(stored.first?.completed == 3)
        #expect(stored.first?.resumeFrom == "4")
        #expect(stored.first?.stoppedBy == "max_failures")
        #expect(stored.first?.state == "stopped")
        #expect(stored.first?.holder == nil)

        // Fixed: the same command resumes at 4 and finishes.
        record.remove("broken")
        let second = try stint.run(options + ["--"] + record.unit(body))
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("resuming after the checkpoint: 3 of 10 units done"), "\(second.stderr)")
        #expect(second.stdout.hasPrefix("10 units: 10 succeeded, 0 failed"), "\(second.stdout)")
        #expect(record.counts("ok") == Record.each(1...10))
        #expect(record.counts("fail") == Record.each(4...6))
        #expect(try batches(stint).isEmpty)
    }

    // MARK: - Exit 7

    @Test(
        "the first SIGINT or SIGTERM lets the running unit finish and exits 7 saying where to resume; the rerun resumes there",
        arguments: [SIGINT, SIGTERM])
    func firstSignal(_ signal: Int32) throws {
        let stint = try StintHarness()
        let record = Record(stint: stint)
        let command = ["batch", "--range", "1-8", "--checkpoint-every", "1", "--"]
            + record.logged("if [ \"$1\" = 3 ]; then sleep 4; else sleep 0.1; fi")
        let batch = try stint.start(command)
        #expect(try stint.eventually { record.has("start 3") })
        kill(batch.pid, signal)
        let result = try batch.collect()
        #expect(result.status == 7, "\(result.stderr)")
        #expect(batch.process.terminationReason == .exit)
        let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
        #expect(result.stderr.contains("\(name): finishing 1 running unit, then stopping"), "\(result.stderr)")
        #expect(result.stderr.contains("Aborted at"), "\(result.stderr)")
        #expect(result.stderr.contains("--resume-from"), "\(result.stderr)")
        #expect(try abortedAt(result.stderr) == "3", "\(result.stderr)")
        let resume = try #require(resumeCommand(result.stderr), "\(result.stderr)")
        #expect(resume.contains("--resume-from 4 --"), "\(resume)")
        #expect(result.stdout.hasPrefix("8 units: 3 succeeded, 0 failed, 5 not run"), "\(result.stdout)")
        // The running unit finished; no unit started after the signal.
        #expect(record.counts("done") == Record.each(1...3))
        #expect(record.counts("start") == Record.each(1...3))
        let stored = try batches(stint)
        #expect(stored.first?.completed == 3)
        #expect(stored.first?.resumeFrom == "4")
        #expect(stored.first?.stoppedBy == "signal")
        #expect(stored.first?.state == "stopped")

        let rerun: StintHarness.Result
        if signal == SIGINT {
            // The same command, without flags, resumes after the checkpoint.
            rerun = try stint.run(command)
            #expect(rerun.stderr.contains("resuming after the checkpoint: 3 of 8 units done"), "\(rerun.stderr)")
        } else {
            // The printed resume command works as given, pasted into a shell.
            let shell = Process()
            shell.executableURL = URL(fileURLWithPath: "/bin/sh")
            shell.arguments = ["-c", resume + " 2>&1"]
            shell.environment = stint.environment
            let output = Pipe()
            shell.standardOutput = output
            shell.standardInput = FileHandle.nullDevice
            try shell.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            shell.waitUntilExit()
            rerun = StintHarness.Result(status: shell.terminationStatus, stdout: text, stderr: text)
        }
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stdout.contains("8 units: 8 succeeded, 0 failed"), "\(rerun.stdout)")
        #expect(record.counts("done") == Record.each(1...8))
        #expect(record.counts("start") == Record.each(1...8))
        #expect(try batches(stint).isEmpty)
    }

    // MARK: - Exit 130

    @Test("a second SIGINT exits 130 at once and kills the running unit, which never completes; a rerun runs it again")
    func secondSignal() throws {
        let stint = try StintHarness()
        let record = Record(stint: stint)
        record.touch("slow")
        // Slow (sleep 30, a child of the unit's shell) only while the file `slow` exists.
        let body = """
            echo "start $1 $$" >> '\(record.path)'
            if [ -e '\(record.file("slow"))' ]; then sleep 30; fi
            echo "done $1" >> '\(record.path)'
            """
        let command = ["batch", "--range", "1-3", "--"] + record.unit(body)
        let batch = try stint.start(command)
        #expect(try stint.eventually { record.lines.contains { $0.hasPrefix("start 1 ") } })
        let unitPid = try #require(record.lines.first.flatMap { Int32($0.split(separator: " ")[2]) })
        kill(batch.pid, SIGINT)
        #expect(try stint.eventually { batch.stderrSoFar.contains("SIGINT: finishing 1 running unit") })
        // The first signal alone does not stop the unit.
        #expect(try stint.holds(for: 0.3) { batch.process.isRunning && alive(unitPid) })
        let sent = Date()
        kill(batch.pid, SIGINT)
        #expect(try stint.eventually(10) { !batch.process.isRunning })
        let took = Date().timeIntervalSince(sent)
        #expect(took < 3, "took \(took) s to exit")
        let result = try batch.collect()
        #expect(result.status == 130, "\(result.stderr)")
        #expect(batch.process.terminationReason == .exit)
        #expect(result.stderr.contains("SIGINT again: running units killed, exiting now (130)"), "\(result.stderr)")
        // The unit (and its sleep: the whole process group) are gone, and it never completed.
        #expect(try stint.eventually(5) { leftovers(stint).isEmpty }, "left: \(leftovers(stint))")
        #expect(!alive(unitPid))
        #expect(try stint.holds(for: 0.3) { !record.lines.contains("done 1") })
        #expect(record.lines.count == 1, "\(record.lines)")
        let stored = try batches(stint)
        #expect(stored.count == 1)
        #expect(stored.first?.state == "stopped")

        // The killed unit is not done: the checkpoint must stay before it, and a rerun must
        // run it. (Once, the runner went on while exit(130) ran on the signal queue, and the
        // killed unit could be saved as done, failed; the second signal now stops all records.)
        let checkpoint = (completed: stored.first?.completed, stoppedBy: stored.first?.stoppedBy)
        record.remove("slow")
        let rerun = try stint.run(command)
        let runs = record.counts("done")
        #expect(checkpoint.completed == 0 && checkpoint.stoppedBy == "lost", "checkpoint after exit 130: \(checkpoint)")
        #expect(rerun.status == 0, "\(rerun.stdout) \(rerun.stderr)")
        #expect(runs == Record.each(1...3), "\(runs)")
        #expect(try batches(stint).isEmpty)
    }

    // MARK: - SIGKILL and the stale lock

    @Test("SIGKILL of the batch: its running unit dies with it; a rerun takes the stale lock over and every unit succeeds once")
    func killedBatch() throws {
        let stint = try StintHarness()
        let record = Record(stint: stint)
        record.touch("slow")
        // Unit 2 is slow only while the file `slow` exists (the first run). Its shell logs
        // its pid; its `sleep` is a child of that shell.
        let body = """
            echo "start $1 $$" >> '\(record.path)'
            if [ -e '\(record.file("slow"))' ] && [ "$1" = 2 ]; then sleep 30; fi
            echo "done $1" >> '\(record.path)'
            """
        let command = ["batch", "--range", "1-4", "--checkpoint-every", "1", "--"] + record.unit(body)
        let batch = try stint.start(command)
        #expect(try stint.eventually { record.lines.contains { $0.hasPrefix("start 2 ") } })
        let unitPid = try #require(record.lines.first { $0.hasPrefix("start 2 ") }.flatMap { Int32($0.split(separator: " ")[2]) })
        let running = try batches(stint)
        #expect(running.first?.state == "running")
        #expect(running.first?.holder?.pid == batch.pid)
        #expect(running.first?.completed == 1)
        kill(batch.pid, SIGKILL)
        _ = try batch.collect()
        #expect(batch.process.terminationReason == .uncaughtSignal)
        #expect(batch.process.terminationStatus == SIGKILL)
        // PR_SET_PDEATHSIG: the unit does not outlive the batch, and never completes.
        #expect(try stint.eventually(5) { !alive(unitPid) }, "unit pid \(unitPid) still runs")
        #expect(try stint.holds(for: 0.3) { !record.has("done 2") })
        // Nor does anything the unit started: PR_SET_PDEATHSIG covers only the unit's own
        // process, and the batch's guard process kills the unit's whole process group (the
        // shell's `sleep 30` here).
        let nothingLeft = try stint.eventually(2) { leftovers(stint).isEmpty }
        let left = leftovers(stint)
        #expect(nothingLeft, "left: \(left)")
        for pid in leftovers(stint) { kill(pid, SIGKILL) }
        let lost = try batches(stint)
        #expect(lost.first?.state == "stopped")
        #expect(lost.first?.stoppedBy == "lost")
        #expect(lost.first?.completed == 1)

        record.remove("slow")
        let rerun = try stint.run(command)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stderr.contains("which is gone: taking it over"), "\(rerun.stderr)")
        #expect(rerun.stderr.contains("resuming after the checkpoint: 1 of 4 units done"), "\(rerun.stderr)")
        #expect(record.counts("done") == Record.each(1...4))
        #expect(record.counts("start") == ["1": 1, "2": 2, "3": 1, "4": 1])
        #expect(record.lines.count == 9)
        #expect(try batches(stint).isEmpty)
    }

    // MARK: - Exit 9

    @Test("the same batch while it runs: exit 9 E_CONFLICT with a hint and nothing run; --allow-concurrent runs it")
    func sameBatchConflict() throws {
        let stint = try StintHarness()
        let record = Record(stint: stint)
        // $TAG tells the runs apart; only the first one waits for the gate.
        let body = """
            echo "start $1 $TAG" >> '\(record.path)'
            if [ "$TAG" = first ]; then \(record.waitFor("gate")); fi
            echo "done $1 $TAG" >> '\(record.path)'
            """
        let first = try stint.start(["batch", "--range", "1-3", "--"] + record.unit(body), env: ["TAG": "first"])
        #expect(try stint.eventually { record.has("start 1 first") })

        let second = try stint.run(["batch", "--range", "1-3", "-o", "json", "--"] + record.unit(body), env: ["TAG": "second"])
        #expect(second.status == 9, "\(second.stdout) \(second.stderr)")
        let error = try second.error()
        #expect(error.code == .conflict)
        #expect(error.message.contains("is already running: pid \(first.pid)"), "\(error)")
        #expect(error.hint?.contains("--allow-concurrent") == true, "\(error)")
        #expect(try stint.holds(for: 0.3) { !record.lines.contains { $0.hasSuffix(" second") } })

        let concurrent = try stint.run(
            ["batch", "--range", "1-3", "--allow-concurrent", "--"] + record.unit(body), env: ["TAG": "second"])
        #expect(concurrent.status == 0, "\(concurrent.stderr)")
        #expect(record.lines.filter { $0.hasPrefix("done ") && $0.hasSuffix(" second") }.sorted() == [
            "done 1 second", "done 2 second", "done 3 second",
        ])
        // It took no lock: the first run still holds the batch.
        let held = try batches(stint)
        #expect(held.first?.state == "running")
        #expect(held.first?.holder?.pid == first.pid)

        record.touch("gate")
        let ended = try first.collect()
        #expect(ended.status == 0, "\(ended.stderr)")
        #expect(record.lines.filter { $0.hasPrefix("done ") && $0.hasSuffix(" first") }.sorted() == [
            "done 1 first", "done 2 first", "done 3 first",
        ])
        #expect(try batches(stint).isEmpty)
    }

    @Test("an --allow-concurrent run leaves alone the checkpoint of the run that holds the batch")
    func concurrentRunKeepsTheHoldersCheckpoint() throws {
        let stint = try StintHarness()
        let record = Record(stint: stint)
        // $TAG tells the runs apart; only the first one waits for the gate (which never opens).
        let body = """
            if [ "$TAG" = first ]; then \(record.waitFor("gate")); fi
            echo "done $1 $TAG" >> '\(record.path)'
            """
        let command = ["batch", "--range", "1-5", "--checkpoint-every", "1", "--"] + record.unit(body)
        let holder = try stint.start(command, env: ["TAG": "first"])
        #expect(try stint.eventually { try batches(stint).first?.holder?.pid == holder.pid })
        // Another run of the same batch, without the lock, from unit 4 on.
        let concurrent = try stint.run(
            ["batch", "--range", "1-5", "--checkpoint-every", "1", "--allow-concurrent", "--resume-from", "4", "--"]
                + record.unit(body), env: ["TAG": "second"])
        #expect(concurrent.status == 0, "\(concurrent.stderr)")
        #expect(record.lines.sorted() == ["done 4 second", "done 5 second"])
        let during = try #require(try batches(stint).first)
        #expect(during.holder?.pid == holder.pid)
        #expect(during.state == "running")

        // The holder dies before doing anything; the rerun takes over from its checkpoint.
        kill(holder.pid, SIGKILL)
        _ = try holder.collect()
        let rerun = try stint.run(command, env: ["TAG": "third"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let everRan = Set(record.lines.map { $0.split(separator: " ")[1] })
        // The concurrent run's saves (no token) must not reach the held row: if they did, the
        // rerun after the holder's death would "resume after 5 of 5" and units 1-3 would never
        // run anywhere.
        #expect(during.completed == 0, "the holder's checkpoint, changed by the concurrent run: \(during.completed)")
        #expect(everRan == ["1", "2", "3", "4", "5"], "units that ever ran: \(everRan.sorted()); rerun: \(rerun.stdout)")
    }

    @Test("--exclusive-with Q: exit 9 while Q is not paused, runs once `stint queue pause Q`; --allow-concurrent overrides")
    func exclusiveWith() throws {
        let stint = try StintHarness()
        let record = Record(stint: stint)
        let arguments = ["batch", "--range", "1-2", "--exclusive-with", "maint"]
        let refused = try stint.run(arguments + ["-o", "json", "--"] + record.logged())
        #expect(refused.status == 9, "\(refused.stdout) \(refused.stderr)")
        let error = try refused.error()
        #expect(error.code == .conflict)
        #expect(error.message.contains("queue maint is not paused"), "\(error)")
        #expect(error.hint?.contains("stint queue pause maint") == true, "\(error)")
        #expect(!record.exists)
        #expect(try batches(stint).isEmpty)

        let overridden = try stint.run(arguments + ["--allow-concurrent", "--"] + record.logged())
        #expect(overridden.status == 0, "\(overridden.stderr)")
        #expect(record.counts("done") == Record.each(1...2))

        // Paused, with one of its jobs still running: accepted, with a warning.
        let job = try stint.add("--queue", "maint", "--", "sleep", "30")
        #expect(try stint.eventually { try stint.show(job).state == .running })
        #expect(try stint.run("queue", "pause", "maint").status == 0)
        let paused = try stint.run(arguments + ["--"] + record.logged())
        #expect(paused.status == 0, "\(paused.stderr)")
        #expect(paused.stderr.contains("queue maint is paused, but 1 of its jobs still run"), "\(paused.stderr)")
        #expect(record.counts("done") == Record.each(1...2, 2))
        #expect(try stint.run("kill", "\(job)").status == 0)

        #expect(try stint.run("queue", "resume", "maint").status == 0)
        let again = try stint.run(arguments + ["--"] + record.logged())
        #expect(again.status == 9)
        #expect(record.counts("done") == Record.each(1...2, 2))
    }

    // MARK: - Parallel units

    @Test("-j 3: the checkpoint never passes a slow unit while it runs; interrupted and resumed, every unit runs exactly once")
    func parallelCheckpoint() throws {
        let stint = try StintHarness()
        let record = Record(stint: stint)
        // Unit 2 waits for the gate; the others take 0.25 s each.
        let command = ["batch", "--range", "1-40", "-j", "3", "--checkpoint-every", "1", "--"]
            + record.logged("if [ \"$1\" = 2 ]; then \(record.waitFor("gate")); else sleep 0.25; fi")
        let batch = try stint.start(command)
        #expect(try stint.eventually { ["1", "3", "4", "5"].allSatisfy { record.has("done \($0)") } })
        // Units after 2 are done and a checkpoint is written after each, yet while 2 runs the
        // checkpoint stays at 1 (and more units finish meanwhile).
        #expect(try stint.eventually { try batches(stint).first?.completed == 1 })
        var seen: Set<Int64> = []
        let held = try stint.holds(for: 0.6) {
            let view = try batches(stint).first
            seen.insert(view?.completed ?? -1)
            return view?.state == "running" && view?.completed == 1
        }
        #expect(held, "completed while unit 2 runs: \(seen.sorted())")
        #expect(!record.has("done 2"))
        #expect(record.counts("done").count >= 5)

        kill(batch.pid, SIGINT)
        #expect(try stint.eventually { batch.stderrSoFar.contains("SIGINT: finishing") })
        // Still waiting for unit 2: the checkpoint has not moved.
        #expect(try batches(stint).first?.completed == 1)
        record.touch("gate")
        let result = try batch.collect()
        #expect(result.status == 7, "\(result.stderr)")
        let done = record.counts("done")
        let aborted = try #require(try abortedAt(result.stderr).flatMap(Int.init), "\(result.stderr)")
        // Every unit that started finished, and they form 1…N: the checkpoint is N.
        #expect(done == Record.each(1...aborted), "aborted at \(aborted), done \(done.keys.sorted { Int($0)! < Int($1)! })")
        #expect(record.counts("start") == done)
        #expect(aborted >= 5)
        #expect(try batches(stint).first?.completed == Int64(aborted))

        let rerun = try stint.run(command)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stderr.contains("resuming after the checkpoint: \(aborted) of 40 units done"), "\(rerun.stderr)")
        #expect(record.counts("done") == Record.each(1...40))
        #expect(record.counts("start") == Record.each(1...40))
        #expect(try batches(stint).isEmpty)
    }

    // MARK: - Output

    @Test("-o ndjson: one line per unit in finish order with exactly the documented keys, then _meta with the exit code and counts")
    func ndjson() throws {
        let stint = try StintHarness()
        let record = Record(stint: stint)
        let body = """
            case "$1" in
            a) sleep 1.5; echo "out a";;
            b) echo "out b"; exit 1;;
            c) ;;
            d) kill -9 $$;;
            esac
            """
        let result = try stint.run(["batch", "--ids", "a,b,c,d", "-j", "2", "-o", "ndjson", "--"] + record.unit(body))
        #expect(result.status == 6, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(result.stdout.hasSuffix("\n"))
        #expect(lines.count == 5, "\(result.stdout)")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.count == lines.count, "not every line is a JSON object: \(result.stdout)")
        guard objects.count == 5 else { return }

        let units = Array(objects.prefix(4))
        let required: Set = ["unit", "position", "ok", "exit_code", "duration", "output_tail"]
        let byUnit = Dictionary(uniqueKeysWithValues: units.map { ($0["unit"] as? String ?? "?", $0) })
        #expect(Set(byUnit.keys) == ["a", "b", "c", "d"])
        for name in ["a", "b", "c"] {
            #expect(Set((byUnit[name] ?? [:]).keys) == required, "\(name): \(byUnit[name] ?? [:])")
        }
        #expect(Set((byUnit["d"] ?? [:]).keys) == required.union(["signal", "message"]), "\(byUnit["d"] ?? [:])")
        // Finish order: the slow unit a is last.
        #expect(units.last?["unit"] as? String == "a")
        #expect(byUnit["a"]?["position"] as? Int == 1)
        #expect(byUnit["a"]?["ok"] as? Bool == true)
        #expect(byUnit["a"]?["exit_code"] as? Int == 0)
        #expect(byUnit["a"]?["output_tail"] as? String == "out a")
        #expect((byUnit["a"]?["duration"] as? Double ?? 0) >= 1.4)
        #expect(byUnit["b"]?["ok"] as? Bool == false)
        #expect(byUnit["b"]?["exit_code"] as? Int == 1)
        #expect(byUnit["b"]?["output_tail"] as? String == "out b")
        #expect(byUnit["c"]?["ok"] as? Bool == true)
        #expect(byUnit["c"]?["output_tail"] is NSNull)
        #expect(byUnit["d"]?["ok"] as? Bool == false)
        #expect(byUnit["d"]?["exit_code"] is NSNull)
        #expect(byUnit["d"]?["signal"] as? Int == 9)
        #expect(byUnit["d"]?["message"] as? String == "killed by signal 9")

        let last = objects[4]
        #expect(Set(last.keys) == ["_meta"])
        let meta = try #require(last["_meta"] as? [String: Any])
        #expect(meta["exit_code"] as? Int == 6)
        #expect(meta["total"] as? Int == 4)
        #expect(meta["succeeded"] as? Int == 2)
        #expect(meta["failed"] as? Int == 2)
        #expect(meta["skipped"] as? Int == 0)
        #expect(meta["ran"] as? Int == 4)
        #expect(meta["completed"] as? Int == 4)
        #expect(meta["failed_units"] as? [String] == ["b", "d"])
        #expect((meta["duration"] as? Double) != nil)
        #expect((meta["error"] as? [String: Any])?["code"] as? String == "E_PARTIAL")
    }

    // MARK: - Start, ls, forget

    @Test("--restart starts over, --resume-from starts where told (a value of a range, a position of a list)")
    func restartAndResumeFrom() throws {
        let stint = try StintHarness()
        let record = Record(stint: stint)
        record.touch("stop")
        let body = "if [ -e '\(record.file("stop"))' ] && [ \"$1\" = 4 ]; then exit 1; fi; echo \"done $1\" >> '\(record.path)'"
        let options = ["batch", "--range", "1-6", "--max-failures", "1"]
        #expect(try stint.run(options + ["--"] + record.unit(body)).status == 8)
        #expect(record.counts("done") == Record.each(1...3))
        #expect(try batches(stint).first?.completed == 3)

        // --restart ignores the checkpoint: 1-3 run again (and 4 still fails).
        let restarted = try stint.run(options + ["--restart", "--"] + record.unit(body))
        #expect(restarted.status == 8)
        #expect(!restarted.stderr.contains("resuming"), "\(restarted.stderr)")
        #expect(record.counts("done") == Record.each(1...3, 2))

        // --resume-from 6 (a value of the range) runs only 6; 4 and 5 are skipped.
        let resumed = try stint.run(options + ["--resume-from", "6", "-o", "json", "--"] + record.unit(body))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let summary = try resumed.data(Document.self).summary
        #expect(summary.ran == 1)
        #expect(summary.skipped == 5)
        #expect(summary.succeeded == 1)
        #expect(record.counts("done") == ["1": 2, "2": 2, "3": 2, "6": 1])

        // A list resumes by position.
        let list = try stint.run(["batch", "--ids", "x,y,z", "--resume-from", "2", "-o", "json", "--"] + record.logged())
        #expect(list.status == 0, "\(list.stderr)")
        #expect(try list.data(Document.self).units.map(\.unit) == ["y", "z"])
        #expect(record.counts("done")["x"] == nil)
        #expect(record.counts("done")["y"] == 1)
        #expect(record.counts("done")["z"] == 1)
        #expect(try batches(stint).isEmpty)
    }

    @Test("batch ls shows checkpoints; forget deletes one (a rerun starts over), refuses a running one (9) and unknown ids (3)")
    func listAndForget() throws {
        let stint = try StintHarness()
        let record = Record(stint: stint)
        record.touch("stop")
        let body = "if [ -e '\(record.file("stop"))' ] && [ \"$1\" = 4 ]; then exit 1; fi; echo \"done $1\" >> '\(record.path)'"
        let command = ["batch", "--range", "1-6", "--max-failures", "1", "--"] + record.unit(body)
        #expect(try stint.run(command).status == 8)
        let stopped = try #require(try batches(stint).first)
        #expect(stopped.total == 6)
        #expect(stopped.completed == 3)
        #expect(stopped.succeeded == 3)
        #expect(stopped.failed == 0)
        #expect(stopped.resumeFrom == "4")
        #expect(stopped.state == "stopped")
        #expect(stopped.stoppedBy == "max_failures")
        #expect(stopped.holder == nil)
        #expect(stopped.command.hasPrefix("sh -c "), "\(stopped.command)")
        #expect(stopped.target == "range 1-6 in \(FileManager.default.currentDirectoryPath)")
        let table = try stint.run("batch", "ls")
        #expect(table.status == 0)
        #expect(table.stdout.contains("stopped (max_failures)"), "\(table.stdout)")

        let unknown = try stint.run("batch", "forget", "999", "-o", "json")
        #expect(unknown.status == 3)
        #expect(try unknown.error().code == .notFound)
        #expect(try stint.run("batch", "forget", "nope").status == 64)
        #expect(try stint.run("batch", "forget").status == 64)
        #expect(try batches(stint).count == 1)

        let forgot = try stint.run("batch", "forget", "\(stopped.id)")
        #expect(forgot.status == 0)
        #expect(forgot.stdout.contains("forgot batch \(stopped.id)"), "\(forgot.stdout)")
        #expect(try batches(stint).isEmpty)
        // Forgotten: the rerun starts at 1 again.
        #expect(try stint.run(command).status == 8)
        #expect(record.counts("done") == Record.each(1...3, 2))
        let again = try #require(try batches(stint).first)

        // A running batch's checkpoint cannot be forgotten.
        let held = try stint.start(["batch", "--range", "1-2", "--"] + record.logged(record.waitFor("gate")))
        #expect(try stint.eventually { record.has("start 1") })
        let running = try #require(try batches(stint).first { $0.state == "running" })
        #expect(running.holder?.pid == held.pid)
        let refused = try stint.run("batch", "forget", "\(running.id)", "-o", "json")
        #expect(refused.status == 9)
        #expect(try refused.error().code == .conflict)
        #expect(try refused.error().hint?.contains("kill -INT \(held.pid)") == true)
        // --all forgets every batch but the running one.
        #expect(try stint.run("batch", "forget", "--all").status == 0)
        #expect(try batches(stint).map(\.id) == [running.id])
        #expect(again.id != running.id)
        record.touch("gate")
        #expect(try held.collect().status == 0)
        #expect(try batches(stint).isEmpty)
    }

    @Test("usage errors exit 64 with E_USAGE, run nothing and record no checkpoint")
    func usageErrors() throws {
        let stint = try StintHarness()
        let record = Record(stint: stint)
        let cases: [[String]] = [
            [],
            ["--range", "1-3", "--ids", "a"],
            ["--range", "1-3", "--restart", "--resume-from", "2"],
            ["--range", "1-3", "-j", "0"],
            ["--range", "1-3", "--parallel", "0"],
            ["--range", "5-1"],
            ["--range", "x"],
            ["--range", "-3"],
            ["--range", "1-3", "--resume-from", "9"],
            ["--ids", "a,b", "--resume-from", "0"],
            ["--ids", "a,,b"],
            ["--from", record.file("missing")],
            ["--range", "1-3", "--checkpoint-every", "0"],
            ["--range", "1-3", "--progress-every", "0"],
            ["--range", "1-3", "--max-failures", "-1"],
            ["--range", "1-3", "--unit-timeout", "0"],
            ["--range", "1-3", "--exclusive-with", "no such queue!"],
        ]
        for arguments in cases {
            let result = try stint.run(["batch"] + arguments + ["-o", "json", "--"] + record.logged())
            #expect(result.status == 64, "\(arguments): \(result.stdout) \(result.stderr)")
            #expect((try? result.error().code) == .usage, "\(arguments): \(result.stdout) \(result.stderr)")
        }
        // No command at all, and units from an empty stdin.
        #expect(try stint.run("batch", "--range", "1-3").status == 64)
        #expect(try stint.run(["batch", "--from", "-", "--"] + record.logged(), stdin: "# nothing\n\n").status == 64)
        #expect(!record.exists, "\(record.lines)")
        #expect(try batches(stint).isEmpty)
    }

    // MARK: - Inside a job

    @Test("a batch run as a stint job reports its progress and checkpoint to the job")
    func insideJob() throws {
        let stint = try StintHarness()
        let record = Record(stint: stint)
        let id = try stint.add(
            ["--", stint.binary, "batch", "--range", "1-5", "--progress-every", "1", "--checkpoint-every", "1", "--"]
                + record.logged())
        #expect(try stint.run("wait", "\(id)").status == 0)
        let job = try stint.show(id)
        #expect(job.progress?.done == 5)
        #expect(job.progress?.total == 5)
        #expect(record.counts("done") == Record.each(1...5))
        #expect(try batches(stint).isEmpty)

        // Stopped by the breaker: the job fails with exit 8 and keeps where to resume.
        record.touch("broken")
        let body = "if [ -e '\(record.file("broken"))' ] && [ \"$1\" -ge 3 ]; then exit 1; fi; echo \"ok $1\" >> '\(record.path)'"
        let broken = try stint.add(
            ["--", stint.binary, "batch", "--range", "1-6", "--max-failures", "2", "--checkpoint-every", "1", "--"] + record.unit(body))
        #expect(try stint.run("wait", "\(broken)").status != 0)
        let failed = try stint.show(broken)
        #expect(failed.exitCode == 8)
        #expect(failed.checkpoint == "3")
        #expect(failed.progress?.done == 4)
        #expect(failed.progress?.total == 6)
        #expect(try batches(stint).first?.resumeFrom == "3")
    }
}
