import Foundation

/// Reads a `text/event-stream` body (the WHATWG server-sent events format) as it arrives:
/// lines of `field: value`, a blank line ending each message, `:` lines as comments.
struct ServerSentEvents {
    /// One message: its `id`, `event` name (`message` when none) and `data` (lines joined by
    /// newlines).
    struct Message: Equatable {
        var id: String?
        var event = "message"
        var data = ""
    }

    /// The largest line kept: 1 MiB. A longer one is dropped, as a stream that went wrong.
    static let maxLine = 1 << 20

    /// The last `id` the stream gave, in a message with data or without (a stream tells
    /// where it starts that way).
    private(set) var lastID: String?

    private var pending = Data()
    private var current = Message()
    private var hasData = false

    /// The messages that `bytes` completes.
    mutating func feed(_ bytes: Data) -> [Message] {
        pending.append(bytes)
        var messages: [Message] = []
        while let newline = pending.firstIndex(of: 0x0A) {
            var line = pending[pending.startIndex..<newline]
            pending = Data(pending[pending.index(after: newline)...])
            if line.last == 0x0D { line = line.dropLast() }
            if line.isEmpty {
                if hasData { messages.append(current) }
                current = Message()
                hasData = false
                continue
            }
            let text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix(":") { continue }
            let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let field = String(parts[0])
            var value = parts.count > 1 ? String(parts[1]) : ""
            if value.hasPrefix(" ") { value.removeFirst() }
            switch field {
            case "id":
                current.id = value
                lastID = value
            case "event": current.event = value
            case "data":
                current.data += (hasData ? "\n" : "") + value
                hasData = true
            default: break
            }
        }
        if pending.count > Self.maxLine { pending.removeAll() }
        return messages
    }
}
