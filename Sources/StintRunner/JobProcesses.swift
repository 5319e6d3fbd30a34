/// Who a job's processes are, as its shim recorded them in `RUN_DIR/pid`.
///
/// The shim is a session leader, so its pid is the session id of every process of the job
/// that did not leave the session; the command leads its own process group, so its pid is
/// that group's id. Start times (clock ticks since boot, `/proc/PID/stat` field 22) tell
/// these processes from unrelated ones given the same pids later.
public struct JobProcesses: Sendable, Hashable {
    /// The shim's pid: the job's session id.
    public var shimPid: Int32
    /// The shim's start time, when recorded.
    public var shimStart: String?
    /// The command's pid: the job's process group id.
    public var commandPid: Int32
    /// The command's start time, when recorded.
    public var commandStart: String?
    /// Orphans the shim adopted as subreaper (`RUN_DIR/adopted`): their start time by pid.
    /// They may have left the session and the group, so this record is all that ties them
    /// to the job once the shim is gone.
    public var adopted: [Int32: String]

    /// Creates a record.
    public init(
        shimPid: Int32, shimStart: String?, commandPid: Int32, commandStart: String?, adopted: [Int32: String] = [:]
    ) {
        self.shimPid = shimPid
        self.shimStart = shimStart
        self.commandPid = commandPid
        self.commandStart = commandStart
        self.adopted = adopted
    }
}
