import Foundation
import StintCore
import Testing

/// `stint add`, `wait` and `--version` are read by hand for speed (FastCommandLine);
/// each invocation here runs twice, by hand and through ArgumentParser
/// (`STINT_CLI_NO_FAST_PATH=1`), and must print, exit and store the same.
@Suite("The fast command line answers as ArgumentParser's does")
struct FastPathTests {
    static let slow = ["STINT_CLI_NO_FAST_PATH": "1"]

    /// The job with what differs between two adds of the same command blanked.
    private func stored(_ stint: StintHarness, _ id: Int64) throws -> JobView {
        var job = try stint.show(id)
        job.id = 0
        job.createdAt = Date(timeIntervalSince1970: 0)
        job.log = nil
        job.attemptList = job.attemptList.map { $0.map { attempt in
            var attempt = attempt
            attempt.startedAt = Date(timeIntervalSince1970: 0)
            attempt.endedAt = nil
            attempt.log = ""
            attempt.shimPid = nil
            attempt.peakRssBytes = nil
            return attempt
        } }
        job.startedAt = nil
        job.endedAt = nil
        job.duration = nil
        // A delay is stored as a moment: two adds a few ms apart differ by those ms.
        job.runAt = job.runAt.map { Date(timeIntervalSince1970: ($0.timeIntervalSinceNow / 10).rounded() * 10) }
        return job
    }

    /// The positive integers in `text` (the ids `add` prints), and `text` with each replaced by `ID`.
    private func ids(in text: String) -> ([Int64], String) {
        var ids: [Int64] = []
        var normalized = ""
        var digits = ""
        for character in text + "\n" {
            if character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            if !digits.isEmpty {
                ids.append(Int64(digits)!)
                normalized += "ID"
                digits = ""
            }
            normalized.append(character)
        }
        return (ids, String(normalized.dropLast()))
    }

    /// Runs `add ARGUMENTS` both ways; expects the same output with the ids replaced and the same stored jobs.
    private func expectSameAdd(
        _ stint: StintHarness, _ arguments: [String], stdin: String? = nil, waitForEnd: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let fast = try stint.run(arguments, stdin: stdin)
        let slow = try stint.run(arguments, stdin: stdin, env: Self.slow)
        #expect(fast.status == slow.status, "\(arguments): \(fast.status) vs \(slow.status)", sourceLocation: sourceLocation)
        #expect(fast.stderr == slow.stderr, "\(arguments)", sourceLocation: sourceLocation)
        let (fastIDs, fastText) = ids(in: fast.stdout)
        let (slowIDs, slowText) = ids(in: slow.stdout)
        #expect(fastText == slowText, "\(arguments): \(fast.stdout) vs \(slow.stdout)", sourceLocation: sourceLocation)
        #expect(fastIDs.count == slowIDs.count, "\(arguments)", sourceLocation: sourceLocation)
        guard fast.status == 0 else { return }
        for (fastID, slowID) in zip(fastIDs, slowIDs) {
            if waitForEnd {
                _ = try stint.run("wait", String(fastID))
                _ = try stint.run("wait", String(slowID))
            }
            #expect(try stored(stint, fastID) == stored(stint, slowID), "\(arguments)", sourceLocation: sourceLocation)
        }
    }

    /// Runs `ARGUMENTS` both ways; expects exactly the same status, stdout and stderr.
    private func expectSame(
        _ stint: StintHarness, _ arguments: [String], stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let fast = try stint.run(arguments, stdin: stdin)
        let slow = try stint.run(arguments, stdin: stdin, env: Self.slow)
        #expect(fast.status == slow.status, "\(arguments): \(fast.status) vs \(slow.status)", sourceLocation: sourceLocation)
        #expect(fast.stdout == slow.stdout, "\(arguments)", sourceLocation: sourceLocation)
        #expect(fast.stderr == slow.stderr, "\(arguments)", sourceLocation: sourceLocation)
    }

    @Test("--version")
    func version() throws {
        let stint = try StintHarness(start: false)
        try expectSame(stint, ["--version"])
        #expect(try stint.run("--version").stdout == StintVersion.current + "\n")
    }

    @Test("add: commands, shell strings and every common option store the same job and print the same")
    func addShapes() throws {
        let stint = try StintHarness()
        let shapes: [[String]] = [
            ["add", "--hold", "-p", "--", "true"],
            ["add", "--hold", "--", "sh", "-c", "echo \"quoted\" \\ back/slash 日本 😀"],
            ["add", "--hold", "echo shell string; exit 3"],
            ["add", "-p", "--hold", "--queue", "fastq", "--priority", "7", "--", "printf", "%s\n", "a\tb"],
            ["add", "--hold", "--env", "A=1", "--env", "B=two words", "--label", "team=ops", "--label", "k=v=w", "--", "env"],
            [
                "add", "--hold", "--timeout", "90", "--output-cap", "1M", "--retries", "2", "--retry-on", "3,75",
                "--transient-pattern", "ECONNRESET", "--backoff", "1s..5m", "--stall-after", "10s",
                "--notify", "http://127.0.0.1:9/hook", "--on-end", "true", "--", "true",
            ],
            ["add", "--hold", "--delay", "1h", "--", "true"],
            ["add", "--hold", "--cwd", "/tmp", "--", "pwd"],
            ["add", "--hold", "--cwd", "sub/../.", "--", "pwd"],
            ["add", "--hold", "-o", "text", "--session", "s-1", "--", "true"],
            ["--session", "s-2", "add", "--hold", "--", "true"],
            ["-o", "text", "add", "--hold", "--", "true"],
        ]
        for shape in shapes { try expectSameAdd(stint, shape) }
        // A unique key already held: both say so.
        _ = try stint.add("--hold", "--unique", "key-1", "--", "true")
        try expectSameAdd(stint, ["add", "--hold", "--unique", "key-1", "--", "true"])
        // Jobs that run: the same outcome too.
        try expectSameAdd(stint, ["add", "-p", "--", "sh", "-c", "exit 3"], waitForEnd: true)
        try expectSameAdd(stint, ["add", "echo hi"], waitForEnd: true)
    }

    @Test("add: what either path refuses is refused the same way, and odd shapes are read the same")
    func addRefusals() throws {
        let stint = try StintHarness()
        let shapes: [[String]] = [
            ["add"], ["add", "--hold"], ["add", "--"], ["add", "a", "--", "b"], ["add", "a", "b"], ["add", ""],
            ["add", "--queue"], ["add", "--queue", "--", "true"], ["add", "--priority", "x", "--", "true"],
            ["add", "--priority", "-5", "--hold", "--", "true"], ["add", "--timeout", "-5s", "--", "true"],
            ["add", "--timeout", "0", "--", "true"], ["add", "--timeout", "soon", "--", "true"], ["add", "--env", "NOEQUALS", "--", "true"],
            ["add", "--label", "=v", "--", "true"], ["add", "--retries", "-1", "--", "true"], ["add", "--retry-on", "0", "--", "true"],
            ["add", "--backoff", "5m..1s", "--", "true"], ["add", "--queue", "bad name!", "--", "true"],
            ["add", "--queue", "a", "--queue", "b", "--hold", "--", "true"], ["add", "--hold", "--hold", "--", "true"],
            ["add", "--bogus", "--", "true"], ["add", "-x", "--", "true"],
            ["add", "--session", "bad session!", "--", "true"], ["add", "-o", "yaml", "--", "true"],
            ["add", "--from", "/nonexistent/file"], ["add", "--from", "/dev/null"], ["add", "--from", "-", "--", "true"],
            ["add", "--at", "not a time", "--", "true"], ["add", "--notify", "ftp://x", "--", "true"],
            ["add", "--", "echo", "--help"],
        ]
        // Some of these ArgumentParser takes (a repeated option, `--` before `--help`): the
        // fast path leaves them to it, and the jobs are the same.
        for shape in shapes { try expectSameAdd(stint, shape) }
        // Help, by name or in a cluster of short flags (`-ph` is `-p -h`).
        try expectSame(stint, ["add", "--help"])
        try expectSame(stint, ["add", "-ph", "--", "true"])
        let badTimeout = try stint.run(["add", "--hold", "--", "true"], env: ["STINT_TIMEOUT": "never"])
        let badTimeoutSlow = try stint.run(["add", "--hold", "--", "true"], env: ["STINT_TIMEOUT": "never"].merging(Self.slow) { $1 })
        #expect(badTimeout.status == 64 && badTimeout.stderr == badTimeoutSlow.stderr)
    }

    @Test("add --from: shell lines from a file or standard input, and NDJSON lines (read by the parser)")
    func addFrom() throws {
        let stint = try StintHarness()
        let file = stint.home + "/jobs.txt"
        try "echo one\n\n# a comment\n  echo two  \nexit 4\n".write(toFile: file, atomically: true, encoding: .utf8)
        try expectSameAdd(stint, ["add", "--hold", "--from", file])
        try expectSameAdd(stint, ["add", "--hold", "--queue", "from-q", "--from", "-"], stdin: "echo a\necho b\n")
        try expectSameAdd(stint, ["add", "--hold", "-p", "--from", "-"], stdin: "echo a\n{\"argv\":[\"echo\",\"b\"],\"priority\":3}\n")
        try expectSame(stint, ["add", "--from", "-"], stdin: "echo a\n{\"argv\": oops}\n")
        try expectSame(stint, ["add", "--from", "-"], stdin: "\n# nothing\n")
    }

    @Test("wait: ended jobs, several, --any, --timeout, unknown ids and bad values print and exit the same")
    func waitShapes() throws {
        let stint = try StintHarness()
        let succeeded = try stint.add("--", "true")
        let failed = try stint.add("--", "sh", "-c", "exit 3")
        let signalled = try stint.add("--", "sh", "-c", "kill -9 $$")
        let held = try stint.add("--hold", "--", "true")
        for id in [succeeded, failed, signalled] { _ = try stint.run("wait", String(id)) }
        let shapes: [[String]] = [
            ["wait", String(succeeded)], ["wait", String(failed)], ["wait", String(signalled)],
            ["wait", "\(succeeded),\(failed)"], ["wait", String(succeeded), String(signalled)],
            ["wait", "--any", String(held), String(failed)], ["wait", "--timeout", "0.2", String(held)],
            ["wait", String(held), "--timeout", "100ms", "-o", "text"], ["wait", "--session", "other", String(succeeded)],
            ["wait"], ["wait", "abc"], ["wait", "0"], ["wait", "-1"], ["wait", "999999"], ["wait", "--timeout", "-1", "1"],
            ["wait", "--timeout", "x", "1"], ["wait", "--any", "--any", "1"], ["wait", "--until", "stall", String(succeeded)],
            ["wait", "-o", "json", String(succeeded)], ["-o", "json", "wait", String(succeeded)], ["wait", "--help"],
        ]
        for shape in shapes { try expectSame(stint, shape) }
    }

    @Test("with no daemon, add and wait fail the same way")
    func noDaemon() throws {
        let stint = try StintHarness(start: false)
        try expectSame(stint, ["add", "--", "true"])
        try expectSame(stint, ["wait", "1"])
    }
}
