import Foundation
import MCP
import StintCore

/// The MCP server: the tools over stdio, and a push of every notification of the
/// session as an MCP logging message.
actor StintMCPServer {
    private let tools: JobTools
    private let watcher: NotificationWatcher
    private let server: Server
    /// The least severe level the client wants pushed (`logging/setLevel`); default all.
    private var minimumLevel = LogLevel.debug

    /// How often a long tool call reports progress when the client asked for it.
    static let progressInterval: Duration = .seconds(10)

    /// Creates a server for `tools`; ``run()`` serves stdin and stdout.
    init(tools: JobTools, watcher: NotificationWatcher) {
        self.tools = tools
        self.watcher = watcher
        server = Server(
            name: "stint", version: StintVersion.current, title: "Stint background jobs (session \(tools.session))",
            instructions: Self.instructions(session: tools.session),
            capabilities: .init(logging: .init(), tools: .init(listChanged: false)))
    }

    /// Serves until stdin ends.
    func run() async throws {
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: ToolCatalog.tools) }
        await server.withMethodHandler(CallTool.self) { [self] parameters in try await self.call(parameters) }
        await server.withMethodHandler(SetLoggingLevel.self) { [self] parameters in
            await self.setMinimumLevel(parameters.level)
            return Empty()
        }
        // Pushes start once the client has said it is ready for them.
        await server.onNotification(InitializedNotification.self) { [watcher] _ in await watcher.start() }
        // Our transport answers every request read before stdin closed, keeps cancelled
        // requests unanswered, and serves nothing before `initialize` (see ServingTransport).
        try await server.start(transport: ServingTransport())
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.pushNotifications() }
            group.addTask { await self.server.waitUntilCompleted() }
            // stdin ended and every request has its answer: the client is gone. Stop pushing too.
            await group.next()
            group.cancelAll()
        }
    }

    private func setMinimumLevel(_ level: LogLevel) {
        minimumLevel = level
    }

    /// Sends each notification the watcher reports as a `notifications/message`.
    private func pushNotifications() async {
        for await notification in watcher.notifications {
            let level: LogLevel = notification.kind == .ended && notification.state == .succeeded ? .info : .warning
            guard Self.severity(level) >= Self.severity(minimumLevel) else { continue }
            guard let data = try? StintJSON.encoder().encode(notification),
                let value = try? JSONDecoder().decode(Value.self, from: data)
            else { continue }
            // A failed send means stdout is gone; the server's loop ends on its own then.
            try? await server.log(level: level, logger: "stint", data: value)
        }
    }

    /// The rank of `level`: `debug` lowest, `emergency` highest.
    private static func severity(_ level: LogLevel) -> Int {
        LogLevel.allCases.firstIndex(of: level) ?? 0
    }

    /// Runs one tool call; errors become results with `isError`, as MCP asks for tool
    /// errors. A cancelled call (`notifications/cancelled`) throws `CancellationError`, so
    /// that no answer is sent for it.
    private func call(_ parameters: CallTool.Parameters) async throws -> CallTool.Result {
        guard let name = ToolCatalog.Name(rawValue: parameters.name) else {
            let known = ToolCatalog.Name.allCases.map(\.rawValue).joined(separator: ", ")
            return ToolResult.failure(StintError(.usage, "unknown tool '\(parameters.name)'", hint: "tools: \(known)"), pending: nil)
        }
        let tools = tools
        do {
            let reply = try await reportingProgress(to: parameters._meta?.progressToken) {
                try await tools.call(name, parameters.arguments)
            }
            try Task.checkCancellation()
            return ToolResult.success(reply, pending: await tools.pending())
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            try Task.checkCancellation()
            return ToolResult.failure(error, pending: await tools.pending())
        }
    }

    /// Runs `body`; while it runs, and when the client gave a progress token, sends a
    /// progress notification every ``progressInterval`` so that a client with a request
    /// timeout that resets on progress keeps waiting for a long `wait_for_job`.
    private func reportingProgress<T: Sendable>(
        to token: ProgressToken?, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        guard let token else { return try await body() }
        let server = server
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                var elapsed = 0.0
                while true {
                    try await Task.sleep(for: Self.progressInterval)
                    elapsed += Double(Self.progressInterval.components.seconds)
                    try? await server.notify(
                        ProgressNotification.message(.init(progressToken: token, progress: elapsed, message: "still working after \(Int(elapsed)) s")))
                }
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw CancellationError()
        }
    }

    /// What the client may show the model about this server.
    static func instructions(session: String) -> String {
        """
        Stint runs shell commands as durable background jobs. This server's session is "\(session)": \
        jobs you start belong to it, and you see, wait on and stop only its jobs. Start long commands \
        (builds, test suites, servers, downloads) with start_job instead of running them in the foreground; \
        give yield_seconds to wait a little for quick ones. Then either wait_for_job (until end, stall, \
        idle:DUR or output:REGEX; at most 600 s per call) or carry on with other work: when a job ends or \
        stalls, this server sends a notifications/message log notification, and every tool result lists the \
        pending notifications until you acknowledge them with ack_notifications. job_output reads output \
        (tail, head, byte range, regex filter; bounded to 64 KiB).
        """
    }
}
