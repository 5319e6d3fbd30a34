public import Foundation
public import StintCore

#if canImport(Glibc)
    import Glibc
#endif

/// A typed client of the daemon's API, for the CLI and for Swift programs.
///
/// Calls block the calling thread; each is one HTTP request on the local socket, or
/// over TCP to a ``remote`` daemon. When nothing answers on the local socket and
/// auto-start is on, the first call starts the daemon (detached) and waits for it to listen.
public struct StintClient: Sendable {
    /// A daemon reached over TCP (`STINT_URL`) with an API token (`STINT_TOKEN`).
    public struct Remote: Sendable {
        /// `http://HOST:PORT`; `https://` is refused with `E_USAGE` when a call is made.
        public var url: String
        /// The API token, sent as `Authorization: Bearer`; `nil`: none, and the daemon refuses.
        public var token: String?
        /// Creates a remote.
        public init(url: String, token: String?) {
            self.url = url
            self.token = token
        }
    }

    /// The state folder layout.
    public let paths: StintPaths
    /// The executable to start as `EXECUTABLE daemon` when nothing answers; `nil`: never.
    public var autostartExecutable: String?
    /// The session every call is scoped to (sent as `Stint-Session`); `nil`: none.
    public var session: String?
    /// Talk to this daemon over TCP instead of the local socket, never starting one.
    /// Default: `nil`, the local socket.
    public var remote: Remote?
    /// Seconds connecting to the daemon may take, and the longest the daemon may stay
    /// silent while it answers (before its first byte, and between later ones); then the
    /// call fails with `E_UNAVAILABLE`. Default ``defaultTimeout`` (`STINT_TIMEOUT` in the CLI).
    ///
    /// Long polls (``wait(_:any:timeout:until:)``, a followed ``log(_:attempt:head:tail:follow:deadline:sink:)``,
    /// ``watchNotifications(session:after:sink:)``) are silent on purpose: after each such
    /// silence they ask the daemon for its status on a second connection, under the same
    /// deadlines, and wait on while it answers.
    public var timeout: Double = Self.defaultTimeout
    /// Ends the calls in progress from another thread (they throw ``RequestCancelled``);
    /// `nil`: calls cannot be cancelled. Default `nil`.
    public var cancellation: RequestCancellation?
    /// Whether auto-start is off because the user said so (`STINT_NO_AUTOSTART=1`), so
    /// that "no daemon" errors name the variable only then. Default `false`.
    public var autostartDisabledByUser = false

    /// The default of ``timeout``: 30 s.
    public static let defaultTimeout: Double = 30

    /// Creates a client.
    public init(paths: StintPaths, autostartExecutable: String?, session: String? = nil) {
        self.paths = paths
        self.autostartExecutable = autostartExecutable
        self.session = session
    }

    // MARK: - Calls

    /// Enqueues `jobs` in one transaction; returns their ids.
    public func add(_ jobs: [JobSpec]) throws -> AddResponse {
        try call("POST", "/v1/jobs", AddRequest(jobs: jobs), as: AddResponse.self)
    }

    /// Jobs matching the filters.
    public func list(
        states: [JobState] = [], session: String? = nil, queue: String? = nil, labels: [String] = [],
        limit: Int? = nil
    ) throws -> [JobView] {
        try listCounting(states: states, session: session, queue: queue, labels: labels, limit: limit).jobs
    }

    /// Jobs matching the filters (the newest `limit`), and how many match in all (`nil`
    /// from a daemon that does not say).
    public func listCounting(
        states: [JobState] = [], session: String? = nil, queue: String? = nil, labels: [String] = [],
        limit: Int? = nil
    ) throws -> (jobs: [JobView], total: Int?) {
        var query: [(String, String)] = []
        if !states.isEmpty { query.append(("state", states.map(\.rawValue).joined(separator: ","))) }
        if let session { query.append(("session", session)) }
        if let queue { query.append(("queue", queue)) }
        for label in labels { query.append(("label", label)) }
        if let limit { query.append(("limit", String(limit))) }
        query.append(("total", "1"))
        var total: Int?
        do {
            let jobs = try perform(
                "GET", "/v1/jobs" + Self.queryString(query), Empty?.none, as: [JobView].self,
                onHead: { total = $0.headers["stint-total"].flatMap(Int.init) })
            return (jobs, total)
        } catch let error as HTTPConnection.ConnectError {
            throw unavailable(error)
        }
    }

    /// The daemons sharing the store (this one alone on a store of one host).
    public func nodes() throws -> NodesResponse {
        try call("GET", "/v1/nodes", Empty?.none, as: NodesResponse.self)
    }

    /// Opens the dashboard (on the daemon's local socket only) and returns its login URL.
    public func openUI(port: Int?) throws -> UIResponse {
        try call("POST", "/v1/ui", UIRequest(port: port), as: UIResponse.self)
    }

    /// Every queue with its counts, breaker and preflight.
    public func queues() throws -> [QueueView] {
        try call("GET", "/v1/queues", Empty?.none, as: [QueueView].self)
    }

    /// Changes a queue's settings, creating the queue if needed.
    public func updateQueue(_ name: String, _ update: QueueUpdate) throws -> QueueView {
        let path = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name
        return try call("POST", "/v1/queues/\(path)", update, as: QueueView.self)
    }

    /// Recent events of a job, a queue, or all, oldest first.
    public func events(job: Int64? = nil, queue: String? = nil, limit: Int? = nil) throws -> [EventView] {
        var query: [(String, String)] = []
        if let job { query.append(("job", String(job))) }
        if let queue { query.append(("queue", queue)) }
        if let limit { query.append(("limit", String(limit))) }
        return try call("GET", "/v1/events" + Self.queryString(query), Empty?.none, as: [EventView].self)
    }

    /// One job with its attempts.
    public func show(_ id: Int64) throws -> JobView {
        try call("GET", "/v1/jobs/\(id)", Empty?.none, as: JobView.self)
    }

    /// ``add(_:)`` without Foundation's JSON coders on the way (``JSONWriter`` and
    /// ``JSONValue``), for the CLI's `stint add`; the same request, answer and errors.
    public func addWithoutFoundationJSON(_ jobs: [JobSpec]) throws -> AddResponse {
        let request = AddRequest(jobs: jobs)
        let payload = try request.handWrittenJSON().map { Data($0) } ?? StintJSON.encoder().encode(request)
        do {
            return try exchange("POST", "/v1/jobs", payload: payload) { received in
                try Self.readEnvelope(received, fallback: AddResponse.self, AddResponse.init(json:), converting: { $0 })
            }
        } catch let error as HTTPConnection.ConnectError {
            throw unavailable(error)
        }
    }

    /// ``wait(_:any:timeout:until:)`` without Foundation's JSON coders on the way, for
    /// the CLI's `stint wait`: only the fields its text needs (``WaitOutcome``).
    public func waitOutcome(_ ids: [Int64], any: Bool, timeout: Double?, until: WaitUntil? = nil) throws -> WaitOutcome {
        try wait(ids, any: any, timeout: timeout, until: until, done: { (outcome: WaitOutcome) in outcome.done }) { request in
            let payload = try request.handWrittenJSON().map { Data($0) } ?? StintJSON.encoder().encode(request)
            return try exchange("POST", "/v1/wait", payload: payload, longPoll: true) { received in
                try Self.readEnvelope(received, fallback: WaitResponse.self, WaitOutcome.init(json:), converting: WaitOutcome.init)
            }
        }
    }

    /// Blocks until the jobs end (one, with `any`) or `timeout` seconds pass.
    ///
    /// Survives a daemon restart: when the daemon goes away mid-wait, the client
    /// reconnects (starting it again when auto-start is on) and waits on, for up to 30 s
    /// of absence. `timeout` counts from this call, the time spent reconnecting included;
    /// a daemon still away when it runs out is `E_UNAVAILABLE`. A daemon that is there but
    /// does not answer within ``timeout`` (stopped, wedged) is `E_UNAVAILABLE` at once.
    public func wait(_ ids: [Int64], any: Bool, timeout: Double?, until: WaitUntil? = nil) throws -> WaitResponse {
        try wait(ids, any: any, timeout: timeout, until: until, done: { (response: WaitResponse) in response.done }) { request in
            try perform("POST", "/v1/wait", request, as: WaitResponse.self, longPoll: true)
        }
    }

    /// The loop of ``wait(_:any:timeout:until:)``, sending each request with `send`.
    private func wait<Result>(
        _ ids: [Int64], any: Bool, timeout: Double?, until: WaitUntil?, done: (Result) -> Bool,
        send: (WaitRequest) throws -> Result
    ) throws -> Result {
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        var reconnectUntil: Date?
        while true {
            let remaining = deadline.map { max(0, $0.timeIntervalSinceNow) }
            do {
                let response = try send(WaitRequest(ids: ids, any: any, timeout: remaining, until: until))
                if done(response) || (deadline.map { $0.timeIntervalSinceNow <= 0 } ?? false) { return response }
                reconnectUntil = nil
            } catch let error as HTTPConnection.ConnectError {
                if case .timedOut = error { throw unavailable(error) }
                try pauseBeforeReconnecting(&reconnectUntil, deadline: deadline, error: unavailable(error))
            } catch let error as StintError where error.code == .unavailable {
                // The daemon stopped or died while we waited: the job goes on under its
                // shim, and the next daemon knows its outcome.
                try pauseBeforeReconnecting(&reconnectUntil, deadline: deadline, error: error)
            }
        }
    }

    /// Waits a moment before a long poll reconnects to a daemon that went away; throws
    /// `error` once it has been away 30 s, or `deadline` has passed.
    private func pauseBeforeReconnecting(_ limit: inout Date?, deadline: Date?, error: StintError) throws {
        let until = limit ?? Date().addingTimeInterval(Self.reconnectWindow)
        limit = until
        let end = min(until, deadline ?? .distantFuture)
        guard Date() < end else { throw error }
        if cancellation?.isCancelled == true { throw RequestCancelled() }
        usleep(UInt32(min(0.1, end.timeIntervalSinceNow) * 1_000_000))
    }

    /// How long a long poll keeps reconnecting to a daemon that went away: 30 s.
    static let reconnectWindow: Double = 30

    /// Cancels jobs; running ones get SIGTERM, then SIGKILL after `grace` seconds.
    public func stop(_ ids: [Int64], grace: Double?) throws -> [IDResult] {
        try call("POST", "/v1/stop", IDsRequest(ids: ids, grace: grace), as: [IDResult].self)
    }

    /// Sends `signal` to a running job's process tree.
    public func signal(_ id: Int64, signal: Int32) throws -> JobView {
        try call("POST", "/v1/jobs/\(id)/signal", SignalRequest(signal: signal), as: JobView.self)
    }

    /// Starts a new attempt of ended jobs.
    public func retry(_ ids: [Int64]) throws -> [IDResult] {
        try call("POST", "/v1/retry", IDsRequest(ids: ids), as: [IDResult].self)
    }

    /// Lets held jobs run.
    public func release(_ ids: [Int64]) throws -> [IDResult] {
        try call("POST", "/v1/release", IDsRequest(ids: ids), as: [IDResult].self)
    }

    /// Deletes ended jobs and their files.
    public func remove(_ ids: [Int64]) throws -> [IDResult] {
        try call("POST", "/v1/rm", IDsRequest(ids: ids), as: [IDResult].self)
    }

    /// Deletes jobs that ended at least `olderThan` seconds ago (all ended jobs: `nil`).
    public func prune(olderThan: Double?) throws -> [Int64] {
        try call("POST", "/v1/prune", PruneRequest(olderThan: olderThan), as: PruneResponse.self).removed
    }

    /// The daemon's health. Never starts a daemon.
    public func daemonStatus() throws -> DaemonStatus {
        try call("GET", "/v1/daemon", Empty?.none, as: DaemonStatus.self, autostart: false)
    }

    /// Asks the daemon to stop gracefully and waits (up to `timeout` seconds) until it
    /// has exited; running jobs keep running. Never starts one.
    public func stopDaemon(timeout: Double = 15) throws {
        _ = try call("POST", "/v1/daemon/stop", Empty(), as: Empty.self, autostart: false)
        // A remote daemon's lock is on another machine, or at least not ours to watch.
        guard remote == nil else { return }
        // The daemon holds its lock until the process is gone: that, not the socket,
        // says a new daemon may start.
        let deadline = Date().addingTimeInterval(timeout)
        while DaemonProbe.isLocked(paths.daemonLock) {
            guard Date() < deadline else {
                throw StintError(.unavailable, "the daemon did not exit within \(Int(timeout)) s", hint: "see \(paths.daemonLog)")
            }
            usleep(5_000)
        }
    }

    /// Streams a job's log to `sink`: all of it, its first or last lines, or following
    /// it until the job ends. With a `deadline`, throws ``DeadlineReached`` when it passes.
    ///
    /// A follow survives a daemon restart as ``wait(_:any:timeout:until:)`` does: it
    /// reconnects and goes on from the byte after the last one it passed on.
    public func log(
        _ id: Int64, attempt: Int? = nil, head: Int? = nil, tail: Int? = nil, follow: Bool = false,
        deadline: Date? = nil, sink: (Data) throws -> Void
    ) throws {
        var attempt = attempt
        var tail = tail
        // The stream position to resume from, once the daemon said where its stream starts.
        var resumeFrom: Int64?
        var reconnectUntil: Date?
        while true {
            var query: [(String, String)] = []
            if let attempt { query.append(("attempt", String(attempt))) }
            if let head { query.append(("head", String(head))) }
            if let tail { query.append(("tail", String(tail))) }
            if follow { query.append(("follow", "1")) }
            if let resumeFrom { query.append(("from", String(resumeFrom))) }
            var connection = try connection(autostart: true, longPoll: follow)
            connection.deadline = deadline
            var errorBody = Data()
            var isError = false
            var start: Int64?
            var prefix: Int64 = 0
            var received: Int64 = 0
            do {
                _ = try connection.exchange(
                    method: "GET", path: "/v1/jobs/\(id)/log" + Self.queryString(query), body: nil,
                    onHead: { head in
                        isError = head.status >= 400
                        if let number = head.headers["stint-log-attempt"].flatMap(Int.init) { attempt = number }
                        start = head.headers["stint-log-position"].flatMap(Int64.init)
                        prefix = head.headers["stint-log-prefix"].flatMap(Int64.init) ?? 0
                        if let start { resumeFrom = start }
                    },
                    onBody: { data in
                        if isError {
                            errorBody.append(data)
                            return
                        }
                        try sink(data)
                        received += Int64(data.count)
                        if let start { resumeFrom = start + max(0, received - prefix) }
                    })
                if isError { throw Self.error(from: errorBody) }
                // A follow also ends when the daemon stops: then the job goes on, and so do we.
                guard follow, !(try jobHasEnded(id)) else { return }
                reconnectUntil = nil
            } catch let error as HTTPConnection.ConnectError {
                guard follow, resumeFrom != nil else { throw unavailable(error) }
                if case .timedOut = error { throw unavailable(error) }
                try pauseBeforeReconnecting(&reconnectUntil, deadline: deadline, error: unavailable(error))
            } catch let error as StintError where error.code == .unavailable && follow && resumeFrom != nil {
                try pauseBeforeReconnecting(&reconnectUntil, deadline: deadline, error: error)
            }
            tail = nil
        }
    }

    /// Whether the job has ended; `false` when the daemon cannot say (it is away).
    private func jobHasEnded(_ id: Int64) throws -> Bool {
        do {
            return try show(id).state.isTerminal
        } catch let error as StintError where error.code == .unavailable {
            return false
        }
    }

    // MARK: - Progress and checkpoints

    /// Records a running job's progress.
    public func progress(_ id: Int64, _ request: ProgressRequest) throws -> JobView {
        try call("POST", "/v1/jobs/\(id)/progress", request, as: JobView.self)
    }

    /// Records a running job's checkpoint.
    public func checkpoint(_ id: Int64, _ value: String) throws -> JobView {
        try call("POST", "/v1/jobs/\(id)/checkpoint", CheckpointRequest(value: value), as: JobView.self)
    }

    // MARK: - Batches

    /// Takes the lock of a batch and returns its checkpoint; `E_CONFLICT` when it is held
    /// by a live process or a queue it excludes is not paused.
    public func acquireBatch(_ request: BatchAcquireRequest) throws -> BatchView {
        try call("POST", "/v1/batches/acquire", request, as: BatchView.self)
    }

    /// Records a batch's checkpoint (and releases its lock, or forgets a finished batch, as asked).
    @discardableResult
    public func saveBatch(_ id: Int64, _ request: BatchSaveRequest) throws -> BatchView? {
        try call("POST", "/v1/batches/\(id)/checkpoint", request, as: BatchSaveResponse.self).batch
    }

    /// Tells the daemon that the holder of a batch's lock still runs.
    public func heartbeatBatch(_ id: Int64, token: String) throws {
        _ = try call("POST", "/v1/batches/\(id)/heartbeat", BatchHeartbeatRequest(token: token), as: Empty.self)
    }

    /// Every batch checkpoint.
    public func batches() throws -> [BatchView] {
        try call("GET", "/v1/batches", Empty?.none, as: [BatchView].self)
    }

    /// Deletes batch checkpoints that no live process holds.
    public func forgetBatches(_ ids: [Int64]) throws -> [BatchView] {
        try call("POST", "/v1/batches/forget", BatchForgetRequest(ids: ids), as: [BatchView].self)
    }

    // MARK: - Schedules

    /// Stores a schedule.
    public func addSchedule(_ spec: ScheduleSpec) throws -> ScheduleView {
        try call("POST", "/v1/schedules", spec, as: ScheduleView.self)
    }

    /// Every schedule the client sees.
    public func schedules() throws -> [ScheduleView] {
        try call("GET", "/v1/schedules", Empty?.none, as: [ScheduleView].self)
    }

    /// One schedule with its newest `runs` runs.
    public func schedule(_ name: String, runs: Int? = nil) throws -> ScheduleView {
        let query = runs.map { [("runs", String($0))] } ?? []
        return try call("GET", "/v1/schedules/\(Self.pathComponent(name))" + Self.queryString(query), Empty?.none, as: ScheduleView.self)
    }

    /// Pauses, resumes or removes a schedule (`action`: `pause`, `resume`, `rm`).
    public func changeSchedule(_ name: String, _ action: String) throws -> ScheduleView {
        try call("POST", "/v1/schedules/\(Self.pathComponent(name))/\(action)", Empty?.none, as: ScheduleView.self)
    }

    /// Fires a schedule once now.
    public func runSchedule(_ name: String) throws -> ScheduleFireResponse {
        try call("POST", "/v1/schedules/\(Self.pathComponent(name))/run", Empty?.none, as: ScheduleFireResponse.self)
    }

    private static func pathComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._"))) ?? text
    }

    // MARK: - The outbox

    /// Pending notifications (of `session`, else of the client's scope, else all) above `after`.
    public func notifications(session: String? = nil, after: Int64 = 0, limit: Int? = nil) throws -> NotificationList {
        var query: [(String, String)] = []
        if let session { query.append(("session", session)) }
        if after > 0 { query.append(("after", String(after))) }
        if let limit { query.append(("limit", String(limit))) }
        return try call("GET", "/v1/notifications" + Self.queryString(query), Empty?.none, as: NotificationList.self)
    }

    /// Streams notifications to `sink` as they are written: the pending ones above
    /// `after` first. Returns when the daemon closes the stream (it stops) or `sink`
    /// returns false; the caller reconnects with the last id it saw.
    public func watchNotifications(
        session: String? = nil, after: Int64 = 0, sink: (NotificationView) throws -> Bool
    ) throws {
        var query: [(String, String)] = [("watch", "1")]
        if let session { query.append(("session", session)) }
        if after > 0 { query.append(("after", String(after))) }
        var buffer = Data()
        let decoder = StintJSON.decoder()
        try stream("/v1/notifications" + Self.queryString(query)) { data in
            buffer.append(data)
            while let newline = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<newline]
                buffer = Data(buffer[buffer.index(after: newline)...])
                guard !line.isEmpty else { continue }  // a heartbeat
                let notification = try decoder.decode(NotificationView.self, from: Data(line))
                guard try sink(notification) else { return false }
            }
            return true
        }
    }

    /// Streams events to `sink` as they are stored (`GET /v1/events` as server-sent
    /// events): those after `after` first (`nil`: from the newest on). Returns when the daemon
    /// closes the stream (it stops, or cut the client off) or `sink` returns false, with the
    /// last event id the stream gave (where it started, if it sent no event): the caller
    /// reconnects after it.
    @discardableResult
    public func watchEvents(
        job: Int64? = nil, queue: String? = nil, after: Int64? = nil, sink: (EventView) throws -> Bool
    ) throws -> Int64? {
        var query: [(String, String)] = []
        if let job { query.append(("job", String(job))) }
        if let queue { query.append(("queue", queue)) }
        if let after { query.append(("after", String(after))) }
        var parser = ServerSentEvents()
        let decoder = StintJSON.decoder()
        do {
            try stream("/v1/events" + Self.queryString(query), accept: "text/event-stream") { data in
                for message in parser.feed(data) where message.event != "cut_off" {
                    let event = try decoder.decode(EventView.self, from: Data(message.data.utf8))
                    guard try sink(event) else { return false }
                }
                return true
            }
        } catch let error as StintError where error.code == .unavailable && parser.lastID != nil {
            // The daemon went away mid-stream: say where the stream got to.
        }
        return parser.lastID.flatMap { Int64($0) }
    }

    /// GETs `path` on a long-poll connection and hands its body to `onData` as it arrives,
    /// until the daemon closes the stream or `onData` returns false. An error answer's
    /// body is collected and thrown as its error; a daemon that cannot be reached is
    /// `E_UNAVAILABLE`.
    private func stream(_ path: String, accept: String? = nil, onData: (Data) throws -> Bool) throws {
        var connection = try connection(autostart: true, longPoll: true)
        if let accept { connection.headers["Accept"] = accept }
        var errorBody = Data()
        var isError = false
        struct Stop: Error {}
        do {
            _ = try connection.exchange(
                method: "GET", path: path, body: nil,
                onHead: { head in isError = head.status >= 400 },
                onBody: { data in
                    if isError {
                        errorBody.append(data)
                    } else if try !onData(data) {
                        throw Stop()
                    }
                })
        } catch is Stop {
            return
        } catch let error as HTTPConnection.ConnectError {
            throw unavailable(error)
        }
        if isError { throw Self.error(from: errorBody) }
    }

    /// Acknowledges notifications.
    public func ack(_ ids: [Int64]) throws -> AckResponse {
        try call("POST", "/v1/ack", AckRequest(ids: ids), as: AckResponse.self)
    }

    /// The compact summary of a session (else of the client's scope, else all).
    public func summary(session: String? = nil) throws -> SummaryView {
        var query: [(String, String)] = []
        if let session { query.append(("session", session)) }
        return try call("GET", "/v1/summary" + Self.queryString(query), Empty?.none, as: SummaryView.self)
    }

    // MARK: - API tokens

    /// Creates an API token for TCP clients, bound to `session` when given; the answer
    /// carries the secret, which is shown only this once. Only on the local socket.
    public func createToken(session: String?) throws -> TokenView {
        try call("POST", "/v1/tokens", TokenRequest(session: session), as: TokenView.self)
    }

    /// Every API token (of the client's session, when scoped), without secrets.
    public func tokens() throws -> [TokenView] {
        try call("GET", "/v1/tokens", Empty?.none, as: [TokenView].self)
    }

    /// Revokes an API token: the daemon refuses it from then on.
    public func revokeToken(_ id: Int64) throws -> TokenView {
        try call("POST", "/v1/tokens/\(id)/revoke", Empty(), as: TokenView.self)
    }

    // MARK: - Plumbing

    /// Sends one request and decodes the envelope's data, throwing its error.
    public func call<Body: Encodable, Result: Codable & Sendable>(
        _ method: String, _ path: String, _ body: Body?, as type: Result.Type, autostart: Bool = true
    ) throws -> Result {
        do {
            return try perform(method, path, body, as: type, autostart: autostart)
        } catch let error as HTTPConnection.ConnectError {
            throw unavailable(error)
        }
    }

    /// ``call(_:_:_:as:autostart:)``, throwing ``HTTPConnection/ConnectError`` as it is.
    private func perform<Body: Encodable, Result: Codable & Sendable>(
        _ method: String, _ path: String, _ body: Body?, as type: Result.Type, autostart: Bool = true,
        longPoll: Bool = false, onHead: (HTTPConnection.Head) -> Void = { _ in }
    ) throws -> Result {
        let payload = try body.map { try StintJSON.encoder().encode($0) }
        return try exchange(method, path, payload: payload, autostart: autostart, longPoll: longPoll, onHead: onHead) {
            try Self.decodeEnvelope($0, as: Result.self)
        }
    }

    /// Sends `payload` and turns the answer's body into a result with `decode`.
    private func exchange<Result>(
        _ method: String, _ path: String, payload: Data?, autostart: Bool = true, longPoll: Bool = false,
        onHead: (HTTPConnection.Head) -> Void = { _ in }, decode: (Data) throws -> Result
    ) throws -> Result {
        let connection = try connection(autostart: autostart, longPoll: longPoll)
        var received = Data()
        _ = try connection.exchange(method: method, path: path, body: payload, onHead: onHead) { received.append($0) }
        return try decode(received)
    }

    /// The `data` of an `ok` envelope; the envelope's error, or an "unexpected answer", otherwise.
    private static func decodeEnvelope<Result: Codable & Sendable>(_ received: Data, as type: Result.Type) throws -> Result {
        if let envelope = try? StintJSON.decoder().decode(Envelope<Result>.self, from: received), envelope.status == "ok",
            let data = envelope.data
        {
            return data
        }
        throw error(from: received)
    }

    /// Reads an `ok` envelope with ``JSONValue`` and `read`; any other answer (an error,
    /// or one `read` does not take) goes through ``decodeEnvelope(_:as:)`` as `fallback`,
    /// so the result or the error is the same as with `JSONDecoder` alone.
    private static func readEnvelope<Fallback: Codable & Sendable, Result>(
        _ received: Data, fallback: Fallback.Type, _ read: (JSONValue) -> Result?, converting: (Fallback) -> Result
    ) throws -> Result {
        if let data = JSONValue.parse(received)?.okEnvelopeData, let result = read(data) { return result }
        return converting(try decodeEnvelope(received, as: fallback))
    }

    /// Asks the daemon for its status on a connection of its own; returns if it answers
    /// at all (any status), throws ``HTTPConnection/ConnectError`` if not.
    private func checkAlive() throws {
        var probe = try connection(autostart: false, longPoll: false)
        probe.deadline = nil
        _ = try probe.exchange(method: "GET", path: "/v1/daemon", body: nil) { _ in }
    }

    private static func error(from body: Data) -> StintError {
        if let envelope = try? StintJSON.decoder().decode(Envelope<Empty>.self, from: body), let error = envelope.error {
            return error
        }
        return StintError(.internal, "unexpected answer from the daemon: \(String(decoding: body.prefix(200), as: UTF8.self))")
    }

    private func connection(autostart: Bool, longPoll: Bool = false) throws -> HTTPConnection {
        var connection: HTTPConnection
        if let remote {
            connection = HTTPConnection(target: .tcp(try HostPort.parse(url: remote.url)))
            if let token = remote.token, !token.isEmpty {
                guard token.allSatisfy({ $0.isASCII && !$0.isWhitespace && !$0.isNewline }) else {
                    throw StintError(.usage, "STINT_TOKEN holds spaces or characters a token never has")
                }
                connection.headers["Authorization"] = "Bearer \(token)"
            }
        } else {
            connection = HTTPConnection(target: .unix(paths.socket))
            if autostart, let executable = autostartExecutable {
                connection.startDaemon = { try DaemonAutostart(paths: paths, executable: executable).start() }
            }
        }
        if let session { connection.headers[Session.header] = session }
        connection.timeout = timeout
        connection.cancellation = cancellation
        if longPoll { connection.whileSilent = { [self] in try checkAlive() } }
        return connection
    }

    private func unavailable(_ error: HTTPConnection.ConnectError) -> StintError {
        switch error {
        case .timedOut(let message):
            let place = remote?.url ?? paths.socket
            return StintError(
                .unavailable, "the stint daemon at \(place) is not responding: \(message)",
                hint: "it may be stopped (SIGSTOP) or overloaded\(remote == nil ? "; see \(paths.daemonLog)" : ""). "
                    + "STINT_TIMEOUT sets how long to wait (now \(DurationText.short(timeout)))")
        case .nobodyListening(let message), .failed(let message):
            if let remote {
                return StintError(
                    .unavailable, "cannot reach the stint daemon at \(remote.url): \(message)",
                    hint: "is `stint daemon --listen` running there? STINT_URL never starts a daemon")
            }
            let hint: String
            if autostartExecutable != nil {
                hint = "see \(paths.daemonLog)"
            } else if autostartDisabledByUser {
                hint = "start it with `stint daemon`; STINT_NO_AUTOSTART=1 keeps the CLI from starting it"
            } else {
                hint = "start it with `stint daemon`"
            }
            return StintError(.unavailable, "cannot reach the stint daemon at \(paths.socket): \(message)", hint: hint)
        }
    }

    private static func queryString(_ items: [(String, String)]) -> String {
        guard !items.isEmpty else { return "" }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~,")
        return "?" + items.map { key, value in
            "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }.joined(separator: "&")
    }
}
