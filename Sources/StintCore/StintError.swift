/// An error that reaches the user: a stable code (`E_NOT_FOUND`), a message and a hint.
///
/// The daemon sends it in the JSON error envelope; the CLI maps the code to its exit
/// status, so scripts can branch on either.
public struct StintError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// A stable, extensible error code.
    public struct Code: Sendable, Hashable, Codable, RawRepresentable, CustomStringConvertible {
        /// The wire form, such as `E_NOT_FOUND`.
        public var rawValue: String
        /// Creates a code from its wire form.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The wire form.
        public var description: String { rawValue }

        /// An id or name that does not exist (exit 3).
        public static let notFound = Code(rawValue: "E_NOT_FOUND")
        /// The daemon or store cannot be reached (exit 5).
        public static let unavailable = Code(rawValue: "E_UNAVAILABLE")
        /// Malformed flags, values or request bodies (exit 64).
        public static let usage = Code(rawValue: "E_USAGE")
        /// The request conflicts with the job's state or another holder (exit 9).
        public static let conflict = Code(rawValue: "E_CONFLICT")
        /// Some ids failed and the others succeeded (exit 6).
        public static let partial = Code(rawValue: "E_PARTIAL")
        /// A batch stopped by SIGINT or SIGTERM after finishing its running units (exit 7).
        public static let aborted = Code(rawValue: "E_ABORTED")
        /// A batch stopped by `--max-failures` consecutive failures (exit 8).
        public static let maxFailures = Code(rawValue: "E_MAX_FAILURES")
        /// A `wait --timeout` or `--yield` ran out while the job still runs (exit 75).
        public static let stillRunning = Code(rawValue: "E_STILL_RUNNING")
        /// A TCP request without a valid API token (exit 1; HTTP 401).
        public static let unauthorized = Code(rawValue: "E_UNAUTHORIZED")
        /// A request the caller's scope does not allow, such as a queue change from a
        /// session-bound client (exit 1; HTTP 403).
        public static let forbidden = Code(rawValue: "E_FORBIDDEN")
        /// Anything else (exit 1).
        public static let `internal` = Code(rawValue: "E_INTERNAL")

        /// The CLI exit status for this code (SPEC: exit codes).
        public var exitStatus: Int32 {
            switch self {
            case .notFound: 3
            case .unavailable: 5
            case .partial: 6
            case .aborted: 7
            case .maxFailures: 8
            case .conflict: 9
            case .usage: 64
            case .stillRunning: 75
            default: 1
            }
        }
    }

    /// What kind of error this is.
    public var code: Code
    /// One line saying what went wrong.
    public var message: String
    /// One line saying what to do about it, when there is something to do.
    public var hint: String?

    /// Creates an error.
    public init(_ code: Code, _ message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    /// The message, with the hint after it.
    public var description: String {
        hint.map { "\(message) (\($0))" } ?? message
    }

    /// A job id that does not exist.
    public static func jobNotFound(_ id: Int64) -> StintError {
        StintError(.notFound, "no job with id \(id)", hint: "list jobs with `stint ls`")
    }
}
