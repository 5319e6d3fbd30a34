public import Hummingbird
public import NIOCore
import StintCore

/// The context of one API request: Hummingbird's, plus the session the caller is
/// scoped to. A scoped caller sees, waits on and stops only that session's jobs.
public struct StintRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The session scope: from the `Stint-Session` header on the local socket, or from a
    /// session-bound token on TCP; `nil`: every job.
    public var session: String?
    /// Whether `session` came from a credential no header may change (a dashboard login).
    public var sessionFixed = false
    /// The connection, for a stream that must see whether the client keeps up.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        session = nil
        channel = source.channel
    }
}

/// Reads the `Stint-Session` header of requests on the local socket into the context.
struct SessionHeaderMiddleware: RouterMiddleware {
    typealias Context = StintRequestContext

    func handle(
        _ request: Request, context: StintRequestContext,
        next: (Request, StintRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        if !context.sessionFixed, let value = request.headers[.init(Session.header)!], !value.isEmpty {
            do {
                try Session.validate(value)
            } catch {
                return errorResponse(error)
            }
            context.session = value
        }
        return try await next(request, context)
    }
}
