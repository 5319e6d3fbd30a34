/// Writes JSON text byte by byte, without Foundation's encoder.
///
/// For the CLI's hot requests (`stint add`, `stint wait`): `JSONEncoder` looks up
/// protocol conformances at run time, and in the static CLI each first lookup scans
/// every conformance record of the binary, which cost about a tenth of `stint add`.
/// What it writes decodes with ``StintJSON/decoder()`` to what `JSONEncoder` would
/// have sent (the tests compare the two over many specs).
public struct JSONWriter: Sendable {
    /// The text written so far, UTF-8.
    public private(set) var bytes: [UInt8] = []
    /// Whether a member or element has been written at the current level, per level.
    private var hasMember: [Bool] = []

    /// Creates an empty writer.
    public init() {}

    /// Opens `{`.
    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        hasMember.append(false)
    }

    /// Closes `}`.
    public mutating func endObject() {
        hasMember.removeLast()
        bytes.append(UInt8(ascii: "}"))
    }

    /// Opens `[`.
    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        hasMember.append(false)
    }

    /// Closes `]`.
    public mutating func endArray() {
        hasMember.removeLast()
        bytes.append(UInt8(ascii: "]"))
    }

    /// Writes `"key":`; the value follows.
    public mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        // The value written next belongs to this key: no comma before it.
        hasMember[hasMember.count - 1] = false
    }

    /// Writes a string.
    public mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
    }

    /// Writes an integer.
    public mutating func integer<N: BinaryInteger>(_ value: N) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Writes a number in the shortest form that reads back as the same `Double`;
    /// returns `false` (and writes nothing) for infinity and NaN, which JSON cannot hold.
    @discardableResult
    public mutating func number(_ value: Double) -> Bool {
        guard value.isFinite else { return false }
        separate()
        bytes.append(contentsOf: value.description.utf8)
        return true
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// Writes `null`.
    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
    }

    /// A comma before every member or element but the first of its level.
    private mutating func separate() {
        guard let last = hasMember.last else { return }
        if last { bytes.append(UInt8(ascii: ",")) }
        hasMember[hasMember.count - 1] = true
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `"value"` with `"`, `\` and control characters escaped, as RFC 8259 requires;
    /// everything else (`/` and non-ASCII included) as it is, like ``StintJSON/encoder(pretty:)``.
    private mutating func appendQuoted(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(Self.hexDigits[Int(byte >> 4)])
                bytes.append(Self.hexDigits[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
