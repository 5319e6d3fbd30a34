import Foundation

/// An attempt whose shim is gone without an exit record, once its leftover processes have
/// been dealt with: what to record of it.
///
/// The shim died before its job's tree ended, so the job's processes may still run. They
/// are found and ended (``LeftoverProcesses``) before anything is concluded, so that a
/// retry never runs beside them; the message says what was found.
public struct LostAttempt: Sendable, Hashable {
    /// The attempt's message: why there is no record, and what was found.
    public var message: String
    /// What ending the leftovers found; `nil` when the shim recorded no pids.
    public var report: LeftoverProcesses.Report?

    /// Creates a finding: `message` for the attempt, `report` of what ending the leftovers found.
    public init(message: String, report: LeftoverProcesses.Report?) {
        self.message = message
        self.report = report
    }

    /// Whether the attempt may be retried: not while some of its processes survived SIGKILL.
    public var mayRetry: Bool { report?.survivors.isEmpty ?? true }

    /// Ends the leftovers of the attempt in `handle`'s folder whose shim was `shimPid` (when
    /// known) and says what was found. `missing` says why there is no exit record.
    public static func investigate(_ handle: ShimHandle, shimPid: Int32?, missing: String) async -> LostAttempt {
        let processes = handle.processes
        guard let shim = shimPid ?? processes?.shimPid else {
            return LostAttempt(
                message: missing + "; it recorded no pids, so no leftover process could be looked for", report: nil)
        }
        // Pids and start times mean nothing across a reboot, and nothing of the job survived
        // it: never look (a process of the new boot could match by chance).
        if shimPid == nil, let recorded = handle.processesRecordedAt, let boot = bootTime(), recorded < boot {
            return LostAttempt(
                message: missing + "; the machine restarted since, so no process of the job was left",
                report: LeftoverProcesses.Report(killed: [], survivors: []))
        }
        let report = await LeftoverProcesses(shimPid: shim, record: processes).end()
        return LostAttempt(message: missing + "; " + report.summary, report: report)
    }

    /// When this machine booted (`btime` in /proc/stat).
    static func bootTime() -> Date? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst("btime ".count)).map(Date.init(timeIntervalSince1970:))
        }
        return nil
    }
}
