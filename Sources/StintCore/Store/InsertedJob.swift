/// One job of an insert.
public struct InsertedJob: Sendable, Hashable {
    /// The id: new, or the existing job's for a duplicate.
    public var id: Int64
    /// Whether the unique key matched an existing job, so nothing was added.
    public var duplicate: Bool
    /// The job's state.
    public var state: JobState

    /// Creates an inserted job.
    public init(id: Int64, duplicate: Bool, state: JobState) {
        self.id = id
        self.duplicate = duplicate
        self.state = state
    }
}
