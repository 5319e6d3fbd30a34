/// Parses the plain decimal numbers the shim reads from its command line and from the run
/// directory's `stop` and `signal` files ("10", "0.5", " 2.25\n").
///
/// Parsed by hand rather than with `Double(_:)`/`Int(_:)`, which would also accept signs,
/// "inf", "nan" and hex floats (none of those is a sensible grace period, byte count or
/// signal number), and which would need a String.
enum DecimalText {
    /// Longer durations are cut to this many seconds (about 31 years, which is forever for a
    /// job); keeps nanosecond arithmetic far from overflow.
    static let maximumSeconds: UInt64 = 1_000_000_000

    /// Non-negative decimal seconds, in nanoseconds: `DIGITS[.DIGITS]` or `.DIGITS`, with an
    /// optional exponent (`1e-05`, `2.5E3`), since that is how Swift's `String(Double)` writes
    /// very small and very large values. ASCII whitespace around it is ignored, since a file
    /// written with `echo` ends in a newline. Precision beyond the nanosecond is dropped.
    static func secondsAsNanoseconds(_ text: UnsafeRawBufferPointer) -> Int64? {
        let text = trimmed(text)
        // The value is mantissa × 10^scale seconds. Digits beyond what a UInt64 holds exactly
        // are dropped (they are far below a nanosecond for any value in range).
        var mantissa: UInt64 = 0
        var scale = 0
        var sawDigit = false
        var sawPoint = false
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: ".") {
                if sawPoint { return nil }
                sawPoint = true
            } else if let digit = digitValue(byte) {
                sawDigit = true
                if mantissa < 100_000_000_000_000_000 {
                    mantissa = mantissa * 10 + digit
                    if sawPoint { scale -= 1 }
                } else if !sawPoint {
                    scale += 1
                }
            } else {
                break
            }
            index += 1
        }
        guard sawDigit else { return nil }
        if index < text.count {
            guard text[index] == UInt8(ascii: "e") || text[index] == UInt8(ascii: "E") else { return nil }
            index += 1
            var negative = false
            if index < text.count, text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-") {
                negative = text[index] == UInt8(ascii: "-")
                index += 1
            }
            guard let exponent = integer(UnsafeRawBufferPointer(rebasing: text[index...]), maximum: 1000) else {
                return nil
            }
            scale += negative ? -Int(exponent) : Int(exponent)
        }

        let maximumNanos = maximumSeconds * 1_000_000_000
        var nanos = mantissa
        var power = scale + 9  // nanoseconds = mantissa × 10^power
        while power < 0, nanos > 0 {
            nanos /= 10
            power += 1
        }
        while power > 0, nanos > 0 {
            guard nanos <= maximumNanos / 10 else { return Int64(maximumNanos) }
            nanos *= 10
            power -= 1
        }
        return Int64(min(nanos, maximumNanos))
    }

    /// A non-negative decimal integer no larger than `maximum`, or nil.
    static func integer(_ text: UnsafeRawBufferPointer, maximum: UInt64) -> UInt64? {
        let text = trimmed(text)
        guard !text.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in text {
            guard let digit = digitValue(byte) else { return nil }
            let (shifted, overflowed) = value.multipliedReportingOverflow(by: 10)
            guard !overflowed, shifted <= maximum, digit <= maximum - shifted else { return nil }
            value = shifted + digit
        }
        return value
    }

    private static func digitValue(_ byte: UInt8) -> UInt64? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? UInt64(byte - UInt8(ascii: "0")) : nil
    }

    private static func trimmed(_ text: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
        var start = 0
        var end = text.count
        while start < end, isSpace(text[start]) { start += 1 }
        while end > start, isSpace(text[end - 1]) { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: text[start..<end])
    }
}
