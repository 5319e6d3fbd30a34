import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("What a new user hits: values, formats, hints and listings say what they mean")
struct CLIUsageTests {
    @Test("a negative value of any numeric or duration option says it is negative (exit 64)")
    func negativeValues() throws {
        let stint = try StintHarness()
        let cases: [([String], String)] = [
            (["add", "--timeout", "-5s", "--", "true"], "--timeout must not be negative: -5s"),
            (["add", "--delay", "-1m", "--", "true"], "--delay must not be negative: -1m"),
            (["add", "--retries", "-1", "--", "true"], "--retries must not be negative: -1"),
            (["add", "--stall-after", "-3", "--", "true"], "--stall-after must not be negative: -3"),
            (["add", "--output-cap", "-1M", "--", "true"], "--output-cap must not be negative: -1M"),
            (["add", "--backoff", "-1s..5s", "--", "true"], "--backoff must not be negative: -1s..5s"),
            (["add", "--yield", "-2s", "--", "true"], "--yield must not be negative: -2s"),
            (["wait", "--timeout", "-5s", "1"], "--timeout must not be negative: -5s"),
            (["stop", "--grace", "-1s", "1"], "--grace must not be negative: -1s"),
            (["prune", "--older-than", "-7d"], "--older-than must not be negative: -7d"),
            (["ls", "--limit", "-3"], "--limit must not be negative: -3"),
            (["logs", "--tail", "-2", "1"], "--tail must not be negative: -2"),
            (["events", "--limit", "-1"], "--limit must not be negative: -1"),
            (["notifications", "--after", "-1"], "--after must not be negative: -1"),
            (["queue", "set", "q", "--concurrency", "-2"], "--concurrency must not be negative: -2"),
            (["queue", "set", "q", "--breaker-pause", "-1m"], "--breaker-pause must not be negative: -1m"),
            (["batch", "--range", "-1-5", "--", "true", "{}"], "--range must not be negative: -1-5"),
            (["kill", "-s", "-9", "1"], "--signal must not be negative: -9"),
            (["events", "--job", "-1"], "job ids must not be negative: -1"),
            (["wait", "-1"], "values must not be negative: -1"),
            (["progress", "-5/10", "--job", "1"], "values must not be negative: -5/10"),
        ]
        for (arguments, message) in cases {
            let result = try stint.run(arguments)
            #expect(result.status == 64, "\(arguments): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        // A negative priority is a priority (below the default 0), not a mistake.
        #expect(try stint.run("add", "--hold", "--priority", "-5", "--", "true").status == 0)
    }

    @Test("stint -o yaml ls fails as stint ls -o yaml does; -ojson and -o=json work before and after the subcommand")
    func outputFormats() throws {
        let stint = try StintHarness()
        let before = try stint.run("-o", "yaml", "ls")
        let after = try stint.run("ls", "-o", "yaml")
        #expect(before.status == 64)
        #expect(before.status == after.status)
        #expect(before.stderr == after.stderr, "\(before.stderr) vs \(after.stderr)")
        for arguments in [["-ojson", "ls"], ["ls", "-ojson"], ["-o=json", "ls"], ["ls", "--output=json"]] {
            let result = try stint.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect((try? result.data([JobView].self)) != nil, "\(arguments): \(result.stdout)")
        }
    }

    @Test("the no-daemon hint names STINT_NO_AUTOSTART only when it is set")
    func noDaemonHint() throws {
        let stint = try StintHarness(start: false)
        let withVariable = try stint.run("ls")
        #expect(withVariable.status == 5)
        #expect(withVariable.stderr.contains("STINT_NO_AUTOSTART"), "\(withVariable.stderr)")
        // `daemon status` never starts a daemon, whatever the variable says.
        let status = try stint.run("daemon", "status", env: ["STINT_NO_AUTOSTART": "0"])
        #expect(status.status == 5)
        #expect(!status.stderr.contains("STINT_NO_AUTOSTART"), "\(status.stderr)")
    }

    @Test("ls says what a job waits for, shows SESSION only with several sessions, and says when rows were left out")
    func listing() throws {
        let stint = try StintHarness()
        let first = try stint.add("--hold", "--", "true")
        let second = try stint.add("--hold", "--", "true")
        let dependent = try stint.add("--after", "\(first),\(second)", "--", "true")
        let listed = try stint.run("ls")
        let line = try #require(listed.stdout.split(separator: "\n").first { $0.hasPrefix("\(dependent) ") })
        #expect(line.contains("waiting for 2 jobs"), "\(listed.stdout)")
        #expect(!listed.stdout.contains("SESSION"))
        _ = try stint.add("--hold", "--session", "other", "--", "true")
        #expect(try stint.run("ls").stdout.split(separator: "\n").first?.contains("SESSION") == true)

        let limited = try stint.run("ls", "--limit", "2")
        #expect(limited.status == 0)
        #expect(limited.stdout.split(separator: "\n").count == 3, "\(limited.stdout)")
        #expect(limited.stderr.contains("showing the newest 2 of 4"), "\(limited.stderr)")
        let ndjson = try stint.run("ls", "--limit", "2", "-o", "ndjson")
        let meta = try #require(ndjson.stdout.split(separator: "\n").last)
        #expect(meta.contains("\"total\":4"), "\(meta)")
        #expect(try stint.run("ls", "--limit", "4").stderr.isEmpty)
        // The total follows the filters and the session scope.
        _ = try stint.add("--hold", "--session", "other", "--", "true")
        let scoped = try stint.run("ls", "--limit", "1", "--session", "other")
        #expect(scoped.stderr.contains("showing the newest 1 of 2"), "\(scoped.stderr)")
        let filtered = try stint.run("ls", "--limit", "1", "--state", "held")
        #expect(filtered.stderr.contains("showing the newest 1 of 4"), "\(filtered.stderr)")

        let help = try stint.run("ls", "--help")
        #expect(help.stdout.contains("A `*` marks a code Stint computed"), "\(help.stdout)")
    }

    @Test("wait -o ndjson carries reason and match, as -o json does")
    func waitNDJSON() throws {
        let stint = try StintHarness()
        let id = try stint.add("echo 'ready on 8080'; sleep 30")
        let result = try stint.run("wait", String(id), "--until", "output:ready on", "--timeout", "20s", "-o", "ndjson")
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map { Data($0.utf8) }
        #expect(lines.count == 2, "\(result.stdout)")
        let first = try #require(lines.first)
        let last = try #require(lines.last)
        let row = try JSONSerialization.jsonObject(with: first) as? [String: Any]
        #expect(row?["wait_reason"] as? String == "matched")
        let object = try JSONSerialization.jsonObject(with: last) as? [String: Any]
        let meta = try #require(object?["_meta"] as? [String: Any])
        #expect(meta["reason"] as? String == "matched")
        #expect((meta["match"] as? String)?.contains("ready on 8080") == true)
        #expect(meta["count"] as? Int == 1)
        #expect(try stint.run("stop", "--grace", "0", String(id)).status == 0)
    }

    @Test("add --yield on a job that never started says it is queued, not running")
    func yieldOnQueuedJob() throws {
        let stint = try StintHarness()
        #expect(try stint.run("queue", "pause", "parked").status == 0)
        let result = try stint.run("add", "--queue", "parked", "--yield", "0.5s", "--", "true")
        #expect(result.status == 75)
        #expect(result.stderr.contains("still queued"), "\(result.stderr)")
        #expect(!result.stderr.contains("still running"), "\(result.stderr)")
    }
}
