import Glibc

/// A wall-clock instant for the exit record: Unix epoch seconds with microseconds.
struct Timestamp {
    let seconds: Int64
    let microseconds: Int64

    static func now() -> Timestamp {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Timestamp(seconds: Int64(time.tv_sec), microseconds: Int64(time.tv_nsec) / 1000)
    }

    /// Appends a JSON number such as `1763740000.123456` (always six decimals, so the value
    /// reads back exactly).
    func appendJSON(to buffer: inout TextBuffer) {
        buffer.append(decimal: seconds)
        buffer.append(".")
        buffer.append(decimal: UInt64(microseconds), minimumDigits: 6)
    }
}
