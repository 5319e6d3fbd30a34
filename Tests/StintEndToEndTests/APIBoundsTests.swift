import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Every number a client sends is bounded at the API boundary: extreme values of every
/// numeric field of every route answer `E_USAGE` (or a plain not-found), never a crash,
/// and nothing they send can brick the state folder for the next daemon.
@Suite("API bounds", .serialized)
struct APIBoundsTests {
    /// Values no field takes: beyond every bound, or not an integer where one is due.
    static let outOfRange = ["1e300", "-1e300", "200000000000000000000", "1e20"]
    /// Negative values: refused wherever a value cannot be negative.
    static let negative = ["-1", "-9223372036854775808"]
    /// Large integers: refused by duration, size and count fields; an id or a cursor
    /// this large is merely unknown.
    static let large = ["9223372036854775807", "4294967296"]

    /// One request with `V` where the value goes.
    struct Probe: CustomStringConvertible {
        var method: String
        var path: String
        var body: String?
        /// Whether a negative value may be valid here (a priority).
        var negativeAllowed = false
        /// Whether a large integer may be valid here (an id, a cursor, a count up to 2^53).
        var largeAllowed = false
        var description: String { "\(method) \(path) \(body ?? "")" }

        func with(_ value: String) -> (path: String, body: String?) {
            (path.replacingOccurrences(of: "V", with: value), body?.replacingOccurrences(of: "V", with: value))
        }

        /// Whether `answer` is right for `value`.
        func accepts(_ answer: RawHTTP, for value: String) -> Bool {
            let usage = answer.status == 400 && answer.errorCode == "E_USAGE"
            let notFound = answer.status == 404 && answer.errorCode == "E_NOT_FOUND"
            if APIBoundsTests.negative.contains(value), negativeAllowed { return answer.status < 500 }
            if APIBoundsTests.large.contains(value), largeAllowed { return answer.status < 500 }
            return usage || notFound
        }
    }

    static func probes(job: Int64, batch: Int64) -> [Probe] {
        let spec = #""argv":["true"],"cwd":"/tmp","env":{},"labels":{}"#
        var probes: [Probe] = []
        for field in [
            "timeout", "output_cap", "delay", "retries", "backoff_min", "backoff_max", "stall_after",
        ] {
            // 4 GiB is a valid output cap (up to 1 TiB); the other large values are not.
            probes.append(
                Probe(method: "POST", path: "/v1/jobs", body: #"{"jobs":[{\#(spec),"\#(field)":V}]}"#, largeAllowed: field == "output_cap"))
        }
        probes.append(Probe(method: "POST", path: "/v1/jobs", body: #"{"jobs":[{\#(spec),"priority":V}]}"#, negativeAllowed: true))
        probes.append(Probe(method: "POST", path: "/v1/jobs", body: #"{"jobs":[{\#(spec),"hold":true,"delay":V}]}"#))
        probes.append(Probe(method: "POST", path: "/v1/jobs", body: #"{"jobs":[{\#(spec),"retries":1,"backoff_min":1,"backoff_max":V}]}"#))
        probes.append(Probe(method: "POST", path: "/v1/jobs", body: #"{"jobs":[{\#(spec),"retry_on":[V]}]}"#))
        probes.append(Probe(method: "POST", path: "/v1/jobs", body: #"{"jobs":[{\#(spec),"after":[V]}]}"#, largeAllowed: true))
        probes += [
            Probe(method: "POST", path: "/v1/wait", body: #"{"ids":[\#(job)],"any":false,"timeout":V}"#),
            Probe(method: "POST", path: "/v1/wait", body: #"{"ids":[\#(job)],"any":false,"timeout":V,"until":"idle:1s"}"#),
            Probe(method: "POST", path: "/v1/wait", body: #"{"ids":[V],"any":false}"#, largeAllowed: true),
            Probe(method: "POST", path: "/v1/stop", body: #"{"ids":[\#(job)],"grace":V}"#),
            Probe(method: "POST", path: "/v1/stop", body: #"{"ids":[V]}"#, largeAllowed: true),
            Probe(method: "POST", path: "/v1/release", body: #"{"ids":[V]}"#, largeAllowed: true),
            Probe(method: "POST", path: "/v1/retry", body: #"{"ids":[V]}"#, largeAllowed: true),
            Probe(method: "POST", path: "/v1/rm", body: #"{"ids":[V]}"#, largeAllowed: true),
            Probe(method: "POST", path: "/v1/ack", body: #"{"ids":[V]}"#, largeAllowed: true),
            Probe(method: "POST", path: "/v1/prune", body: #"{"older_than":V}"#),
            Probe(method: "POST", path: "/v1/jobs/\(job)/signal", body: #"{"signal":V}"#),
            Probe(method: "POST", path: "/v1/jobs/\(job)/progress", body: #"{"done":V}"#, largeAllowed: true),
            Probe(method: "POST", path: "/v1/jobs/\(job)/progress", body: #"{"done":1,"total":V}"#, largeAllowed: true),
            Probe(method: "POST", path: "/v1/queues/bounds", body: #"{"concurrency":V}"#),
            Probe(method: "POST", path: "/v1/queues/bounds", body: #"{"breaker_threshold":V}"#),
            Probe(method: "POST", path: "/v1/queues/bounds", body: #"{"breaker_pause":V}"#),
            Probe(method: "POST", path: "/v1/queues/bounds", body: #"{"preflight_ttl":V}"#),
            Probe(
                method: "POST", path: "/v1/batches/acquire",
                body: #"{"command":"c","target":"t","total":V,"holder":{"pid":1,"started":"x","host":"h"},"allow_concurrent":false,"exclusive_with":[]}"#, largeAllowed: true),
            Probe(
                method: "POST", path: "/v1/batches/\(batch)/checkpoint",
                body: #"{"completed":V,"succeeded":0,"failed":0,"failed_units":[],"release":false,"finished":false}"#, largeAllowed: true),
            Probe(
                method: "POST", path: "/v1/batches/\(batch)/checkpoint",
                body: #"{"completed":1,"succeeded":V,"failed":0,"failed_units":[],"release":false,"finished":false}"#, largeAllowed: true),
            Probe(method: "POST", path: "/v1/batches/forget", body: #"{"ids":[V]}"#, largeAllowed: true),
            Probe(method: "GET", path: "/v1/jobs?limit=V"),
            Probe(method: "GET", path: "/v1/jobs/V", largeAllowed: true),
            Probe(method: "GET", path: "/v1/jobs/\(job)/log?tail=V"),
            Probe(method: "GET", path: "/v1/jobs/\(job)/log?head=V"),
            Probe(method: "GET", path: "/v1/jobs/\(job)/log?attempt=V", largeAllowed: true),
            Probe(method: "GET", path: "/v1/notifications?after=V", largeAllowed: true),
            Probe(method: "GET", path: "/v1/notifications?limit=V"),
            Probe(method: "GET", path: "/v1/events?limit=V"),
            Probe(method: "GET", path: "/v1/events?job=V", largeAllowed: true),
        ]
        return probes
    }

    @Test("extreme values of every numeric field of every route answer E_USAGE, and the daemon lives on and restarts")
    func extremes() throws {
        let harness = try StintHarness()
        let socket = harness.home + "/stint.sock"
        let job = try harness.add("-p", "--", "sleep", "30")
        let acquired = try RawHTTP.unix(
            socket, "POST", "/v1/batches/acquire",
            body: #"{"command":"b","target":"t","total":5,"holder":{"pid":1,"started":"x","host":"h"},"allow_concurrent":true,"exclusive_with":[]}"#)
        let batch = try StintJSON.decoder().decode(Envelope<BatchView>.self, from: Data(acquired.body.utf8)).data?.id ?? 1
        for probe in Self.probes(job: job, batch: batch) {
            // The probe itself is well-formed: a plain value is not refused as malformed.
            let (plainPath, plainBody) = probe.with("1")
            let plain = try RawHTTP.unix(socket, probe.method, plainPath, body: plainBody)
            #expect(!plain.body.contains("malformed"), "\(probe) with 1: \(plain.body.prefix(300))")
            for value in Self.outOfRange + Self.negative + Self.large {
                let (path, body) = probe.with(value)
                let answer = try RawHTTP.unix(socket, probe.method, path, body: body)
                #expect(probe.accepts(answer, for: value), "\(probe.method) \(path) \(body ?? "") answered \(answer.status) \(answer.body.prefix(300))")
                let alive = try RawHTTP.unix(socket, "GET", "/v1/daemon")
                try #require(alive.status == 200, "the daemon died after \(probe.method) \(path) \(body ?? "")")
            }
        }
        // Nothing stored can trap the next daemon.
        harness.killDaemon()
        try harness.startDaemon(parallel: 2)
        #expect(try RawHTTP.unix(socket, "GET", "/v1/daemon").status == 200)
    }

    @Test("the issue's examples through the CLI: exit 64 with a message, and the daemon answers on")
    func cliExamples() throws {
        let harness = try StintHarness()
        for arguments in [
            ["add", "--delay", "200000000000000000000", "--", "true"],
            ["add", "--hold", "--delay", "99999999999999d", "--", "true"],
            ["add", "--retries", "1", "--backoff", "1s..99999999999999d", "--", "true"],
            ["queue", "set", "q", "--breaker-pause", "99999999999999d"],
            ["add", "--timeout", "99999999999999d", "--", "true"],
        ] {
            let result = try harness.run(arguments)
            #expect(result.status == 64, "\(arguments): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("at most") || result.stderr.contains("too long"), "\(arguments): \(result.stderr)")
        }
        #expect(try harness.run("ls").status == 0)
    }

    @Test("a wake-up beyond any bound stored before the bounds existed does not trap the daemon")
    func storedFarFuture() throws {
        let harness = try StintHarness()
        let id = try harness.add("-p", "--delay", "1h", "--", "true")
        harness.killDaemon()
        // What an older daemon could store: a run_at some 10^20 seconds ahead.
        let sqlite = try #require(Self.sqlite3(), "the sqlite3 CLI is needed for this test")
        let update = Process()
        update.executableURL = URL(fileURLWithPath: sqlite)
        update.arguments = [harness.home + "/stint.db", "UPDATE jobs SET run_at = 1e20 WHERE id = \(id)"]
        try update.run()
        update.waitUntilExit()
        #expect(update.terminationStatus == 0)
        try harness.startDaemon(parallel: 2)
        #expect(try harness.run("ls").status == 0)
        #expect(try harness.show(id).state == .queued)
    }

    static func sqlite3() -> String? {
        ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
