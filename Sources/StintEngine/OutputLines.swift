import Foundation

/// A job's output bytes as the lines a notification, a stall or a summary shows.
enum OutputLines {
    /// `bytes` as lines, without the last line's newline (nor a `\r` before a newline) and
    /// without empty trailing lines.
    static func split(_ bytes: Data) -> [String] {
        var lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }
}
