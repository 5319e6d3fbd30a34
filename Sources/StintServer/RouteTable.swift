import Hummingbird
import Synchronization
import StintCore

/// The API's routes, as registered: how a request that matches none is told apart
/// from one that names a route with another method (404 against 405).
final class RouteTable: Sendable {
    private let routes: [(method: HTTPRequest.Method, segments: [Substring])]

    init(_ routes: [(HTTPRequest.Method, String)]) {
        self.routes = routes.map { ($0.0, $0.1.split(separator: "/")) }
    }

    /// The methods of the routes whose pattern `path` matches (`:name` takes any one segment).
    func methods(for path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/")
        return routes.filter { route in
            route.segments.count == segments.count
                && zip(route.segments, segments).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
        }.map(\.method)
    }
}

/// Registers routes on a Hummingbird router, each with what `GET /openapi.json` says
/// of it, and records them in a ``RouteTable``.
struct RouteRecorder {
    let router: Router<StintRequestContext>
    private(set) var documented: [OpenAPIDocument.Route] = []
    var routes: [(HTTPRequest.Method, String)] { documented.map { ($0.method, $0.path) } }

    init(_ router: Router<StintRequestContext>) { self.router = router }

    mutating func get(
        _ path: String, _ operation: OpenAPIOperation,
        _ handler: @escaping @Sendable (Request, StintRequestContext) async throws -> Response
    ) {
        documented.append(.init(method: .get, path: path, operation: operation))
        router.get(RouterPath(path), use: handler)
    }

    mutating func post(
        _ path: String, _ operation: OpenAPIOperation,
        _ handler: @escaping @Sendable (Request, StintRequestContext) async throws -> Response
    ) {
        documented.append(.init(method: .post, path: path, operation: operation))
        router.post(RouterPath(path), use: handler)
    }
}

/// An error with the HTTP status it answers with, where the status does not follow
/// from the error's code (413, 405).
struct HTTPStatusError: Error {
    let status: HTTPResponse.Status
    let error: StintError
    var headers: HTTPFields = [:]
}

/// Answers every request the routes do not: an unknown path (404), a known path with
/// another method (405, with `Allow`), or an error Hummingbird itself raised — all in
/// the JSON envelope, as every other error.
struct EnvelopeMiddleware: RouterMiddleware {
    typealias Context = StintRequestContext
    let table: RouteTableBox

    func handle(
        _ request: Request, context: StintRequestContext,
        next: (Request, StintRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let methods = table.methods(for: request.uri.path)
            let route = "\(request.method.rawValue) \(request.uri.path.prefix(200))"
            guard methods.isEmpty else {
                let allowed = methods.map(\.rawValue).joined(separator: ", ")
                return errorResponse(
                    HTTPStatusError(
                        status: .methodNotAllowed, error: StintError(.usage, "\(route): this route takes \(allowed)"),
                        headers: [.allow: allowed]))
            }
            return errorResponse(StintError(.notFound, "no such route: \(route)", hint: "GET /v1/daemon answers any client"))
        } catch let error as HTTPError {
            return errorResponse(HTTPStatusError(status: error.status, error: StintError(.usage, error.body ?? "\(error.status)")))
        }
    }
}

/// The table, filled once the routes are registered (after the middleware that reads it).
final class RouteTableBox: Sendable {
    private let table = Mutex<RouteTable?>(nil)
    func set(_ table: RouteTable) { self.table.withLock { $0 = table } }
    func methods(for path: String) -> [HTTPRequest.Method] { table.withLock { $0?.methods(for: path) ?? [] } }
}
