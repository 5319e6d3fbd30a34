/// Which jobs `list` returns.
public struct JobFilter: Sendable, Hashable {
    /// Only jobs in one of these states; empty: any.
    public var states: Set<JobState> = []
    /// Only jobs of this session.
    public var session: String?
    /// Only jobs of this queue.
    public var queue: String?
    /// Only jobs carrying every one of these labels.
    public var labels: [String: String] = [:]
    /// At most this many jobs: the newest ones. Default 100.
    public var limit: Int = 100

    /// Creates a filter.
    public init(
        states: Set<JobState> = [], session: String? = nil, queue: String? = nil,
        labels: [String: String] = [:], limit: Int = 100
    ) {
        self.states = states
        self.session = session
        self.queue = queue
        self.labels = labels
        self.limit = limit
    }
}
