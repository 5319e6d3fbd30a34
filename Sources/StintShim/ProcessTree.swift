import Glibc

/// The job's processes: every descendant of the shim, plus the command's process group.
///
/// Descendants are found by reading the parent pid of every process in /proc and following
/// the parent links up to the shim. Because the shim is a child subreaper, a process whose
/// parent dies (a double-forked daemon, say) is re-parented to the shim rather than to init,
/// so it stays findable even after it calls setsid() to leave the command's process group.
/// The process group is signalled as well, to catch anything forked between the scan and
/// the kill.
struct ProcessTree {
    let shimPID: pid_t
    /// The command's process group id, which is the command's pid (it was spawned with
    /// POSIX_SPAWN_SETPGROUP and pgid 0).
    let groupID: pid_t

    /// Sends each of `signals` (in order) to every process in the tree; the shim is spared.
    ///
    /// `groupLeaderUnreaped` says the command has not been reaped yet, so its pid (and with
    /// it the group id) cannot have been reused by an unrelated process.
    func signalAll(_ signals: [Int32], groupLeaderUnreaped: Bool) {
        let scan = scanProc()
        // Once the leader is reaped, only signal the group if some process is still in it:
        // an empty group's id may have been handed to someone else's new group.
        let signalGroup = groupLeaderUnreaped || scan.groupInUse
        for signal in signals {
            if signalGroup { kill(-groupID, signal) }
            for pid in scan.descendants { kill(pid, signal) }
        }
    }

    /// One pass over /proc: the shim's descendants, and whether any process is in `groupID`.
    private func scanProc() -> (descendants: [pid_t], groupInUse: Bool) {
        var parentOf: [pid_t: pid_t] = [:]
        var groupInUse = false

        guard let proc = opendir("/proc") else { return ([], true) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 8)
        defer {
            closedir(proc)
            buffer.deallocate()
        }
        while let entry = readdir(proc) {
            guard let pid = Self.pid(fromName: entry), pid != shimPID,
                  let stat = Self.readStat(pid, into: buffer)
            else { continue }
            parentOf[pid] = stat.parent
            if stat.group == groupID { groupInUse = true }
        }

        // Follow parent links up to the shim (descendant) or to a dead end (not one),
        // remembering every verdict so each link is walked once.
        var verdict: [pid_t: Bool] = [shimPID: true]
        var descendants: [pid_t] = []
        for pid in parentOf.keys {
            var chain: [pid_t] = []
            var current = pid
            var isDescendant = false
            while true {
                if let known = verdict[current] {
                    isDescendant = known
                    break
                }
                // Exited mid-scan, or pid 0/1: the chain ends outside the shim's tree.
                // The length bound guards against a parent cycle seen in a racy scan.
                guard let parent = parentOf[current], parent > 0, chain.count < 65_536 else { break }
                chain.append(current)
                current = parent
            }
            for link in chain { verdict[link] = isDescendant }
            if isDescendant { descendants.append(pid) }
        }
        return (descendants, groupInUse)
    }

    /// The pid a /proc entry names, or nil if it is not all digits ("self", "sys", ...).
    private static func pid(fromName entry: UnsafeMutablePointer<dirent>) -> pid_t? {
        withUnsafeBytes(of: entry.pointee.d_name) { name -> pid_t? in
            var value: pid_t = 0
            var digits = 0
            for byte in name {
                if byte == 0 { break }
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 10 else { return nil }
                value = value &* 10 &+ pid_t(byte - UInt8(ascii: "0"))
                digits += 1
            }
            return digits > 0 ? value : nil
        }
    }

    /// Parent pid and process group from /proc/PID/stat ("pid (comm) state ppid pgrp ...").
    /// The command name may itself contain spaces and ')', so fields are counted from the
    /// *last* ')'. Nil if the process has gone.
    private static func readStat(_ pid: pid_t, into buffer: UnsafeMutableRawBufferPointer)
        -> (parent: pid_t, group: pid_t)?
    {
        guard case .success(let fd) = Posix.openAt(AT_FDCWD, "/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC) else {
            return nil
        }
        let count = read(fd, buffer.baseAddress, buffer.count)
        close(fd)
        guard count > 0 else { return nil }
        let line = UnsafeRawBufferPointer(rebasing: buffer[..<count])
        guard let commEnd = line.lastIndex(of: UInt8(ascii: ")")) else { return nil }

        // After the comm: " state ppid pgrp rest...".
        let fields = line[(commEnd + 1)...].split(separator: UInt8(ascii: " "), maxSplits: 3)
        guard fields.count == 4,
              let parent = DecimalText.integer(fields[1], maximum: UInt64(Int32.max)),
              let group = DecimalText.integer(fields[2], maximum: UInt64(Int32.max))
        else { return nil }
        return (pid_t(parent), pid_t(group))
    }
}
