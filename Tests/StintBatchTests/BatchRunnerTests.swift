import Foundation
import StintBatch
import StintCore
import Synchronization
import Testing

/// A checkpoint store of the test's own (the protocol is how a library user brings theirs):
/// it serves one recorded checkpoint and logs every call in order.
final class RecordingStore: BatchCheckpointStore, Sendable {
    let log = Mutex<[String]>([])
    let saves = Mutex<[BatchSaveRequest]>([])
    let recorded: BatchView

    init(completed: Int64 = 0, succeeded: Int64 = 0, failed: Int64 = 0, failedUnits: [String] = [], total: Int64 = 10) {
        recorded = BatchView(
            id: 1, command: "c", target: "t", total: total, completed: completed, resumeFrom: nil, succeeded: succeeded,
            failed: failed, failedUnits: failedUnits, state: "running", stoppedBy: nil, holder: nil, session: nil,
            createdAt: Date(), updatedAt: Date(), token: "token")
    }

    func acquire(_ request: BatchAcquireRequest) throws -> BatchView { recorded }
    func save(_ id: Int64, _ request: BatchSaveRequest) throws {
        saves.withLock { $0.append(request) }
        log.withLock { $0.append("save \(request.completed)") }
    }
    func heartbeat(_ id: Int64, token: String) throws {}
    func note(_ line: String) { log.withLock { $0.append(line) } }
}

@Suite("StintBatch: the runner — checkpoint order, breaker, resume, units as processes")
struct BatchRunnerTests {
    private func options(parallel: Int = 1, maxFailures: Int = 0, checkpointEvery: Int = 1) -> BatchOptions {
        var options = BatchOptions()
        options.parallel = parallel
        options.maxFailures = maxFailures
        options.checkpointEvery = checkpointEvery
        options.handlesSignals = false
        options.job = nil
        options.jobCheckpoint = nil
        return options
    }

    @Test("under -j 3 a slow early unit holds the checkpoint back until it ends; no save passes a gap")
    func parallelCheckpointOrder() async throws {
        let store = RecordingStore()
        let batch = Batch(
            command: "c", target: "t", units: try .range("1-10"), options: options(parallel: 3), store: store)
        // Unit 2 ends only after five others have (no timing: the pool may be slow when
        // the whole suite runs), so units end out of order for sure.
        let others = Mutex(0)
        let summary = try await batch.run { unit in
            if unit.position == 2 {
                while others.withLock({ $0 }) < 5 { try? await Task.sleep(for: .milliseconds(5)) }
            } else {
                others.withLock { $0 += 1 }
            }
            store.note("finish \(unit.position)")
            return .success
        }
        #expect(summary.exitCode == 0)
        #expect(summary.completed == 10)
        let log = store.log.withLock { $0 }
        let slowEnd = try #require(log.firstIndex(of: "finish 2"))
        let saves = log.enumerated().filter { $0.element.hasPrefix("save ") }
        let values = saves.map { Int64($0.element.dropFirst(5))! }
        #expect(values == values.sorted(), "the checkpoint only moves forward: \(values)")
        for (index, line) in saves where Int64(line.dropFirst(5))! >= 2 {
            #expect(index > slowEnd, "\(line) before unit 2 ended: \(log)")
        }
        #expect(saves.contains { $0.offset < slowEnd && $0.element == "save 1" }, "units above the gap ran meanwhile: \(log)")
        #expect(store.saves.withLock { $0.last?.finished } == true)
    }

    @Test("the breaker stops after N failures in a row and rewinds the checkpoint before them")
    func breakerRewinds() async throws {
        let store = RecordingStore()
        let batch = Batch(
            command: "c", target: "t", units: try .range("1-10"), options: options(maxFailures: 3), store: store)
        let summary = try await batch.run { unit in unit.position >= 4 ? .failure("down") : .success }
        #expect(summary.exitCode == 8)
        #expect(summary.abortedBy == .maxFailures)
        #expect(summary.ran == 6)
        #expect(summary.completed == 3)
        #expect(summary.resumeFrom == "4")
        let last = try #require(store.saves.withLock { $0.last })
        #expect(last.completed == 3)
        #expect(last.failed == 0, "the failures it rewinds over are not recorded as done")
        #expect(last.stoppedBy == "max_failures")
        #expect(last.release)
        #expect(!last.finished)
    }

    @Test("a resume carries the earlier runs' counts: the whole batch's summary, exit 6 for an old failure")
    func resumeCarriesCounts() async throws {
        let store = RecordingStore(completed: 5, succeeded: 4, failed: 1, failedUnits: ["3"])
        let ran = Mutex<[Int64]>([])
        let batch = Batch(command: "c", target: "t", units: try .range("1-10"), options: options(), store: store)
        let summary = try await batch.run { unit in
            ran.withLock { $0.append(unit.position) }
            return .success
        }
        #expect(ran.withLock { $0 } == [6, 7, 8, 9, 10])
        #expect(summary.succeeded == 9)
        #expect(summary.failed == 1)
        #expect(summary.failedUnits == ["3"])
        #expect(summary.skipped == 0)
        #expect(summary.resumedFrom == "6")
        #expect(summary.exitCode == 6)
        #expect(store.saves.withLock { $0.last?.finished } == true)
    }

    @Test("--resume-from and --restart override the checkpoint; units skipped past it are counted as skipped")
    func explicitStarts() async throws {
        var resume = options()
        resume.start = .resumeFrom("8")
        let store = RecordingStore(completed: 5, succeeded: 5)
        let summary = try await Batch(command: "c", target: "t", units: try .range("1-10"), options: resume, store: store)
            .run { _ in .success }
        #expect(summary.ran == 3)
        #expect(summary.skipped == 7)
        #expect(summary.succeeded == 3)
        var restart = options()
        restart.start = .restart
        let again = try await Batch(command: "c", target: "t", units: try .range("1-10"), options: restart, store: store)
            .run { _ in .success }
        #expect(again.ran == 10)
        #expect(again.skipped == 0)
    }

    @Test("the resume command puts --resume-from before --, replacing an old one and --restart")
    func resumeCommand() async throws {
        var options = options(maxFailures: 1)
        options.commandLine = ["stint", "batch", "--range", "1-9", "--restart", "--resume-from", "2", "--", "echo", "--resume-from", "{}"]
        let summary = try await Batch(command: "c", target: "t", units: try .range("1-9"), options: options)
            .run { unit in unit.position == 3 ? .failure("x") : .success }
        #expect(summary.resumeCommand == "stint batch --range 1-9 --resume-from 3 -- echo --resume-from '{}'")
    }

    @Test("a unit command: {} substituted or appended, output tail, exit code, signal, timeout, launch error")
    func unitCommand() async throws {
        let unit = BatchUnit(value: "42", position: 7)
        let echo = await UnitCommand(["sh", "-c", "echo first; echo unit=$1 pos=$STINT_BATCH_POSITION; exit 3", "_", "{}"]).run(unit)
        #expect(!echo.ok)
        #expect(echo.exitCode == 3)
        #expect(echo.outputTail == "first\nunit=42 pos=7")
        #expect(UnitCommand(["echo", "x"]).arguments(for: "5") == ["echo", "x", "5"])
        #expect(UnitCommand(["echo", "a{}b"]).arguments(for: "5") == ["echo", "a5b"])
        let killed = await UnitCommand(["sh", "-c", "kill -TERM $$"]).run(unit)
        #expect(killed.signal == SIGTERM)
        #expect(!killed.ok)
        // SIGTERM ended it, not the SIGKILL 10 s later (no wall-clock bound: the whole suite
        // can hold this task back for seconds on a 2-core machine).
        let slow = await UnitCommand(["sleep", "30"], timeout: 0.3).run(unit)
        #expect(!slow.ok)
        #expect(slow.message?.contains("timed out") == true)
        #expect(slow.signal == SIGTERM)
        let missing = await UnitCommand(["/nonexistent/tool"]).run(unit)
        #expect(!missing.ok)
        #expect(missing.message?.contains("No such file") == true)
        #expect(UnitCommand.executable("sh", environment: ["PATH": "/usr/bin:/bin"]) != nil)
        #expect(UnitCommand.executable("no-such-tool-xyz", environment: ["PATH": "/usr/bin:/bin"]) == nil)
    }
}
