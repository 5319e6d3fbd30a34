import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// One HTTP/1.1 request on the daemon's unix socket, for `/metrics`, which the CLI does not read.
private func request(_ method: String, _ path: String, socket: String) throws -> (status: Int, body: String) {
    let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw StintError(.internal, "socket failed") }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (index, byte) in socket.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
    }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard connected == 0 else { throw StintError(.unavailable, "cannot connect to \(socket)") }
    let message = """
        \(method) \(path) HTTP/1.1\r
        Host: localhost\r
        Connection: close\r
        \r

        """
    _ = message.withCString { write(fd, $0, strlen($0)) }
    var response = Data()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { break }
        response.append(contentsOf: buffer[0..<count])
    }
    let text = String(decoding: response, as: UTF8.self)
    let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
    let content = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (status, content)
}

@Suite("Delivery: the daemon's hooks, flags and metrics")
struct DeliveryEndToEndTests {
    @Test("the daemon takes the delivery flags and exports stint_deliveries_total on GET /metrics")
    func metricsRoute() throws {
        let stint = try StintHarness(daemonArguments: [
            "--delivery-attempts", "5", "--delivery-backoff", "1s..10s", "--shutdown-budget", "1s",
        ])
        let (status, body) = try request("GET", "/metrics", socket: stint.home + "/stint.sock")
        #expect(status == 200)
        #expect(body.contains("# TYPE stint_deliveries_total counter"))
        for status in ["success", "exhausted", "permanent"] {
            for channel in ["webhook", "command"] {
                #expect(body.contains("stint_deliveries_total{status=\"\(status)\",channel=\"\(channel)\"} 0"), "\(body)")
            }
        }
    }

    @Test("stint add --on-end and stint queue set --on-end: both hooks run when the job ends, and the counter says so")
    func commandHooksRun() throws {
        let stint = try StintHarness()
        let socket = stint.home + "/stint.sock"
        let hook = #"printf '%s %s %s' "$STINT_JOB_ID" "$STINT_EXIT_CODE" "$STINT_EVENT" > NAME.tmp && mv NAME.tmp NAME"#
        try #require(
            try stint.run("queue", "set", "hooked", "--on-end", hook.replacingOccurrences(of: "NAME", with: "queue-hook")).status == 0)
        let id = try stint.add(
            "--queue", "hooked", "--on-end", hook.replacingOccurrences(of: "NAME", with: "job-hook"), "--", "sh", "-c", "exit 4")
        for name in ["job-hook", "queue-hook"] {
            let marker = stint.home + "/" + name
            #expect(try stint.eventually { FileManager.default.fileExists(atPath: marker) }, "\(name) did not run")
            #expect((try? String(contentsOfFile: marker, encoding: .utf8)) == "\(id) 4 ended")
        }
        #expect(try stint.eventually {
            try request("GET", "/metrics", socket: socket).body.contains("stint_deliveries_total{status=\"success\",channel=\"command\"} 2")
        })
    }

    @Test("stint daemon refuses a delivery backoff whose first delay exceeds its cap")
    func badBackoff() throws {
        let stint = try StintHarness(start: false)
        let result = try stint.run("daemon", "run", "--delivery-backoff", "5m..30s")
        #expect(result.status == 64)
        #expect(result.stderr.contains("--delivery-backoff"))
    }
}
