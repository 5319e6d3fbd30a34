import Foundation
import Hummingbird
import NIOCore
import StintCore
import StintEngine

/// `GET /v1/events` with `Accept: text/event-stream`: every event as it is stored, as
/// server-sent events.
///
/// Each event goes out as `id:` (its id in the durable events table), `event:` (its kind)
/// and `data:` (the ``EventView`` as JSON). A client that reconnects with `Last-Event-ID`
/// (or `after=ID`) gets every event stored after that one, across daemon restarts; one
/// without starts at the newest. The stream is read from the store a page at a time, so a
/// client never holds more of the daemon's memory than one page and its socket's buffer:
/// before each write the connection must be writable, and a client that has not made room
/// for ``Options/cutOffAfter`` is sent a final `cut_off` event and disconnected (it may
/// resume where it left off).
struct EventStream {
    struct Options: Sendable {
        /// Events read from the store at a time: 256.
        var page = 256
        /// How often the store is asked for new events while there are none: every 0.25 s.
        var poll: Duration = .milliseconds(250)
        /// How often an idle stream sends a comment line, so that proxies and clients keep
        /// it open: every 15 s.
        var keepAlive: Duration = .seconds(15)
        /// How long a client may leave its connection full before it is cut off: 10 s.
        var cutOffAfter: Duration = .seconds(10)
    }

    /// The header a reconnecting client sends with the last id it received.
    static let lastEventID = HTTPFields.Element.Name("Last-Event-ID")!

    let engine: Engine
    let daemon: DaemonInfo
    var options = Options()

    /// Only the events of one job or one queue, when asked.
    struct Filter: Sendable {
        var job: Int64?
        var queue: String?

        func admits(_ event: EventView) -> Bool {
            (job == nil || event.job == job) && (queue == nil || event.queue == queue)
        }
    }

    /// The stream from the event after `after` (`nil`: the newest), for `session`'s jobs only
    /// when it is set.
    func response(after: Int64?, session: String?, filter: Filter, channel: any Channel) async throws -> Response {
        let start: Int64
        if let after { start = after } else { start = try await engine.lastEventID() }
        let headers: HTTPFields = [
            .contentType: "text/event-stream", .cacheControl: "no-store", .init("X-Accel-Buffering")!: "no",
        ]
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { [engine, daemon, options] writer in
                let encoder = StintJSON.encoder()
                var last = start
                let clock = ContinuousClock()
                var quietSince = clock.now
                // Tells the client how long to wait before reconnecting, and that it is connected.
                // Where the stream starts, as an `id:` without data (which sets a client's last
                // id and dispatches nothing), and how long a client waits before reconnecting.
                try await writer.write(ByteBuffer(string: "retry: 1000\nid: \(start)\n\n"))
                while !daemon.isStopping {
                    let events = try await engine.events(after: last, session: session, limit: options.page)
                    if events.isEmpty {
                        if clock.now - quietSince >= options.keepAlive {
                            try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                            quietSince = clock.now
                        }
                        try await Task.sleep(for: options.poll)
                        continue
                    }
                    var text = ""
                    for event in events where filter.admits(event) {
                        text += "id: \(event.id)\nevent: \(event.kind)\ndata: "
                        text += String(decoding: try encoder.encode(event), as: UTF8.self)
                        text += "\n\n"
                    }
                    let sent = last
                    last = events.last!.id
                    if text.isEmpty { continue }
                    guard await Self.waitUntilWritable(channel, for: options.cutOffAfter) else {
                        let data = #"{"reason":"the client did not keep up","resume_after":\#(sent)}"#
                        try? await writer.write(ByteBuffer(string: "event: cut_off\ndata: \(data)\n\n"))
                        break
                    }
                    try await writer.write(ByteBuffer(string: text))
                    quietSince = clock.now
                }
                try await writer.finish(nil)
            })
    }

    /// Whether `channel` becomes writable (its outbound buffer below NIO's high-water mark)
    /// within `limit`.
    static func waitUntilWritable(_ channel: any Channel, for limit: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while !channel.isWritable {
            guard channel.isActive, clock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}
