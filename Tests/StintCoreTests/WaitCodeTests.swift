import Foundation
import StintCore
import Testing

@Suite("WaitCode")
struct WaitCodeTests {
    @Test("the named codes match the SPEC")
    func constants() {
        #expect(WaitCode.timeout == 124)
        #expect(WaitCode.cancelled == 125)
        #expect(WaitCode.launchError == 127)
        #expect(WaitCode.lost == 1)
    }

    @Test("succeeded with exit 0 is 0")
    func succeeded() {
        #expect(WaitCode.code(state: .succeeded, reason: .exited, exitCode: 0, signal: nil) == 0)
    }

    @Test("failed with exit N is N", arguments: [1, 2, 3, 42, 124, 125, 255])
    func failedExit(code: Int) {
        #expect(WaitCode.code(state: .failed, reason: .exited, exitCode: code, signal: nil) == Int32(code))
    }

    @Test("failed with reason exited but no exit code is 1, not 0")
    func exitedWithoutCode() {
        #expect(WaitCode.code(state: .failed, reason: .exited, exitCode: nil, signal: nil) == 1)
    }

    @Test("timeout is 124")
    func timeout() {
        #expect(WaitCode.code(state: .failed, reason: .timeout, exitCode: nil, signal: 15) == 124)
        #expect(WaitCode.code(state: .failed, reason: .timeout, exitCode: 143, signal: nil) == 124)
    }

    @Test("cancelled is 125, by reason or by state")
    func cancelled() {
        #expect(WaitCode.code(state: .cancelled, reason: .cancelled, exitCode: nil, signal: 15) == 125)
        #expect(WaitCode.code(state: .cancelled, reason: nil, exitCode: nil, signal: nil) == 125)
        // A job cancelled while it ran, whatever its last attempt reported.
        #expect(WaitCode.code(state: .cancelled, reason: .exited, exitCode: 0, signal: nil) == 125)
        #expect(WaitCode.code(state: .cancelled, reason: .signal, exitCode: nil, signal: 9) == 125)
        #expect(WaitCode.code(state: .failed, reason: .cancelled, exitCode: nil, signal: nil) == 125)
    }

    @Test("killed by signal N is 128+N", arguments: [(1, 129), (2, 130), (9, 137), (15, 143)] as [(Int, Int32)])
    func signal(signal: Int, code: Int32) {
        #expect(WaitCode.code(state: .failed, reason: .signal, exitCode: nil, signal: signal) == code)
    }

    @Test("launch_error is 127")
    func launchError() {
        #expect(WaitCode.code(state: .failed, reason: .launch_error, exitCode: nil, signal: nil) == 127)
    }

    @Test("lost is 1, never 0")
    func lost() {
        #expect(WaitCode.code(state: .failed, reason: .lost, exitCode: nil, signal: nil) == 1)
        #expect(WaitCode.code(state: .failed, reason: .lost, exitCode: 0, signal: nil) == 1)
    }

    @Test("an ended job without an attempt reason: succeeded 0, failed 1")
    func noReason() {
        #expect(WaitCode.code(state: .succeeded, reason: nil, exitCode: nil, signal: nil) == 0)
        #expect(WaitCode.code(state: .failed, reason: nil, exitCode: nil, signal: nil) == 1)
    }

    @Test(
        "jobs that have not ended have no code",
        arguments: [JobState.held, .queued, .running], AttemptReason.allCases.map(Optional.some) + [nil])
    func notEnded(state: JobState, reason: AttemptReason?) {
        #expect(WaitCode.code(state: state, reason: reason, exitCode: 0, signal: nil) == nil)
        #expect(WaitCode.code(state: state, reason: reason, exitCode: 3, signal: 9) == nil)
    }

    @Test("every terminal state and reason gives a code", arguments: [JobState.succeeded, .failed, .cancelled], AttemptReason.allCases)
    func terminalAlwaysHasCode(state: JobState, reason: AttemptReason) {
        #expect(WaitCode.code(state: state, reason: reason, exitCode: 5, signal: 9) != nil)
    }

    @Test("JobView derives wait_code from its state and last attempt")
    func jobViewWaitCode() {
        func view(_ state: JobState, _ reason: AttemptReason?, exit: Int?, signal: Int?) -> JobView {
            JobView(
                id: 1, state: state, queue: "default", command: "true", argv: ["true"], shell: false,
                cwd: "/", labels: [:], session: nil, timeout: nil, outputCap: 0,
                createdAt: Date(timeIntervalSince1970: 0), startedAt: nil, endedAt: nil, duration: nil,
                attempts: 1, exitCode: exit, signal: signal, reason: reason, log: nil)
        }
        #expect(view(.succeeded, .exited, exit: 0, signal: nil).waitCode == 0)
        #expect(view(.failed, .exited, exit: 3, signal: nil).waitCode == 3)
        #expect(view(.failed, .signal, exit: nil, signal: 9).waitCode == 137)
        #expect(view(.failed, .timeout, exit: nil, signal: nil).waitCode == 124)
        #expect(view(.cancelled, nil, exit: nil, signal: nil).waitCode == 125)
        #expect(view(.running, nil, exit: nil, signal: nil).waitCode == nil)
    }
}

@Suite("AttemptOutcome")
struct AttemptOutcomeTests {
    static let end = Date(timeIntervalSince1970: 1_700_000_000)

    @Test(
        "event",
        arguments: [
            (AttemptReason.exited, Int?.some(0), JobEvent.succeed),
            (.exited, 1, .fail),
            (.exited, 3, .fail),
            (.exited, 255, .fail),
            (.exited, nil, .fail),
            (.signal, nil, .fail),
            (.signal, 0, .fail),
            (.timeout, nil, .fail),
            (.timeout, 0, .fail),
            (.cancelled, nil, .cancel),
            (.cancelled, 0, .cancel),
            (.lost, nil, .fail),
            (.lost, 0, .fail),
            (.launch_error, nil, .fail),
            (.launch_error, 0, .fail),
        ])
    func event(reason: AttemptReason, exitCode: Int?, event: JobEvent) {
        let outcome = AttemptOutcome(reason: reason, exitCode: exitCode, endedAt: Self.end)
        #expect(outcome.event == event)
    }

    @Test("the event of every outcome is legal from running", arguments: AttemptReason.allCases)
    func eventIsLegalFromRunning(reason: AttemptReason) {
        for exitCode in [nil, 0, 1] as [Int?] {
            let outcome = AttemptOutcome(reason: reason, exitCode: exitCode, endedAt: Self.end)
            #expect(JobStateMachine.next(from: .running, on: outcome.event) != nil)
        }
    }

    @Test("outcome event and WaitCode agree: success is exactly exit 0", arguments: AttemptReason.allCases)
    func eventAgreesWithWaitCode(reason: AttemptReason) throws {
        for exitCode in [nil, 0, 1, 3] as [Int?] {
            let outcome = AttemptOutcome(reason: reason, exitCode: exitCode, signal: 9, endedAt: Self.end)
            let state = try #require(JobStateMachine.next(from: .running, on: outcome.event))
            let code = try #require(WaitCode.code(state: state, reason: reason, exitCode: exitCode, signal: 9))
            #expect((code == 0) == (state == .succeeded), "\(reason) exit \(String(describing: exitCode))")
        }
    }

    @Test("reason raw values are the SPEC's words")
    func reasonRawValues() {
        #expect(AttemptReason.allCases.map(\.rawValue) == ["exited", "signal", "timeout", "cancelled", "lost", "launch_error"])
    }
}

@Suite("StintError")
struct StintErrorTests {
    @Test(
        "exitStatus",
        arguments: [
            (.notFound, 3),
            (.unavailable, 5),
            (.partial, 6),
            (.conflict, 9),
            (.usage, 64),
            (.stillRunning, 75),
            (.internal, 1),
            (StintError.Code(rawValue: "E_SOMETHING_NEW"), 1),
        ] as [(StintError.Code, Int32)])
    func exitStatus(code: StintError.Code, status: Int32) {
        #expect(code.exitStatus == status)
    }

    @Test(
        "wire names",
        arguments: [
            (StintError.Code.notFound, "E_NOT_FOUND"),
            (.unavailable, "E_UNAVAILABLE"),
            (.partial, "E_PARTIAL"),
            (.conflict, "E_CONFLICT"),
            (.usage, "E_USAGE"),
            (.stillRunning, "E_STILL_RUNNING"),
            (.internal, "E_INTERNAL"),
        ])
    func rawValues(code: StintError.Code, raw: String) {
        #expect(code.rawValue == raw)
        #expect(code.description == raw)
        #expect(StintError.Code(rawValue: raw) == code)
    }

    @Test("description appends the hint")
    func description() {
        #expect(StintError(.usage, "bad flag").description == "bad flag")
        #expect(StintError(.usage, "bad flag", hint: "see --help").description == "bad flag (see --help)")
    }

    @Test("jobNotFound")
    func jobNotFound() {
        let error = StintError.jobNotFound(42)
        #expect(error.code == .notFound)
        #expect(error.message == "no job with id 42")
        #expect(error.hint != nil)
    }
}
