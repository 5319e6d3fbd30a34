import Glibc

/// The job's processes: every descendant of the shim, plus the command's process group.
///
/// Descendants are found by reading the parent pid of every process in /proc and following
/// parent links up to the shim. Because the shim is a child subreaper, a process whose
/// parent dies (a double-forked daemon, say) is re-parented to the shim rather than to
/// init, so it stays findable even after it calls setsid() to leave the command's process
/// group. The process group is signalled as well, to catch anything forked between the
/// scan and the kill.
struct ProcessTree {
    let shimPID: pid_t
    /// The command's process group id, which is the command's pid (it was spawned with
    /// POSIX_SPAWN_SETPGROUP and pgid 0).
    let groupID: pid_t

    /// One process as /proc/PID/stat describes it.
    private struct Entry {
        let pid: pid_t
        let parent: pid_t
        let group: pid_t
        var inTree = false
    }

    /// Sends `signal` (and then `followUp`, if given) to every process in the tree; never to
    /// the shim itself.
    ///
    /// `groupLeaderUnreaped` says the command has not been reaped yet, so its pid (and with it
    /// the group id) cannot have been reused by an unrelated process.
    func signalAll(_ signal: Int32, then followUp: Int32? = nil, groupLeaderUnreaped: Bool) {
        var capacity = 0
        var count = 0
        var entries = UnsafeMutablePointer<Entry>.allocate(capacity: 0)
        defer { entries.deallocate() }
        var groupInUse = false
        readProc { entry in
            if count == capacity {
                // Grow by doubling; Entry is a plain value, so moving is a memory copy.
                capacity = max(256, capacity * 2)
                let grown = UnsafeMutablePointer<Entry>.allocate(capacity: capacity)
                grown.moveInitialize(from: entries, count: count)
                entries.deallocate()
                entries = grown
            }
            (entries + count).initialize(to: entry)
            count += 1
            if entry.group == groupID { groupInUse = true }
        }

        // Mark descendants: a process is in the tree if its parent is the shim or is in the
        // tree. The tree is usually tiny next to the whole process table, so parents are looked
        // up in a separate list of the pids found so far. Parents usually have lower pids and
        // /proc lists pids in ascending order, so one pass nearly always settles it; repeat
        // until nothing changes to be exact.
        let treePIDs = UnsafeMutablePointer<pid_t>.allocate(capacity: count + 1)
        defer { treePIDs.deallocate() }
        treePIDs[0] = shimPID
        var treeSize = 1
        var changed = true
        while changed {
            changed = false
            for index in 0..<count where !entries[index].inTree && entries[index].pid != shimPID {
                let parent = entries[index].parent
                for known in 0..<treeSize where treePIDs[known] == parent {
                    entries[index].inTree = true
                    treePIDs[treeSize] = entries[index].pid
                    treeSize += 1
                    changed = true
                    break
                }
            }
        }

        // Once the leader is reaped, signal the group only while some process is still in it:
        // an empty group's id may since have been given to someone else's new group.
        let signalGroup = groupLeaderUnreaped || groupInUse
        func send(_ signal: Int32) {
            if signalGroup { kill(-groupID, signal) }
            for index in 0..<count where entries[index].inTree { kill(entries[index].pid, signal) }
        }
        send(signal)
        if let followUp { send(followUp) }
    }

    /// Calls `body` for every process that can be read from /proc.
    private func readProc(_ body: (Entry) -> Void) {
        guard let proc = opendir(StaticString("/proc").cString) else { return }
        defer { closedir(proc) }
        var path = TextBuffer(capacity: 64)
        var stat = TextBuffer(capacity: 1024)
        while let entry = readdir(proc) {
            guard let pid = Self.pid(fromName: entry) else { continue }
            path.removeAll()
            path.append("/proc/")
            path.append(decimal: UInt64(pid))
            path.append("/stat")
            // A process that exits meanwhile simply fails to read, and is skipped.
            if Posix.readSmallFile(AT_FDCWD, path.cString, into: &stat),
               let (parent, group) = Self.parentAndGroup(stat.bytes) {
                body(Entry(pid: pid, parent: parent, group: group))
            }
        }
    }

    /// The pid a /proc entry names, or nil if the name is not all digits ("self", "sys", ...).
    private static func pid(fromName entry: UnsafeMutablePointer<dirent>) -> pid_t? {
        withUnsafeBytes(of: &entry.pointee.d_name) { name -> pid_t? in
            let length = strnlen(name.baseAddress!.assumingMemoryBound(to: CChar.self), name.count)
            return DecimalText.integer(UnsafeRawBufferPointer(rebasing: name[..<length]), maximum: UInt64(Int32.max))
                .map { pid_t($0) }
        }
    }

    /// Parent pid and process group from a stat line, "pid (comm) state ppid pgrp ...". The
    /// command name may itself contain spaces and ')', so fields are counted from the last ')'.
    private static func parentAndGroup(_ line: UnsafeRawBufferPointer) -> (pid_t, pid_t)? {
        guard let commEnd = line.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // After the comm: " S ppid pgrp ..."; read the second and third space-separated fields.
        var fields: (pid_t, pid_t) = (0, 0)
        var field = 0
        var start = commEnd + 2
        var index = start
        while index <= line.count, field < 3 {
            if index == line.count || line[index] == UInt8(ascii: " ") {
                if field > 0 {
                    guard let value = DecimalText.integer(
                        UnsafeRawBufferPointer(rebasing: line[start..<index]), maximum: UInt64(Int32.max))
                    else { return nil }
                    if field == 1 { fields.0 = pid_t(value) } else { fields.1 = pid_t(value) }
                }
                field += 1
                start = index + 1
            }
            index += 1
        }
        return field == 3 ? fields : nil
    }
}
