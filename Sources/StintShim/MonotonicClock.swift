import Glibc

/// Nanoseconds on CLOCK_MONOTONIC, for deadlines and grace periods: unlike the wall clock
/// it never jumps when the system time is set, so a timeout cannot fire early or late.
enum MonotonicClock {
    static let nanosPerMillisecond: Int64 = 1_000_000

    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// A poll(2) timeout that wakes no earlier than `instant`: rounded up to whole
    /// milliseconds, so the caller never wakes a hair early and spins.
    static func pollTimeout(until instant: Int64, now: Int64) -> Int32 {
        let remaining = instant - now
        if remaining <= 0 { return 0 }
        return Int32(clamping: (remaining + nanosPerMillisecond - 1) / nanosPerMillisecond)
    }
}
