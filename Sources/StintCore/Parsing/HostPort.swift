/// A TCP address: the daemon's `--listen HOST:PORT`, or where `STINT_URL` points.
///
/// Written `127.0.0.1:7070`, `localhost:7070` or, for IPv6, `[::1]:7070`.
public struct HostPort: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A name or a numeric address, without brackets.
    public var host: String
    /// 0–65535; 0 lets the daemon pick a free port.
    public var port: Int

    /// Creates an address.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` (brackets around an IPv6 host), or `nil` when it is not one.
    public static func parse(_ text: String) -> HostPort? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            // An IPv6 address needs brackets, or its last group would read as the port.
            guard !host.contains(":") else { return nil }
        }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "/" }),
            portText.allSatisfy(\.isASCII), let port = Int(portText), (0...65535).contains(port)
        else { return nil }
        return HostPort(host: String(host), port: port)
    }

    /// Parses `STINT_URL`: `http://HOST:PORT` (port 80 when left out), with at most a
    /// trailing `/`. Throws `E_USAGE` for anything else, and for `https://`, which
    /// this client does not speak.
    public static func parse(url: String) throws(StintError) -> HostPort {
        let lowered = url.lowercased()
        if lowered.hasPrefix("https://") {
            throw StintError(
                .usage, "https is not supported by this client yet: STINT_URL=\(url)",
                hint: "put it behind a local TLS-terminating proxy or use an ssh tunnel, and point STINT_URL at its http://127.0.0.1:PORT")
        }
        guard lowered.hasPrefix("http://") else {
            throw StintError(.usage, "STINT_URL must start with http://, not \(url)", hint: "for example http://127.0.0.1:7070")
        }
        var authority = Substring(url.dropFirst("http://".count))
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        guard !authority.contains("/"), !authority.contains("@"), !authority.contains("?") else {
            throw StintError(.usage, "STINT_URL takes only http://HOST:PORT, not \(url)")
        }
        let text = String(authority)
        let hasPort = text.hasPrefix("[") ? text.contains("]:") : text.contains(":")
        guard let address = HostPort.parse(hasPort ? text : text + ":80"), address.port > 0 else {
            throw StintError(.usage, "not a valid STINT_URL: \(url)", hint: "for example http://127.0.0.1:7070")
        }
        return address
    }

    /// Whether the host is a loopback address (127.0.0.0/8, `::1`) or `localhost`,
    /// so that only this machine can connect.
    public var isLoopback: Bool {
        let lowered = host.lowercased()
        if lowered == "localhost" || lowered == "::1" || lowered == "0:0:0:0:0:0:0:1" { return true }
        let octets = lowered.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// `HOST:PORT`, with brackets around an IPv6 host.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
