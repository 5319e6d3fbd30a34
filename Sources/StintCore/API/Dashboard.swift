public import Foundation

/// `POST /v1/ui`: open the dashboard (on the local socket only).
public struct UIRequest: Sendable, Codable, ValidatedRequest {
    /// The loopback port to serve it on; 0 or none: a free one (or the one it runs on already).
    public var port: Int?

    /// Creates a request.
    public init(port: Int? = nil) { self.port = port }

    public func validate() throws(StintError) {
        if let port, !(0...65535).contains(port) {
            throw StintError(.usage, "a port is 0 to 65535, not \(port)")
        }
    }
}

/// The answer to `POST /v1/ui`.
public struct UIResponse: Sendable, Codable {
    /// Where the dashboard listens: `127.0.0.1:PORT`.
    public var address: String
    /// The login URL with a one-time code: `http://127.0.0.1:PORT/login?code=…`.
    public var url: String
    /// Until when the code may be used.
    public var expiresAt: Date

    /// Creates an answer.
    public init(address: String, url: String, expiresAt: Date) {
        self.address = address
        self.url = url
        self.expiresAt = expiresAt
    }
}
