import Glibc

/// A fixed-capacity byte buffer for composing paths, file contents and messages.
///
/// It stands in for String (see `main.swift` for why the shim avoids String). Everything the
/// shim writes is ASCII framing around bytes that came from C (argv, strerror), so plain
/// bytes are the natural representation anyway, and they pass a path that is not valid
/// UTF-8 through unchanged. Non-copyable because it owns its allocation.
struct TextBuffer: ~Copyable {
    private let storage: UnsafeMutablePointer<UInt8>
    /// Usable bytes; one more is allocated so the contents can always be NUL-terminated.
    private let capacity: Int
    private(set) var count = 0
    /// An append did not fit, so the contents are a truncated prefix. Fine for a message;
    /// a caller building a path must check it.
    private(set) var overflowed = false

    init(capacity: Int) {
        self.capacity = capacity
        storage = .allocate(capacity: capacity + 1)
    }

    deinit {
        storage.deallocate()
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: count) }

    /// The contents as a NUL-terminated C string, valid until the buffer next changes.
    var cString: UnsafePointer<CChar> {
        storage[count] = 0
        return UnsafeRawPointer(storage).assumingMemoryBound(to: CChar.self)
    }

    mutating func removeAll() {
        count = 0
        overflowed = false
    }

    mutating func append(byte: UInt8) {
        guard count < capacity else {
            overflowed = true
            return
        }
        storage[count] = byte
        count += 1
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        let fitting = min(bytes.count, capacity - count)
        if fitting < bytes.count { overflowed = true }
        if fitting > 0 { UnsafeMutableRawPointer(storage + count).copyMemory(from: bytes.baseAddress!, byteCount: fitting) }
        count += fitting
    }

    mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func append(cString: UnsafePointer<CChar>) {
        append(UnsafeRawBufferPointer(start: cString, count: strlen(cString)))
    }

    mutating func append(_ other: borrowing TextBuffer) {
        append(other.bytes)
    }

    /// A non-negative integer in decimal, zero-padded to at least `minimumDigits`.
    mutating func append(decimal value: UInt64, minimumDigits: Int = 1) {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        for _ in digits..<max(digits, minimumDigits) { append(byte: UInt8(ascii: "0")) }
        guard count + digits <= capacity else {
            overflowed = true
            return
        }
        rest = value
        for position in stride(from: count + digits - 1, through: count, by: -1) {
            storage[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        count += digits
    }

    mutating func append(decimal value: Int64) {
        if value < 0 { append(byte: UInt8(ascii: "-")) }
        append(decimal: value.magnitude)
    }

    /// `bytes` as a JSON string literal: quotes, backslashes and control characters escaped,
    /// valid UTF-8 copied as is, and any byte that is not valid UTF-8 replaced with U+FFFD
    /// (a path or command name may be in any encoding; JSON must be Unicode).
    mutating func appendJSONString(_ bytes: UnsafeRawBufferPointer) {
        append(byte: UInt8(ascii: "\""))
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case UInt8(ascii: "\n"): append("\\n")
            case UInt8(ascii: "\r"): append("\\r")
            case UInt8(ascii: "\t"): append("\\t")
            case 0x00..<0x20, 0x7F:
                append("\\u00")
                let hex: StaticString = "0123456789abcdef"
                append(byte: hex.utf8Start[Int(byte >> 4)])
                append(byte: hex.utf8Start[Int(byte & 0xF)])
            case 0x20..<0x7F:
                append(byte: byte)
            default:
                let length = Self.utf8SequenceLength(bytes, at: index)
                if length == 0 {
                    append("\\ufffd")
                    index += 1
                    continue
                }
                append(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + length)]))
                index += length
                continue
            }
            index += 1
        }
        append(byte: UInt8(ascii: "\""))
    }

    /// The length of the well-formed multi-byte UTF-8 sequence starting at `index`, or 0 if
    /// there is none (the table of well-formed sequences from the Unicode standard, §3.9).
    private static func utf8SequenceLength(_ bytes: UnsafeRawBufferPointer, at index: Int) -> Int {
        let lead = bytes[index]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xE1...0xEF: length = 3
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        case 0xF1...0xF3: length = 4
        default: return 0
        }
        guard index + length <= bytes.count, secondRange.contains(bytes[index + 1]) else { return 0 }
        for offset in 2..<length where !(0x80...0xBF).contains(bytes[index + offset]) { return 0 }
        return length
    }
}
