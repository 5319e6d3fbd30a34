/// Something that happens to a job and may move it to another ``JobState``.
public enum JobEvent: String, Sendable, CaseIterable, Hashable {
    /// `stint release`: a held job becomes runnable.
    case release
    /// The engine claimed the job for a free slot and started an attempt.
    case start
    /// The attempt ended with exit status 0.
    case succeed
    /// The attempt ended in any other way than success or cancellation.
    case fail
    /// The attempt failed transiently with retries left: back to the queue until its `run_at`.
    case reschedule
    /// `stint stop`, or a running attempt that ended because it was stopped.
    case cancel
    /// `stint retry`: an ended job gets a new attempt.
    case retry
}
