import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import StintCore
import StintEngine

/// How a daemon reaches the other daemons of a shared store: over their `--listen` API,
/// with an API token it created in the shared store when it started (its secret lives only
/// in this process; the store keeps its hash, as for every token).
struct PeerLink: Sendable {
    let http: HTTPClient
    let token: String

    /// Marks a request one daemon sends another, which is never forwarded again.
    static let forwarded = HTTPFields.Element.Name("Stint-Forwarded")!

    /// The answer of node `peer` to the log request `query` of job `id`, streamed through:
    /// its status, its log headers and its body (a followed log as it grows).
    func log(_ id: Int64, query: String?, scope: String?, from peer: PeerNode) async throws -> Response {
        var request = HTTPClientRequest(url: "\(peer.address)/v1/jobs/\(id)/log" + (query.map { "?" + $0 } ?? ""))
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: Self.forwarded.rawName, value: "1")
        if let scope { request.headers.add(name: Session.header, value: scope) }
        let answer: HTTPClientResponse
        do {
            // A followed log lasts as long as its job: no deadline beyond the connection's own.
            answer = try await http.execute(request, timeout: .hours(24 * 366))
        } catch {
            throw StintError(.unavailable, "cannot reach node \(peer.node) at \(peer.address) for the log: \(error)")
        }
        var headers = HTTPFields()
        for name in ["Content-Type", LogFollowHeaders.attempt.rawName, LogFollowHeaders.position.rawName,
            LogFollowHeaders.prefix.rawName]
        {
            if let value = answer.headers.first(name: name), let field = HTTPFields.Element.Name(name) { headers[field] = value }
        }
        return Response(
            status: HTTPResponse.Status(code: Int(answer.status.code)), headers: headers,
            body: ResponseBody { writer in
                for try await chunk in answer.body { try await writer.write(chunk) }
                try await writer.finish(nil)
            })
    }
}
