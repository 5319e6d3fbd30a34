import Foundation
import Hummingbird
import StintCore
import StintEngine

extension APIRouter {
    /// `GET /v1/schedules`, `POST /v1/schedules` (a ``ScheduleSpec``), `GET
    /// /v1/schedules/:name` (`runs=N`, default 20) and `POST /v1/schedules/:name/pause`,
    /// `/resume`, `/run` and `/rm`. A client scoped to a session sees and changes only that
    /// session's schedules.
    func addScheduleRoutes(to router: inout RouteRecorder) {
        router.get("/v1/schedules", .init("Schedules", returns: [ScheduleView].self)) { _, context in
            try await json { try await engine.schedules(scope: context.session) }
        }
        router.post("/v1/schedules", .init("Adds a schedule", body: ScheduleSpec.self, returns: ScheduleView.self)) { request, context in
            try await json {
                try await engine.addSchedule(try await decode(ScheduleSpec.self, request), scope: context.session)
            }
        }
        router.get("/v1/schedules/:name", .init(
                "One schedule with its recent runs", query: [.integer("runs", "how many recent runs (default 20)", maximum: Int64(Engine.maxScheduleRuns))],
                returns: ScheduleView.self)) { request, context in
            try await json {
                let runs = try request.uri.queryParameters.get("runs").map {
                    Int(try integer($0, "runs", maximum: Int64(Engine.maxScheduleRuns)))
                }
                return try await engine.schedule(name(context), runs: runs ?? 20, scope: context.session)
            }
        }
        router.post("/v1/schedules/:name/pause", .init("Pauses a schedule", returns: ScheduleView.self)) { _, context in
            try await json { try await engine.setSchedulePaused(name(context), paused: true, scope: context.session) }
        }
        router.post("/v1/schedules/:name/resume", .init("Resumes a schedule", returns: ScheduleView.self)) { _, context in
            try await json { try await engine.setSchedulePaused(name(context), paused: false, scope: context.session) }
        }
        router.post("/v1/schedules/:name/run", .init("Runs a schedule now, outside its times", returns: ScheduleFireResponse.self)) { _, context in
            try await json { try await engine.runSchedule(name(context), scope: context.session) }
        }
        router.post("/v1/schedules/:name/rm", .init("Removes a schedule", returns: ScheduleView.self)) { _, context in
            try await json { try await engine.removeSchedule(name(context), scope: context.session) }
        }
    }

    private func name(_ context: StintRequestContext) -> String {
        context.parameters.get("name") ?? ""
    }
}
