public import Foundation

/// What `/metrics` reads of one queue's jobs at scrape time.
public struct QueueGauges: Sendable, Hashable {
    /// Jobs by state (every state, terminal ones kept until pruned).
    public var counts: [JobState: Int] = [:]
    /// Jobs a claim may take now: queued, due, dependencies met.
    public var ready = 0
    /// When the longest-waiting of those became ready (added, or its delay or retry time
    /// came); `nil` when none is.
    public var oldestReady: Date?

    /// Creates empty gauges.
    public init(counts: [JobState: Int] = [:], ready: Int = 0, oldestReady: Date? = nil) {
        self.counts = counts
        self.ready = ready
        self.oldestReady = oldestReady
    }
}
