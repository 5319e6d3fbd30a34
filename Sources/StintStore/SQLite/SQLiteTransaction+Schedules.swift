import Foundation
import GRDB
import StintCore

extension SQLiteTransaction {
    func schedules() throws -> [ScheduleRecord] {
        try Row.fetchAll(try db.cachedStatement(sql: "SELECT * FROM schedules ORDER BY id")).compactMap {
            try? StoreRows.schedule($0)
        }
    }

    func schedules(named name: String) throws -> [ScheduleRecord] {
        try Row.fetchAll(try db.cachedStatement(sql: "SELECT * FROM schedules WHERE name = ? ORDER BY id"), arguments: [name])
            .compactMap { try? StoreRows.schedule($0) }
    }

    func dueSchedules(now: Date, limit: Int) throws -> [ScheduleRecord] {
        try Row.fetchAll(
            try db.cachedStatement(
                sql: "SELECT * FROM schedules WHERE paused = 0 AND next_fire <= ? ORDER BY next_fire, id LIMIT ?"),
            arguments: [now.timeIntervalSince1970, limit]
        ).compactMap { try? StoreRows.schedule($0) }
    }

    func nextScheduleFire() throws -> Date? {
        try Double.fetchOne(try db.cachedStatement(sql: "SELECT min(next_fire) FROM schedules WHERE paused = 0"))
            .map(Date.init(timeIntervalSince1970:))
    }

    func fires(schedule: Int64, limit: Int) throws -> [ScheduleFire] {
        try Row.fetchAll(
            try db.cachedStatement(sql: "SELECT * FROM schedule_fires WHERE schedule_id = ? ORDER BY fire_ms DESC LIMIT ?"),
            arguments: [schedule, limit]
        ).map(StoreRows.fire)
    }

    func waitingFires(schedule: Int64) throws -> [ScheduleFire] {
        try Row.fetchAll(
            try db.cachedStatement(
                sql: "SELECT * FROM schedule_fires WHERE schedule_id = ? AND job_id IS NULL ORDER BY fire_ms"),
            arguments: [schedule]
        ).map(StoreRows.fire)
    }

    func fire(schedule: Int64, at: Date) throws -> ScheduleFire? {
        try Row.fetchOne(
            try db.cachedStatement(sql: "SELECT * FROM schedule_fires WHERE schedule_id = ? AND fire_ms = ?"),
            arguments: [schedule, ScheduleFire.millisecond(at)]
        ).map(StoreRows.fire)
    }

    func insertSchedule(_ spec: ScheduleSpec, _ state: ScheduleState, now: Date) throws -> Int64 {
        try db.cachedStatement(
            sql: """
                INSERT INTO schedules (session, name, spec, paused, next_fire, last_fire, last_job, failures,
                                       last_failed_job, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            spec.session ?? "", spec.name, try StoreRows.specText(spec), state.paused,
            state.nextFire?.timeIntervalSince1970, state.lastFire?.timeIntervalSince1970, state.lastJob, state.failures,
            state.lastFailedJob, now.timeIntervalSince1970, now.timeIntervalSince1970,
        ])
        return db.lastInsertedRowID
    }

    func updateSchedule(_ id: Int64, _ state: ScheduleState, now: Date) throws {
        try db.cachedStatement(
            sql: """
                UPDATE schedules SET paused = ?, next_fire = ?, last_fire = ?, last_job = ?, failures = ?,
                    last_failed_job = ?, updated_at = ?
                WHERE id = ?
                """
        ).execute(arguments: [
            state.paused, state.nextFire?.timeIntervalSince1970, state.lastFire?.timeIntervalSince1970, state.lastJob,
            state.failures, state.lastFailedJob, now.timeIntervalSince1970, id,
        ])
    }

    func deleteSchedule(_ id: Int64) throws {
        try db.cachedStatement(sql: "DELETE FROM schedule_fires WHERE schedule_id = ?").execute(arguments: [id])
        try db.cachedStatement(sql: "DELETE FROM schedules WHERE id = ?").execute(arguments: [id])
    }

    func insertFire(_ fire: ScheduleFire) throws -> Bool {
        try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO schedule_fires (schedule_id, fire_ms, job_id, catch_up) VALUES (?, ?, ?, ?)"
        ).execute(arguments: [fire.schedule, fire.millisecond, fire.job, fire.catchUp])
        return db.changesCount > 0
    }

    func setFireJob(schedule: Int64, at: Date, job: Int64) throws {
        try db.cachedStatement(sql: "UPDATE schedule_fires SET job_id = ? WHERE schedule_id = ? AND fire_ms = ?")
            .execute(arguments: [job, schedule, ScheduleFire.millisecond(at)])
    }

    func deleteFire(schedule: Int64, at: Date) throws {
        try db.cachedStatement(sql: "DELETE FROM schedule_fires WHERE schedule_id = ? AND fire_ms = ?")
            .execute(arguments: [schedule, ScheduleFire.millisecond(at)])
    }
}
