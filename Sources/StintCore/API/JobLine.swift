public import Foundation

/// One NDJSON line of `add --from`: a job with the fields of `add`'s flags, snake_case.
///
/// Durations and sizes may be numbers (seconds, bytes) or text (`"10m"`, `"1MiB"`).
/// Exactly one of `command` (a shell string) and `argv` is given. The line's fields
/// override the defaults it is applied to (``applied(to:now:)``); `env` and `labels`
/// are merged into them.
public struct JobLine: Sendable, Decodable {
    /// A number or a text, as a line may give a duration or a size.
    public enum Value: Sendable, Decodable {
        case number(Double)
        case text(String)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) { self = .number(number) } else { self = .text(try container.decode(String.self)) }
        }
    }

    public var command: String?
    public var argv: [String]?
    public var cwd: String?
    public var env: [String: String]?
    public var labels: [String: String]?
    /// `label`, as the flag is spelled: the same as `labels`.
    public var label: [String: String]?
    public var session: String?
    public var timeout: Value?
    public var outputCap: Value?
    public var hold: Bool?
    public var queue: String?
    public var priority: Int?
    public var delay: Value?
    public var at: String?
    public var after: [Int64]?
    public var unique: String?
    public var retries: Int?
    public var retryOn: [Int]?
    public var transientPattern: String?
    public var backoff: String?
    public var stallAfter: Value?
    public var notify: String?
    public var onEnd: String?

    /// Decodes one line; `E_USAGE` when it is not a JSON object of these fields or does
    /// not give exactly one of `command` and `argv`.
    public static func parse(_ line: String) throws(StintError) -> JobLine {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let object: JobLine
        do {
            object = try decoder.decode(JobLine.self, from: Data(line.utf8))
        } catch {
            throw StintError(.usage, "not a valid JSON object")
        }
        guard (object.command == nil) != (object.argv == nil) else {
            throw StintError(.usage, "give exactly one of \"command\" (a shell string) and \"argv\"")
        }
        return object
    }

    /// `defaults` (a spec whose command is this line's) with the line's fields applied;
    /// `now` dates `at`. Throws `E_USAGE` naming the field of a value that does not parse.
    public func applied(to defaults: JobSpec, now: Date) throws(StintError) -> JobSpec {
        var spec = defaults
        if let cwd { spec.cwd = cwd }
        spec.env.merge(env ?? [:]) { $1 }
        spec.labels.merge(labels ?? label ?? [:]) { $1 }
        if let session { spec.session = session }
        if let notify { spec.notify = notify }
        if let onEnd { spec.onEnd = onEnd }
        if let timeout = try Self.seconds(timeout, "timeout") { spec.timeout = timeout }
        switch outputCap {
        case .number(let bytes):
            guard let exact = Int64(exactly: bytes.rounded(.up)) else {
                throw StintError(.usage, "output_cap out of range: \(bytes)")
            }
            spec.outputCap = exact
        case .text(let text): spec.outputCap = try UserValue.size(text, flag: "output_cap")
        case nil: break
        }
        if let hold { spec.hold = hold ? true : nil }
        if let queue { spec.queue = queue }
        if let priority { spec.priority = priority }
        if let delay = try Self.seconds(delay, "delay") {
            spec.delay = delay
            spec.runAt = nil
        }
        if let at {
            spec.runAt = try UserValue.moment(at, flag: "at", now: now)
            spec.delay = nil
        }
        if let after { spec.after = after }
        if let unique { spec.unique = unique }
        if let retries { spec.retries = retries }
        if let retryOn { spec.retryOn = retryOn }
        if let transientPattern { spec.transientPattern = transientPattern }
        if let backoff { (spec.backoffMin, spec.backoffMax) = try UserValue.backoff(backoff, flag: "backoff") }
        if let stallAfter = try Self.seconds(stallAfter, "stall_after") { spec.stallAfter = stallAfter }
        return spec
    }

    private static func seconds(_ value: Value?, _ field: String) throws(StintError) -> Double? {
        switch value {
        case .number(let seconds): return seconds
        case .text(let text): return try UserValue.duration(text, flag: field)
        case nil: return nil
        }
    }
}
