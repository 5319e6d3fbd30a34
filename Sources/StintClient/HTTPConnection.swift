import Foundation
import StintCore

#if canImport(Glibc)
    import Glibc
#endif

/// One HTTP/1.1 exchange with the daemon, over its unix socket or TCP (`STINT_URL`),
/// on a plain blocking socket.
///
/// Why not AsyncHTTPClient: `stint add` and `stint wait` are one request each, and
/// an event loop's threads cost the CLI about 4 ms of start-up per call (measured:
/// ~8 ms end to end with it, ~4 ms with a blocking socket). This speaks just the
/// subset the daemon answers with: `Content-Length` or chunked bodies. No TLS.
struct HTTPConnection {
    /// Where the daemon listens.
    enum Target {
        /// The local API socket.
        case unix(String)
        /// A daemon's `--listen` address.
        case tcp(HostPort)
    }

    let target: Target
    /// When reading must stop; reads past it throw ``DeadlineReached``.
    var deadline: Date? = nil
    /// Starts a daemon when nothing listens; `nil`: report that nothing listens.
    var startDaemon: (() throws -> Void)? = nil
    /// Extra request headers, such as `Stint-Session`.
    var headers: [String: String] = [:]

    /// The status line's code and the response headers (names lower-cased).
    struct Head {
        var status: Int
        var headers: [String: String]
    }

    /// Whether connecting failed because nothing listens (as opposed to another error).
    enum ConnectError: Error {
        case nobodyListening(String)
        case failed(String)
    }

    /// Sends one request and calls `onBody` with each piece of the body as it arrives.
    func exchange(
        method: String, path: String, body: Data?, onHead: (Head) throws -> Void = { _ in },
        onBody: (Data) throws -> Void
    ) throws -> Head {
        let fd: Int32
        do {
            fd = try connect()
        } catch ConnectError.nobodyListening(let message) {
            guard let startDaemon else { throw ConnectError.nobodyListening(message) }
            try startDaemon()
            fd = try connect()
        }
        defer { close(fd) }
        var request = "\(method) \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nConnection: close\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { request += "\(name): \(value)\r\n" }
        if let body {
            request += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        }
        request += "\r\n"
        var bytes = Data(request.utf8)
        if let body { bytes.append(body) }
        try writeAll(fd, bytes)

        var reader = BufferedReader(fd: fd, deadline: deadline)
        let head = try readHead(&reader)
        try onHead(head)
        if head.headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while true {
                let sizeLine = try reader.line()
                let hex = sizeLine.split(separator: ";").first.map(String.init) ?? ""
                guard let size = Int(hex.trimmingCharacters(in: .whitespaces), radix: 16) else {
                    throw StintError(.unavailable, "malformed chunked response from the daemon")
                }
                if size == 0 { break }
                var remaining = size
                while remaining > 0 {
                    let piece = try reader.read(upTo: remaining)
                    remaining -= piece.count
                    try onBody(piece)
                }
                _ = try reader.line()
            }
        } else if let length = head.headers["content-length"].flatMap(Int.init) {
            var remaining = length
            while remaining > 0 {
                let piece = try reader.read(upTo: remaining)
                remaining -= piece.count
                try onBody(piece)
            }
        } else {
            while let piece = try reader.readAvailable() { try onBody(piece) }
        }
        return head
    }

    private var hostHeader: String {
        switch target {
        case .unix: "stint"
        case .tcp(let address): address.description
        }
    }

    /// A connected socket to the daemon; the caller closes it.
    func connect() throws -> Int32 {
        switch target {
        case .unix(let path): try connect(socketPath: path)
        case .tcp(let address): try connect(address)
        }
    }

    /// Seconds a TCP connect may take before the daemon counts as unreachable.
    static let connectTimeout: Int32 = 10

    /// Connects to the first address `getaddrinfo` gives for `address` that accepts.
    private func connect(_ address: HostPort) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(address.host, String(address.port), &hints, &list)
        guard status == 0, let list else {
            throw ConnectError.failed("cannot resolve \(address.host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = ECONNREFUSED
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            entry = current.pointee.ai_next
            let fd = socket(current.pointee.ai_family, current.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else {
                lastError = errno
                continue
            }
            let code = Self.connect(fd, current.pointee.ai_addr, current.pointee.ai_addrlen)
            if code == 0 {
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return fd
            }
            close(fd)
            lastError = code
        }
        let message = String(cString: strerror(lastError))
        if lastError == ECONNREFUSED { throw ConnectError.nobodyListening(message) }
        throw ConnectError.failed(message)
    }

    /// A blocking connect bounded by ``connectTimeout``; 0 or the errno.
    private static func connect(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>!, _ length: socklen_t) -> Int32 {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        if Glibc.connect(fd, address, length) == 0 { return 0 }
        guard errno == EINPROGRESS else { return errno }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        var ready: Int32
        repeat { ready = poll(&poller, 1, connectTimeout * 1000) } while ready < 0 && errno == EINTR
        guard ready > 0 else { return ready == 0 ? ETIMEDOUT : errno }
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 else { return errno }
        return error
    }

    private func connect(socketPath: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ConnectError.failed("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard socketPath.utf8.count < capacity else {
            close(fd)
            throw ConnectError.failed("socket path too long (max \(capacity - 1) bytes): \(socketPath)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in socketPath.utf8.enumerated() { raw[index] = byte }
            raw[socketPath.utf8.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            let message = String(cString: strerror(code))
            if code == ENOENT || code == ECONNREFUSED { throw ConnectError.nobodyListening(message) }
            throw ConnectError.failed(message)
        }
        return fd
    }

    private func writeAll(_ fd: Int32, _ data: Data) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if written < 0 {
                    if errno == EINTR { continue }
                    throw StintError(.unavailable, "lost the connection to the daemon: \(String(cString: strerror(errno)))")
                }
                offset += written
            }
        }
    }

    private func readHead(_ reader: inout BufferedReader) throws -> Head {
        let statusLine = try reader.line()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else {
            throw StintError(.unavailable, "malformed response from the daemon: \(statusLine)")
        }
        var headers: [String: String] = [:]
        while true {
            let line = try reader.line()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Head(status: status, headers: headers)
    }
}

/// Reads lines and byte runs from a blocking socket through one buffer.
private struct BufferedReader {
    let fd: Int32
    let deadline: Date?
    private var buffer = Data()
    private var eof = false

    init(fd: Int32, deadline: Date?) {
        self.fd = fd
        self.deadline = deadline
    }

    mutating func line() throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var lineData = buffer[buffer.startIndex..<newline]
                if lineData.last == UInt8(ascii: "\r") { lineData = lineData.dropLast() }
                buffer = Data(buffer[buffer.index(after: newline)...])
                return String(decoding: lineData, as: UTF8.self)
            }
            guard try fill() else { throw StintError(.unavailable, "the daemon closed the connection") }
        }
    }

    mutating func read(upTo count: Int) throws -> Data {
        if buffer.isEmpty, !(try fill()) { throw StintError(.unavailable, "the daemon closed the connection") }
        let piece = buffer.prefix(count)
        buffer = Data(buffer.dropFirst(piece.count))
        return Data(piece)
    }

    mutating func readAvailable() throws -> Data? {
        if buffer.isEmpty, !(try fill()) { return nil }
        defer { buffer = Data() }
        return buffer
    }

    private mutating func fill() throws -> Bool {
        guard !eof else { return false }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let deadline {
                let remaining = deadline.timeIntervalSinceNow
                guard remaining > 0 else { throw DeadlineReached() }
                var timeout = timeval(tv_sec: Int(remaining), tv_usec: Int((remaining - Double(Int(remaining))) * 1_000_000) + 1)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            }
            let got = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65536, 0) }
            if got < 0 {
                if errno == EINTR || (deadline != nil && (errno == EAGAIN || errno == EWOULDBLOCK)) { continue }
                throw StintError(.unavailable, "lost the connection to the daemon: \(String(cString: strerror(errno)))")
            }
            if got == 0 {
                eof = true
                return false
            }
            buffer.append(contentsOf: chunk[0..<got])
            return true
        }
    }
}

/// A read passed the connection's deadline.
public struct DeadlineReached: Error {}
