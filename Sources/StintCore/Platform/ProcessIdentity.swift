public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Who a process is, in a way that survives pid reuse: its pid, its start time and its host.
public enum ProcessIdentity {
    /// The start time of process `pid` in clock ticks since boot (`/proc/PID/stat`, field
    /// 22), or `nil` when it does not exist or is a zombie (it has ended).
    public static func startTime(of pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)": state is field 3, start time field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, fields[0] != "Z", fields[0] != "X" else { return nil }
        return String(fields[19])
    }

    /// This host's name (`gethostname`; no DNS lookup).
    public static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// This process as a batch lock holder.
    public static var current: BatchHolder {
        let pid = getpid()
        return BatchHolder(pid: pid, started: startTime(of: pid) ?? "0", host: hostName)
    }

    /// Whether `holder` still runs: on this host, its pid exists with the same start time;
    /// on another, its last heartbeat is younger than `lease` seconds.
    public static func isAlive(_ holder: BatchHolder, heartbeat: Date?, now: Date, lease: Double = 60) -> Bool {
        if holder.host == hostName { return startTime(of: holder.pid) == holder.started }
        guard let heartbeat else { return false }
        return now.timeIntervalSince(heartbeat) < lease
    }
}
