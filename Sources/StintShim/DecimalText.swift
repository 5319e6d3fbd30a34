/// Parses the plain decimal numbers the shim reads from its command line and from the
/// run directory's `stop` and `signal` files ("10", "0.5", " 2.25\n").
///
/// Parsed by hand rather than with `Double(_:)`/`Int(_:)`, which would also accept signs,
/// "inf", "nan", hex floats and exponents: none of those is a sensible grace period,
/// byte count or signal number.
enum DecimalText {
    /// The largest accepted value (about 31 years); keeps nanosecond arithmetic far from overflow.
    static let maximumSeconds: Int64 = 1_000_000_000

    /// The duration in nanoseconds, or nil if the text is not `DIGITS[.DIGITS]` / `.DIGITS`
    /// (ASCII whitespace around it is ignored, since files written by `echo` end in a newline).
    static func secondsAsNanoseconds<Bytes: Collection>(_ text: Bytes) -> Int64? where Bytes.Element == UInt8 {
        var whole: Int64 = 0
        var fraction: Int64 = 0
        var fractionScale: Int64 = 1_000_000_000
        var sawDigit = false
        var sawPoint = false
        for byte in trimmed(text) {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let digit = Int64(byte - UInt8(ascii: "0"))
                sawDigit = true
                if sawPoint {
                    // Digits beyond nanosecond precision are dropped, not rounded.
                    if fractionScale > 1 {
                        fractionScale /= 10
                        fraction += digit * fractionScale
                    }
                } else {
                    whole = whole * 10 + digit
                    if whole > maximumSeconds { return nil }
                }
            case UInt8(ascii: "."):
                if sawPoint { return nil }
                sawPoint = true
            default:
                return nil
            }
        }
        guard sawDigit else { return nil }
        return whole * 1_000_000_000 + fraction
    }

    /// A plain non-negative decimal integer (e.g. a signal number), or nil.
    static func integer<Bytes: Collection>(_ text: Bytes, maximum: UInt64) -> UInt64? where Bytes.Element == UInt8 {
        var value: UInt64 = 0
        var sawDigit = false
        for byte in trimmed(text) {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 || sum > maximum { return nil }
            value = sum
            sawDigit = true
        }
        return sawDigit ? value : nil
    }

    private static func trimmed<Bytes: Collection>(_ text: Bytes) -> ArraySlice<UInt8> where Bytes.Element == UInt8 {
        let bytes = Array(text)
        func isSpace(_ byte: UInt8) -> Bool {
            byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
        }
        var start = 0
        var end = bytes.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return bytes[start..<end]
    }
}
