import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("stint mcp: the MCP server over stdio, driven by a scripted JSON-RPC client", .serialized)
struct MCPTests {
    /// A daemon and an initialized `stint mcp --session session` talking to it.
    private func start(session: String = "agent") throws -> (StintHarness, MCPStdioClient) {
        let stint = try StintHarness()
        let client = try MCPStdioClient(stint, arguments: ["--session", session])
        let info = try client.initialize()
        #expect((info["instructions"] as? String)?.contains(session) == true)
        return (stint, client)
    }

    private func id(_ call: MCPStdioClient.ToolCall) throws -> Int64 {
        #expect(!call.isError, "\(call.text)")
        return try #require((call.object["id"] as? NSNumber)?.int64Value, "no id in \(call.text)")
    }

    @Test("tools/list names all eight tools, and the server exits when stdin closes")
    func listsTools() throws {
        let (_, client) = try start()
        #expect(
            Set(try client.toolNames())
                == [
                    "start_job", "job_status", "job_output", "wait_for_job", "stop_job", "list_jobs", "ack_notifications",
                    "list_schedules",
                ])
        #expect(try client.finish() == 0)
    }

    @Test("start_job then wait_for_job until end returns succeeded with the exit code and the output")
    func startAndWait() throws {
        let (_, client) = try start()
        let started = try client.call("start_job", ["command": "echo hello; echo world >&2", "description": "greeting"])
        let id = try id(started)
        let waited = try client.call("wait_for_job", ["id": id, "until": "end", "timeout": 30])
        #expect(!waited.isError, "\(waited.text)")
        #expect(waited.object["wait_reason"] as? String == "succeeded")
        #expect(waited.object["state"] as? String == "succeeded")
        #expect(waited.object["exit_code"] as? Int == 0)
        #expect(waited.object["description"] as? String == "greeting")
        #expect(waited.object["output_tail"] as? String == "hello\nworld\n")
        #expect(waited.object["session"] as? String == "agent")
    }

    @Test("yield_seconds returns state running for a job that outlasts it; stop_job cancels it")
    func yieldThenStop() throws {
        let (stint, client) = try start()
        let started = try client.call("start_job", ["command": "echo begun; sleep 30", "yield_seconds": 0.5])
        let id = try id(started)
        #expect(started.object["state"] as? String == "running")
        #expect(started.object["wait_reason"] == nil)
        let stopped = try client.call("stop_job", ["id": id, "grace": "1s"])
        #expect(!stopped.isError, "\(stopped.text)")
        #expect(stopped.object["state"] as? String == "cancelled")
        #expect(try stint.show(id).state == .cancelled)
    }

    @Test("yield_seconds returns the outcome of a job that ends within it")
    func yieldEnded() throws {
        let (_, client) = try start()
        let started = try client.call("start_job", ["command": "echo quick; exit 3", "yield_seconds": 20])
        #expect(started.object["state"] as? String == "failed")
        #expect(started.object["exit_code"] as? Int == 3)
        #expect(started.object["wait_reason"] as? String == "failed")
        #expect(started.object["output_tail"] as? String == "quick\n")
    }

    @Test("wait_for_job until output:REGEX returns matched with the line while the job runs on")
    func waitForOutput() throws {
        let (_, client) = try start()
        let id = try id(try client.call("start_job", ["command": "echo starting; sleep 0.2; echo 'listening on 8080'; sleep 30"]))
        let waited = try client.call("wait_for_job", ["id": id, "until": "output:listening on [0-9]+", "timeout": 30])
        #expect(waited.object["wait_reason"] as? String == "matched", "\(waited.text)")
        #expect((waited.object["match"] as? String)?.contains("listening on 8080") == true)
        #expect(waited.object["state"] as? String == "running")
        #expect(try client.call("stop_job", ["id": id, "grace": "1s"]).object["state"] as? String == "cancelled")
    }

    @Test("wait_for_job with a short timeout says wait_timeout; more than 600 s is refused")
    func waitBounds() throws {
        let (_, client) = try start()
        let id = try id(try client.call("start_job", ["command": "sleep 30"]))
        let waited = try client.call("wait_for_job", ["id": id, "timeout": 0.3])
        #expect(!waited.isError)
        #expect(waited.object["wait_reason"] as? String == "wait_timeout")
        let refused = try client.call("wait_for_job", ["id": id, "timeout": 601])
        #expect(refused.isError)
        #expect(refused.errorCode == "E_USAGE")
        #expect(refused.text.contains("600"))
        let badUntil = try client.call("wait_for_job", ["id": id, "until": "sometime"])
        #expect(badUntil.errorCode == "E_USAGE")
        _ = try client.call("stop_job", ["id": id, "grace": 0])
    }

    @Test("job_output: tail, head, a regex filter, a byte range, and bounds on the arguments")
    func output() throws {
        let (_, client) = try start()
        let id = try id(try client.call("start_job", ["command": "seq 1 100", "yield_seconds": 20]))
        #expect(try client.call("job_output", ["id": id, "regex": "^7+$"]).object["text"] as? String == "7\n77\n")
        #expect(try client.call("job_output", ["id": id, "regex": "5$", "head": 2]).object["text"] as? String == "5\n15\n")
        #expect(try client.call("job_output", ["id": id, "tail": 3]).object["text"] as? String == "98\n99\n100\n")
        #expect(try client.call("job_output", ["id": id, "head": 2]).object["text"] as? String == "1\n2\n")
        let range = try client.call("job_output", ["id": id, "offset": 4, "length": 6])
        #expect(range.object["text"] as? String == "3\n4\n5\n")
        #expect(range.object["next_offset"] as? Int == 10)
        let defaultTail = try client.call("job_output", ["id": id])
        #expect(defaultTail.object["lines"] as? Int == 50)
        #expect(defaultTail.object["truncated"] as? Bool == false)
        #expect(try client.call("job_output", ["id": id, "head": 2, "tail": 2]).errorCode == "E_USAGE")
        #expect(try client.call("job_output", ["id": id, "tail": 5000]).errorCode == "E_USAGE")
        #expect(try client.call("job_output", ["id": id, "regex": "("]).errorCode == "E_USAGE")
        #expect(try client.call("job_output", ["id": id, "colour": true]).errorCode == "E_USAGE")
        #expect(try client.call("job_output", [:]).errorCode == "E_USAGE")
    }

    @Test("job_output cuts what it returns to 64 KiB and says so")
    func outputBound() throws {
        let (_, client) = try start()
        // 1,000 lines of 200 bytes: 200 KB in the last 1,000 lines.
        let command = "i=0; line=$(printf '%0199d' 0); while [ $i -lt 1000 ]; do echo \"$line\"; i=$((i+1)); done"
        let id = try id(try client.call("start_job", ["command": command, "yield_seconds": 30]))
        let output = try client.call("job_output", ["id": id, "tail": 1000])
        #expect(output.object["truncated"] as? Bool == true)
        let text = try #require(output.object["text"] as? String)
        #expect(text.utf8.count <= 64 * 1024)
        #expect(text.hasSuffix("0\n"))
        #expect(output.object["note"] != nil)
    }

    @Test("a job of another session is invisible: E_NOT_FOUND for status, output, wait and stop; absent from list_jobs")
    func otherSessionInvisible() throws {
        let (stint, client) = try start(session: "mine")
        let added = try stint.run(["add", "-p", "sleep 30"], env: ["STINT_SESSION": "other"])
        let foreign = try #require(Int64(added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(added.stderr)")
        #expect(try stint.eventually { try stint.show(foreign).state == .running })
        for (tool, arguments) in [
            ("job_status", ["id": foreign]), ("job_output", ["id": foreign]),
            ("wait_for_job", ["id": foreign, "timeout": 1]), ("stop_job", ["id": foreign, "grace": 0]),
        ] as [(String, [String: Any])] {
            let call = try client.call(tool, arguments)
            #expect(call.isError, "\(tool): \(call.text)")
            #expect(call.errorCode == "E_NOT_FOUND", "\(tool): \(call.text)")
        }
        let listed = try client.call("list_jobs").object["jobs"] as? [[String: Any]]
        #expect(listed?.isEmpty == true)
        #expect(try stint.show(foreign).state == .running)
        #expect(try stint.run("stop", "--grace", "0", String(foreign)).status == 0)
    }

    @Test("list_schedules lists this session's schedules only, with their next fire times and last run")
    func listSchedules() throws {
        let (stint, client) = try start(session: "mine")
        #expect(try stint.run(["schedule", "add", "nightly", "--cron", "0 3 * * *", "--tz", "UTC", "true"], env: ["STINT_SESSION": "mine"]).status == 0)
        #expect(try stint.run(["schedule", "add", "theirs", "--every", "1h", "true"], env: ["STINT_SESSION": "other"]).status == 0)
        let fired = try stint.run(["schedule", "run", "nightly", "-o", "json"], env: ["STINT_SESSION": "mine"])
        let job = try fired.data(ScheduleFireResponse.self).job
        #expect(try stint.run("wait", "\(job)").status == 0)
        let call = try client.call("list_schedules")
        #expect(!call.isError, "\(call.text)")
        let schedules = try #require(call.object["schedules"] as? [[String: Any]], "\(call.text)")
        #expect(schedules.map { $0["name"] as? String } == ["nightly"])
        let nightly = try #require(schedules.first)
        #expect(nightly["schedule"] as? String == "0 3 * * *")
        #expect((nightly["next_fires"] as? [String])?.count == 3)
        #expect((nightly["next_fires"] as? [String])?.first?.hasSuffix("T03:00:00.000Z") == true)
        #expect((nightly["last_job"] as? NSNumber)?.int64Value == job)
        #expect(nightly["last_state"] as? String == "succeeded")
        #expect(nightly["paused"] as? Bool == false)
        #expect(try client.call("list_schedules", ["bogus": 1]).isError)
    }

    @Test("a job's end is pushed as notifications/message; it stays pending in tool results until ack_notifications")
    func pushAndPending() throws {
        let (_, client) = try start()
        let id = try id(try client.call("start_job", ["command": "echo finished", "description": "pushed"]))
        let pushed = try #require(
            try client.logMessage { ($0["job"] as? NSNumber)?.int64Value == id && $0["kind"] as? String == "ended" },
            "no notifications/message for job \(id)")
        #expect(pushed["level"] as? String == "info")
        let data = try #require(pushed["data"] as? [String: Any])
        #expect(data["state"] as? String == "succeeded")
        #expect(data["tail"] as? [String] == ["finished"])
        let notification = try #require((data["id"] as? NSNumber)?.int64Value)

        let later = try client.call("list_jobs")
        let pending = later.pendingNotifications
        #expect(pending.count == 1)
        #expect((pending.first?["id"] as? NSNumber)?.int64Value == notification)
        #expect((pending.first?["job"] as? NSNumber)?.int64Value == id)
        #expect(pending.first?["title"] as? String == "pushed")
        // Still pending on the next call: reading is not acknowledging.
        #expect(try client.call("job_status", ["id": id]).pendingNotifications.count == 1)

        let acked = try client.call("ack_notifications", ["ids": [notification]])
        #expect((acked.object["acked"] as? [NSNumber])?.map(\.int64Value) == [notification])
        #expect(acked.pendingNotifications.isEmpty)
        #expect(try client.call("list_jobs").object["pending_notifications"] == nil)
    }

    @Test("a failed job is pushed at warning level; ack_notifications all: true clears every pending one")
    func failurePushAndAckAll() throws {
        let (_, client) = try start()
        let first = try id(try client.call("start_job", ["command": "exit 4"]))
        let second = try id(try client.call("start_job", ["command": "true"]))
        let failed = try #require(try client.logMessage { ($0["job"] as? NSNumber)?.int64Value == first })
        #expect(failed["level"] as? String == "warning")
        #expect(try client.logMessage { ($0["job"] as? NSNumber)?.int64Value == second } != nil)
        #expect(try client.call("list_jobs").pendingNotifications.count == 2)
        let acked = try client.call("ack_notifications", ["all": true])
        #expect((acked.object["acked"] as? [Any])?.count == 2)
        #expect(acked.pendingNotifications.isEmpty)
        #expect(try client.call("ack_notifications", [:]).errorCode == "E_USAGE")
    }

    @Test("after the daemon is killed and restarted, pushes resume, and nothing already pushed is pushed again")
    func pushesSurviveDaemonRestart() throws {
        let (stint, client) = try start()
        let before = try id(try client.call("start_job", ["command": "echo before"]))
        #expect(try client.logMessage { ($0["job"] as? NSNumber)?.int64Value == before } != nil)
        stint.killDaemon()
        try stint.startDaemon(parallel: 2)
        let after = try id(try client.call("start_job", ["command": "echo after"]))
        #expect(try client.logMessage { ($0["job"] as? NSNumber)?.int64Value == after } != nil)
        let pushes = client.notifications.filter {
            (($0["params"] as? [String: Any])?["data"] as? [String: Any]).flatMap { ($0["job"] as? NSNumber)?.int64Value } == before
        }
        #expect(pushes.count == 1)
    }

    // MARK: - The protocol held to: every request answered, cancellation, errors, initialize first

    private static var initializeParams: [String: Any] {
        [
        "protocolVersion": "2025-06-18", "capabilities": [String: Any](), "clientInfo": ["name": "stint-tests", "version": "1"],
        ]
    }

    @Test("a client that writes its requests and closes stdin gets an answer to every one")
    func answersEverythingBeforeEOF() throws {
        let stint = try StintHarness()
        let client = try MCPStdioClient(stint, arguments: ["--session", "pipelined"])
        try client.sendMessage(["jsonrpc": "2.0", "id": 1, "method": "initialize", "params": Self.initializeParams])
        try client.sendMessage(["jsonrpc": "2.0", "method": "notifications/initialized"])
        for id in 2...11 {
            try client.sendMessage([
                "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": ["name": "list_jobs", "arguments": [String: Any]()],
            ])
        }
        try client.sendMessage(["jsonrpc": "2.0", "id": 12, "method": "tools/list", "params": [String: Any]()])
        client.closeInput()
        let answers = try client.responses(12, timeout: 30)
        #expect(Set(answers.compactMap { $0["id"] as? Int }) == Set(1...12), "\(answers)")
        #expect(answers.allSatisfy { $0["error"] == nil }, "\(answers)")
        #expect(try client.finish() == 0)
    }

    @Test("notifications/cancelled stops the matching wait_for_job: no answer for it, and the server does not wait for it")
    func cancelledWait() throws {
        let (stint, client) = try start()
        let id = try id(try client.call("start_job", ["command": "sleep 60"]))
        // The server's sockets: stdio, the notification watch, and one per call to the daemon in progress.
        let pid = client.process.processIdentifier
        func sockets() -> Int {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            return entries.filter {
                ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")) ?? "").hasPrefix("socket:")
            }.count
        }
        #expect(try stint.eventually { sockets() >= 2 })
        let idle = sockets()
        try client.sendMessage([
            "jsonrpc": "2.0", "id": 900, "method": "tools/call",
            "params": ["name": "wait_for_job", "arguments": ["id": id, "timeout": 300]],
        ])
        #expect(try stint.eventually { sockets() == idle + 1 }, "the wait never reached the daemon")
        try client.sendMessage(["jsonrpc": "2.0", "method": "notifications/cancelled", "params": ["requestId": 900, "reason": "test"]])
        // The wait ends: its connection to the daemon closes.
        #expect(try stint.eventually { sockets() == idle }, "the cancelled wait still holds its connection")
        #expect(!(try client.call("list_jobs")).isError)
        client.closeInput()
        let started = Date()
        let late = try client.responses(1, timeout: 3)
        #expect(try client.finish() == 0)
        #expect(Date().timeIntervalSince(started) < 10)
        let answered = (client.strayResponses + late).compactMap { $0["id"] as? Int }
        #expect(!answered.contains(900), "an answer came for the cancelled request")
        #expect(try stint.run("stop", "--grace", "0", String(id)).status == 0)
    }

    @Test("a request before initialize is refused; a parse error answers with id null; then initialize serves")
    func initializeFirstAndParseErrors() throws {
        let stint = try StintHarness()
        let client = try MCPStdioClient(stint, arguments: ["--session", "strict"])
        try client.sendMessage(["jsonrpc": "2.0", "id": 41, "method": "tools/list", "params": [String: Any]()])
        let early = try #require(try client.responses(1, timeout: 10).first)
        #expect(early["id"] as? Int == 41)
        #expect((early["error"] as? [String: Any])?["code"] as? Int == -32002, "\(early)")
        try client.sendLine("{this is not json")
        let parse = try #require(try client.responses(1, timeout: 10).first)
        #expect(parse["id"] is NSNull, "\(parse)")
        #expect((parse["error"] as? [String: Any])?["code"] as? Int == -32700, "\(parse)")
        _ = try client.initialize()
        #expect(try client.toolNames().count == 8)
        #expect(try client.finish() == 0)
    }

    @Test("schemas take numbers for durations; start_job takes stall_after; errors name tools, not CLI commands")
    func schemasAndWording() throws {
        let (_, client) = try start()
        let tools = try #require(try client.request("tools/list", [:])["tools"] as? [[String: Any]])
        func property(_ tool: String, _ name: String) -> [String: Any]? {
            let schema = tools.first { $0["name"] as? String == tool }?["inputSchema"] as? [String: Any]
            return (schema?["properties"] as? [String: Any])?[name] as? [String: Any]
        }
        for (tool, name) in [("start_job", "timeout"), ("start_job", "stall_after"), ("stop_job", "grace")] {
            #expect((property(tool, name)?["type"] as? [String])?.contains("number") == true, "\(tool).\(name)")
        }
        let started = try client.call("start_job", ["command": "sleep 30", "timeout": 60, "stall_after": 0])
        let id = try id(started)
        #expect(started.object["timeout"] as? Double == 60)
        let missing = try client.call("job_status", ["id": 987_654])
        #expect(missing.errorCode == "E_NOT_FOUND")
        #expect(missing.text.contains("list_jobs"), "\(missing.text)")
        #expect(!missing.text.contains("stint ls"), "\(missing.text)")
        _ = try client.call("stop_job", ["id": id, "grace": 0])
    }

    @Test("start_job's job fields are read as add --from reads its lines: durations as text or seconds; a mistake names the argument")
    func startJobFieldsAsJobLine() throws {
        let (stint, client) = try start()
        let started = try client.call("start_job", ["command": "sleep 30", "timeout": "10m", "stall_after": 90, "queue": "builds"])
        let id = try id(started)
        #expect(started.object["timeout"] as? Double == 600)
        #expect(started.object["queue"] as? String == "builds")
        #expect(try stint.show(id).timeout == 600)
        for (arguments, message) in [
            (["timeout": "soon"], "start_job: invalid duration for timeout: 'soon'"),
            (["stall_after": "-5s"], "start_job: stall_after must not be negative: -5s"),
            (["timeout": 0], "start_job: 'timeout' must be above 0"),
            (["timeout": true], "start_job: 'timeout' must be a number"),
            (["queue": 7], "start_job: 'queue' must be a string"),
        ] as [([String: Any], String)] {
            let refused = try client.call("start_job", arguments.merging(["command": "true"]) { $1 })
            #expect(refused.errorCode == "E_USAGE", "\(arguments): \(refused.text)")
            #expect(refused.text.contains(message), "\(arguments): \(refused.text)")
        }
        _ = try client.call("stop_job", ["id": id, "grace": 0])
    }

    @Test("job_output sends its text once, and a byte range holds the 1,000-line bound, paging on from what it returned")
    func outputOnceAndRangeBound() throws {
        let (_, client) = try start()
        let id = try id(try client.call("start_job", ["command": "seq 1 5000", "yield_seconds": 20]))
        let range = try client.call("job_output", ["id": id, "offset": 0, "length": 65536])
        #expect(!range.isError, "\(range.text)")
        #expect(!range.structured)
        #expect(range.text.components(separatedBy: "\"text\"").count == 2, "the text is sent more than once")
        let text = try #require(range.object["text"] as? String)
        #expect(range.object["lines"] as? Int == 1000)
        #expect(text.split(separator: "\n").count == 1000)
        #expect(text.hasSuffix("\n1000\n"))
        #expect(range.object["truncated"] as? Bool == true)
        #expect(range.object["next_offset"] as? Int == text.utf8.count)
        let next = try client.call("job_output", ["id": id, "offset": text.utf8.count, "length": 5])
        #expect(next.object["text"] as? String == "1001\n")
    }
}

