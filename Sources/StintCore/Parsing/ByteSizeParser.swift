/// Parses byte sizes: `1048576`, `512K`, `1MiB`, `64MB`, `2G`.
///
/// Units are binary (`K`/`KiB` = 1024) whether or not the `i` is written: a log cap is
/// about disk blocks, and users rarely mean powers of ten there. `0` means "no cap".
public enum ByteSizeParser {
    private static let units: [(suffixes: [String], factor: Int64)] = [
        (["kib", "kb", "k"], 1 << 10),
        (["mib", "mb", "m"], 1 << 20),
        (["gib", "gb", "g"], 1 << 30),
        (["tib", "tb", "t"], 1 << 40),
        (["b", ""], 1),
    ]

    /// The number of bytes `text` denotes, or `nil` when it is not a valid size.
    public static func bytes(_ text: String) -> Int64? {
        let lowered = String(text.lowercased().filter { $0 != " " })
        let number = lowered.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard !number.isEmpty, let value = Double(number), value >= 0 else { return nil }
        let suffix = String(lowered.dropFirst(number.count))
        guard let unit = units.first(where: { $0.suffixes.contains(suffix) }) else { return nil }
        if unit.factor == 1, value == value.rounded(), let exact = Int64(number) { return exact }
        let result = (value * Double(unit.factor)).rounded(.up)  // "0.5" must not become 0, "no cap"
        guard result < Double(Int64.max) else { return nil }
        return Int64(result)
    }

    /// `bytes` written the way people read them: `64.0 MiB`, `512 B`.
    public static func format(_ bytes: Int64) -> String {
        let names = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var index = 0
        while (value * 10).rounded() / 10 >= 1024, index < names.count - 1 {
            value /= 1024
            index += 1
        }
        if index == 0 { return "\(bytes) B" }
        let tenths = (value * 10).rounded() / 10
        return "\(tenths) \(names[index])"
    }
}
