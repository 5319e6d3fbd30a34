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
    /// `stint stop`, or a running attempt that ended because it was stopped.
    case cancel
    /// `stint retry`: an ended job gets a new attempt.
    case retry
}
