public import Foundation

/// An event to append to the log of a job, of a queue, or of both (`stint events`).
public struct EventRecord: Sendable, Hashable {
    /// The job, if the event is about one.
    public var job: Int64?
    /// The queue, if the event is about one.
    public var queue: String?
    /// What happened, such as `retry_scheduled` or `breaker_open`.
    public var kind: String
    /// One line for people.
    public var message: String
    /// When.
    public var at: Date

    /// Creates an event.
    public init(job: Int64?, queue: String?, kind: String, message: String, at: Date) {
        self.job = job
        self.queue = queue
        self.kind = kind
        self.message = message
        self.at = at
    }
}
