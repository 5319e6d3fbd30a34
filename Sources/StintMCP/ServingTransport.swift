import Foundation
import Logging
import MCP

/// The stdio transport, with the request bookkeeping that the SDK's `Server` (0.12.1)
/// leaves to us:
///
/// - **Every request read before stdin closed is answered.** The SDK ends its message
///   loop at end of input while request tasks still run, and the process would exit
///   with their replies unsent. Here the message stream the server reads ends only once
///   input has ended *and* every request passed on has been answered or cancelled.
/// - **A cancelled request gets no reply** (`notifications/cancelled`): a reply that
///   still comes from the server is dropped.
/// - **A parse error answers with `"id": null`**, as JSON-RPC asks (the SDK makes up a
///   random id), and a message that is JSON but no request answers Invalid Request.
/// - **Nothing is served before `initialize`.** A request other than `ping` that comes
///   before any `initialize` is refused; one that comes after the `initialize` request
///   but before its answer waits for that answer (the SDK would run both at once).
actor ServingTransport: Transport {
    nonisolated let logger: Logger
    private let inner: any Transport

    /// A JSON-RPC id, as a hashable key: `n:12` or `s:abc`.
    private typealias Key = String

    private enum Phase {
        /// No `initialize` yet.
        case fresh
        /// The `initialize` request with this id is being answered.
        case initializing(Key)
        /// Initialized: requests are served.
        case ready
    }

    private var phase = Phase.fresh
    /// Requests passed to the server and not answered yet.
    private var outstanding: Set<Key> = []
    /// Requests the client cancelled: a late reply is dropped.
    private var cancelled: Set<Key> = []
    /// Requests held back until `initialize` is answered, in order.
    private var held: [(key: Key, id: Value?, data: Data)] = []
    private var inputEnded = false
    private var continuation: AsyncThrowingStream<Data, any Error>.Continuation?
    private var pump: Task<Void, Never>?

    /// Wraps `inner` (by default the stdio transport).
    init(inner: any Transport = StdioTransport()) {
        self.inner = inner
        // Nothing may go to stdout but JSON-RPC; this transport has nothing to log elsewhere.
        logger = Logger(label: "stint.mcp.transport", factory: { _ in SwiftLogNoOpLogHandler() })
    }

    func connect() async throws {
        try await inner.connect()
    }

    func disconnect() async {
        pump?.cancel()
        await inner.disconnect()
    }

    func send(_ data: Data) async throws {
        let responses = Self.responseKeys(data)
        guard !responses.isEmpty else {
            // A notification or request of the server's own: pass it on.
            try await inner.send(data)
            return
        }
        // Answered, or past answering (stdout is gone): either way nothing is left to wait for.
        defer {
            for response in responses { outstanding.remove(response.key) }
            finishIfDrained()
        }
        if responses.allSatisfy({ cancelled.contains($0.key) }) {
            for response in responses { cancelled.remove(response.key) }
            return
        }
        try await inner.send(data)
        for response in responses {
            if case .initializing(let key) = phase, key == response.key {
                await concludeInitialize(succeeded: !response.isError)
            }
        }
    }

    func receive() -> AsyncThrowingStream<Data, any Error> {
        let (stream, continuation) = AsyncThrowingStream<Data, any Error>.makeStream()
        self.continuation = continuation
        let source = inner
        pump = Task {
            do {
                for try await data in await source.receive() { await self.take(data) }
            } catch {
                // stdin failed: as good as closed.
            }
            await self.endInput()
        }
        return stream
    }

    // MARK: - Incoming

    /// Sorts one message from the client: answer it here, hold it, or pass it on.
    private func take(_ data: Data) async {
        guard let json = try? JSONDecoder().decode(Value.self, from: data) else {
            await reply(id: nil, code: -32700, message: "Parse error: the message is not JSON")
            return
        }
        // A batch (JSON-RPC 2.0; gone from MCP 2025-06-18): the SDK answers it as one.
        if case .array(let batch) = json {
            for case .object(let item) in batch {
                if let key = Self.key(item["id"]), item["method"]?.stringValue != nil { outstanding.insert(key) }
            }
            continuation?.yield(data)
            return
        }
        guard case .object(let object) = json else {
            await reply(id: nil, code: -32600, message: "Invalid Request: not a JSON-RPC object")
            return
        }
        let id = object["id"]
        let key = Self.key(id)
        guard let method = object["method"]?.stringValue else {
            if key != nil, object["result"] != nil || object["error"] != nil {
                continuation?.yield(data)  // an answer to one of the server's requests
            } else {
                await reply(id: key == nil ? nil : id, code: -32600, message: "Invalid Request: no method")
            }
            return
        }
        guard let key else {
            if let id, !id.isNull {
                await reply(id: nil, code: -32600, message: "Invalid Request: an id is a string or a number")
                return
            }
            // A notification.
            if method == CancelledNotification.name,
                case .object(let parameters)? = object["params"], let requestID = Self.key(parameters["requestId"])
            {
                cancel(requestID)
            }
            continuation?.yield(data)
            return
        }
        switch phase {
        case .ready:
            pass(key, data)
        case .fresh where method == Initialize.name:
            phase = .initializing(key)
            pass(key, data)
        case _ where method == Ping.name:
            pass(key, data)
        case .initializing:
            held.append((key, id, data))
        case .fresh:
            await reply(id: id, code: Self.notInitialized, message: "Server not initialized: send initialize first")
        }
    }

    /// The error code for a request before `initialize` (as LSP's ServerNotInitialized).
    static let notInitialized = -32002

    private func pass(_ key: Key, _ data: Data) {
        outstanding.insert(key)
        continuation?.yield(data)
    }

    /// The client gave up on a request: no reply goes out for it.
    private func cancel(_ key: Key) {
        if let index = held.firstIndex(where: { $0.key == key }) {
            held.remove(at: index)
        } else if outstanding.contains(key) {
            outstanding.remove(key)
            cancelled.insert(key)
        }
        finishIfDrained()
    }

    /// `initialize` was answered: serve what waited for it, or refuse it after a failure.
    private func concludeInitialize(succeeded: Bool) async {
        phase = succeeded ? .ready : .fresh
        let waiting = held
        held = []
        for (key, id, data) in waiting {
            if succeeded {
                pass(key, data)
            } else {
                await reply(id: id, code: Self.notInitialized, message: "Server not initialized: initialize failed")
            }
        }
    }

    private func endInput() {
        inputEnded = true
        finishIfDrained()
    }

    /// Ends the server's message stream once input has ended and nothing is left to answer.
    private func finishIfDrained() {
        guard inputEnded, outstanding.isEmpty, held.isEmpty else { return }
        continuation?.finish()
        continuation = nil
    }

    // MARK: - Helpers

    /// Sends a JSON-RPC error answer of our own.
    private func reply(id: Value?, code: Int, message: String) async {
        let response: Value = [
            "jsonrpc": "2.0", "id": id ?? .null, "error": ["code": .int(code), "message": .string(message)],
        ]
        guard let data = try? JSONEncoder().encode(response) else { return }
        try? await inner.send(data)
    }

    /// The key of a JSON-RPC id, or `nil` for none (or `null`, or another type).
    private static func key(_ id: Value?) -> Key? {
        switch id {
        case .string(let text)?: "s:" + text
        case .int(let number)?: "n:\(number)"
        case .double(let number)? where number == number.rounded(): "n:\(Int(number))"
        default: nil
        }
    }

    /// The ids an outgoing message answers (one, or several for a batch), and whether each is an error.
    private static func responseKeys(_ data: Data) -> [(key: Key, isError: Bool)] {
        guard let json = try? JSONDecoder().decode(Value.self, from: data) else { return [] }
        let objects: [Value] = if case .array(let items) = json { items } else { [json] }
        return objects.compactMap { message in
            guard case .object(let object) = message, object["method"] == nil,
                object["result"] != nil || object["error"] != nil, let key = key(object["id"])
            else { return nil }
            return (key, object["error"] != nil)
        }
    }
}
