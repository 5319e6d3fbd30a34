import Foundation
import StintCore

#if canImport(Glibc)
    import Glibc
#endif

/// Several daemons, each a node with its own state folder, sharing one new PostgreSQL
/// database on the server `STINT_TEST_POSTGRES` names (scripts/test starts one).
final class StintCluster {
    /// The store's URL.
    let url: String
    /// One harness (state folder, daemon) per node, `node1`, `node2`, …
    let nodes: [StintHarness]
    /// Each node's `--listen` port.
    let ports: [Int]
    /// The daemon flags every node gets beyond `--store`, `--node` and `--listen`: short
    /// heartbeats and leases, so a rescue takes seconds.
    let flags: [String]
    let parallel: Int

    /// The heartbeat and lease the nodes run with, in seconds.
    static let heartbeat = 1.0
    static let lease = 3.0

    /// The server's URL, when the tests have one.
    static var server: String? { ProcessInfo.processInfo.environment["STINT_TEST_POSTGRES"] }

    /// `password`: put in the nodes' store URL (the test server trusts loopback, so any
    /// password is accepted), to check it never shows.
    init(count: Int = 3, parallel: Int = 2, password: String? = nil) throws {
        guard let server = Self.server else { throw StintError(.internal, "STINT_TEST_POSTGRES is not set") }
        let name = "stint_e2e_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
        try Self.psql(server, "CREATE DATABASE \(name)")
        var base = String(server[..<server.lastIndex(of: "/")!])
        if let password { base = base.replacingOccurrences(of: "://stint@", with: "://stint:\(password)@") }
        url = base + "/" + name
        self.parallel = parallel
        flags = ["--heartbeat", "\(Int(Self.heartbeat * 1000))ms", "--lease", "\(Int(Self.lease * 1000))ms", "--poll", "500ms"]
        ports = (0..<count).map { _ in Self.freePort() }
        nodes = try (0..<count).map { _ in try StintHarness(start: false) }
        for index in nodes.indices { try start(index) }
    }

    /// The name of node `index`.
    func name(_ index: Int) -> String { "node\(index + 1)" }

    /// Starts (again) node `index`'s daemon.
    func start(_ index: Int) throws {
        try nodes[index].startDaemon(
            parallel: parallel,
            arguments: ["--store", url, "--node", name(index), "--listen", "127.0.0.1:\(ports[index])"] + flags)
    }

    /// SIGKILLs node `index`'s daemon and every process of its jobs: the host is gone.
    func killNode(_ index: Int) {
        let node = nodes[index]
        let jobs = node.processes()
        node.killDaemon()
        for pid in jobs { kill(pid, SIGKILL) }
    }

    /// Runs `psql` on `url` with `sql`.
    @discardableResult
    static func psql(_ url: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw StintError(.internal, "psql failed: \(text)") }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `argv` with its output discarded and returns its exit status. By posix_spawn and
    /// waitpid, not Foundation's Process: a script that leaves a server running behind it
    /// (pg_ctl) was never reaped by Process, and waitUntilExit never returned.
    static func runAndWait(_ argv: [String]) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        guard posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// A TCP port on loopback that nothing listens on now.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
