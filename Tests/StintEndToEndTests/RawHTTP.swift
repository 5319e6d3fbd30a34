import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// One raw HTTP/1.1 exchange (the test's own, independent of the client under test).
struct RawHTTP {
    var status: Int
    var headers: String
    var body: String

    /// The error code of a JSON envelope body.
    var errorCode: String? {
        (try? StintJSON.decoder().decode(Envelope<Empty>.self, from: Data(body.utf8)))?.error?.code.rawValue
    }

    static func tcp(
        _ url: String, _ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil
    ) throws -> RawHTTP {
        let address = try HostPort.parse(url: url)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = in_port_t(UInt16(address.port).bigEndian)
        inet_pton(AF_INET, address.host, &sin.sin_addr)
        let connected = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0, "connect to \(url) failed")
        return try exchange(fd, method, path, headers: headers, body: body)
    }

    static func unix(
        _ path: String, _ method: String, _ target: String, headers: [String: String] = [:], body: String? = nil
    ) throws -> RawHTTP {
        try exchange(try connectUnix(path), method, target, headers: headers, body: body)
    }

    /// A connected unix socket to `path`, for tests that speak to it byte by byte.
    static func connectUnix(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(connected == 0, "connect to \(path) failed")
        return fd
    }

    private static func exchange(
        _ fd: Int32, _ method: String, _ path: String, headers: [String: String], body: String?
    ) throws -> RawHTTP {
        defer { close(fd) }
        var request = "\(method) \(path) HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        if let body { request += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        request += "\r\n" + (body ?? "")
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response.append(contentsOf: buffer[0..<count])
        }
        let text = String(decoding: response, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let head = parts[0]
        let status = try #require(Int(head.split(separator: " ").dropFirst().first ?? ""), "no status in \(text)")
        // The daemon answers JSON with a Content-Length, so the body is what follows the head.
        return RawHTTP(status: status, headers: head, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }
}
