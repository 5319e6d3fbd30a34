import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A real HTTP server on 127.0.0.1 for webhook tests: each path answers a scripted
/// sequence of replies (then 200) and every request is recorded.
final class WebhookServer: Sendable {
    /// One scripted answer.
    struct Reply: Sendable {
        var status: Int
        var retryAfter: String?
        /// Seconds to wait before answering (cut short when the server stops).
        var delay: Double = 0
    }

    /// One request as it arrived.
    struct Arrival: Sendable {
        var path: String
        /// Header names in lower case.
        var headers: [String: String]
        var body: String
    }

    private struct State {
        var scripts: [String: [Reply]]
        var arrivals: [Arrival] = []
        /// The paths answered so far, in the order their answers went out.
        var answered: [String] = []
        var stopping = false
    }

    let port: Int
    private let recorder: Recorder
    private let task: Task<Void, any Error>

    private init(port: Int, recorder: Recorder, task: Task<Void, any Error>) {
        self.port = port
        self.recorder = recorder
        self.task = task
    }

    /// Starts a server whose path `/NAME` answers `scripts[NAME]` in order.
    static func start(_ scripts: [String: [Reply]] = [:]) async throws -> WebhookServer {
        let recorder = Recorder(State(scripts: scripts))
        let router = Router()
        router.post("/:name") { request, context -> Response in
            let name = context.parameters.get("name") ?? ""
            let body = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let reply = recorder.state.withLock { state in
                state.arrivals.append(Arrival(path: "/" + name, headers: headers, body: String(buffer: body)))
                return state.scripts[name]?.isEmpty == false ? state.scripts[name]!.removeFirst() : Reply(status: 200)
            }
            let answerAt = ContinuousClock.now + .seconds(reply.delay)
            while ContinuousClock.now < answerAt, !recorder.state.withLock({ $0.stopping }) {
                try await Task.sleep(for: .milliseconds(50))
            }
            recorder.state.withLock { $0.answered.append("/" + name) }
            var fields = HTTPFields()
            if let retryAfter = reply.retryAfter { fields[HTTPField.Name("Retry-After")!] = retryAfter }
            return Response(
                status: .init(code: reply.status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: "reply \(reply.status)\n")))
        }
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            }, logger: Logger(label: "webhook-server", factory: { _ in SwiftLogNoOpLogHandler() }))
        // Awaited by `stop()`.
        let task = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            throw CancellationError()
        }
        return WebhookServer(port: port, recorder: recorder, task: task)
    }

    /// The URL of path `/name`.
    func url(_ name: String) -> String { "http://127.0.0.1:\(port)/\(name)" }

    /// The requests so far, oldest first.
    var arrivals: [Arrival] { recorder.state.withLock { $0.arrivals } }

    /// The paths answered so far, in the order their answers went out.
    var answered: [String] { recorder.state.withLock { $0.answered } }

    /// Stops the server and waits until it has.
    func stop() async {
        recorder.state.withLock { $0.stopping = true }
        task.cancel()
        _ = await task.result
    }

    /// A port that nothing listens on: a server's, after it stopped.
    static func closedPort() async throws -> Int {
        let server = try await start()
        await server.stop()
        return server.port
    }

    private final class Recorder: Sendable {
        let state: Mutex<State>
        init(_ state: State) { self.state = Mutex(state) }
    }
}
