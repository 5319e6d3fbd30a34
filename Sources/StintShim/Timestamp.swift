import Glibc

/// A wall-clock instant for the exit record: Unix epoch seconds with microseconds.
struct Timestamp {
    let seconds: Int
    let microseconds: Int

    static func now() -> Timestamp {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Timestamp(seconds: time.tv_sec, microseconds: time.tv_nsec / 1000)
    }

    /// A JSON number such as `1763740000.123456` (always six decimals, so it reads back exactly).
    var json: String {
        let fraction = String(microseconds)
        return "\(seconds)." + String(repeating: "0", count: max(0, 6 - fraction.count)) + fraction
    }
}
