import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Three daemons as separate nodes (own state folders and `--node` names) sharing one
/// PostgreSQL database, as on three hosts. Serialized: one test restarts the server.
@Suite("Many hosts: daemons sharing a PostgreSQL store", .serialized, .enabled(if: StintCluster.server != nil))
struct ClusterTests {
    /// The counts per state that node `index`'s daemon reports (every node's jobs).
    func counts(_ cluster: StintCluster, _ index: Int = 0) throws -> [String: Int] {
        let result = try cluster.nodes[index].run("daemon", "status", "-o", "json")
        return try result.data(DaemonStatus.self).counts
    }

    @Test("2,000 jobs added through three nodes drain with every job run exactly once, on every node")
    func drain() throws {
        let cluster = try StintCluster(count: 3, parallel: 4)
        let ran = cluster.nodes[0].home + "/ran"
        let per = [667, 667, 666]
        var ids: [Int64] = []
        for (index, count) in per.enumerated() {
            let file = cluster.nodes[index].home + "/jobs.txt"
            let line = "echo \"$STINT_JOB_ID $STINT_ATTEMPT\" >> \(ran)\n"
            try String(repeating: line, count: count).write(toFile: file, atomically: true, encoding: .utf8)
            let added = try cluster.nodes[index].run("add", "--from", file)
            #expect(added.status == 0, "\(added.stderr)")
            ids += added.stdout.split(separator: "\n").compactMap { Int64($0) }
        }
        #expect(ids.count == 2000 && Set(ids).count == 2000)
        #expect(try cluster.nodes[0].eventually(240) { try counts(cluster)["succeeded"] == 2000 })
        let lines = try String(contentsOfFile: ran, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2000, "each job ran exactly once")
        #expect(Set(lines.map { $0.split(separator: " ")[0] }).count == 2000)
        #expect(lines.allSatisfy { $0.hasSuffix(" 1") }, "no job needed a second attempt")
        // Every node took part.
        let byNode = try StintCluster.psql(cluster.url, "SELECT string_agg(DISTINCT host, ',' ORDER BY host) FROM attempts")
        #expect(byNode == "node1,node2,node3")
        for index in 0..<3 { #expect(try counts(cluster, index)["succeeded"] == 2000) }
    }

    @Test("a node SIGKILLed with its jobs has its attempts rescued within lease + heartbeat, lost, and retried elsewhere")
    func rescue() throws {
        let cluster = try StintCluster(count: 3, parallel: 2)
        // Node 1 takes its two jobs at once (it has two free slots); the others stay idle.
        let ids = try (0..<2).map { _ in try cluster.nodes[0].add("--retries", "1", "--", "sleep", "30") }
        #expect(try cluster.nodes[0].eventually { try ids.allSatisfy { try cluster.nodes[0].show($0).state == .running } })
        for id in ids { #expect(try cluster.nodes[1].show(id).attemptList?.first?.node == "node1") }
        cluster.killNode(0)
        let killed = Date()
        let observer = cluster.nodes[1]
        #expect(try observer.eventually(15) { try ids.allSatisfy { try observer.show($0).attemptList?.first?.endedAt != nil } })
        let rescuedIn = Date().timeIntervalSince(killed)
        // Rescued within lease + heartbeat of the death (and this test's 20 ms polling).
        #expect(rescuedIn <= StintCluster.lease + StintCluster.heartbeat + 0.5, "rescued after \(rescuedIn) s")
        #expect(rescuedIn >= StintCluster.lease - StintCluster.heartbeat - 0.1, "rescued too early: \(rescuedIn) s")
        for id in ids {
            let first = try #require(try observer.show(id).attemptList?.first)
            #expect(first.reason == .lost)
            #expect(first.message?.contains("node1") == true, "\(first.message ?? "")")
        }
        // Retried on a live node (after the retry's backoff), never on the dead one.
        #expect(try observer.eventually(20) { try ids.allSatisfy { try observer.show($0).attemptList?.count == 2 } })
        for id in ids {
            let second = try #require(try observer.show(id).attemptList?.last)
            #expect(["node2", "node3"].contains(second.node))
            #expect(second.endedAt == nil)
        }
        let nodes = try observer.run("nodes", "-o", "json").data(NodesResponse.self)
        #expect(nodes.shared)
        #expect(nodes.nodes.map(\.node) == ["node1", "node2", "node3"])
        let down = nodes.nodes.filter { !$0.alive }.map(\.node)
        #expect(down == ["node1"])
        #expect(try observer.run("nodes").stdout.contains("DOWN"))
        #expect(try observer.run("stop", String(ids[0]), String(ids[1])).status == 0)
    }

    @Test("a queue's concurrency of 2 holds across three nodes")
    func concurrencyAcrossNodes() throws {
        let cluster = try StintCluster(count: 3, parallel: 4)
        #expect(try cluster.nodes[0].run("queue", "set", "narrow", "--concurrency", "2").status == 0)
        let spans = cluster.nodes[0].home + "/spans"
        var ids: [Int64] = []
        for index in 0..<12 {
            let node = cluster.nodes[index % 3]
            ids.append(
                try node.add(
                    "--queue", "narrow", "--", "sh", "-c",
                    "echo \"start $(date +%s.%N)\" >> \(spans); sleep 0.3; echo \"end $(date +%s.%N)\" >> \(spans)"))
        }
        // Sampled too, from the store's side: never more than two running.
        var most = 0
        let observer = cluster.nodes[1]
        while try ids.contains(where: { try !observer.show($0).state.isTerminal }) {
            let running = try observer.run("ls", "--queue", "narrow", "--state", "running", "-o", "json").data([JobView].self)
            most = max(most, running.count)
            usleep(30_000)
        }
        #expect(most <= 2 && most >= 1, "sampled \(most) running")
        // Exactly, from the jobs' own clocks: the most that overlapped.
        var events: [(Double, Int)] = []
        for line in try String(contentsOfFile: spans, encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let time = Double(parts[1]) else { continue }
            events.append((time, parts[0] == "start" ? 1 : -1))
        }
        #expect(events.count == 24)
        var overlap = 0
        var peak = 0
        for (_, step) in events.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
            overlap += step
            peak = max(peak, overlap)
        }
        #expect(peak == 2, "at most 2 at once, and 2 reached: \(peak)")
        for id in ids { #expect(try observer.show(id).state == .succeeded) }
    }

    @Test("a schedule fires once per fire time cluster-wide, on the leader; when the leader dies, another takes over")
    func schedulesOnceAcrossNodes() throws {
        let cluster = try StintCluster(count: 3, parallel: 2)
        #expect(try cluster.nodes[2].run("schedule", "add", "tick", "--every", "1s", "--overlap", "allow", "--", "true").status == 0)
        func fireTimes(_ node: StintHarness) throws -> [String] {
            try node.run("ls", "-o", "json", "--limit", "1000").data([JobView].self)
                .compactMap { $0.labels[ScheduleRules.fireTimeLabel] }
        }
        #expect(try cluster.nodes[0].eventually(15) { try fireTimes(cluster.nodes[0]).count >= 4 })
        let nodes = try cluster.nodes[0].run("nodes", "-o", "json").data(NodesResponse.self).nodes
        let leader = try #require(nodes.first { $0.roles.contains("maintenance") }, "no leader: \(nodes)")
        let index = try #require((0..<3).first { cluster.name($0) == leader.node })
        let survivor = cluster.nodes[(index + 1) % 3]
        cluster.killNode(index)
        let before = try fireTimes(survivor).count
        // The role's lease passes, another node takes it at a heartbeat and fires at its next poll.
        #expect(try survivor.eventually(StintCluster.lease + 10) { try fireTimes(survivor).count >= before + 3 })
        let all = try fireTimes(survivor)
        #expect(Set(all).count == all.count, "a fire time created two jobs: \(all.sorted())")
    }

    @Test("20 concurrent adds with one --unique key from three nodes give one job")
    func uniqueAcrossNodes() throws {
        let cluster = try StintCluster(count: 3, parallel: 2)
        var launched: [StintHarness.Invocation] = []
        for index in 0..<20 {
            launched.append(
                try cluster.nodes[index % 3].start(["add", "-p", "--unique", "nightly", "--hold", "--", "sleep", "1"]))
        }
        let ids = try launched.map { invocation -> Int64? in
            let result = try invocation.collect()
            return Int64(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(ids.allSatisfy { $0 != nil })
        #expect(Set(ids.compactMap { $0 }).count == 1, "\(ids)")
        #expect(try cluster.nodes[2].run("ls", "-o", "json").data([JobView].self).count == 1)
    }

    @Test("after the breaker's pause, exactly one probe runs cluster-wide; its success closes the breaker")
    func probeOnceAcrossNodes() throws {
        let cluster = try StintCluster(count: 3, parallel: 3)
        #expect(
            try cluster.nodes[0].run(
                "queue", "set", "flaky", "--breaker-threshold", "1", "--breaker-pause", "2s", "--concurrency", "6"
            ).status == 0)
        let failing = try cluster.nodes[0].add("--queue", "flaky", "--", "sh", "-c", "exit 75")
        #expect(try cluster.nodes[0].eventually { try cluster.nodes[0].show(failing).state == .failed })
        #expect(try cluster.nodes[0].queue("flaky").breaker.state == .open)
        let starts = cluster.nodes[0].home + "/starts"
        var ids: [Int64] = []
        for index in 0..<9 {
            ids.append(
                try cluster.nodes[index % 3].add(
                    "--queue", "flaky", "--", "sh", "-c", "echo \"$STINT_JOB_ID $(date +%s.%N)\" >> \(starts); sleep 0.5"))
        }
        let observer = cluster.nodes[2]
        #expect(try observer.eventually(30) { try ids.allSatisfy { try observer.show($0).state == .succeeded } })
        let probe = try observer.events(queue: "flaky").first { $0.kind == "breaker_half_open" }
        #expect(probe != nil)
        // The first job started alone: every other started after it ended.
        let views = try ids.map { try observer.show($0) }
        let first = try #require(views.min { ($0.startedAt ?? .distantFuture) < ($1.startedAt ?? .distantFuture) })
        let firstEnded = try #require(first.endedAt)
        for view in views where view.id != first.id {
            #expect(try #require(view.startedAt) >= firstEnded, "job \(view.id) started while the probe ran")
        }
        #expect(try observer.queue("flaky").breaker.state == .closed)
        #expect(try String(contentsOfFile: starts, encoding: .utf8).split(separator: "\n").count == 9)
    }

    @Test("each job's command hook runs once across three nodes; one node holds the maintenance role")
    func hooksOnceAcrossNodes() throws {
        let cluster = try StintCluster(count: 3, parallel: 2)
        let hooks = cluster.nodes[0].home + "/hooks"
        var ids: [Int64] = []
        for index in 0..<9 {
            ids.append(
                try cluster.nodes[index % 3].add(
                    "--on-end", "echo \"$STINT_JOB_ID $STINT_STATE\" >> \(hooks)", "--", "sh", "-c", "exit \(index % 2)"))
        }
        let observer = cluster.nodes[1]
        #expect(try observer.eventually(20) { try ids.allSatisfy { try observer.show($0).state.isTerminal } })
        #expect(try observer.eventually(20) {
            ((try? String(contentsOfFile: hooks, encoding: .utf8)) ?? "").split(separator: "\n").count >= 9
        })
        // Every daemon has had time to look at the deliveries (each pokes its worker, and the
        // others poll): none is sent twice.
        usleep(1_500_000)
        let lines = try String(contentsOfFile: hooks, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 9, "\(lines)")
        #expect(Set(lines.compactMap { $0.split(separator: " ").first.flatMap { Int64($0) } }) == Set(ids))
        let nodes = try observer.run("nodes", "-o", "json").data(NodesResponse.self).nodes
        #expect(nodes.filter { $0.roles.contains("maintenance") }.count == 1, "\(nodes.map { ($0.node, $0.roles) })")
    }

    @Test("stop and logs -f from node 2 on a job that node 1 runs; a down node's log is a clear error")
    func controlFromAnotherNode() throws {
        let cluster = try StintCluster(count: 2, parallel: 2)
        let id = try cluster.nodes[0].add("--", "sh", "-c", "for i in $(seq 1 300); do echo line $i; sleep 0.1; done")
        #expect(try cluster.nodes[0].eventually { try cluster.nodes[0].show(id).state == .running })
        #expect(try cluster.nodes[1].show(id).attemptList?.first?.node == "node1")
        let follow = try cluster.nodes[1].start(["logs", "-f", String(id)])
        #expect(try cluster.nodes[1].eventually { follow.stdoutSoFar.contains("line 3\n") })
        let stopped = try cluster.nodes[1].run("stop", String(id))
        #expect(stopped.status == 0, "\(stopped.stderr)")
        #expect(try cluster.nodes[1].eventually { try cluster.nodes[1].show(id).state == .cancelled })
        let followed = try follow.collect()
        #expect(followed.status == 0, "\(followed.stderr)")
        #expect(followed.stdout.hasPrefix("line 1\nline 2\nline 3\n"))
        // The job's processes on node 1 are gone.
        #expect(try cluster.nodes[0].eventually { cluster.nodes[0].processes(job: id).isEmpty })
        // Its log, read from node 2, once node 1 is down: an error that names node 1.
        cluster.killNode(0)
        #expect(try cluster.nodes[1].eventually(10) {
            try cluster.nodes[1].run("nodes", "-o", "json").data(NodesResponse.self).nodes.first?.alive == false
        })
        let log = try cluster.nodes[1].run("logs", String(id))
        #expect(log.status == 5, "\(log.stdout) \(log.stderr)")
        #expect(log.stderr.contains("node1"), "\(log.stderr)")
    }

    @Test("while the server is down, requests answer E_UNAVAILABLE naming the store (password masked); after it is back, and after a restart, the daemons go on")
    func serverDownAndRestart() throws {
        guard let folder = ProcessInfo.processInfo.environment["STINT_TEST_POSTGRES_DIR"] else { return }
        let cluster = try StintCluster(count: 2, parallel: 2, password: "hunter2")
        let before = try cluster.nodes[0].add("--", "true")
        #expect(try cluster.nodes[0].eventually { try cluster.nodes[0].show(before).state == .succeeded })
        let running = try cluster.nodes[1].add("--", "sleep", "3")
        #expect(try cluster.nodes[1].eventually { try cluster.nodes[1].show(running).state == .running })
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/pg-cluster").path

        #expect(StintCluster.runAndWait([script, "halt", folder]) == 0)
        let refused = try cluster.nodes[0].run("add", "--", "true")
        #expect(refused.status == 5, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.stderr.contains("postgres://stint:***@127.0.0.1"), "\(refused.stderr)")
        let shown = try cluster.nodes[0].run("ls", "-o", "json")
        #expect(shown.status == 5)
        #expect(try shown.error().code == .unavailable)
        #expect(StintCluster.runAndWait([script, "resume", folder]) == 0)

        // The running job's end, which came while the server was down, is recorded once it is back.
        #expect(try cluster.nodes[1].eventually(30) { (try? cluster.nodes[1].show(running).state) == .succeeded })
        #expect(StintCluster.runAndWait([script, "restart", folder]) == 0)
        let after = try (0..<2).map { index in try cluster.nodes[index].add("--", "true") }
        for id in after { #expect(try cluster.nodes[0].eventually(20) { try cluster.nodes[0].show(id).state == .succeeded }) }
        for node in cluster.nodes {
            #expect(node.daemon?.isRunning == true)
            #expect(!node.daemonLog.contains("hunter2"), "the password never reaches the log")
        }
    }

    @Test("a store that cannot be reached: the daemon keeps trying with backoff, logging the URL with its password masked")
    func unreachableAtStart() throws {
        let node = try StintHarness(start: false)
        let url = "postgres://stint:hunter2@127.0.0.1:\(StintCluster.freePort())/nowhere"
        let daemon = try node.start(["daemon", "--store", url])
        // Tried again, and again later: 0.5 s, then 1 s, …
        #expect(try node.eventually(10) { daemon.stderrSoFar.components(separatedBy: "trying again in").count > 3 })
        #expect(daemon.stderrSoFar.contains("trying again in 500ms") && daemon.stderrSoFar.contains("trying again in 1.0s"))
        #expect(daemon.stderrSoFar.contains("postgres://stint:***@127.0.0.1:"), "\(daemon.stderrSoFar)")
        #expect(!daemon.stderrSoFar.contains("hunter2"))
        #expect(try node.run("daemon", "status").status == 5, "not serving until the store answers")
        kill(daemon.pid, SIGTERM)
        _ = try daemon.collect()
        for bad in ["postgres://nouser@", "postgres://@host/db", "postgres://u@host:99999/db", "postgres://u@host/db?sslmode=require"] {
            let result = try node.run("daemon", "--store", bad)
            #expect(result.status == 64, "\(bad): \(result.stderr)")
            #expect(result.stderr.contains("--store"), "\(result.stderr)")
        }
        let lease = try node.run("daemon", "--heartbeat", "5s", "--lease", "2s")
        #expect(lease.status == 64)
        #expect(lease.stderr.contains("--lease"))
    }
}
