/// The JSON envelope of every API response and of `-o json`:
/// `{"status":"ok","data":…}` or `{"status":"error","error":{…}}`.
public struct Envelope<Data: Codable & Sendable>: Codable, Sendable {
    /// `ok` or `error`.
    public var status: String
    /// The payload when `status` is `ok`.
    public var data: Data?
    /// The error when `status` is `error`.
    public var error: StintError?

    /// A success envelope.
    public static func ok(_ data: Data) -> Envelope { Envelope(status: "ok", data: data, error: nil) }
    /// An error envelope.
    public static func failure(_ error: StintError) -> Envelope {
        Envelope(status: "error", data: nil, error: error)
    }
    /// An error envelope that still carries a payload (a batch's summary, say).
    public static func failure(_ error: StintError, data: Data) -> Envelope {
        Envelope(status: "error", data: data, error: error)
    }
}

/// A payload for envelopes that carry none.
public struct Empty: Codable, Sendable, Hashable {
    /// Creates the empty payload.
    public init() {}
}
