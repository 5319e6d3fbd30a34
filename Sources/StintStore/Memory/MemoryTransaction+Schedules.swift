import Foundation
import StintCore

extension MemoryTransaction {
    func schedules() throws -> [ScheduleRecord] {
        tables.schedules.values.sorted { $0.id < $1.id }
    }

    func schedules(named name: String) throws -> [ScheduleRecord] {
        try schedules().filter { $0.spec.name == name }
    }

    func dueSchedules(now: Date, limit: Int) throws -> [ScheduleRecord] {
        let due = tables.schedules.values.filter { !$0.state.paused && ($0.state.nextFire.map { $0 <= now } ?? false) }
        return Array(due.sorted { ($0.state.nextFire!, $0.id) < ($1.state.nextFire!, $1.id) }.prefix(max(0, limit)))
    }

    func nextScheduleFire() throws -> Date? {
        tables.schedules.values.filter { !$0.state.paused }.compactMap(\.state.nextFire).min()
    }

    func fires(schedule: Int64, limit: Int) throws -> [ScheduleFire] {
        Array((tables.fires[schedule] ?? [:]).values.sorted { $0.at > $1.at }.prefix(max(0, limit)))
    }

    func waitingFires(schedule: Int64) throws -> [ScheduleFire] {
        (tables.fires[schedule] ?? [:]).values.filter { $0.job == nil }.sorted { $0.at < $1.at }
    }

    func fire(schedule: Int64, at: Date) throws -> ScheduleFire? {
        tables.fires[schedule]?[ScheduleFire.millisecond(at)]
    }

    func insertSchedule(_ spec: ScheduleSpec, _ state: ScheduleState, now: Date) throws -> Int64 {
        tables.lastScheduleID += 1
        let id = tables.lastScheduleID
        tables.schedules[id] = ScheduleRecord(id: id, spec: spec, state: state, createdAt: now)
        return id
    }

    func updateSchedule(_ id: Int64, _ state: ScheduleState, now: Date) throws {
        tables.schedules[id]?.state = state
    }

    func deleteSchedule(_ id: Int64) throws {
        tables.schedules[id] = nil
        tables.fires[id] = nil
    }

    func insertFire(_ fire: ScheduleFire) throws -> Bool {
        let key = fire.millisecond
        guard tables.fires[fire.schedule]?[key] == nil else { return false }
        var stored = fire
        stored.at = ScheduleFire.date(millisecond: key)
        tables.fires[fire.schedule, default: [:]][key] = stored
        return true
    }

    func setFireJob(schedule: Int64, at: Date, job: Int64) throws {
        tables.fires[schedule]?[ScheduleFire.millisecond(at)]?.job = job
    }

    func deleteFire(schedule: Int64, at: Date) throws {
        tables.fires[schedule]?[ScheduleFire.millisecond(at)] = nil
    }
}
