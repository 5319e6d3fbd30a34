/// The rules of a `stint batch` lock, which every store that keeps batches applies to its
/// rows: who may take a batch, what a run is told, and the errors it gets.
public enum BatchLock {
    /// A live holder runs the same command on the same units: `E_CONFLICT`.
    public static func held(_ id: Int64, by holder: BatchHolder) -> StintError {
        StintError(
            .conflict, "batch \(id) (the same command on the same units) is already running: pid \(holder.pid) on \(holder.host)",
            hint: "wait for it to end, interrupt it with `kill -INT \(holder.pid)`, or pass --allow-concurrent")
    }

    /// `--exclusive-with queue`: `E_CONFLICT` unless the queue is paused; a warning when some
    /// of its jobs still run.
    public static func exclusive(with queue: String, paused: Bool, running: Int) throws(StintError) -> String? {
        guard paused else {
            throw StintError(
                .conflict, "queue \(queue) is not paused, and this batch must not run beside it (--exclusive-with)",
                hint: "pause it with `stint queue pause \(queue)` and resume it afterwards, or pass --allow-concurrent")
        }
        return running > 0 ? "queue \(queue) is paused, but \(running) of its jobs still run" : nil
    }

    /// The warning of a run that takes over the lock of a holder that is gone.
    public static func takeover(_ id: Int64, from holder: BatchHolder) -> String {
        "batch \(id) was held by pid \(holder.pid) on \(holder.host), which is gone: taking it over"
    }

    /// The warning of a run whose units are not those of the checkpoint (it starts over).
    public static func unitsChanged(recorded: Int64, now: Int64) -> String {
        "the units changed since the checkpoint (\(recorded) then, \(now) now): starting from the first"
    }

    /// A checkpoint written with a token that no longer holds the lock: `E_CONFLICT`.
    public static func lost(_ id: Int64, takenBy pid: Int64?) -> StintError {
        StintError(
            .conflict, "the lock of batch \(id) is no longer this run's" + (pid.map { ": pid \($0) took it over" } ?? ""),
            hint: "two runs of one batch must not write at once; let the other finish")
    }

    /// A batch whose holder runs cannot be forgotten: `E_CONFLICT`.
    public static func inUse(_ id: Int64, by holder: BatchHolder) -> StintError {
        StintError(
            .conflict, "batch \(id) is running (pid \(holder.pid) on \(holder.host)): its checkpoint is in use",
            hint: "interrupt it first with `kill -INT \(holder.pid)`")
    }

    /// An unknown (or another session's) batch: `E_NOT_FOUND`.
    public static func notFound(_ id: Int64) -> StintError {
        StintError(.notFound, "no batch with id \(id)", hint: "list them with `stint batch ls`")
    }
}
