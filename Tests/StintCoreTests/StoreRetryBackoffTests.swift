import StintCore
import Testing

@Suite("StoreRetryBackoff")
struct StoreRetryBackoffTests {
    @Test("0.1 s, doubling, at most 5 s, however many failures")
    func schedule() {
        let backoff = StoreRetryBackoff()
        #expect((1...8).map { backoff.delay(afterFailures: $0) } == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5, 5])
        #expect(backoff.delay(afterFailures: 1_000_000) == 5)
        #expect(backoff.delay(afterFailures: 0) == 0.1)
    }

    @Test("a maximum below the first pause is raised to it")
    func bounds() {
        let backoff = StoreRetryBackoff(first: 2, maximum: 1)
        #expect(backoff.maximum == 2)
        #expect(backoff.delay(afterFailures: 3) == 2)
    }
}
