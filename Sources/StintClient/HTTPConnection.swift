import Foundation
import StintCore

#if canImport(Glibc)
    import Glibc
#endif

/// One HTTP/1.1 exchange with the daemon, over its unix socket or TCP (`STINT_URL`),
/// on a plain socket driven by `poll`.
///
/// Why not AsyncHTTPClient: `stint add` and `stint wait` are one request each, and
/// an event loop's threads cost the CLI about 4 ms of start-up per call (measured:
/// ~8 ms end to end with it, ~4 ms with a blocking socket). This speaks just the
/// subset the daemon answers with: `Content-Length` or chunked bodies. No TLS.
///
/// Every step has a deadline, so a daemon that is stopped (SIGSTOP) or wedged cannot
/// hang its client: connecting must succeed within ``timeout``, and the daemon must
/// send the first byte of its answer, and every later piece, within ``timeout`` of the
/// last. A long poll (a wait, a log follow, a notification watch) is silent on purpose
/// while the daemon is healthy: it sets ``whileSilent``, which checks the daemon's
/// health on a second connection each time the answer has been silent for ``timeout``.
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
    /// Seconds connecting may take, and the longest silence of the daemon while it answers.
    var timeout: Double = StintClient.defaultTimeout
    /// For long polls: called each time the answer has been silent for ``timeout``; it
    /// returns when the daemon is healthy (the exchange waits on) and throws when not.
    /// `nil`: such a silence throws ``ConnectError/timedOut(_:)``.
    var whileSilent: (() throws -> Void)? = nil
    /// Ends the exchange early, from another thread, with ``RequestCancelled``.
    var cancellation: RequestCancellation? = nil

    /// The status line's code and the response headers (names lower-cased).
    struct Head {
        var status: Int
        var headers: [String: String]
    }

    /// Why talking to the daemon failed before it answered.
    enum ConnectError: Error {
        /// Nothing listens (no socket, or connection refused).
        case nobodyListening(String)
        /// Any other failure to connect.
        case failed(String)
        /// The daemon did not accept the connection, or did not answer, in time.
        case timedOut(String)
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
        var channel = Channel(fd: fd, connection: self)
        try channel.writeAll(bytes)

        let head = try readHead(&channel)
        try onHead(head)
        if head.headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while true {
                let sizeLine = try channel.line()
                let hex = sizeLine.split(separator: ";").first.map(String.init) ?? ""
                guard let size = Int(Self.trimmingOptionalWhitespace(hex[...]), radix: 16) else {
                    throw StintError(.unavailable, "malformed chunked response from the daemon")
                }
                if size == 0 { break }
                var remaining = size
                while remaining > 0 {
                    let piece = try channel.read(upTo: remaining)
                    remaining -= piece.count
                    try onBody(piece)
                }
                _ = try channel.line()
            }
        } else if let length = head.headers["content-length"].flatMap(Int.init) {
            var remaining = length
            while remaining > 0 {
                let piece = try channel.read(upTo: remaining)
                remaining -= piece.count
                try onBody(piece)
            }
        } else {
            while let piece = try channel.readAvailable() { try onBody(piece) }
        }
        return head
    }

    private var hostHeader: String {
        switch target {
        case .unix: "stint"
        case .tcp(let address): address.description
        }
    }

    /// Where the daemon is, for messages.
    var place: String {
        switch target {
        case .unix(let path): path
        case .tcp(let address): address.description
        }
    }

    /// A connected socket to the daemon, non-blocking; the caller closes it.
    func connect() throws -> Int32 {
        switch target {
        case .unix(let path): try connect(socketPath: path)
        case .tcp(let address): try connect(address)
        }
    }

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
        let deadline = Date().addingTimeInterval(timeout)
        while let current = entry {
            entry = current.pointee.ai_next
            let fd = socket(
                current.pointee.ai_family,
                current.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else {
                lastError = errno
                continue
            }
            let code = Self.connect(fd, current.pointee.ai_addr, current.pointee.ai_addrlen, until: deadline)
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
        if lastError == ETIMEDOUT {
            throw ConnectError.timedOut("no connection within \(DurationText.short(timeout))")
        }
        throw ConnectError.failed(message)
    }

    /// A non-blocking connect finished by `deadline`; 0 or the errno.
    private static func connect(
        _ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>!, _ length: socklen_t, until deadline: Date
    ) -> Int32 {
        if Glibc.connect(fd, address, length) == 0 { return 0 }
        guard errno == EINPROGRESS else { return errno }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        var ready: Int32
        repeat {
            ready = poll(&poller, 1, milliseconds(until: deadline))
        } while ready < 0 && errno == EINTR
        guard ready > 0 else { return ready == 0 ? ETIMEDOUT : errno }
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 else { return errno }
        return error
    }

    private func connect(socketPath: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
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
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if result == 0 { return fd }
            let code = errno
            // A full backlog: the daemon accepts nothing (it may be stopped). A unix socket
            // says so with EAGAIN rather than waiting, so we wait, up to the deadline.
            if code == EAGAIN || code == EINTR, Date() < deadline, cancellation?.isCancelled != true {
                usleep(10_000)
                continue
            }
            close(fd)
            if cancellation?.isCancelled == true { throw RequestCancelled() }
            let message = String(cString: strerror(code))
            if code == ENOENT || code == ECONNREFUSED { throw ConnectError.nobodyListening(message) }
            if code == EAGAIN {
                throw ConnectError.timedOut("it accepted no connection within \(DurationText.short(timeout))")
            }
            throw ConnectError.failed(message)
        }
    }

    private func readHead(_ channel: inout Channel) throws -> Head {
        let statusLine = try channel.line()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else {
            throw StintError(.unavailable, "malformed response from the daemon: \(statusLine)")
        }
        var headers: [String: String] = [:]
        while true {
            let line = try channel.line()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = Self.trimmingOptionalWhitespace(line[line.index(after: colon)...])
        }
        return Head(status: status, headers: headers)
    }

    /// `text` without the spaces and tabs around it (HTTP's optional whitespace). Not
    /// Foundation's `trimmingCharacters`: it goes through `NSString`, whose generic
    /// conversions cost every `stint add` a few first-time conformance lookups.
    static func trimmingOptionalWhitespace(_ text: Substring) -> String {
        let isBlank = { (character: Character) in character == " " || character == "\t" }
        guard let first = text.firstIndex(where: { !isBlank($0) }), let last = text.lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(text[first...last])
    }

    /// Milliseconds from now to `deadline` for `poll`, at least 0, at most a day.
    static func milliseconds(until deadline: Date) -> Int32 {
        Int32(max(0, min(deadline.timeIntervalSinceNow * 1000, 86_400_000)).rounded(.up))
    }
}

/// Writes, reads lines and byte runs through one buffer, waiting with `poll` under the
/// connection's deadlines and its cancellation.
private struct Channel {
    let fd: Int32
    let connection: HTTPConnection
    private var buffer = Data()
    private var eof = false
    /// When the daemon last sent (or we last wrote) something.
    private var lastActivity = Date()

    init(fd: Int32, connection: HTTPConnection) {
        self.fd = fd
        self.connection = connection
    }

    mutating func writeAll(_ data: Data) throws {
        var offset = 0
        while offset < data.count {
            try waitUntilReady(POLLOUT)
            let written = data.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { continue }
                throw StintError(.unavailable, "lost the connection to the daemon: \(String(cString: strerror(errno)))")
            }
            offset += written
            lastActivity = Date()
        }
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
            try waitUntilReady(POLLIN)
            let got = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65536, Int32(MSG_DONTWAIT)) }
            if got < 0 {
                if errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { continue }
                throw StintError(.unavailable, "lost the connection to the daemon: \(String(cString: strerror(errno)))")
            }
            lastActivity = Date()
            if got == 0 {
                eof = true
                return false
            }
            buffer.append(contentsOf: chunk[0..<got])
            return true
        }
    }

    /// Returns once the socket is ready for `event`. Throws ``DeadlineReached`` past the
    /// caller's deadline, ``RequestCancelled`` when cancelled, and, after a silence of the
    /// connection's timeout, what ``HTTPConnection/whileSilent`` throws, or a timeout.
    private mutating func waitUntilReady(_ event: Int32) throws {
        while true {
            var silenceEnds = lastActivity.addingTimeInterval(connection.timeout)
            if let deadline = connection.deadline {
                guard deadline.timeIntervalSinceNow > 0 else { throw DeadlineReached() }
                silenceEnds = min(silenceEnds, deadline)
            }
            var descriptors = [
                pollfd(fd: fd, events: Int16(event), revents: 0),
                pollfd(fd: connection.cancellation?.descriptor ?? -1, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&descriptors, 2, HTTPConnection.milliseconds(until: silenceEnds))
            if ready < 0 {
                if errno == EINTR { continue }
                throw StintError(.unavailable, "poll: \(String(cString: strerror(errno)))")
            }
            if descriptors[1].revents != 0 { throw RequestCancelled() }
            if descriptors[0].revents != 0 { return }
            if let deadline = connection.deadline, deadline.timeIntervalSinceNow <= 0 { throw DeadlineReached() }
            guard Date() >= lastActivity.addingTimeInterval(connection.timeout) else { continue }
            guard let whileSilent = connection.whileSilent else {
                throw HTTPConnection.ConnectError.timedOut("it did not answer within \(DurationText.short(connection.timeout))")
            }
            try whileSilent()
            // Healthy, only quiet: give it another full silence.
            lastActivity = Date()
        }
    }
}

/// A read passed the connection's deadline.
public struct DeadlineReached: Error {}

/// The request was cancelled through its ``RequestCancellation``.
public struct RequestCancelled: Error {}

/// Cancels the requests of a ``StintClient`` from another thread: the blocked call
/// returns at once with ``RequestCancelled``, and the daemon sees the connection close
/// (a wait it holds for us ends).
///
/// It is a pipe that becomes readable when cancelled, so a request waiting in `poll`
/// wakes at once without a lock or a signal.
public final class RequestCancellation: Sendable {
    private let readEnd: Int32
    private let writeEnd: Int32

    /// Creates a cancellation that has not fired.
    public init() {
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends {
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
                _ = fcntl(end, F_SETFL, O_NONBLOCK)
            }
        } else {
            ends = [-1, -1]
        }
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        if readEnd >= 0 { close(readEnd) }
        if writeEnd >= 0 { close(writeEnd) }
    }

    /// Fires it: every request using it ends, now and from now on.
    public func cancel() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// Whether it has fired.
    public var isCancelled: Bool {
        var descriptor = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) > 0
    }

    /// The descriptor that is readable once it has fired.
    var descriptor: Int32 { readEnd }
}
