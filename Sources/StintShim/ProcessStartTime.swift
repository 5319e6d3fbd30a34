import Glibc

/// When a process started, in clock ticks since boot (`/proc/PID/stat`, field 22): with its
/// pid, a name for one process that no later process can share, so the daemon can tell the
/// job's command from an unrelated process that was given the same pid after the job ended.
enum ProcessStartTime {
    /// The start time of `pid`, or nil when /proc cannot tell (the process is gone).
    static func of(_ pid: pid_t) -> UInt64? {
        var path = TextBuffer(capacity: 64)
        path.append("/proc/")
        path.append(decimal: UInt64(pid))
        path.append("/stat")
        var stat = TextBuffer(capacity: 1024)
        guard Posix.readSmallFile(AT_FDCWD, path.cString, into: &stat) else { return nil }
        return startTime(stat.bytes)
    }

    /// Field 22 of a stat line, "pid (comm) state ppid … starttime …", counted from the last
    /// ')' because the command name may contain spaces and parentheses.
    private static func startTime(_ line: UnsafeRawBufferPointer) -> UInt64? {
        guard let commEnd = line.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // After ") " the state is field 0 of the rest; the start time is field 19.
        var field = 0
        var start = commEnd + 2
        var index = start
        while index <= line.count {
            if index == line.count || line[index] == UInt8(ascii: " ") {
                if field == 19 {
                    return DecimalText.integer(UnsafeRawBufferPointer(rebasing: line[start..<index]), maximum: UInt64.max)
                }
                field += 1
                start = index + 1
            }
            index += 1
        }
        return nil
    }
}
