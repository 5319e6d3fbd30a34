import Glibc

/// Records, in `RUN_DIR/adopted`, the orphans the shim adopted as child subreaper: processes
/// of the job whose parent died (a double-forked daemon, typically after setsid(), so in
/// neither the job's session nor its process group). Should the shim itself be killed, they
/// would be re-parented to init with nothing left to tie them to the job; with this record
/// the daemon still finds them (by pid and start time, so a reused pid is never taken).
///
/// The shim's children are listed by `/proc/self/task/PID/children`, one small read, every
/// ``scanIntervalNanos``. One line "PID START" per adopted process, appended once; not
/// fsynced, since after a machine crash there is nothing left to find.
final class AdoptedProcesses {
    /// How often the shim looks at its children: 1 s.
    static let scanIntervalNanos: Int64 = 1_000 * MonotonicClock.nanosPerMillisecond
    /// At most this many are recorded; a job that orphans more relies on its session and group.
    static let capacity = 256

    private let childPID: pid_t
    private let runDirectory: RunDirectory
    private let path: TextBuffer
    private let known = UnsafeMutablePointer<pid_t>.allocate(capacity: capacity)
    private var knownCount = 0
    /// When the next look is due.
    private(set) var nextScan: Int64

    init(childPID: pid_t, runDirectory: RunDirectory, now: Int64) {
        self.childPID = childPID
        self.runDirectory = runDirectory
        var path = TextBuffer(capacity: 64)
        path.append("/proc/self/task/")
        path.append(decimal: Int64(getpid()))
        path.append("/children")
        self.path = path
        self.nextScan = now + Self.scanIntervalNanos
    }

    deinit { known.deallocate() }

    /// Records the children that are new since the last look (the command is not one).
    func scan(now: Int64) {
        nextScan = now + Self.scanIntervalNanos
        var list = TextBuffer(capacity: 4096)
        guard knownCount < Self.capacity, Posix.readSmallFile(AT_FDCWD, path.cString, into: &list) else { return }
        var lines = TextBuffer(capacity: 64 * 32)
        let bytes = list.bytes
        var start = 0
        for index in 0...bytes.count where index == bytes.count || bytes[index] == UInt8(ascii: " ") {
            defer { start = index + 1 }
            guard index > start,
                let value = DecimalText.integer(UnsafeRawBufferPointer(rebasing: bytes[start..<index]), maximum: UInt64(Int32.max))
            else { continue }
            let pid = pid_t(value)
            guard pid != childPID, !isKnown(pid), knownCount < Self.capacity,
                let started = ProcessStartTime.of(pid)
            else { continue }
            known[knownCount] = pid
            knownCount += 1
            lines.append(decimal: Int64(pid))
            lines.append(" ")
            lines.append(decimal: started)
            lines.append("\n")
        }
        if lines.count > 0 { runDirectory.append("adopted", lines) }
    }

    private func isKnown(_ pid: pid_t) -> Bool {
        for index in 0..<knownCount where known[index] == pid { return true }
        return false
    }
}
