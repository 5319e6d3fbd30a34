import Foundation
import StintCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A scripted MCP client: runs `stint mcp` with pipes and speaks newline-delimited
/// JSON-RPC to it. Every read has a deadline, so a silent server fails the test
/// instead of hanging it.
final class MCPStdioClient {
    /// One `tools/call` answer.
    struct ToolCall {
        var isError: Bool
        /// The reply object with any pending notifications: the structured content, or
        /// for a reply sent as text only (`job_output`), the JSON of its text.
        var object: [String: Any]
        /// Whether the answer had structured content.
        var structured: Bool
        /// The first text content.
        var text: String

        /// The error code of a failed call (`E_NOT_FOUND`).
        var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
        /// Ids of the pending notifications listed in the result.
        var pendingNotifications: [[String: Any]] { object["pending_notifications"] as? [[String: Any]] ?? [] }
    }

    let process: Process
    /// Kept alive as long as the client: its shutdown kills every process of its home, this server too.
    let harness: StintHarness
    /// Our end of the socket pair: we write requests to it and read answers from it.
    private let socket: Int32
    private var buffer = Data()
    private var nextID = 1
    /// Every server-to-client notification read so far, in order.
    private(set) var notifications: [[String: Any]] = []
    /// Responses read while waiting for another one (their ids were not asked for then).
    private(set) var strayResponses: [[String: Any]] = []

    /// Starts `stint mcp ARGUMENTS…` for `harness`, with `env` added to its environment.
    init(_ harness: StintHarness, arguments: [String], env: [String: String] = [:]) throws {
        // A socket pair, created close-on-exec: other tests spawn processes at the same
        // time, and an inherited copy of our end would keep the server from seeing EOF.
        // The server's end is both its stdin and its stdout.
        var ends: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw StintError(.internal, "socketpair failed: \(String(cString: strerror(errno)))")
        }
        self.harness = harness
        process = Process()
        process.executableURL = URL(fileURLWithPath: harness.binary)
        process.arguments = ["mcp"] + arguments
        process.environment = harness.environment.merging(env) { $1 }
        process.currentDirectoryURL = URL(fileURLWithPath: harness.home)
        let serverEnd = FileHandle(fileDescriptor: ends[1], closeOnDealloc: false)
        process.standardInput = serverEnd
        process.standardOutput = serverEnd
        let log = harness.home + "/mcp-\(UUID().uuidString).err"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        do {
            try process.run()
        } catch {
            close(ends[0])
            close(ends[1])
            throw error
        }
        close(ends[1])
        socket = ends[0]
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        close(socket)
    }

    /// `initialize`, then `notifications/initialized`; returns the initialize result.
    func initialize() throws -> [String: Any] {
        let result = try request(
            "initialize",
            [
                "protocolVersion": "2025-06-18", "capabilities": [String: Any](),
                "clientInfo": ["name": "stint-tests", "version": "1"],
            ])
        try send(["jsonrpc": "2.0", "method": "notifications/initialized"])
        return result
    }

    /// The names `tools/list` gives.
    func toolNames() throws -> [String] {
        let tools = try request("tools/list", [:])["tools"] as? [[String: Any]] ?? []
        return tools.compactMap { $0["name"] as? String }
    }

    /// Calls a tool and returns its result.
    func call(_ name: String, _ arguments: [String: Any] = [:], timeout: Double = 30) throws -> ToolCall {
        let result = try request("tools/call", ["name": name, "arguments": arguments], timeout: timeout)
        let text = ((result["content"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
        let structured = result["structuredContent"] as? [String: Any]
        let parsed = structured ?? (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
        return ToolCall(
            isError: result["isError"] as? Bool ?? false, object: parsed, structured: structured != nil, text: text)
    }

    /// Writes one line as it is (no JSON encoding), for malformed input.
    func sendLine(_ line: String) throws {
        try write(Data((line + "\n").utf8))
    }

    /// Sends a JSON-RPC message as it is, without waiting for anything.
    func sendMessage(_ message: [String: Any]) throws {
        try send(message)
    }

    /// The next message the server writes (a response or a notification), or `nil` when
    /// none comes within `timeout` seconds.
    func nextMessage(timeout: Double) throws -> [String: Any]? {
        do {
            return try read(until: Date().addingTimeInterval(timeout))
        } catch is ReadTimeout {
            return nil
        }
    }

    /// Responses (messages with an id and no method) read within `timeout` seconds,
    /// until `count` of them came or the server closed its output; notifications on the
    /// way are kept.
    func responses(_ count: Int, timeout: Double) throws -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(timeout)
        var found: [[String: Any]] = []
        while found.count < count {
            let message: [String: Any]
            do {
                message = try read(until: deadline)
            } catch is ReadTimeout {
                break
            } catch let error as StintError where error.message.contains("closed its stdout") {
                break
            }
            if message["method"] != nil {
                notifications.append(message)
            } else {
                found.append(message)
            }
        }
        return found
    }

    /// Closes our writing end: the server sees end of input.
    func closeInput() {
        shutdown(socket, Int32(SHUT_WR))
    }

    /// Sends a request and reads until its response, keeping notifications read on the way.
    func request(_ method: String, _ params: [String: Any], timeout: Double = 30) throws -> [String: Any] {
        let id = nextID
        nextID += 1
        try send(["jsonrpc": "2.0", "id": id, "method": method, "params": params])
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let message = try read(until: deadline)
            if message["method"] != nil, message["id"] == nil {
                notifications.append(message)
                continue
            }
            guard (message["id"] as? Int) == id else {
                strayResponses.append(message)
                continue
            }
            if let error = message["error"] { throw StintError(.internal, "\(method) failed: \(error)") }
            return try #require(message["result"] as? [String: Any], "no result in \(message)")
        }
    }

    /// The first `notifications/message` whose data satisfies `matches`, reading more
    /// messages for up to `timeout` seconds; `nil` if none came.
    func logMessage(timeout: Double = 20, where matches: ([String: Any]) -> Bool) throws -> [String: Any]? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let found = notifications.first { message in
                guard message["method"] as? String == "notifications/message",
                    let data = (message["params"] as? [String: Any])?["data"] as? [String: Any]
                else { return false }
                return matches(data)
            }
            if let found { return found["params"] as? [String: Any] }
            guard Date() < deadline else { return nil }
            do {
                let message = try read(until: deadline)
                if message["method"] != nil, message["id"] == nil { notifications.append(message) }
            } catch is ReadTimeout {
                return nil
            }
        }
    }

    /// Closes stdin and waits (up to 10 s) for the server to exit; its status.
    func finish() throws -> Int32 {
        shutdown(socket, Int32(SHUT_WR))
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        guard !process.isRunning else { throw StintError(.internal, "stint mcp did not exit after stdin closed") }
        return process.terminationStatus
    }

    struct ReadTimeout: Error {}

    private func send(_ message: [String: Any]) throws {
        var data = try JSONSerialization.data(withJSONObject: message)
        data.append(0x0A)
        try write(data)
    }

    private func write(_ data: Data) throws {
        try data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.send(socket, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { throw StintError(.internal, "cannot write to stint mcp: \(String(cString: strerror(errno)))") }
                offset += written
            }
        }
    }

    /// The next message, or ``ReadTimeout`` at `deadline`.
    private func read(until deadline: Date) throws -> [String: Any] {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<newline]
                buffer = Data(buffer[buffer.index(after: newline)...])
                guard !line.isEmpty else { continue }
                return try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any], "not a JSON object: \(String(decoding: line, as: UTF8.self))")
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw ReadTimeout() }
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining, 1) * 1000) + 1)
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = Glibc.read(socket, &chunk, chunk.count)
            if count < 0, errno == EINTR || errno == EAGAIN { continue }
            guard count > 0 else { throw StintError(.internal, "stint mcp closed its stdout") }
            buffer.append(contentsOf: chunk[0..<count])
        }
    }
}
