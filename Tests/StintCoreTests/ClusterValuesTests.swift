import Foundation
import StintCore
import Testing

@Suite("Cluster values")
struct ClusterValuesTests {
    @Test("a control request's action is stored as text and read back", arguments: [
        ControlRequest.Action.stop(grace: nil), .stop(grace: 2.5), .signal(9), .signal(15),
    ])
    func actionRoundTrip(_ action: ControlRequest.Action) {
        let request = ControlRequest(node: "n1", job: 4, attempt: 2, action: action)
        #expect(ControlRequest.action(request.actionText) == action)
    }

    @Test("text that is no action reads as none", arguments: ["", "stop now", "signal", "signal x", "kill 9", "stop 1 2"])
    func notAnAction(_ text: String) {
        #expect(ControlRequest.action(text) == nil)
    }

    @Test("an offset clock runs ahead of (or behind) the wall clock by its offset, which may change")
    func offsetClock() async throws {
        let clock = OffsetClock(offset: 3600)
        #expect(abs(clock.now().timeIntervalSince(Date()) - 3600) < 1)
        clock.seconds = -60
        #expect(abs(clock.now().timeIntervalSince(Date()) + 60) < 1)
        let start = Date()
        try await clock.sleep(until: clock.now().addingTimeInterval(0.05))
        #expect(Date().timeIntervalSince(start) >= 0.05)
        try await clock.sleep(until: clock.now().addingTimeInterval(-10))
    }
}
