import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The processes a job left behind when its shim died without an exit record, found and
/// ended so that a retry never runs beside them.
///
/// Without its shim the job's tree is re-parented to init, but it keeps its ids: every
/// process that did not leave the shim's session has the shim's pid as its session id, and
/// the command's process group has the command's pid as its id. A process belongs to the
/// job when it is in that session or that group, or is the command or an orphan the shim
/// recorded as adopted (by pid and start time), or descends from one that is; and it
/// started no earlier than the shim.
///
/// Pid reuse cannot make it kill a stranger: Linux gives out no pid that is still some
/// process's session or group id, so while one process of the job is left, no new process
/// has the shim's or the command's pid. A session or group id counts only while no live
/// process other than the recorded one bears it as its pid.
public struct LeftoverProcesses: Sendable {
    /// What ending the leftovers found.
    public struct Report: Sendable, Hashable {
        /// Every process of the job found (and sent SIGKILL), in ascending pid order.
        public var killed: [Int32]
        /// Processes still there when the deadline ran out (in uninterruptible sleep, say).
        public var survivors: [Int32]

        /// Creates a report.
        public init(killed: [Int32], survivors: [Int32]) {
            self.killed = killed
            self.survivors = survivors
        }

        /// What was found, for the attempt's message: "killed 3 leftover processes of the
        /// job: 1234, 1235, 1240", or "no process of the job was left".
        public var summary: String {
            var text =
                killed.isEmpty
                ? "no process of the job was left"
                : "killed \(Self.count(killed.count)) of the job: \(killed.map(String.init).joined(separator: ", "))"
            if !survivors.isEmpty {
                text += "; \(Self.count(survivors.count)) still running after SIGKILL, so it is not retried: "
                    + survivors.map(String.init).joined(separator: ", ")
            }
            return text
        }

        private static func count(_ n: Int) -> String {
            n == 1 ? "1 leftover process" : "\(n) leftover processes"
        }
    }

    /// The shim's pid (the job's session id).
    public var shimPid: Int32
    /// What the shim recorded, when it got as far as starting the command.
    public var record: JobProcesses?

    /// Leftovers of the job whose shim was `shimPid`, with what it recorded.
    public init(shimPid: Int32, record: JobProcesses?) {
        self.shimPid = shimPid
        self.record = record
    }

    /// SIGKILLs the job's processes again and again (they may fork meanwhile) until none is
    /// left or `timeout` seconds ran out. A killed process counts as gone once it is a zombie.
    public func end(timeout: Double = 5) async -> Report {
        var killed: Set<Int32> = []
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let found = scan()
            if found.isEmpty { return Report(killed: killed.sorted(), survivors: []) }
            for pid in found {
                kill(pid, SIGKILL)
                killed.insert(pid)
            }
            guard Date() < deadline else { return Report(killed: killed.sorted(), survivors: found.sorted()) }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// One process as `/proc/PID/stat` shows it.
    struct Entry: Hashable {
        var pid: Int32
        var state: Character
        var parent: Int32
        var group: Int32
        var session: Int32
        var start: UInt64
    }

    /// The live (not zombie) processes of the job now.
    public func scan() -> [Int32] {
        Self.select(in: Self.processTable(), shimPid: shimPid, record: record, excluding: [getpid(), 1])
    }

    /// The job's processes among `table`: the rule, apart from reading /proc.
    static func select(in table: [Entry], shimPid: Int32, record: JobProcesses?, excluding: Set<Int32>) -> [Int32] {
        let live = table.filter { $0.state != "Z" && $0.state != "X" }
        let byPid = Dictionary(live.map { ($0.pid, $0) }, uniquingKeysWith: { first, _ in first })
        let shimStart = record?.shimStart.flatMap { UInt64($0) }
        let commandStart = record?.commandStart.flatMap { UInt64($0) }
        // An id is the job's while no other process bears it as its pid (see the type's comment).
        func owned(_ id: Int32, start: UInt64?) -> Bool {
            guard let bearer = byPid[id] else { return true }
            return start != nil && bearer.start == start
        }
        let session = owned(shimPid, start: shimStart) ? shimPid : nil
        let group = record.flatMap { owned($0.commandPid, start: commandStart) ? $0.commandPid : nil }
        func startedInTime(_ entry: Entry) -> Bool { shimStart.map { entry.start >= $0 } ?? true }

        var members = Set<Int32>()
        for entry in live where startedInTime(entry) {
            if entry.session == session || entry.group == group
                || (entry.pid == record?.commandPid && commandStart != nil && entry.start == commandStart)
                || record?.adopted[entry.pid].flatMap({ UInt64($0) }) == entry.start
            {
                members.insert(entry.pid)
            }
        }
        // Descendants that left the session and the group (setsid, double fork) but whose
        // parent is still a member.
        var changed = true
        while changed {
            changed = false
            for entry in live where !members.contains(entry.pid) && members.contains(entry.parent) && startedInTime(entry) {
                members.insert(entry.pid)
                changed = true
            }
        }
        // Never the shim's own pid: if anything bears it, it is not the dead shim.
        members.remove(shimPid)
        return members.subtracting(excluding).sorted()
    }

    /// Every process in /proc that can be read.
    static func processTable() -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { name in
            guard let pid = Int32(name),
                let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8)
            else { return nil }
            return entry(pid: pid, stat: stat)
        }
    }

    /// Parses "pid (comm) state ppid pgrp session … starttime …", counting fields from the
    /// last ')' because the command name may hold spaces and parentheses.
    static func entry(pid: Int32, stat: String) -> Entry? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first, let parent = Int32(fields[1]),
            let group = Int32(fields[2]), let session = Int32(fields[3]), let start = UInt64(fields[19])
        else { return nil }
        return Entry(pid: pid, state: state, parent: parent, group: group, session: session, start: start)
    }
}
