/// The files of an attempt's run folder (`$STINT_HOME/run/ID.ATTEMPT/`), named once.
///
/// The shim writes most of them and imports nothing of ours, so it spells them itself;
/// `RunFolderTests` runs a real shim and pins its names to these.
public enum RunFolder {
    /// Held by the shim (flock) while it lives.
    public static let lock = "lock"
    /// "SHIM COMMAND SHIM_START COMMAND_START": the shim's and the command's pids and start times.
    public static let pids = "pid"
    /// The exit record, written to ``exitRecordTemporary`` and renamed.
    public static let exitRecord = "exit.json"
    /// Where the exit record is written before the rename (its page reserved at start).
    public static let exitRecordTemporary = "exit.json.tmp"
    /// A stop request: the grace in seconds.
    public static let stop = "stop"
    /// A signal to forward to the tree: its number.
    public static let signal = "signal"
    /// Held shared by `stint critical` while a critical step runs.
    public static let critical = "critical"
    /// "stop" or "timeout" while a termination waits for a critical step.
    public static let stopDeferred = "stop-deferred"
    /// "PID START" per line: orphans the shim adopted as subreaper.
    public static let adopted = "adopted"

    /// Every name a run folder may hold.
    public static let all: Set<String> = [
        lock, pids, exitRecord, exitRecordTemporary, stop, signal, critical, stopDeferred, adopted,
    ]

    /// `name` inside `folder`.
    public static func path(_ folder: String, _ name: String) -> String { folder + "/" + name }
}
