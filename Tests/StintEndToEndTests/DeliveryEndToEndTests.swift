import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `GET /metrics` on the daemon's unix socket, which the CLI does not read.
private func scrapeMetrics(socket: String) throws -> (status: Int, body: String) {
    let response = try RawHTTP.unix(socket, "GET", "/metrics")
    return (response.status, response.body)
}

@Suite("Delivery: the daemon's hooks, flags and metrics")
struct DeliveryEndToEndTests {
    @Test("the daemon takes the delivery flags and exports stint_deliveries_total on GET /metrics")
    func metricsRoute() throws {
        let stint = try StintHarness(daemonArguments: [
            "--delivery-attempts", "5", "--delivery-backoff", "1s..10s", "--shutdown-budget", "1s",
        ])
        let (status, body) = try scrapeMetrics(socket: stint.home + "/stint.sock")
        #expect(status == 200)
        #expect(body.contains("# TYPE stint_deliveries_total counter"))
        for status in ["success", "exhausted", "permanent"] {
            for channel in ["webhook", "command"] {
                #expect(body.contains("stint_deliveries_total{status=\"\(status)\",channel=\"\(channel)\"} 0"), "\(body)")
            }
        }
    }

    @Test("stint add --on-end and stint queue set --on-end: both hooks run when the job ends, and the counter says so")
    func commandHooksRun() throws {
        let stint = try StintHarness()
        let socket = stint.home + "/stint.sock"
        let hook = #"printf '%s %s %s' "$STINT_JOB_ID" "$STINT_EXIT_CODE" "$STINT_EVENT" > NAME.tmp && mv NAME.tmp NAME"#
        try #require(
            try stint.run("queue", "set", "hooked", "--on-end", hook.replacingOccurrences(of: "NAME", with: "queue-hook")).status == 0)
        let id = try stint.add(
            "--queue", "hooked", "--on-end", hook.replacingOccurrences(of: "NAME", with: "job-hook"), "--", "sh", "-c", "exit 4")
        for name in ["job-hook", "queue-hook"] {
            let marker = stint.home + "/" + name
            #expect(try stint.eventually { FileManager.default.fileExists(atPath: marker) }, "\(name) did not run")
            #expect((try? String(contentsOfFile: marker, encoding: .utf8)) == "\(id) 4 ended")
        }
        #expect(try stint.eventually {
            try scrapeMetrics(socket: socket).body.contains("stint_deliveries_total{status=\"success\",channel=\"command\"} 2")
        })
    }

    @Test("stint daemon refuses a delivery backoff whose first delay exceeds its cap")
    func badBackoff() throws {
        let stint = try StintHarness(start: false)
        let result = try stint.run("daemon", "run", "--delivery-backoff", "5m..30s")
        #expect(result.status == 64)
        #expect(result.stderr.contains("--delivery-backoff"))
    }
}

/// A webhook receiver in a separate process (python3's http.server): answers POSTs with
/// the scripted statuses in turn (the last one repeats) and logs each request as a JSON line.
private final class ScriptedReceiver {
    let process = Process()
    let log: String
    let port: Int

    init(statuses: [Int], folder: String) throws {
        log = folder + "/receiver.log"
        let script = folder + "/receiver.py"
        try """
            import http.server, json, sys
            statuses = [int(s) for s in sys.argv[2].split(",")]
            count = 0
            class Handler(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    global count
                    body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                    status = statuses[min(count, len(statuses) - 1)]
                    count += 1
                    with open(sys.argv[1], "a") as log:
                        log.write(json.dumps({"status": status, "delivery": self.headers.get("Stint-Delivery"),
                                              "event": self.headers.get("Stint-Event"), "body": body}) + "\\n")
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                def log_message(self, *args):
                    pass
            server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, log, statuses.map(String.init).joined(separator: ",")]
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = pipe.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw StintError(.internal, "the receiver did not start") }
            line.append(chunk)
        }
        port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }

    /// The requests received so far.
    var requests: [[String: String]] {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }.map { object in object.mapValues { "\($0)" } }
    }

    deinit {
        // SIGKILL: the test runner's threads block SIGTERM, and children inherit that.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@Suite("Delivery through the real daemon", .serialized)
struct DeliveryRestartTests {
    @Test("a webhook that answered 503 is delivered after a daemon SIGKILL during its backoff, once, with the same delivery id")
    func restartMidBackoff() throws {
        let stint = try StintHarness(daemonArguments: ["--delivery-backoff", "2s..4s"])
        let receiver = try ScriptedReceiver(statuses: [503, 200], folder: stint.home)
        let id = try stint.add("--session", "s", "--notify", receiver.url, "--", "sh", "-c", "echo hi; exit 4")
        #expect(try stint.run("wait", "\(id)").status == 4)
        #expect(try stint.eventually { receiver.requests.count == 1 })
        stint.killDaemon()
        try stint.startDaemon(parallel: 2)
        #expect(try stint.eventually(15) { receiver.requests.count == 2 })
        usleep(500_000)
        let requests = receiver.requests
        #expect(requests.map { $0["status"] } == ["503", "200"])
        #expect(requests[0]["delivery"] == requests[1]["delivery"])
        #expect(requests[1]["event"] == "ended")
        let body = try StintJSON.decoder().decode(NotificationView.self, from: Data((requests[1]["body"] ?? "").utf8))
        #expect(body.job == id)
        #expect(body.exitCode == 4)
        #expect(body.tail == ["hi"])
        let (_, metrics) = try scrapeMetrics(socket: stint.home + "/stint.sock")
        #expect(metrics.contains("stint_deliveries_total{status=\"success\",channel=\"webhook\"} 1"), "\(metrics)")
    }

    @Test("a 404 is not retried; a queue's webhook hears of its jobs without a session")
    func permanentAndQueueHook() throws {
        let stint = try StintHarness(daemonArguments: ["--delivery-backoff", "1s..2s"])
        let receiver = try ScriptedReceiver(statuses: [404], folder: stint.home)
        #expect(try stint.run("queue", "set", "hooked", "--notify", receiver.url).status == 0)
        let id = try stint.add("--queue", "hooked", "--", "true")
        #expect(try stint.run("wait", "\(id)").status == 0)
        #expect(try stint.eventually { receiver.requests.count == 1 })
        #expect(try stint.holds(for: 3) { receiver.requests.count == 1 })
        let (_, metrics) = try scrapeMetrics(socket: stint.home + "/stint.sock")
        #expect(metrics.contains("stint_deliveries_total{status=\"permanent\",channel=\"webhook\"} 1"), "\(metrics)")
    }
}
