import Foundation
import StintCore
import Testing

private func jsonObject(_ data: Data) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

private func text(_ data: Data) -> String {
    String(decoding: data, as: UTF8.self)
}

@Suite("RFC3339")
struct RFC3339Tests {
    // 2026-11-21T15:59:44Z
    static let base: TimeInterval = 1_795_276_784

    @Test("format writes UTC with milliseconds and Z")
    func format() {
        #expect(RFC3339.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: Self.base)) == "2026-11-21T15:59:44.000Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: Self.base + 0.123)) == "2026-11-21T15:59:44.123Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: Self.base + 0.999)) == "2026-11-21T15:59:44.999Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 951_782_400.5)) == "2000-02-29T00:00:00.500Z")
    }

    @Test("format truncates below the millisecond")
    func formatTruncates() {
        #expect(RFC3339.format(Date(timeIntervalSince1970: Self.base + 0.1239)) == "2026-11-21T15:59:44.123Z")
    }

    @Test("parse reads what format writes")
    func parse() throws {
        let date = try #require(RFC3339.parse("2026-11-21T15:59:44.123Z"))
        #expect(abs(date.timeIntervalSince1970 - (Self.base + 0.123)) < 1e-6)
        let whole = try #require(RFC3339.parse("2026-11-21T15:59:44Z"))
        #expect(whole.timeIntervalSince1970 == Self.base)
        let epoch = try #require(RFC3339.parse("1970-01-01T00:00:00.000Z"))
        #expect(epoch.timeIntervalSince1970 == 0)
        let micro = try #require(RFC3339.parse("2026-11-21T15:59:44.123456Z"))
        #expect(abs(micro.timeIntervalSince1970 - (Self.base + 0.123456)) < 1e-6)
    }

    @Test("every millisecond survives format → parse → format", arguments: [1_000_000_000, RFC3339Tests.base, 4_102_444_800])
    func roundTripEveryMillisecond(second: TimeInterval) throws {
        var mismatches: [String] = []
        for ms in 0..<1000 {
            let date = Date(timeIntervalSince1970: second + Double(ms) / 1000)
            let formatted = RFC3339.format(date)
            if !formatted.hasSuffix(String(format: ".%03dZ", ms)) { mismatches.append("\(ms): \(formatted)") }
            guard let parsed = RFC3339.parse(formatted) else {
                mismatches.append("unparsable \(formatted)")
                continue
            }
            if abs(parsed.timeIntervalSince(date)) >= 0.001 { mismatches.append("drift \(formatted)") }
            if RFC3339.format(parsed) != formatted { mismatches.append("\(formatted) → \(RFC3339.format(parsed))") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test("dates near or before 1970 format to the millisecond they denote")
    func formatNearEpoch() {
        // Near the epoch a Date cannot hold 0.002 exactly (it stores seconds since 2001), and
        // before 1970 a truncating division would print a negative millisecond.
        #expect(RFC3339.format(Date(timeIntervalSince1970: 0.002)) == "1970-01-01T00:00:00.002Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
    }

    @Test("parse rejects what is not RFC 3339 UTC", arguments: [
        "", "2026", "2026-11-21", "2026-11-21T15:59:44", "2026-11-21T15:59:44.123",
        "2026-11-21T15:59:44+00:00", "2026-11-21T15:59:44.123+01:00", "yesterday",
        "2026-1a-21T15:59:44Z", "20261121T155944Z",
    ])
    func parseRejects(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }
}

@Suite("StintJSON")
struct StintJSONTests {
    static func view(state: JobState = .failed) -> JobView {
        JobView(
            id: 7, state: state, queue: "default", command: "make test", argv: ["make", "test"],
            shell: false, cwd: "/src", labels: ["build_id": "42"], session: "s1", timeout: 90,
            outputCap: 1024, createdAt: Date(timeIntervalSince1970: 1_795_276_784.123),
            startedAt: Date(timeIntervalSince1970: 1_795_276_785), endedAt: Date(timeIntervalSince1970: 1_795_276_786.5),
            duration: 1.5, attempts: 1, exitCode: 3, signal: nil, reason: .exited, log: "/logs/7.1.log",
            attemptList: [
                AttemptView(
                    number: 1, startedAt: Date(timeIntervalSince1970: 1_795_276_785),
                    endedAt: Date(timeIntervalSince1970: 1_795_276_786.5), exitCode: 3, signal: nil,
                    reason: .exited, message: nil, host: "box", shimPid: 4242, peakRssBytes: 1 << 20,
                    outputBytes: 10, droppedBytes: 0, log: "/logs/7.1.log")
            ])
    }

    @Test("JobView encodes snake_case keys, RFC 3339 times and the wait code")
    func jobViewKeys() throws {
        let data = try StintJSON.encoder().encode(Self.view())
        let object = try jsonObject(data)
        #expect(Set(object.keys) == [
            "id", "state", "queue", "command", "argv", "shell", "cwd", "labels", "session", "timeout",
            "output_cap", "created_at", "started_at", "ended_at", "duration", "attempts", "exit_code",
            "reason", "wait_code", "log", "attempt_list", "priority", "retries",
        ])
        #expect(object["exit_code"] as? Int == 3)
        #expect(object["wait_code"] as? Int == 3)
        #expect(object["state"] as? String == "failed")
        #expect(object["reason"] as? String == "exited")
        #expect(object["created_at"] as? String == "2026-11-21T15:59:44.123Z")
        #expect(object["ended_at"] as? String == "2026-11-21T15:59:46.500Z")
        #expect(object["duration"] as? Double == 1.5)
        #expect(object["output_cap"] as? Int == 1024)
        #expect(object["labels"] as? [String: String] == ["build_id": "42"])
        let attempts = try #require(object["attempt_list"] as? [[String: Any]])
        #expect(Set(try #require(attempts.first).keys) == [
            "number", "started_at", "ended_at", "exit_code", "reason", "host", "node", "shim_pid",
            "peak_rss_bytes", "output_bytes", "dropped_bytes", "log",
        ])
        #expect(attempts.first?["peak_rss_bytes"] as? Int == 1 << 20)
        #expect(text(data).contains("\"/logs/7.1.log\""), "slashes are not escaped")
    }

    @Test("a running job has no wait_code key")
    func runningHasNoWaitCode() throws {
        let object = try jsonObject(try StintJSON.encoder().encode(Self.view(state: .running)))
        #expect(object["wait_code"] == nil)
        #expect(object["state"] as? String == "running")
    }

    @Test("JobView survives encode → decode")
    func jobViewRoundTrip() throws {
        let view = Self.view()
        let back = try StintJSON.decoder().decode(JobView.self, from: StintJSON.encoder().encode(view))
        #expect(back == view)
    }

    @Test("pretty output is the same document")
    func pretty() throws {
        let prettyData = try StintJSON.encoder(pretty: true).encode(Self.view())
        #expect(text(prettyData).contains("\n  \"attempt_list\""))
        #expect(try StintJSON.decoder().decode(JobView.self, from: prettyData) == Self.view())
    }

    @Test("ok envelope is {\"status\":\"ok\",\"data\":…}")
    func okEnvelope() throws {
        let data = try StintJSON.encoder().encode(Envelope.ok(AddResponse(ids: [1, 2])))
        #expect(text(data) == #"{"data":{"duplicate":false,"duplicates":[],"ids":[1,2],"states":[]},"status":"ok"}"#)
        let empty = try StintJSON.encoder().encode(Envelope.ok(Empty()))
        #expect(text(empty) == #"{"data":{},"status":"ok"}"#)
    }

    @Test("error envelope is {\"status\":\"error\",\"error\":{code,message,hint}}")
    func errorEnvelope() throws {
        let error = StintError(.notFound, "no job with id 9", hint: "list jobs with stint ls")
        let data = try StintJSON.encoder().encode(Envelope<Empty>.failure(error))
        #expect(text(data) == #"{"error":{"code":"E_NOT_FOUND","hint":"list jobs with stint ls","message":"no job with id 9"},"status":"error"}"#)
        let object = try jsonObject(data)
        #expect(Set(object.keys) == ["status", "error"])
        #expect(object["status"] as? String == "error")
        let body = try #require(object["error"] as? [String: String])
        #expect(body == ["code": "E_NOT_FOUND", "message": "no job with id 9", "hint": "list jobs with stint ls"])
    }

    @Test("an error without a hint has no hint key")
    func errorWithoutHint() throws {
        let data = try StintJSON.encoder().encode(Envelope<Empty>.failure(StintError(.conflict, "busy")))
        #expect(text(data) == #"{"error":{"code":"E_CONFLICT","message":"busy"},"status":"error"}"#)
    }

    @Test("envelopes decode back")
    func envelopeDecodes() throws {
        let ok = try StintJSON.decoder().decode(
            Envelope<AddResponse>.self, from: Data(#"{"status":"ok","data":{"ids":[3]}}"#.utf8))
        #expect(ok.status == "ok")
        #expect(ok.data?.ids == [3])
        #expect(ok.error == nil)
        let failure = try StintJSON.decoder().decode(
            Envelope<AddResponse>.self,
            from: Data(#"{"status":"error","error":{"code":"E_USAGE","message":"bad","hint":"h"}}"#.utf8))
        #expect(failure.data == nil)
        #expect(failure.error == StintError(.usage, "bad", hint: "h"))
        #expect(failure.error?.code.exitStatus == 64)
    }

    @Test("JobSpec keeps env and label keys verbatim (no snake_case conversion of dictionary keys)")
    func jobSpecRoundTrip() throws {
        let spec = JobSpec(
            argv: ["env"], cwd: "/tmp",
            env: ["LD_LIBRARY_PATH": "/opt/lib", "myVar": "1", "a_b": "2", "PATH": "/usr/bin:/bin"],
            labels: ["build_id": "7", "camelCase": "x"], session: "agent-1", timeout: 1.5,
            outputCap: 0, hold: true)
        let data = try StintJSON.encoder().encode(AddRequest(jobs: [spec]))
        let object = try jsonObject(data)
        let job = try #require((object["jobs"] as? [[String: Any]])?.first)
        #expect(Set(job.keys) == ["argv", "cwd", "env", "labels", "session", "timeout", "output_cap", "hold"])
        #expect(job["env"] as? [String: String] == spec.env)
        let back = try StintJSON.decoder().decode(AddRequest.self, from: data)
        #expect(back.jobs == [spec])
    }

    @Test("dates that are not RFC 3339 fail to decode")
    func badDate() {
        let body = Data(#"{"number":1,"started_at":"yesterday","host":"h","log":"/l"}"#.utf8)
        #expect(throws: DecodingError.self) {
            try StintJSON.decoder().decode(AttemptView.self, from: body)
        }
    }

    @Test("request bodies use snake_case")
    func requestKeys() throws {
        let prune = try jsonObject(try StintJSON.encoder().encode(PruneRequest(olderThan: 60)))
        #expect(prune["older_than"] as? Double == 60)
        let wait = try jsonObject(try StintJSON.encoder().encode(WaitRequest(ids: [1], any: true, timeout: 2)))
        #expect(Set(wait.keys) == ["ids", "any", "timeout"])
        let status = try jsonObject(
            try StintJSON.encoder().encode(
                DaemonStatus(
                    pid: 1, version: "0.1.0", store: "sqlite:/x", home: "/h", socket: "/h/s", uptime: 1,
                    parallel: 4, counts: ["queued": 1])))
        #expect(Set(status.keys) == ["pid", "version", "store", "home", "socket", "uptime", "parallel", "counts"])
    }

    @Test("QueueUpdate survives a StintJSON round trip, the preflight TTL included")
    func queueUpdateRoundTrip() throws {
        let update = QueueUpdate(
            concurrency: 2, paused: true, breakerThreshold: 3, breakerPause: 2, preflight: "true", preflightTTL: 1)
        let data = try StintJSON.encoder().encode(update)
        #expect(try jsonObject(data)["preflight_ttl"] as? Double == 1)
        #expect(try StintJSON.decoder().decode(QueueUpdate.self, from: data) == update)
    }

    @Test("AttemptOutcome survives a StintJSON round trip")
    func attemptOutcomeRoundTrip() throws {
        let outcome = AttemptOutcome(
            reason: .signal, exitCode: nil, signal: 9, startedAt: Date(timeIntervalSince1970: 100),
            endedAt: Date(timeIntervalSince1970: 101.5), peakRssBytes: 4096, outputBytes: 10,
            droppedBytes: 2, message: "killed")
        let data = try StintJSON.encoder().encode(outcome)
        #expect(try jsonObject(data)["peak_rss_bytes"] as? Int == 4096)
        let back = try StintJSON.decoder().decode(AttemptOutcome.self, from: data)
        #expect(back.reason == .signal)
        #expect(back.endedAt == outcome.endedAt)
        #expect(back.peakRssBytes == 4096)
        #expect(back == outcome)
    }
}

@Suite("JobSpec")
struct JobSpecTests {
    static func expectUsage(_ spec: JobSpec, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try spec.validate()
            Issue.record("validate accepted \(spec)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == .usage, sourceLocation: sourceLocation)
            #expect(error.message.contains(fragment), "\(error.message)", sourceLocation: sourceLocation)
        }
    }

    @Test("valid specs pass")
    func valid() throws {
        try JobSpec(argv: ["true"], cwd: "/").validate()
        try JobSpec(argv: ["make", ""], cwd: "/src").validate()
        try JobSpec(shell: "echo hi | wc -c", cwd: "/tmp").validate()
        try JobSpec(argv: ["sleep", "1"], cwd: "/", timeout: 0.001, outputCap: 0).validate()
        try JobSpec(argv: ["x"], cwd: "/", timeout: 86_400, outputCap: JobSpec.defaultOutputCap).validate()
    }

    @Test("rejects an empty argv")
    func emptyArgv() {
        Self.expectUsage(JobSpec(argv: [], cwd: "/"), "empty command")
        Self.expectUsage(JobSpec(argv: [""], cwd: "/"), "empty command")
    }

    @Test("rejects a blank shell string")
    func blankShell() {
        Self.expectUsage(JobSpec(shell: "", cwd: "/"), "empty shell command")
        Self.expectUsage(JobSpec(shell: " \t\n", cwd: "/"), "empty shell command")
    }

    @Test("rejects both argv and shell, and neither")
    func argvXorShell() {
        Self.expectUsage(JobSpec(argv: ["ls"], shell: "ls", cwd: "/"), "not both")
        Self.expectUsage(JobSpec(argv: [], shell: "", cwd: "/"), "not both")
        Self.expectUsage(JobSpec(cwd: "/"), "no command")
    }

    @Test("rejects a relative cwd", arguments: ["", ".", "src", "./src", "~/src"])
    func relativeCwd(cwd: String) {
        Self.expectUsage(JobSpec(argv: ["ls"], cwd: cwd), "absolute")
    }

    @Test("rejects a timeout that is not a positive finite number", arguments: [0, -1, -0.001, Double.infinity, Double.nan])
    func badTimeout(timeout: Double) {
        Self.expectUsage(JobSpec(argv: ["ls"], cwd: "/", timeout: timeout), "timeout")
    }

    @Test("rejects a negative output cap")
    func negativeCap() {
        Self.expectUsage(JobSpec(argv: ["ls"], cwd: "/", outputCap: -1), "output cap")
        Self.expectUsage(JobSpec(argv: ["ls"], cwd: "/", outputCap: .min), "output cap")
    }

    @Test("rejects NUL bytes")
    func nul() {
        Self.expectUsage(JobSpec(argv: ["echo", "a\0b"], cwd: "/"), "NUL")
        Self.expectUsage(JobSpec(shell: "echo a\0b", cwd: "/"), "NUL")
    }

    @Test("resolvedArgv and displayCommand")
    func resolved() {
        let argv = JobSpec(argv: ["grep", "-r", "two words", "."], cwd: "/")
        #expect(argv.resolvedArgv == ["grep", "-r", "two words", "."])
        #expect(argv.displayCommand == "grep -r 'two words' .")
        let shell = JobSpec(shell: "make && make test", cwd: "/")
        #expect(shell.resolvedArgv == ["/bin/sh", "-c", "make && make test"])
        #expect(shell.displayCommand == "make && make test")
        let none = JobSpec(cwd: "/")
        #expect(none.resolvedArgv == [])
        #expect(none.displayCommand == "")
    }
}

@Suite("StintPaths")
struct StintPathsTests {
    @Test("STINT_HOME wins over XDG_STATE_HOME and HOME")
    func stintHome() {
        let paths = StintPaths(environment: ["STINT_HOME": "/s", "XDG_STATE_HOME": "/x", "HOME": "/h"])
        #expect(paths.home == "/s")
        #expect(paths.socket == "/s/stint.sock")
    }

    @Test("XDG_STATE_HOME wins over HOME")
    func xdg() {
        let paths = StintPaths(environment: ["XDG_STATE_HOME": "/x", "HOME": "/h"])
        #expect(paths.home == "/x/stint")
        #expect(paths.socket == "/x/stint/stint.sock")
    }

    @Test("HOME is the fallback")
    func home() {
        let paths = StintPaths(environment: ["HOME": "/h"])
        #expect(paths.home == "/h/.local/state/stint")
        #expect(paths.socket == "/h/.local/state/stint/stint.sock")
    }

    @Test("empty variables count as unset")
    func emptyIsUnset() {
        let paths = StintPaths(environment: ["STINT_HOME": "", "XDG_STATE_HOME": "", "HOME": "/h", "STINT_SOCKET": ""])
        #expect(paths.home == "/h/.local/state/stint")
        #expect(paths.socket == "/h/.local/state/stint/stint.sock")
        #expect(StintPaths(environment: ["STINT_HOME": "", "XDG_STATE_HOME": "/x"]).home == "/x/stint")
    }

    @Test("without HOME the user's home directory is used")
    func noHome() {
        let paths = StintPaths(environment: [:])
        #expect(paths.home == NSHomeDirectory() + "/.local/state/stint")
    }

    @Test("STINT_SOCKET overrides the socket only")
    func socketOverride() {
        let paths = StintPaths(environment: ["STINT_HOME": "/s", "STINT_SOCKET": "/run/x.sock"])
        #expect(paths.home == "/s")
        #expect(paths.socket == "/run/x.sock")
        #expect(paths.database == "/s/stint.db")
        #expect(StintPaths(home: "/a", socket: "/b.sock").socket == "/b.sock")
        #expect(StintPaths(home: "/a").socket == "/a/stint.sock")
    }

    @Test("files under the state folder")
    func files() {
        let paths = StintPaths(home: "/state")
        #expect(paths.database == "/state/stint.db")
        #expect(paths.logs == "/state/logs")
        #expect(paths.run == "/state/run")
        #expect(paths.daemonLog == "/state/daemon.log")
        #expect(paths.daemonLock == "/state/daemon.lock")
        #expect(paths.runDirectory(job: 42, attempt: 3) == "/state/run/42.3")
        #expect(paths.log(job: 42, attempt: 3) == "/state/logs/42.3.log")
        #expect(paths.log(job: 1, attempt: 1) != paths.log(job: 11, attempt: 1))
    }
}
