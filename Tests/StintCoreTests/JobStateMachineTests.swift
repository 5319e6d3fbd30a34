import StintCore
import Testing

@Suite("JobStateMachine")
struct JobStateMachineTests {
    /// The legal transitions, written out independently of `JobStateMachine.table`.
    static let legal: [JobState: [JobEvent: JobState]] = [
        .held: [.release: .queued, .cancel: .cancelled],
        .queued: [.start: .running, .cancel: .cancelled],
        .running: [.succeed: .succeeded, .fail: .failed, .reschedule: .queued, .cancel: .cancelled],
        .succeeded: [.retry: .queued],
        .failed: [.retry: .queued],
        .cancelled: [.retry: .queued],
    ]

    static let allPairs: [(JobState, JobEvent)] = JobState.allCases.flatMap { state in
        JobEvent.allCases.map { (state, $0) }
    }

    @Test("the cases are exactly the documented ones")
    func cases() {
        #expect(JobState.allCases == [.held, .queued, .running, .succeeded, .failed, .cancelled])
        #expect(JobEvent.allCases == [.release, .start, .succeed, .fail, .reschedule, .cancel, .retry])
        #expect(Self.allPairs.count == 42)
    }

    @Test("every (state, event) pair leads where the lifecycle says", arguments: allPairs)
    func transition(state: JobState, event: JobEvent) {
        let expected = Self.legal[state]?[event]
        #expect(JobStateMachine.next(from: state, on: event) == expected)
    }

    @Test(
        "legal transitions",
        arguments: [
            (JobState.held, JobEvent.release, JobState.queued),
            (.held, .cancel, .cancelled),
            (.queued, .start, .running),
            (.queued, .cancel, .cancelled),
            (.running, .succeed, .succeeded),
            (.running, .fail, .failed),
            (.running, .reschedule, .queued),
            (.running, .cancel, .cancelled),
            (.succeeded, .retry, .queued),
            (.failed, .retry, .queued),
            (.cancelled, .retry, .queued),
        ])
    func legalTransition(state: JobState, event: JobEvent, next: JobState) {
        #expect(JobStateMachine.next(from: state, on: event) == next)
    }

    @Test("exactly eleven pairs are legal and the other 31 return nil")
    func legalCount() {
        let legal = Self.allPairs.filter { JobStateMachine.next(from: $0.0, on: $0.1) != nil }
        #expect(legal.count == 11)
        let illegal = Self.allPairs.filter { JobStateMachine.next(from: $0.0, on: $0.1) == nil }
        #expect(illegal.count == 31)
    }

    @Test("the table holds exactly the legal transitions")
    func table() {
        #expect(JobStateMachine.table == Self.legal)
    }

    @Test("no transition leaves a terminal state except retry")
    func terminalStatesOnlyRetry() {
        for state in JobState.allCases where state.isTerminal {
            for event in JobEvent.allCases where event != .retry {
                #expect(JobStateMachine.next(from: state, on: event) == nil, "\(state) on \(event)")
            }
        }
    }

    @Test(
        "isTerminal",
        arguments: [
            (JobState.held, false), (.queued, false), (.running, false),
            (.succeeded, true), (.failed, true), (.cancelled, true),
        ])
    func isTerminal(state: JobState, terminal: Bool) {
        #expect(state.isTerminal == terminal)
    }

    @Test("raw values are the wire names")
    func rawValues() {
        #expect(JobState.allCases.map(\.rawValue) == [
            "held", "queued", "running", "succeeded", "failed", "cancelled",
        ])
        #expect(JobEvent.allCases.map(\.rawValue) == ["release", "start", "succeed", "fail", "reschedule", "cancel", "retry"])
    }
}
