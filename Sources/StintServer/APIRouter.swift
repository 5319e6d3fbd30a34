import Foundation
import Hummingbird
import NIOCore
import Prometheus
import StintCore
import StintEngine
import StintStore

/// The HTTP API (`/v1/…`) that the CLI, scripts and agents speak. Every JSON answer
/// uses the envelope of SPEC.md; errors carry their `E_…` code and a matching status.
struct APIRouter {
    let engine: Engine
    let daemon: DaemonInfo
    let metrics: PrometheusCollectorRegistry
    /// What the engine counts as it works, for `/metrics`.
    let counted: EngineMetrics
    let tokens: APITokens
    /// Which listener this router serves: TCP requests must present a token.
    let transport: Transport
    /// The other daemons of a shared store, for logs of their jobs; `nil` on a store of one host.
    var peers: PeerLink? = nil
    /// The dashboard (`POST /v1/ui` opens it; its own listener serves these routes too).
    var dashboard: DashboardServer? = nil

    func build() -> Router<StintRequestContext> {
        let base = Router(context: StintRequestContext.self)
        // First, so that it wraps every route and the not-found answer too.
        let table = RouteTableBox()
        base.add(middleware: EnvelopeMiddleware(table: table))
        switch transport {
        case .tcp:
            // The dashboard on the listen address too, behind token login (or a code of `stint ui`).
            if let dashboard {
                base.add(middleware: DashboardHeadersMiddleware())
                DashboardPages(sessions: dashboard.sessions, tokens: tokens).register(on: base)
            }
            base.add(middleware: TokenAuthMiddleware(tokens: tokens, dashboard: dashboard?.sessions))
            base.add(middleware: SessionHeaderMiddleware())
        case .dashboard:
            base.add(middleware: DashboardHeadersMiddleware())
            if let dashboard {
                base.add(middleware: DashboardAuthMiddleware(sessions: dashboard.sessions))
                DashboardPages(sessions: dashboard.sessions, tokens: tokens).register(on: base)
            }
        case .unixSocket:
            base.add(middleware: SessionHeaderMiddleware())
        }
        var router = RouteRecorder(base)
        router.get("/metrics", .init("Metrics in the Prometheus text format", content: { _ in ["text/plain": OpenAPIOperation.text] })) { _, context in
            do {
                try unscoped(context, "metrics", hint: "they count every session's jobs")
                let text = try await MetricsExport(engine: engine, counted: counted, registry: metrics).render()
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: text)))
            } catch {
                return errorResponse(error)
            }
        }
        addTokenRoutes(to: &router)
        addScheduleRoutes(to: &router)
        router.post(
            "/v1/ui",
            .init(
                "Opens the dashboard on 127.0.0.1 and gives its URL with a one-time login code (the local socket only)",
                description: "The code opens one browser session, scoped as the caller is, and expires after 5 minutes.",
                body: UIRequest.self, returns: UIResponse.self)
        ) { request, context in
            try await json {
                let body = try await decode(UIRequest.self, request)
                guard transport == .unixSocket, let dashboard else {
                    throw StintError(.forbidden, "the dashboard is opened only on the daemon's local socket", hint: "run `stint ui` on the daemon's machine")
                }
                let address = try await dashboard.open(port: body.port ?? 0)
                let (code, expiresAt) = dashboard.sessions.issueCode(scope: context.session)
                return UIResponse(address: "\(address)", url: "http://\(address)/login?code=\(code)", expiresAt: expiresAt)
            }
        }
        router.get("/v1/daemon", .init("The daemon's status: pid, version, store, counts", returns: DaemonStatus.self)) { _, context in
            try await json { try await daemon.status(engine: engine, scope: context.session) }
        }
        router.post("/v1/daemon/stop", .init("Stops the daemon (running jobs keep running)", description: "Not open to a client scoped to a session.", returns: Empty.self)) { _, context in
            try await json {
                try unscoped(context, "stopping the daemon")
                await daemon.requestShutdown()
                return Empty()
            }
        }
        router.post("/v1/jobs", .init(
                "Adds jobs, all or none, in one transaction", description: "A body of up to 256 MiB.",
                body: AddRequest.self, returns: AddResponse.self)) { request, context in
            try await json {
                let body = try await decode(AddRequest.self, request, limit: maxAddBodyBytes)
                return try await engine.add(body.jobs, scope: context.session)
            }
        }
        router.get("/v1/jobs", .init(
                "Lists jobs, newest first", query: Self.jobFilterQuery + [.flag("total", "also say how many match in all, in the Stint-Total header")],
                returns: [JobView].self)) { request, context in
            var response = try await json {
                try await engine.list(try filter(request.uri.queryParameters), scope: context.session)
            }
            // `total=1`: also say how many match in all, for a client that shows only the newest.
            if request.uri.queryParameters.get("total") == "1", let filter = try? filter(request.uri.queryParameters),
                let total = try? await engine.count(filter, scope: context.session)
            {
                response.headers[ListHeaders.total] = String(total)
            }
            return response
        }
        router.get("/v1/jobs/:id", .init("One job, with its attempts", returns: JobView.self)) { _, context in
            try await json { try await engine.show(try id(context), scope: context.session) }
        }
        router.get("/v1/nodes", .init("The daemons of the store and their leases", returns: NodesResponse.self)) { _, _ in
            try await json { try await engine.nodes() }
        }
        router.get("/v1/jobs/:id/log", .init(
                "A job's output", description: "Followed with follow=1 until the job ends; Stint-Log-Attempt, Stint-Log-Position and Stint-Log-Prefix say where a client resumes.",
                query: [
                    .integer("attempt", "which attempt's output (default: the last)", maximum: 1_000_000),
                    .flag("follow", "stream new output until the job ends"),
                    .integer("head", "only the first N lines", maximum: Int64(Limits.maxLogLines)),
                    .integer("tail", "only the last N lines (with follow=1: first, then the stream)", maximum: Int64(Limits.maxLogLines)),
                    .integer("from", "with follow=1: the stream position to resume from"),
                ], content: { _ in ["text/plain": OpenAPIOperation.text] })) { request, context in
            do {
                let source = try await engine.logSource(
                    try id(context), attempt: try attempt(request.uri.queryParameters), scope: context.session)
                if let peer = source.peer {
                    guard let peers, request.headers[PeerLink.forwarded] == nil else {
                        throw StintError(.unavailable, "the log of job \(source.job) is on node \(peer.node), which this daemon cannot reach")
                    }
                    return try await peers.log(source.job, query: request.uri.query, scope: context.session, from: peer)
                }
                return try await log(source, request.uri.queryParameters)
            } catch {
                return errorResponse(error)
            }
        }
        router.post("/v1/jobs/:id/signal", .init("Sends a signal to a running job's command", body: SignalRequest.self, returns: JobView.self)) { request, context in
            try await json {
                let body = try await decode(SignalRequest.self, request)
                return try await engine.signal(try id(context), signal: body.signal, scope: context.session)
            }
        }
        router.post("/v1/jobs/:id/progress", .init("Reports a running job's progress", body: ProgressRequest.self, returns: JobView.self)) { request, context in
            try await json {
                try await engine.setProgress(
                    try id(context), try await decode(ProgressRequest.self, request), scope: context.session)
            }
        }
        router.post("/v1/jobs/:id/checkpoint", .init("Stores a running job's checkpoint", body: CheckpointRequest.self, returns: JobView.self)) { request, context in
            try await json {
                try await engine.setCheckpoint(
                    try id(context), try await decode(CheckpointRequest.self, request), scope: context.session)
            }
        }
        router.get("/v1/batches", .init("Batch checkpoints", returns: [BatchView].self)) { _, context in
            try await json { try await engine.batches(scope: context.session) }
        }
        router.post("/v1/batches/acquire", .init("Takes (or creates) a batch checkpoint for a run", body: BatchAcquireRequest.self, returns: BatchView.self)) { request, context in
            try await json {
                try await engine.acquireBatch(try await decode(BatchAcquireRequest.self, request), scope: context.session)
            }
        }
        router.post("/v1/batches/forget", .init("Deletes batch checkpoints", body: BatchForgetRequest.self, returns: [Int64].self)) { request, context in
            try await json {
                try await engine.forgetBatches(try await decode(BatchForgetRequest.self, request).ids, scope: context.session)
            }
        }
        router.post("/v1/batches/:id/checkpoint", .init("Saves a batch's progress", body: BatchSaveRequest.self, returns: BatchSaveResponse.self)) { request, context in
            try await json {
                BatchSaveResponse(
                    batch: try await engine.saveBatch(
                        try id(context), try await decode(BatchSaveRequest.self, request), scope: context.session))
            }
        }
        router.post("/v1/batches/:id/heartbeat", .init("Renews a batch run's hold", body: BatchHeartbeatRequest.self, returns: Empty.self)) { request, context in
            try await json {
                let body = try await decode(BatchHeartbeatRequest.self, request)
                try await engine.heartbeatBatch(try id(context), token: body.token, scope: context.session)
                return Empty()
            }
        }
        router.post("/v1/wait", .init("Waits for jobs to end (or a condition)", body: WaitRequest.self, returns: WaitResponse.self)) { request, context in
            try await json { try await engine.wait(try await decode(WaitRequest.self, request), scope: context.session) }
        }
        router.post("/v1/stop", .init("Stops jobs: the whole process tree, SIGTERM then SIGKILL", body: IDsRequest.self, returns: [IDResult].self)) { request, context in
            try await json {
                let body = try await decode(IDsRequest.self, request)
                return await engine.stop(body.ids, grace: body.grace, scope: context.session)
            }
        }
        router.post("/v1/release", .init("Releases held jobs", body: IDsRequest.self, returns: [IDResult].self)) { request, context in
            try await json {
                await engine.requeue(try await decode(IDsRequest.self, request).ids, event: .release, scope: context.session)
            }
        }
        router.post("/v1/retry", .init("Runs ended jobs again", body: IDsRequest.self, returns: [IDResult].self)) { request, context in
            try await json {
                await engine.requeue(try await decode(IDsRequest.self, request).ids, event: .retry, scope: context.session)
            }
        }
        router.post("/v1/rm", .init("Removes ended jobs and their output", body: IDsRequest.self, returns: [IDResult].self)) { request, context in
            try await json { await engine.remove(try await decode(IDsRequest.self, request).ids, scope: context.session) }
        }
        router.get("/v1/notifications", .init(
                "Notifications above an id", description: "With watch=1, NDJSON: the pending ones, then new ones as they are written, a blank line every 15 s.",
                query: [
                    .string("session", "whose notifications (a scoped client: its own)"),
                    .integer("after", "only notifications with a greater id"),
                    .flag("watch", "stream as NDJSON until the client hangs up"),
                    .integer("limit", "at most this many", maximum: Int64(Limits.maxListLimit)),
                ],
                content: { reflector in
                    [
                        "application/json": ["schema": OpenAPIOperation.envelope(try reflector.schema(of: NotificationList.self))],
                        "application/x-ndjson": OpenAPIOperation.text,
                    ]
                })) { request, context in
            let query = request.uri.queryParameters
            do {
                let session = try scopedSession(query.get("session"), context)
                let after = try query.get("after").map { try integer($0, "after") } ?? 0
                if query.get("watch") == "1" {
                    return try await watch(session: session, after: after)
                }
                let limit = try query.get("limit").map { try integer($0, "limit", maximum: Limits.maxListLimit) } ?? 1000
                return try await json {
                    try await engine.notifications(session: session, after: after, limit: Int(limit))
                }
            } catch {
                return errorResponse(error)
            }
        }
        router.post("/v1/ack", .init("Acknowledges notifications", body: AckRequest.self, returns: AckResponse.self)) { request, context in
            try await json { try await engine.ack(try await decode(AckRequest.self, request).ids, scope: context.session) }
        }
        router.get("/v1/summary", .init(
                "What ended, failed or waits, for a session", query: [.string("session", "whose summary (a scoped client: its own)")],
                returns: SummaryView.self)) { request, context in
            try await json {
                try await engine.summary(session: try scopedSession(request.uri.queryParameters.get("session"), context))
            }
        }
        router.post("/v1/prune", .init("Deletes ended jobs older than a duration", body: PruneRequest.self, returns: PruneResponse.self)) { request, context in
            try await json {
                try unscoped(context, "prune", hint: "use `stint rm ID…`")
                return PruneResponse(removed: try await engine.prune(olderThan: try await decode(PruneRequest.self, request).olderThan))
            }
        }
        router.get("/v1/queues", .init("Queues: counts, pause, concurrency, breaker, preflight", returns: [QueueView].self)) { _, context in
            try await json { try await engine.queues(scope: context.session) }
        }
        router.post("/v1/queues/:name", .init("Changes a queue (pause, concurrency, breaker, preflight)", body: QueueUpdate.self, returns: QueueView.self)) { request, context in
            try await json {
                try unscoped(context, "changing a queue")
                let name = context.parameters.get("name") ?? ""
                return try await engine.updateQueue(name, try await decode(QueueUpdate.self, request))
            }
        }
        router.get(
            "/v1/events",
            .init(
                "Events: the newest of a job, a queue or every job; or, as server-sent events, each as it is stored",
                description: """
                    With `Accept: text/event-stream`, a stream: `id:` (the event's id), `event:` (its kind), `data:` \
                    (the event as JSON), a `: keep-alive` comment every 15 s; `Last-Event-ID` (or `after`) resumes after \
                    that event, across daemon restarts; a client that leaves its connection full for 10 s gets a \
                    final `cut_off` event and is disconnected. A scoped client sees only its session's jobs' events.
                    """,
                query: [
                    .integer("job", "only this job's"), .string("queue", "only this queue's"),
                    .integer("limit", "at most this many (not for the stream)", maximum: Int64(Limits.maxListLimit)),
                    .integer("after", "the stream starts after this event id (as Last-Event-ID does)"),
                ],
                content: { reflector in
                    [
                        "application/json": ["schema": OpenAPIOperation.envelope(try reflector.schema(of: [EventView].self))],
                        "text/event-stream": OpenAPIOperation.text,
                    ]
                })
        ) { request, context in
            do {
                let query = request.uri.queryParameters
                let job = try query.get("job").map { try integer($0, "job") }
                if let job { _ = try await engine.show(job, scope: context.session) }
                if request.headers[.accept]?.contains("text/event-stream") == true {
                    let resume = try request.headers[EventStream.lastEventID].map { try integer($0, "Last-Event-ID") }
                    let after = try resume ?? query.get("after").map { try integer($0, "after") }
                    return try await EventStream(engine: engine, daemon: daemon).response(
                        after: after, session: context.session, filter: .init(job: job, queue: query.get("queue")),
                        channel: context.channel)
                }
                if job == nil {
                    try unscoped(
                        context, "events of every job", hint: "the stream (Accept: text/event-stream) is open to it, scoped")
                }
                let limit = try query.get("limit").map { try integer($0, "limit", maximum: Limits.maxListLimit) } ?? 100
                return try await json { try await engine.events(job: job, queue: query.get("queue"), limit: Int(limit)) }
            } catch {
                return errorResponse(error)
            }
        }
        let document = OpenAPIDocumentCache()
        router.get(
            "/openapi.json",
            .init("This document: the API as OpenAPI 3.1", content: { _ in ["application/json": ["schema": ["type": "object"]]] })
        ) { _, _ in
            do {
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: try document.data())))
            } catch {
                return errorResponse(StintError(.internal, "the API document cannot be built: \(error)"))
            }
        }
        document.set(router.documented)
        table.set(RouteTable(router.routes))
        return base
    }

    /// The filters of `GET /v1/jobs`.
    static var jobFilterQuery: [OpenAPIOperation.QueryParameter] {
        [
            .init(
                name: "state", schema: ["type": "string"],
                description: "comma-separated states: \(JobState.allCases.map(\.rawValue).joined(separator: ", "))"),
            .string("session", "only this session's jobs"),
            .string("queue", "only this queue's jobs"),
            .init(name: "label", schema: ["type": "string"], description: "KEY=VALUE; every one given must match", repeated: true),
            .integer("limit", "at most this many, newest first", maximum: Int64(Limits.maxListLimit)),
        ]
    }

    // MARK: - Scope

    /// Refuses `what` to a client scoped to a session.
    private func unscoped(_ context: StintRequestContext, _ what: String, hint: String? = nil) throws {
        guard let scope = context.session else { return }
        throw StintError(.forbidden, "\(what) is not open to a client scoped to session \(scope)", hint: hint)
    }

    /// `session=` of a query, checked against the caller's scope.
    private func scopedSession(_ asked: String?, _ context: StintRequestContext) throws -> String? {
        guard let scope = context.session else { return asked }
        if let asked, asked != scope {
            throw StintError(.notFound, "session \(asked) is not visible to this client", hint: "it is scoped to \(scope)")
        }
        return scope
    }

    // MARK: - Notifications

    /// NDJSON: the pending notifications above `after`, then new ones as they are
    /// written, until the client hangs up or the daemon stops. A blank line every 15 s
    /// keeps idle connections alive.
    private func watch(session: String?, after: Int64) async throws -> Response {
        // Subscribe before the first read, so nothing written in between is missed.
        let wakeups = await engine.subscribe(session: session)
        let headers: HTTPFields = [.contentType: "application/x-ndjson"]
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                var last = after
                let encoder = StintJSON.encoder()
                // Sends every pending notification above `last`, in id order: the store's
                // order, whatever order the wake-ups came in.
                func flush() async throws {
                    while true {
                        let batch = try await engine.notifications(session: session, after: last, limit: 1000)
                        for notification in batch.notifications {
                            last = notification.id
                            var line = try encoder.encode(notification)
                            line.append(0x0A)
                            try await writer.write(ByteBuffer(bytes: line))
                        }
                        if batch.notifications.count < 1000 { return }
                    }
                }
                try await flush()
                // Wake-ups and a heartbeat, merged into one sequence.
                let (merged, feed) = AsyncStream<Bool>.makeStream()
                let forward = Task {
                    for await _ in wakeups { feed.yield(true) }
                    feed.finish()
                }
                let beat = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(15))
                        feed.yield(false)
                    }
                }
                defer {
                    forward.cancel()
                    beat.cancel()
                }
                for await woken in merged {
                    if woken {
                        try await flush()
                    } else {
                        try await writer.write(ByteBuffer(bytes: [0x0A]))
                    }
                }
                try await writer.finish(nil)
            })
    }

    // MARK: - Logs

    /// The `attempt=` of a log request.
    private func attempt(_ query: Parameters) throws -> Int? {
        try query.get("attempt").map { Int(try integer($0, "attempt", maximum: 1_000_000)) }
    }

    private func log(_ source: LogSource, _ query: Parameters) async throws -> Response {
        let id = source.job
        let follow = query.get("follow") == "1"
        let head = try query.get("head").map { try integer($0, "head", maximum: Limits.maxLogLines) }
        let tail = try query.get("tail").map { try integer($0, "tail", maximum: Limits.maxLogLines) }
        // `from=N` follows from stream position N: a client that lost its connection resumes there.
        let from = try query.get("from").map { try integer($0, "from") }
        var headers: HTTPFields = [.contentType: "text/plain; charset=utf-8"]
        guard let log = source.log else {
            // Not started yet: nothing to show, or follow from the start once it runs.
            guard follow else { return Response(status: .ok, headers: headers, body: ResponseBody()) }
            headers[LogFollowHeaders.position] = String(from ?? 0)
            return Response(status: .ok, headers: headers, body: followBody(id: id, attempt: nil, start: from ?? 0))
        }
        if let head {
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: log.head(lines: Int(head), maxBytes: Limits.maxLogWindowBytes))))
        }
        if let tail, !follow {
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: log.tail(lines: Int(tail), maxBytes: Limits.maxLogWindowBytes))))
        }
        if follow {
            let prefix = from == nil ? tail.map { log.tail(lines: Int($0), maxBytes: Limits.maxLogWindowBytes) } : nil
            let start = from ?? (prefix != nil ? log.streamLength() : 0)
            // Where the followed stream starts, after the prefix: what a client resumes from.
            headers[LogFollowHeaders.attempt] = String(source.attempt)
            headers[LogFollowHeaders.position] = String(start)
            headers[LogFollowHeaders.prefix] = String(prefix?.count ?? 0)
            return Response(
                status: .ok, headers: headers, body: followBody(id: id, attempt: source.attempt, start: start, prefix: prefix))
        }
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                try await log.forEachChunk { chunk in try await writer.write(ByteBuffer(bytes: chunk)) }
                try await writer.finish(nil)
            })
    }

    /// Streams an attempt's output as it is written, until the job ends.
    private func followBody(id: Int64, attempt: Int?, start: Int64, prefix: Data? = nil) -> ResponseBody {
        ResponseBody { [engine, daemon] writer in
            if let prefix, !prefix.isEmpty { try await writer.write(ByteBuffer(bytes: prefix)) }
            var cursor: LogCursor?
            while !daemon.isStopping {
                if cursor == nil {
                    if let log = try await engine.logSource(id, attempt: attempt).log {
                        cursor = log.follow(from: start)
                    } else if await engine.hasEnded(id) {
                        break
                    } else {
                        try await Task.sleep(for: .milliseconds(20))
                        continue
                    }
                }
                let read = cursor!.next()
                if !read.bytes.isEmpty {
                    try await writer.write(ByteBuffer(bytes: read.bytes))
                    continue
                }
                // Nothing new: the final log has been read to its end, or the job ended
                // without an exit record (lost), or more output is still to come.
                if read.final { break }
                if await engine.hasEnded(id) { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            try await writer.finish(nil)
        }
    }

    // MARK: - Helpers

    private func id(_ context: StintRequestContext) throws -> Int64 {
        let text = context.parameters.get("id") ?? ""
        guard let value = Int64(text), value > 0 else { throw StintError(.usage, "not an id: \(text)") }
        return value
    }

    /// A query parameter that is a whole number from 0 to `maximum`.
    func integer(_ text: String, _ name: String, maximum: Int64 = Int64.max) throws -> Int64 {
        guard let value = Int64(text), value >= 0 else {
            throw StintError(.usage, "\(name) must be a non-negative integer, not \(text.prefix(40))")
        }
        guard value <= maximum else { throw StintError(.usage, "\(name) is at most \(maximum), not \(text)") }
        return value
    }

    private func filter(_ query: Parameters) throws -> JobFilter {
        var filter = JobFilter()
        if let states = query.get("state") {
            for name in states.split(separator: ",") {
                guard let state = JobState(rawValue: String(name)) else {
                    throw StintError(
                        .usage, "unknown state: \(name)",
                        hint: "one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                filter.states.insert(state)
            }
        }
        filter.session = query.get("session")
        filter.queue = query.get("queue")
        for label in query.getAll("label") {
            let parts = label.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw StintError(.usage, "a label filter is KEY=VALUE, not \(label)") }
            filter.labels[String(parts[0])] = String(parts[1])
        }
        if let limit = query.get("limit") { filter.limit = Int(try integer(limit, "limit", maximum: Limits.maxListLimit)) }
        return filter
    }
}

/// The largest request body: 4 MiB, above the largest request but `POST /v1/jobs`
/// (a batch target of 1 MiB, a command of 128 KiB, JSON-escaped).
let maxBodyBytes = 4 << 20
/// The largest `POST /v1/jobs` body: 256 MiB, an `add --from` of 100,000 jobs with
/// their captured environments.
let maxAddBodyBytes = 256 << 20

func decode<T: Decodable>(_ type: T.Type, _ request: Request, limit: Int = maxBodyBytes) async throws -> T {
    var request = request
    let buffer: ByteBuffer
    do {
        buffer = try await request.collectBody(upTo: limit)
    } catch is NIOTooManyBytesError {
        throw HTTPStatusError(
            status: .contentTooLarge,
            error: StintError(.usage, "the request body is over \(limit >> 20) MiB, the most this route takes"))
    }
    let value: T
    do {
        value = try StintJSON.decoder().decode(type, from: Data(buffer.readableBytesView))
    } catch {
        throw StintError(.usage, "malformed request body: \(error)")
    }
    if let checked = value as? any ValidatedRequest { try checked.validate() }
    return value
}

func json<T: Codable & Sendable>(_ body: () async throws -> T) async throws -> Response {
    do {
        return jsonResponse(.ok, Envelope.ok(try await body()))
    } catch {
        return errorResponse(error)
    }
}

func errorResponse(_ error: any Error) -> Response {
    if let error = error as? HTTPStatusError {
        var response = jsonResponse(error.status, Envelope<Empty>.failure(error.error))
        for field in error.headers { response.headers.append(field) }
        return response
    }
    let stint = (error as? StintError) ?? StintError(.internal, "\(error)")
    let status: HTTPResponse.Status =
        switch stint.code {
        case .notFound: .notFound
        case .usage: .badRequest
        case .conflict: .conflict
        case .unavailable: .serviceUnavailable
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        default: .internalServerError
        }
    return jsonResponse(status, Envelope<Empty>.failure(stint))
}

private func jsonResponse<T: Codable & Sendable>(_ status: HTTPResponse.Status, _ envelope: Envelope<T>) -> Response {
    let data = (try? StintJSON.encoder().encode(envelope)) ?? Data()
    return Response(
        status: status, headers: [.contentType: "application/json"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}

/// The headers of a followed log (`GET /v1/jobs/ID/log?follow=1`), so a client that
/// loses the connection can ask for the rest with `from=` and `attempt=`.
enum LogFollowHeaders {
    /// The attempt followed.
    static let attempt = HTTPFields.Element.Name("Stint-Log-Attempt")!
    /// The stream position of the first byte after the prefix.
    static let position = HTTPFields.Element.Name("Stint-Log-Position")!
    /// How many bytes of the body come first from `tail=` (the last lines), before the stream.
    static let prefix = HTTPFields.Element.Name("Stint-Log-Prefix")!
}

/// The headers of a job listing (`GET /v1/jobs?total=1`).
enum ListHeaders {
    /// How many jobs match the filters in all, the limit aside.
    static let total = HTTPFields.Element.Name("Stint-Total")!
}
