#if canImport(Glibc)
    import Glibc
#endif

/// A file of time stamps, one line per step of an attempt's path through the daemon, for
/// measuring the hand-offs (`scripts/bench`): `STEP JOB ATTEMPT NANOSECONDS`, the time
/// being `CLOCK_REALTIME` in nanoseconds since the epoch, comparable with what a job's
/// command stamps. Off unless the daemon is started with `--trace-hand-offs PATH`.
///
/// Each line is one `write(2)` to a file opened `O_APPEND`, so lines from different
/// threads never interleave, and a step costs one system call and no lock.
public final class HandOffTrace: Sendable {
    /// A step of an attempt, in the order an attempt meets them.
    public enum Step: String, Sendable, CaseIterable {
        /// The claim that started the attempt committed.
        case claimed
        /// The shim's spawn returned.
        case spawned
        /// The daemon learned that the shim exited (its pidfd became readable).
        case exited
        /// The transaction that stored the attempt's ending committed.
        case recorded
        /// Whoever waited on the job was resumed.
        case answered
    }

    private let descriptor: Int32

    /// Opens (creating, appending to) the trace file at `path`; `nil` when it cannot be opened.
    public init?(path: String) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return nil }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Writes the line for `step` of attempt `attempt` of job `job`, stamped now.
    public func mark(_ step: Step, job: Int64, attempt: Int) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nanoseconds = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
        var line = "\(step.rawValue) \(job) \(attempt) \(nanoseconds)\n"
        line.withUTF8 { bytes in _ = write(descriptor, bytes.baseAddress, bytes.count) }
    }
}
