import StintCore
import Testing

/// The slot accounting of concurrent claims, as scripted interleavings.
@Suite("SlotReservations")
struct SlotReservationsTests {
    @Test("a lone claim takes every free slot and hands them back without looking again")
    func lone() {
        var slots = SlotReservations(parallel: 4)
        #expect(slots.reserve(running: 1) == 3)
        #expect(slots.reserved == 3)
        #expect(slots.handBack(3) == false)
        #expect(slots.reserved == 0)
    }

    /// CI, 2026-12-02 (a BreakerTests job never started): add A reserved all four slots; add B
    /// got none and committed its job unclaimed; B's dispatch also got none, since A still
    /// held them; A handed them back, and nothing looked again.
    @Test("the interleaving CI hit: the last hand-back after a short-changed claim says to look again")
    func ciInterleaving() {
        var slots = SlotReservations(parallel: 4)
        #expect(slots.reserve(running: 0) == 4)  // add A, in its transaction
        #expect(slots.reserve(running: 0) == 0)  // add B: short-changed
        #expect(slots.handBack(0) == false)  // B hands back nothing: A still holds four
        #expect(slots.reserve(running: 0) == 0)  // B's dispatch: short-changed again
        #expect(slots.handBack(0) == false)
        #expect(slots.handBack(4) == true)  // A, its job launched: look again
        #expect(slots.shortChanged == false)
        #expect(slots.reserve(running: 1) == 3)  // the dispatch that follows claims B's job
        #expect(slots.handBack(3) == false)
    }

    @Test("a claim that got some of the free slots is short-changed too; only the hand-back that leaves none held says so")
    func partial() {
        var slots = SlotReservations(parallel: 4)
        #expect(slots.reserve(running: 0) == 4)
        #expect(slots.handBack(2) == false)  // no one was short-changed yet
        #expect(slots.reserve(running: 2) == 0)  // two running, two still held
        #expect(slots.reserve(running: 2) == 0)
        #expect(slots.handBack(2) == true)
        #expect(slots.reserve(running: 2) == 2)
        #expect(slots.handBack(0) == false)  // a claim with slots left over hands them back
        #expect(slots.reserved == 2)
        #expect(slots.handBack(2) == false)
    }

    @Test("with every slot running, nobody is short-changed: the endings claim")
    func full() {
        var slots = SlotReservations(parallel: 2)
        #expect(slots.reserve(running: 1) == 1)
        #expect(slots.reserve(running: 2) == 0)  // all running (the held one counted by now)
        #expect(slots.handBack(1) == false)
        #expect(slots.reserve(running: 2) == 0)
        #expect(slots.handBack(0) == false)
    }
}
