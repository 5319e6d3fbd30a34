import Foundation
import PostgresNIO
import StintCore
import StintStore

extension PostgresTransaction {
    func schedules() throws -> [ScheduleRecord] {
        try rows("SELECT * FROM schedules ORDER BY id").compactMap { try? StoreRows.schedule($0) }
    }

    func schedules(named name: String) throws -> [ScheduleRecord] {
        try rows(PostgresQuery(unsafeSQL: "SELECT * FROM schedules WHERE name = $1 ORDER BY id" + lock, binds: binds(name)))
            .compactMap { try? StoreRows.schedule($0) }
    }

    func dueSchedules(now: Date, limit: Int) throws -> [ScheduleRecord] {
        // Two leaders for a moment (a lease handed over) never fire one schedule together.
        let locking = writing ? " FOR UPDATE SKIP LOCKED" : ""
        return try rows(
            PostgresQuery(
                unsafeSQL: "SELECT * FROM schedules WHERE NOT paused AND next_fire <= $1 ORDER BY next_fire, id LIMIT $2"
                    + locking, binds: binds(now.timeIntervalSince1970, limit))
        ).compactMap { try? StoreRows.schedule($0) }
    }

    func nextScheduleFire() throws -> Date? {
        try one("SELECT min(next_fire) AS next FROM schedules WHERE NOT paused")?.date("next")
    }

    func fires(schedule: Int64, limit: Int) throws -> [ScheduleFire] {
        try rows("SELECT * FROM schedule_fires WHERE schedule_id = \(schedule) ORDER BY fire_ms DESC LIMIT \(limit)")
            .map(StoreRows.fire)
    }

    func waitingFires(schedule: Int64) throws -> [ScheduleFire] {
        try rows("SELECT * FROM schedule_fires WHERE schedule_id = \(schedule) AND job_id IS NULL ORDER BY fire_ms")
            .map(StoreRows.fire)
    }

    func fire(schedule: Int64, at: Date) throws -> ScheduleFire? {
        try one("SELECT * FROM schedule_fires WHERE schedule_id = \(schedule) AND fire_ms = \(ScheduleFire.millisecond(at))")
            .map(StoreRows.fire)
    }

    func insertSchedule(_ spec: ScheduleSpec, _ state: ScheduleState, now: Date) throws -> Int64 {
        let stamp = now.timeIntervalSince1970
        guard
            let row = try one(
                """
                INSERT INTO schedules (session, name, spec, paused, next_fire, last_fire, last_job, failures,
                                       last_failed_job, created_at, updated_at)
                VALUES (\(spec.session ?? ""), \(spec.name), \(try StoreRows.specText(spec)), \(state.paused),
                        \(state.nextFire?.timeIntervalSince1970), \(state.lastFire?.timeIntervalSince1970), \(state.lastJob),
                        \(state.failures), \(state.lastFailedJob), \(stamp), \(stamp))
                RETURNING id
                """), let id = try row.int64("id")
        else { throw StintError(.internal, "the new schedule's id was not returned") }
        return id
    }

    func updateSchedule(_ id: Int64, _ state: ScheduleState, now: Date) throws {
        try run(
            """
            UPDATE schedules SET paused = \(state.paused), next_fire = \(state.nextFire?.timeIntervalSince1970),
                last_fire = \(state.lastFire?.timeIntervalSince1970), last_job = \(state.lastJob), failures = \(state.failures),
                last_failed_job = \(state.lastFailedJob), updated_at = \(now.timeIntervalSince1970)
            WHERE id = \(id)
            """)
    }

    func deleteSchedule(_ id: Int64) throws {
        try run("DELETE FROM schedule_fires WHERE schedule_id = \(id)")
        try run("DELETE FROM schedules WHERE id = \(id)")
    }

    func insertFire(_ fire: ScheduleFire) throws -> Bool {
        try run(
            """
            INSERT INTO schedule_fires (schedule_id, fire_ms, job_id, catch_up)
            VALUES (\(fire.schedule), \(fire.millisecond), \(fire.job), \(fire.catchUp))
            ON CONFLICT (schedule_id, fire_ms) DO NOTHING
            """) > 0
    }

    func setFireJob(schedule: Int64, at: Date, job: Int64) throws {
        try run(
            "UPDATE schedule_fires SET job_id = \(job) WHERE schedule_id = \(schedule) AND fire_ms = \(ScheduleFire.millisecond(at))")
    }

    func deleteFire(schedule: Int64, at: Date) throws {
        try run("DELETE FROM schedule_fires WHERE schedule_id = \(schedule) AND fire_ms = \(ScheduleFire.millisecond(at))")
    }
}
