public import Foundation

/// How far a job says it has come (`stint progress N[/TOTAL] [--message M]`).
public struct ProgressView: Sendable, Codable, Hashable {
    /// Units done.
    public var done: Int64
    /// Units in all, when known.
    public var total: Int64?
    /// A short note, such as the unit at hand.
    public var message: String?
    /// When it was reported.
    public var updatedAt: Date

    /// Creates a view.
    public init(done: Int64, total: Int64?, message: String?, updatedAt: Date) {
        self.done = done
        self.total = total
        self.message = message
        self.updatedAt = updatedAt
    }

    /// `1,234/50,000 (2.5%)`, `1,234`, or with the message after it.
    public var text: String {
        let number = IntegerFormatStyle<Int64>().grouping(.automatic).locale(Locale(identifier: "en_US"))
        var text = done.formatted(number)
        if let total {
            text += "/" + total.formatted(number)
            if total > 0 {
                let percent = Double(done) / Double(total) * 100
                text += " (\(percent.formatted(.number.precision(.fractionLength(0...1)).locale(Locale(identifier: "en_US"))))%)"
            }
        }
        return text
    }
}

/// `POST /v1/jobs/{id}/progress`.
public struct ProgressRequest: Sendable, Codable {
    public var done: Int64
    public var total: Int64?
    public var message: String?
    /// Creates a request.
    public init(done: Int64, total: Int64? = nil, message: String? = nil) {
        self.done = done
        self.total = total
        self.message = message
    }

    /// Parses `N` or `N/TOTAL`.
    public static func parse(_ text: String, message: String? = nil) throws(StintError) -> ProgressRequest {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let done = Int64(parts[0]), done >= 0 else {
            throw StintError(.usage, "progress is N or N/TOTAL with non-negative integers, not \(text)")
        }
        var total: Int64?
        if parts.count == 2 {
            guard let parsed = Int64(parts[1]), parsed >= 0 else {
                throw StintError(.usage, "progress is N or N/TOTAL with non-negative integers, not \(text)")
            }
            total = parsed
        }
        let request = ProgressRequest(done: done, total: total, message: message)
        try request.validate()
        return request
    }

    /// Checks the values; throws `E_USAGE`.
    public func validate() throws(StintError) {
        guard done >= 0, (total ?? 0) >= 0 else { throw StintError(.usage, "progress counts must not be negative") }
        guard done <= Limits.maxCount, (total ?? 0) <= Limits.maxCount else {
            throw StintError(.usage, "progress counts are at most \(Limits.maxCount)")
        }
        try Limits.checkText(message, "a progress message", maximum: 500)
    }
}

/// `POST /v1/jobs/{id}/checkpoint`.
public struct CheckpointRequest: Sendable, Codable {
    /// Whatever lets the job resume: a unit number, a cursor, a file name. At most 4 KiB.
    public var value: String
    /// Creates a request.
    public init(value: String) { self.value = value }

    /// Checks the value; throws `E_USAGE`.
    public func validate() throws(StintError) {
        guard !value.isEmpty, value.utf8.count <= 4096, !value.contains("\0") else {
            throw StintError(.usage, "a checkpoint is 1 to 4096 bytes without NUL")
        }
    }
}
