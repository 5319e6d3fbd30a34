import Foundation
import Testing

@testable import StintRunner

/// Which processes count as a dead shim's leftovers: the rule, on hand-made process tables.
@Suite("LeftoverProcesses")
struct LeftoverProcessesTests {
    typealias Entry = LeftoverProcesses.Entry

    /// A job whose shim was pid 100 (started at tick 5000) and whose command was pid 101.
    static let record = JobProcesses(shimPid: 100, shimStart: "5000", commandPid: 101, commandStart: "5001")

    static func process(
        _ pid: Int32, parent: Int32 = 1, group: Int32, session: Int32, start: UInt64 = 6000, state: Character = "S"
    ) -> Entry {
        Entry(pid: pid, state: state, parent: parent, group: group, session: session, start: start)
    }

    static func select(_ table: [Entry], record: JobProcesses? = record, excluding: Set<Int32> = [1]) -> [Int32] {
        LeftoverProcesses.select(in: table, shimPid: 100, record: record, excluding: excluding)
    }

    @Test("the session, the group, the command and their descendants are the job's; nothing else")
    func members() {
        let table = [
            Self.process(1, parent: 0, group: 1, session: 1, start: 1),
            Self.process(101, group: 101, session: 100, start: 5001),  // the command
            Self.process(102, parent: 101, group: 101, session: 100),  // a child
            Self.process(103, parent: 1, group: 103, session: 100),  // left the group, not the session
            Self.process(104, parent: 1, group: 101, session: 104),  // left the session, not the group
            Self.process(105, parent: 104, group: 105, session: 105),  // setsid child of a member
            Self.process(200, parent: 1, group: 200, session: 200),  // a stranger
            Self.process(201, parent: 200, group: 200, session: 200),  // and its child
        ]
        #expect(Self.select(table) == [101, 102, 103, 104, 105])
    }

    @Test("without a pid file only the shim's session is known")
    func sessionOnly() {
        let table = [
            Self.process(101, group: 101, session: 100, start: 5001),
            Self.process(104, parent: 1, group: 101, session: 104),
        ]
        #expect(Self.select(table, record: nil) == [101])
    }

    @Test("a live process bearing the shim's pid makes the session someone else's")
    func reusedShimPid() {
        let table = [
            Self.process(100, parent: 1, group: 100, session: 100, start: 9000),  // a new session leader
            Self.process(150, parent: 100, group: 100, session: 100, start: 9001),
        ]
        #expect(Self.select(table).isEmpty)
    }

    @Test("a live process bearing the command's pid with another start time makes the group someone else's")
    func reusedCommandPid() {
        let table = [
            Self.process(101, parent: 1, group: 101, session: 300, start: 9000),
            Self.process(151, parent: 1, group: 101, session: 300, start: 9001),
        ]
        #expect(Self.select(table).isEmpty)
    }

    @Test("the command itself, by pid and start time, even once it has left the session and group")
    func commandByIdentity() {
        let table = [Self.process(101, parent: 1, group: 400, session: 400, start: 5001)]
        #expect(Self.select(table) == [101])
        let reused = [Self.process(101, parent: 1, group: 400, session: 400, start: 7777)]
        #expect(Self.select(reused).isEmpty)
    }

    @Test("nothing older than the shim, no zombie, never the excluded pids")
    func neverTaken() {
        let table = [
            Self.process(90, parent: 1, group: 101, session: 100, start: 4000),  // older than the shim
            Self.process(102, parent: 1, group: 101, session: 100, state: "Z"),  // already dead
            Self.process(103, parent: 1, group: 101, session: 100),  // the daemon, say
            Self.process(104, parent: 1, group: 101, session: 100),
        ]
        #expect(Self.select(table, excluding: [1, 103]) == [104])
    }

    @Test("a stat line is read by fields counted from the last ')'")
    func parsesStat() {
        let line = "4242 (odd) name) S 7 4242 4200 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 987654 0 0"
        let entry = LeftoverProcesses.entry(pid: 4242, stat: line)
        #expect(entry == Entry(pid: 4242, state: "S", parent: 7, group: 4242, session: 4200, start: 987654))
    }

    @Test("the report says what was found")
    func summary() {
        let none = LeftoverProcesses.Report(killed: [], survivors: [])
        #expect(none.summary == "no process of the job was left")
        let three = LeftoverProcesses.Report(killed: [1234, 1235, 1240], survivors: [])
        #expect(three.summary == "killed 3 leftover processes of the job: 1234, 1235, 1240")
        let stuck = LeftoverProcesses.Report(killed: [7], survivors: [7])
        #expect(stuck.summary == "killed 1 leftover process of the job: 7; 1 leftover process still running after SIGKILL, so it is not retried: 7")
    }

    @Test("a shim's wait status says why there is no exit record")
    func shimExitStatus() {
        #expect(ShimExitStatus.describe(nil) == "the shim died (no exit record)")
        #expect(ShimExitStatus.describe(ShimExitStatus(raw: 9)) == "the shim died (no exit record; it got signal 9)")
        #expect(ShimExitStatus.describe(ShimExitStatus(raw: 74 << 8)) == "the shim could not write its exit record (it exited with status 74)")
        #expect(ShimExitStatus.describe(ShimExitStatus(raw: 71 << 8)) == "the shim exited with status 71 without an exit record")
    }
}

extension LeftoverProcessesTests {
    @Test("an orphan the shim adopted is the job's by pid and start time, with its children; a reused pid is not")
    func adopted() {
        var record = Self.record
        record.adopted = [300: "6000", 301: "6100"]
        let table = [
            Self.process(300, parent: 1, group: 300, session: 300, start: 6000),  // a setsid daemon
            Self.process(302, parent: 300, group: 300, session: 300),  // its worker
            Self.process(301, parent: 1, group: 301, session: 301, start: 9999),  // 301 reused since
        ]
        #expect(Self.select(table, record: record) == [300, 302])
    }
}

extension LeftoverProcessesTests {
    @Test("pids recorded before the last boot are never looked for")
    func recordedBeforeBoot() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stint-lost-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Pids that are surely live now: this process as the "command", its session as the "shim's".
        try "\(getsid(0)) \(getpid()) 1 1\n".write(toFile: folder + "/pid", atomically: true, encoding: .utf8)
        let boot = try #require(LostAttempt.bootTime())
        try FileManager.default.setAttributes([.modificationDate: boot.addingTimeInterval(-60)], ofItemAtPath: folder + "/pid")
        let lost = await LostAttempt.investigate(ShimHandle(runDirectory: folder), shimPid: nil, missing: "gone")
        #expect(lost.message == "gone; the machine restarted since, so no process of the job was left")
        #expect(lost.report?.killed == [])
        #expect(lost.mayRetry)
    }
}
