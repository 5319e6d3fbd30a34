public import Foundation

/// How a notification leaves the daemon.
public enum DeliveryChannel: String, Sendable, Codable, CaseIterable {
    /// An HTTP POST of the notification's JSON (`--notify URL`).
    case webhook
    /// A shell command with `STINT_*` variables (`--on-end CMD`).
    case command
}

/// Where a delivery stands.
public enum DeliveryStatus: String, Sendable, Codable, CaseIterable {
    /// Not delivered yet; tried again at `next_at`.
    case pending
    /// Delivered.
    case success
    /// Every attempt failed transiently; given up.
    case exhausted
    /// A failure that retrying cannot mend (an HTTP 404, say); given up at once.
    case permanent
}

/// One delivery of one notification to one channel, as stored.
public struct DeliveryView: Sendable, Codable, Hashable {
    public var id: Int64
    public var job: Int64
    public var attempt: Int
    public var kind: NotificationKind
    public var channel: DeliveryChannel
    /// The URL or the command.
    public var target: String
    /// The notification's JSON, as sent.
    public var payload: String
    /// Delivery attempts made so far.
    public var attempts: Int
    public var status: DeliveryStatus
    /// When the next attempt is due (pending only).
    public var nextAt: Date?
    /// What the last failed attempt said.
    public var lastError: String?
    public var createdAt: Date
    public var updatedAt: Date

    /// Creates a view.
    public init(
        id: Int64, job: Int64, attempt: Int, kind: NotificationKind, channel: DeliveryChannel, target: String,
        payload: String, attempts: Int, status: DeliveryStatus, nextAt: Date?, lastError: String?, createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.job = job
        self.attempt = attempt
        self.kind = kind
        self.channel = channel
        self.target = target
        self.payload = payload
        self.attempts = attempts
        self.status = status
        self.nextAt = nextAt
        self.lastError = lastError
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
