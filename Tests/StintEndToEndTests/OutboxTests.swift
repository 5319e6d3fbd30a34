import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Sessions, the notification outbox, waits with a reason and the summary, against the
/// real daemon and CLI.
@Suite("Outbox: sessions, notifications, waits that say why", .serialized)
struct OutboxTests {
    private func notifications(_ stint: StintHarness, session: String? = nil) throws -> NotificationList {
        var arguments = ["notifications", "-o", "json"]
        if let session { arguments += ["--session", session] }
        return try stint.run(arguments).data(NotificationList.self)
    }

    @Test("two concurrent jobs of one session are each notified exactly once")
    func twoConcurrentJobs() throws {
        let stint = try StintHarness(parallel: 4)
        let first = try stint.add("--session", "agent", "--", "sh", "-c", "sleep 0.3; echo one; exit 0")
        let second = try stint.add("--session", "agent", "--", "sh", "-c", "sleep 0.3; echo two; exit 4")
        _ = try stint.add("--session", "other", "--", "true")
        #expect(try stint.run("wait", "\(first)", "\(second)").status == 6)
        let list = try notifications(stint, session: "agent")
        #expect(list.notifications.map(\.job).sorted() == [first, second])
        #expect(list.notifications.allSatisfy { $0.kind == .ended && $0.session == "agent" })
        let byJob = Dictionary(uniqueKeysWithValues: list.notifications.map { ($0.job, $0) })
        #expect(byJob[first]?.state == .succeeded)
        #expect(byJob[first]?.tail == ["one"])
        #expect(byJob[second]?.state == .failed)
        #expect(byJob[second]?.exitCode == 4)
        #expect(byJob[second]?.reason == "exited")
        #expect(byJob[second]?.log?.hasSuffix("/\(second).1.log") == true)
        #expect((byJob[second]?.duration ?? 0) >= 0.25)
        // Reading again changes nothing: they stay until acknowledged.
        #expect(try notifications(stint, session: "agent").notifications.count == 2)
        let ids = list.notifications.map { String($0.id) }
        #expect(try stint.run(["ack", "--session", "agent"] + ids).status == 0)
        #expect(try notifications(stint, session: "agent").notifications.isEmpty)
        #expect(try notifications(stint, session: "other").notifications.count == 1)
    }

    @Test("a notification survives a daemon SIGKILL between the job's end and the caller's read")
    func survivesSigkill() throws {
        let stint = try StintHarness()
        let ended = try stint.add("--session", "s", "--", "sh", "-c", "echo done; exit 3")
        #expect(try stint.run("wait", "\(ended)").status == 3)
        // A second job ends while no daemon runs: the next one learns of it from the shim.
        let running = try stint.add("--session", "s", "--", "sh", "-c", "sleep 1; echo late")
        #expect(try stint.eventually { try stint.show(running).state == .running })
        stint.killDaemon()
        usleep(1_500_000)
        try stint.startDaemon(parallel: 2)
        #expect(try stint.run("wait", "\(running)").status == 0)
        let list = try notifications(stint, session: "s")
        #expect(list.notifications.map(\.job) == [ended, running])
        #expect(list.notifications.first?.exitCode == 3)
        #expect(list.notifications.last?.tail == ["late"])
    }

    @Test("cancelled, timed-out and dependency-cancelled jobs are notified; a retry, and a retry stopped before it ran, are new attempts")
    func everyTerminalState() throws {
        let stint = try StintHarness()
        let held = try stint.add("--session", "s", "--hold", "--", "true")
        let dependent = try stint.add("--session", "s", "--after", "\(held)", "--", "true")
        #expect(try stint.run("stop", "\(held)").status == 0)
        let slow = try stint.add("--session", "s", "--timeout", "0.3", "--", "sleep", "10")
        #expect(try stint.run("wait", "\(slow)").status == 124)
        let list = try notifications(stint, session: "s")
        let byJob = Dictionary(uniqueKeysWithValues: list.notifications.map { ($0.job, $0) })
        #expect(byJob[held]?.state == .cancelled)
        #expect(byJob[held]?.attempt == 1)
        #expect(byJob[held]?.exitCode == nil)
        #expect(byJob[dependent]?.state == .cancelled)
        #expect(byJob[dependent]?.message == "dependency \(held) was cancelled")
        #expect(byJob[slow]?.reason == "timeout")
        #expect(try stint.run("retry", "\(slow)").status == 0)
        #expect(try stint.run("wait", "\(slow)").status == 124)
        let attempts = try notifications(stint, session: "s").notifications.filter { $0.job == slow }.map(\.attempt)
        #expect(attempts == [1, 2])
        // Retried, then stopped while it waits behind a hold: told again, without the old exit.
        let failing = try stint.add("--session", "s", "--", "sh", "-c", "exit 3")
        #expect(try stint.run("wait", "\(failing)").status == 3)
        #expect(try stint.run("queue", "pause", "default").status == 0)
        #expect(try stint.run("retry", "\(failing)").status == 0)
        #expect(try stint.run("stop", "\(failing)").status == 0)
        #expect(try stint.run("queue", "resume", "default").status == 0)
        let told = try notifications(stint, session: "s").notifications.filter { $0.job == failing }
        #expect(told.map(\.attempt) == [1, 2])
        #expect(told.map(\.state) == [.failed, .cancelled])
        #expect(told.last?.exitCode == nil)
        #expect(told.last?.reason == "cancelled")
    }

    @Test("a client scoped to a session cannot see, wait on, stop or ack another session's job")
    func scopeIsolation() throws {
        let stint = try StintHarness()
        let mine = try stint.add("--session", "mine", "--", "sh", "-c", "echo mine")
        let theirs = try stint.add("--session", "theirs", "--", "sleep", "30")
        #expect(try stint.eventually { try stint.show(theirs).state == .running })
        for command in [["show"], ["logs"], ["wait", "--timeout", "1"], ["stop"], ["kill"], ["retry"], ["rm"]] {
            let result = try stint.run(["--session", "mine"] + command + ["\(theirs)"])
            #expect(result.status == 3, "\(command): \(result.stderr)")
        }
        let viaEnvironment = try stint.run(["show", "\(theirs)"], env: ["STINT_SESSION": "mine"])
        #expect(viaEnvironment.status == 3)
        #expect(try stint.show(theirs).state == .running)
        let listed = try stint.run("--session", "mine", "ls", "-o", "json").data([JobView].self)
        #expect(listed.map(\.id) == [mine])
        #expect(try stint.run("--session", "mine", "wait", "\(mine)").status == 0)
        // A job added by a scoped client joins its session.
        let added = try stint.run(["add", "-p", "true"], env: ["STINT_SESSION": "mine"])
        let addedID = try #require(Int64(added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try stint.show(addedID).session == "mine")
        // Notifications of another session stay out of reach.
        #expect(try stint.run("stop", "\(theirs)").status == 0)
        let theirNotification = try #require(try notifications(stint, session: "theirs").notifications.first)
        #expect(try stint.run("--session", "mine", "notifications", "--session", "theirs", "-o", "json").data(NotificationList.self).notifications.allSatisfy { $0.session == "theirs" } == true)
        let ack = try stint.run("--session", "mine", "ack", "\(theirNotification.id)")
        #expect(ack.status == 3)
        #expect(try notifications(stint, session: "theirs").notifications.count == 1)
        // A queue's hooks are hidden from a scoped client.
        #expect(try stint.run("queue", "set", "default", "--notify", "http://127.0.0.1:9/secret-token").status == 0)
        let seen = try stint.run("--session", "mine", "queue", "ls", "-o", "json").data([QueueView].self)
        #expect(seen.first { $0.name == "default" }?.notify == "(hidden)")
        #expect(try stint.run("queue", "set", "default", "--notify", "").status == 0)
        // Queue changes and prune are refused to a scoped client.
        #expect(try stint.run("--session", "mine", "prune").status != 0)
        #expect(try stint.run("--session", "mine", "queue", "pause", "default").status != 0)
    }

    @Test("wait --until: output, idle, stall, and the job's end, each with its reason and exit code")
    func waitUntil() throws {
        let stint = try StintHarness()
        let server = try stint.add("--", "sh", "-c", "echo booting; sleep 0.3; echo 'listening on :8080'; sleep 30")
        let matched = try stint.run("wait", "\(server)", "--until", "output:listening on :[0-9]+", "-o", "json")
        #expect(matched.status == 0)
        let response = try matched.data(WaitResponse.self)
        #expect(response.reason == .matched)
        #expect(response.match == "listening on :8080")
        let idle = try stint.run("wait", "\(server)", "--until", "idle:0.5s", "-o", "json")
        #expect(idle.status == 0)
        #expect(try idle.data(WaitResponse.self).reason == .idle)
        let timedOut = try stint.run("wait", "\(server)", "--until", "output:never printed", "--timeout", "0.5", "-o", "json")
        #expect(timedOut.status == 75)
        #expect(try timedOut.data(WaitResponse.self).reason == .waitTimeout)
        #expect(try stint.run("stop", "\(server)").status == 0)
        // A job that ends before the condition: its end is the reason.
        let quick = try stint.add("--", "sh", "-c", "exit 5")
        let ended = try stint.run("wait", "\(quick)", "--until", "output:nothing", "-o", "json")
        #expect(ended.status == 5)
        #expect(try ended.data(WaitResponse.self).reason == .failed)
        let prompt = try stint.add("--stall-after", "0.5", "--", "sh", "-c", "printf 'Password: '; sleep 30")
        let stalled = try stint.run("wait", "\(prompt)", "--until", "stall", "--timeout", "20", "-o", "json")
        #expect(stalled.status == 0)
        #expect(try stalled.data(WaitResponse.self).reason == .stalled)
        #expect(try stint.run("stop", "\(prompt)").status == 0)
        let succeeded = try stint.add("true")
        let plain = try stint.run("wait", "\(succeeded)", "-o", "json")
        #expect(try plain.data(WaitResponse.self).reason == .succeeded)
        let bad = try stint.run("wait", "\(succeeded)", "--until", "later")
        #expect(bad.status == 64)
    }

    @Test("a stall of a session's job is notified once")
    func stallNotified() throws {
        let stint = try StintHarness()
        let id = try stint.add("--session", "s", "--stall-after", "0.3", "--", "sh", "-c", "printf 'Continue? [y/N] '; sleep 30")
        #expect(try stint.eventually(15) { try notifications(stint, session: "s").notifications.contains { $0.kind == .stalled } })
        usleep(1_500_000)
        let stalls = try notifications(stint, session: "s").notifications.filter { $0.kind == .stalled }
        #expect(stalls.count == 1)
        #expect(stalls.first?.job == id)
        #expect(stalls.first?.message?.contains("Continue? [y/N]") == true)
        #expect(try stint.run("stop", "\(id)").status == 0)
    }

    @Test("the breaker opening is notified to the session of the job that opened it")
    func breakerNotified() throws {
        let stint = try StintHarness()
        #expect(try stint.run("queue", "set", "flaky", "--breaker-threshold", "2", "--breaker-pause", "1h").status == 0)
        let a = try stint.add("--session", "s", "--queue", "flaky", "--", "sh", "-c", "exit 75")
        #expect(try stint.run("wait", "\(a)").status == 75)
        let b = try stint.add("--session", "s", "--queue", "flaky", "--", "sh", "-c", "exit 75")
        #expect(try stint.run("wait", "\(b)").status == 75)
        let list = try notifications(stint, session: "s").notifications
        let opened = list.filter { $0.kind == .breakerOpen }
        #expect(opened.map(\.job) == [b])
        #expect(opened.first?.queue == "flaky")
    }

    @Test("notifications --watch streams pending then new ones and resumes across a daemon restart")
    func watchResumes() throws {
        let stint = try StintHarness()
        let first = try stint.add("--session", "w", "--", "true")
        #expect(try stint.run("wait", "\(first)").status == 0)
        let output = stint.home + "/watch.out"
        FileManager.default.createFile(atPath: output, contents: nil)
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: stint.binary)
        watcher.arguments = ["notifications", "--watch", "--session", "w"]
        watcher.environment = stint.environment
        watcher.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        watcher.standardError = FileHandle.nullDevice
        try watcher.run()
        defer {
            // SIGKILL: a test runner's threads may block SIGTERM, and children inherit that.
            kill(watcher.processIdentifier, SIGKILL)
            watcher.waitUntilExit()
        }
        func streamed() -> [NotificationView] {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { try? StintJSON.decoder().decode(NotificationView.self, from: Data($0.utf8)) }
        }
        #expect(try stint.eventually { streamed().map(\.job) == [first] })
        let second = try stint.add("--session", "w", "--", "sh", "-c", "exit 2")
        _ = try stint.add("--session", "elsewhere", "--", "true")
        #expect(try stint.eventually { streamed().map(\.job) == [first, second] })
        #expect(try stint.run("daemon", "stop").status == 0)
        try stint.startDaemon(parallel: 2)
        let third = try stint.add("--session", "w", "--", "true")
        #expect(try stint.eventually(15) { streamed().map(\.job) == [first, second, third] })
        #expect(streamed().map(\.id) == streamed().map(\.id).sorted())
    }

    @Test("a session's outbox keeps at most --notification-cap pending and says how many it dropped")
    func capDropsOldest() throws {
        let stint = try StintHarness(daemonArguments: ["--notification-cap", "3"])
        var ids: [Int64] = []
        for _ in 0..<5 { ids.append(try stint.add("--session", "c", "--", "true")) }
        #expect(try stint.run(["wait"] + ids.map(String.init)).status == 0)
        let list = try notifications(stint, session: "c")
        #expect(list.notifications.map(\.job) == Array(ids.suffix(3)))
        #expect(list.dropped == 2)
        let text = try stint.run("notifications", "--session", "c").stdout
        #expect(text.contains("2 older notifications were dropped"))
    }

    @Test("summary: running jobs with their last line, ended ones to acknowledge, bounded and stable")
    func summary() throws {
        let stint = try StintHarness(parallel: 16)
        let done = try stint.add("--session", "s", "--label", "description=unit tests", "--", "sh", "-c", "echo ok; exit 1")
        #expect(try stint.run("wait", "\(done)").status == 1)
        var running: [Int64] = []
        for index in 0..<12 {
            running.append(try stint.add("--session", "s", "--", "sh", "-c", "echo step \(index); sleep 30"))
        }
        #expect(try stint.eventually { try stint.run("--session", "s", "ls", "--state", "running", "-o", "json").data([JobView].self).count == 12 })
        #expect(try stint.eventually {
            try stint.run("--session", "s", "summary", "-o", "json").data(SummaryView.self).active.allSatisfy { $0.lastLine != nil }
        })
        let summary = try stint.run("--session", "s", "summary", "-o", "json").data(SummaryView.self)
        #expect(summary.active.count == SummaryView.maxEntries)
        #expect(summary.active.map(\.id) == Array(running.prefix(SummaryView.maxEntries)))
        #expect(summary.active.first?.lastLine == "step 0")
        #expect(summary.ended.map(\.id) == [done])
        #expect(summary.ended.first?.title == "unit tests")
        #expect(summary.ended.first?.exitCode == 1)
        #expect(summary.omitted == 2)
        #expect(summary.text.count <= SummaryView.maxCharacters)
        #expect(summary.text.contains("2 more"))
        let text = try stint.run("--session", "s", "summary").stdout
        #expect(text.split(separator: "\n").first == summary.text.split(separator: "\n").first)
        #expect(text.split(separator: "\n").count == summary.text.split(separator: "\n").count)
        #expect(try stint.run("--session", "other", "summary", "-o", "json").data(SummaryView.self).active.isEmpty)
        #expect(try stint.run(["stop"] + running.map(String.init)).status == 0)
    }
}
