import Foundation
import StintCore
import StintEngine
import StintStore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The delivery worker against a real store and real receivers: an HTTP server on
/// 127.0.0.1 and `/bin/sh` hooks. Time is a manual clock: backoffs pass by `advance`,
/// never by sleeping.
@Suite("DeliveryWorker")
struct DeliveryWorkerTests {
    typealias Reply = WebhookServer.Reply

    @Test("503, 503, 200: delivered on the third attempt, at the documented times")
    func webhookRetriedUntilDelivered() async throws {
        try await DeliveryFixture.with { fixture in
            let server = try await fixture.startServer(["hook": [Reply(status: 503), Reply(status: 503), Reply(status: 200)]])
            let id = try await fixture.endedJob(notify: server.url("hook"))
            let worker = fixture.worker()
            let start = fixture.clock.now()

            // Step the clock one second at a time and note when each request arrives.
            var arrivedAt: [Double] = []
            var next = await worker.runDue()
            for _ in 0..<200 {
                if server.arrivals.count > arrivedAt.count {
                    arrivedAt.append(fixture.clock.now().timeIntervalSince(start))
                }
                guard next != nil else { break }
                fixture.clock.advance(1)
                next = await worker.runDue()
            }
            #expect(next == nil)
            #expect(arrivedAt == [0, 30, 90])
            #expect(arrivedAt == DeliveryPolicy().schedule)

            let delivery = try await fixture.delivery(of: id)
            #expect(delivery.status == .success)
            #expect(delivery.attempts == 3)
            #expect(server.arrivals.count == 3)

            let first = try #require(server.arrivals.first)
            #expect(first.headers["content-type"] == "application/json")
            #expect(first.headers["stint-delivery"] == String(delivery.id))
            #expect(first.headers["stint-event"] == "ended")
            #expect(Set(server.arrivals.map { $0.headers["stint-delivery"] }) == [String(delivery.id)])
            let payload = try StintJSON.decoder().decode(NotificationView.self, from: Data(first.body.utf8))
            #expect(payload.job == id)
            #expect(payload.kind == .ended)
            #expect(payload.state == .succeeded)
            #expect(payload.exitCode == 0)
            #expect(payload.tail == ["all tests passed"])
            #expect(fixture.deliveriesMetric(status: "success", channel: "webhook") == 1)
        }
    }

    @Test("a 404 is permanent: one attempt, never retried")
    func notFoundIsPermanent() async throws {
        try await DeliveryFixture.with { fixture in
            let server = try await fixture.startServer(["hook": [Reply(status: 404)]])
            let id = try await fixture.endedJob(notify: server.url("hook"), exitCode: 2)
            let worker = fixture.worker()

            #expect(await worker.runDue() == nil)
            fixture.clock.advance(3600)
            #expect(await worker.runDue() == nil)

            #expect(server.arrivals.count == 1)
            let delivery = try await fixture.delivery(of: id)
            #expect(delivery.status == .permanent)
            #expect(delivery.attempts == 1)
            #expect(delivery.lastError?.hasPrefix("HTTP 404") == true)
            #expect(fixture.deliveriesMetric(status: "permanent", channel: "webhook") == 1)
            #expect(fixture.deliveriesMetric(status: "success", channel: "webhook") == 0)
        }
    }

    @Test("a 3xx is permanent: redirects are not followed")
    func redirectIsPermanent() async throws {
        try await DeliveryFixture.with { fixture in
            let server = try await fixture.startServer(["hook": [Reply(status: 301)]])
            let id = try await fixture.endedJob(notify: server.url("hook"))
            #expect(await fixture.worker().runDue() == nil)
            let delivery = try await fixture.delivery(of: id)
            #expect(delivery.status == .permanent)
            #expect(server.arrivals.count == 1)
        }
    }

    @Test("Retry-After longer than the backoff is honoured")
    func retryAfterHonoured() async throws {
        try await DeliveryFixture.with { fixture in
            let server = try await fixture.startServer(["hook": [Reply(status: 429, retryAfter: "120"), Reply(status: 200)]])
            let id = try await fixture.endedJob(notify: server.url("hook"))
            let worker = fixture.worker()
            let start = fixture.clock.now()

            #expect(await worker.runDue() == start.addingTimeInterval(120))
            fixture.clock.advance(30)  // the plain backoff would go now
            #expect(await worker.runDue() == start.addingTimeInterval(120))
            #expect(server.arrivals.count == 1)
            fixture.clock.advance(90)
            #expect(await worker.runDue() == nil)
            #expect(server.arrivals.count == 2)
            #expect(try await fixture.delivery(of: id).status == .success)
        }
    }

    @Test("connection refused is transient, and exhausted after 3 attempts")
    func connectionRefusedExhausts() async throws {
        try await DeliveryFixture.with { fixture in
            let port = try await WebhookServer.closedPort()
            let id = try await fixture.endedJob(notify: "http://127.0.0.1:\(port)/hook")
            let worker = fixture.worker()
            let start = fixture.clock.now()

            #expect(await worker.runDue() == start.addingTimeInterval(30))
            var delivery = try await fixture.delivery(of: id)
            #expect(delivery.status == .pending)
            #expect(delivery.attempts == 1)
            #expect(delivery.lastError?.hasPrefix("cannot connect") == true, "\(delivery.lastError ?? "")")

            fixture.clock.advance(30)
            #expect(await worker.runDue() == start.addingTimeInterval(90))
            fixture.clock.advance(60)
            #expect(await worker.runDue() == nil)
            delivery = try await fixture.delivery(of: id)
            #expect(delivery.status == .exhausted)
            #expect(delivery.attempts == 3)
            #expect(fixture.deliveriesMetric(status: "exhausted", channel: "webhook") == 1)
        }
    }

    @Test("a restart mid-backoff: a new worker over the same store file delivers what is pending")
    func restartMidBackoff() async throws {
        try await DeliveryFixture.with { fixture in
            let server = try await fixture.startServer(["hook": [Reply(status: 503), Reply(status: 200)]])
            let id = try await fixture.endedJob(notify: server.url("hook"))
            let start = fixture.clock.now()
            #expect(await fixture.worker().runDue() == start.addingTimeInterval(30))

            // The old worker is gone; a new daemon opens the same file.
            let reopened = JobLedger(try SQLiteJobStore(path: fixture.paths.database))
            let worker = fixture.worker(store: reopened)
            #expect(await worker.runDue() == start.addingTimeInterval(30))
            #expect(server.arrivals.count == 1)
            fixture.clock.advance(30)
            #expect(await worker.runDue() == nil)

            let delivery = try await fixture.delivery(of: id)
            #expect(delivery.status == .success)
            #expect(delivery.attempts == 2)
            #expect(server.arrivals.map { $0.headers["stint-delivery"] } == [String(delivery.id), String(delivery.id)])
        }
    }

    @Test("deliveries of several jobs go out in one round")
    func severalJobs() async throws {
        try await DeliveryFixture.with { fixture in
            let server = try await fixture.startServer()
            var ids: [Int64] = []
            for _ in 0..<6 { ids.append(try await fixture.endedJob(notify: server.url("hook"))) }
            #expect(await fixture.worker().runDue() == nil)
            #expect(server.arrivals.count == 6)
            for id in ids { #expect(try await fixture.delivery(of: id).status == .success) }
        }
    }

    // MARK: - Command hooks

    @Test("a command hook sees the job in STINT_* variables and the notification on stdin, in the state folder")
    func commandHookEnvironment() async throws {
        try await DeliveryFixture.with { fixture in
            let hook = """
                printf '%s|' "$STINT_JOB_ID" "$STINT_ATTEMPT" "$STINT_STATE" "$STINT_EXIT_CODE" "$STINT_REASON" \
                "$STINT_DURATION" "$STINT_QUEUE" "$STINT_SESSION" "$STINT_LOG" "$STINT_EVENT" "$STINT_DELIVERY_ATTEMPT" > env.txt
                printf '%s' "$STINT_NOTIFICATION" > notification.json
                cat > stdin.json
                """
            let id = try await fixture.endedJob(onEnd: hook, exitCode: 3)
            #expect(await fixture.worker().runDue() == nil)

            let delivery = try await fixture.delivery(of: id)
            #expect(delivery.channel == .command)
            #expect(delivery.status == .success)
            let home = fixture.paths.home
            let env = try String(contentsOfFile: home + "/env.txt", encoding: .utf8)
            #expect(env == "\(id)|1|failed|3|exited|2.500|default|agent-1|/logs/\(id).1.log|ended|1|")
            let stdin = try String(contentsOfFile: home + "/stdin.json", encoding: .utf8)
            #expect(stdin == delivery.payload)
            #expect(try String(contentsOfFile: home + "/notification.json", encoding: .utf8) == delivery.payload)
            let payload = try StintJSON.decoder().decode(NotificationView.self, from: Data(stdin.utf8))
            #expect(payload.job == id)
            #expect(payload.exitCode == 3)
            #expect(fixture.deliveriesMetric(status: "success", channel: "command") == 1)
        }
    }

    @Test("a command hook's exit 75 is retried after the backoff; another exit is permanent")
    func commandHookExitCodes() async throws {
        try await DeliveryFixture.with { fixture in
            let retried = try await fixture.endedJob(onEnd: #"[ "$STINT_DELIVERY_ATTEMPT" -ge 2 ] || exit 75"#)
            let refused = try await fixture.endedJob(onEnd: "echo 'no such channel' >&2; exit 3")
            let worker = fixture.worker()
            let start = fixture.clock.now()

            #expect(await worker.runDue() == start.addingTimeInterval(30))
            #expect(try await fixture.delivery(of: retried).status == .pending)
            let permanent = try await fixture.delivery(of: refused)
            #expect(permanent.status == .permanent)
            #expect(permanent.lastError == "exit 3: no such channel")

            fixture.clock.advance(30)
            #expect(await worker.runDue() == nil)
            let delivered = try await fixture.delivery(of: retried)
            #expect(delivered.status == .success)
            #expect(delivered.attempts == 2)
            #expect(fixture.deliveriesMetric(status: "success", channel: "command") == 1)
            #expect(fixture.deliveriesMetric(status: "permanent", channel: "command") == 1)
        }
    }

    @Test("a command hook past its timeout is killed with its whole process group, and retried")
    func commandHookTimeout() async throws {
        try await DeliveryFixture.with { fixture in
            let id = try await fixture.endedJob(onEnd: "sleep 300 & echo $! > child.pid; wait")
            let worker = fixture.worker(DeliveryPolicy(commandTimeout: 1))
            let began = ContinuousClock.now

            #expect(await worker.runDue() == fixture.clock.now().addingTimeInterval(30))
            // Far below the hook's 300 s, with room for a machine busy with the other suites.
            #expect(ContinuousClock.now - began < .seconds(60))
            let delivery = try await fixture.delivery(of: id)
            #expect(delivery.status == .pending)
            #expect(delivery.lastError?.contains("hook timeout") == true)

            let text = try String(contentsOfFile: fixture.paths.home + "/child.pid", encoding: .utf8)
            let child = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(await Self.ends(child), "the hook's background child \(child) survived")
        }
    }

    // MARK: - Shutdown

    @Test("drain sends what is due within the budget and leaves the rest pending")
    func drainWithinBudget() async throws {
        try await DeliveryFixture.with { fixture in
            let server = try await fixture.startServer([
                // The slow answer would come long after any budget (the server's stop cuts it).
                "fast": [Reply(status: 200)], "slow": [Reply(status: 200, delay: 600)],
                "later": [Reply(status: 503)],
            ])
            let later = try await fixture.endedJob(notify: server.url("later"))
            let worker = fixture.worker()
            _ = await worker.runDue()  // "later" fails once: due again in 30 s
            let fast = try await fixture.endedJob(notify: server.url("fast"))
            let slow = try await fixture.endedJob(notify: server.url("slow"))

            // Roomy enough for the fast delivery on a loaded machine. The drain must end by
            // cutting the slow attempt, not by its answer: judged by what the server sent, not
            // by a wall-clock bound that a busy machine's scheduling could break.
            await worker.drain(budget: 4)
            #expect(server.answered == ["/later", "/fast"], "the drain waited for an answer past its budget")

            #expect(try await fixture.delivery(of: fast).status == .success)
            let cut = try await fixture.delivery(of: slow)
            #expect(cut.status == .pending)
            #expect(cut.attempts == 0, "an attempt cut short by the budget is not counted")
            let waiting = try await fixture.delivery(of: later)
            #expect(waiting.status == .pending)
            #expect(waiting.attempts == 1)
        }
    }

    @Test("the loop delivers what a poke announces and ends with drain")
    func loopAndPoke() async throws {
        try await DeliveryFixture.with { fixture in
            let server = try await fixture.startServer()
            let worker = fixture.worker()
            // Awaited below, after the drain ends the loop.
            let loop = Task { await worker.run() }
            let id = try await fixture.endedJob(notify: server.url("hook"))
            worker.poke()
            let deadline = ContinuousClock.now + .seconds(10)
            while server.arrivals.isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            await worker.drain(budget: 1)
            await loop.value
            #expect(try await fixture.delivery(of: id).status == .success)
        }
    }

    /// Whether process `pid` is gone (or a zombie) within 5 s.
    static func ends(_ pid: Int32) async -> Bool {
        for _ in 0..<250 {
            if kill(pid, 0) != 0 && errno == ESRCH { return true }
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            if let close = stat.lastIndex(of: ")"), stat[stat.index(after: close)...].hasPrefix(" Z") { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}
