import Foundation
import StintCore
import Testing

@Suite("Output cap and bad input", .serialized)
struct OutputAndInputTests {
    @Test("50 MB of output with --output-cap 1MiB leaves about 1 MiB on disk and keeps the last line")
    func outputCap() throws {
        let stint = try StintHarness()
        let id = try stint.add("--output-cap", "1MiB", "head -c 50000000 /dev/zero | tr '\\0' 'a'; echo; echo LASTLINE")
        #expect(try stint.run("wait", String(id)).status == 0)
        let job = try stint.show(id)
        let log = try #require(job.log)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int)
        #expect(size <= (1 << 20) + 200)
        #expect(size >= (1 << 19))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: stint.home + "/logs").filter { $0.contains(".tail.") }
        #expect(leftovers.isEmpty)
        #expect(try stint.run("logs", "--tail", "1", String(id)).stdout == "LASTLINE\n")
        #expect(try stint.run("logs", "--head", "1", String(id)).stdout.hasPrefix("aaaa"))
        let attempt = try #require(job.attemptList?.first)
        let written: Int64 = 50_000_000 + 1 + 9  // the a's, the newline, "LASTLINE\n"
        #expect(attempt.outputBytes == written)
        #expect((attempt.droppedBytes ?? 0) > 48_000_000)
        #expect(try stint.run("logs", String(id)).stdout.contains("bytes of output dropped by the output cap"))
    }

    @Test("logs -f streams a capped job from start to end, across the tail rotation")
    func followCapped() throws {
        let stint = try StintHarness()
        let id = try stint.add("--output-cap", "64KiB", "for i in $(seq 1 4000); do echo line $i; done; sleep 0.2; echo DONE")
        let result = try stint.run("logs", "-f", String(id))
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("line 1\n"))
        #expect(result.stdout.hasSuffix("line 4000\nDONE\n"))
    }

    @Test("bad input gets the right exit code and the JSON error, and changes nothing")
    func badInput() throws {
        let stint = try StintHarness()
        let cases: [([String], Int32, StintError.Code)] = [
            (["show", "4242"], 3, .notFound),
            (["wait", "4242"], 3, .notFound),
            (["stop", "4242"], 3, .notFound),
            (["logs", "4242"], 3, .notFound),
            (["show", "abc"], 64, .usage),
            (["add", "--timeout", "soon", "--", "true"], 64, .usage),
            (["add", "--output-cap", "lots", "--", "true"], 64, .usage),
            (["add", "--no-such-flag", "--", "true"], 64, .usage),
            (["add", "--cwd", "/no/such/dir", "--", "true"], 64, .usage),
            (["add", "--env", "NOEQUALS", "--", "true"], 64, .usage),
            (["add"], 64, .usage),
            (["wait", "--timeout", "-5", "1"], 64, .usage),
            (["kill", "-s", "NOPE", "1"], 64, .usage),
            (["ls", "--state", "bogus"], 64, .usage),
        ]
        for (arguments, status, code) in cases {
            let json = try stint.run(["-o", "json"] + arguments)
            #expect(json.status == status, "\(arguments)")
            #expect(try json.error().code == code, "\(arguments): \(json.stdout)")
            let text = try stint.run(arguments)
            #expect(text.status == status, "\(arguments)")
            #expect(text.stderr.split(separator: "\n").count <= 3, "\(arguments): \(text.stderr)")
            #expect(text.stdout.isEmpty, "\(arguments)")
        }
        let malformed = try stint.run("add", "--from", "-", "-o", "json", stdin: "echo ok\n{\"argv\": 5}\n")
        #expect(malformed.status == 64)
        #expect(try malformed.error().message.contains("line 2"))
        #expect(try stint.run("ls", "-o", "json").data([JobView].self).isEmpty)
    }

    @Test("partial failure: stop on a known and an unknown id exits 6")
    func partialFailure() throws {
        let stint = try StintHarness()
        let id = try stint.add("--hold", "--", "true")
        let result = try stint.run("stop", String(id), "4242", "-o", "json")
        #expect(result.status == 6)
        #expect(try stint.show(id).state == .cancelled)
    }
}
