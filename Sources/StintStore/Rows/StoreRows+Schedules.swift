package import Foundation
package import StintCore

extension StoreRows {
    /// The schedule stored in `row` (table `schedules`); throws when its spec does not decode.
    package static func schedule<R: StoreRow>(_ row: R) throws -> ScheduleRecord {
        let spec = try StintJSON.decoder().decode(ScheduleSpec.self, from: Data(try row.required("spec", row.string).utf8))
        let state = ScheduleState(
            paused: try row.bool("paused") ?? false, nextFire: try row.date("next_fire"), lastFire: try row.date("last_fire"),
            lastJob: try row.int64("last_job"), failures: try row.int("failures") ?? 0,
            lastFailedJob: try row.int64("last_failed_job"))
        return ScheduleRecord(
            id: try row.required("id", row.int64), spec: spec, state: state, createdAt: try row.required("created_at", row.date))
    }

    /// The fire time stored in `row` (table `schedule_fires`).
    package static func fire<R: StoreRow>(_ row: R) throws -> ScheduleFire {
        ScheduleFire(
            schedule: try row.required("schedule_id", row.int64),
            at: ScheduleFire.date(millisecond: try row.required("fire_ms", row.int64)), job: try row.int64("job_id"),
            catchUp: try row.bool("catch_up") ?? false)
    }

    /// A schedule's spec as stored: JSON.
    package static func specText(_ spec: ScheduleSpec) throws -> String {
        String(decoding: try StintJSON.encoder().encode(spec), as: UTF8.self)
    }
}
