import Foundation

/// Picks a bounded part of a job's output from the log as it streams in: the first or
/// last lines, or a byte range, optionally only the lines that match a pattern.
///
/// The tools hand its result to an agent, whose context is precious: whatever is
/// selected is cut to ``maxBytes``, and the result says so.
struct OutputWindow {
    /// Which part of the output.
    enum Selection: Sendable, Hashable {
        /// The first lines.
        case head(Int)
        /// The last lines.
        case tail(Int)
        /// `length` bytes from byte `offset` of the log.
        case range(offset: Int64, length: Int64)
    }

    /// What was selected.
    struct Excerpt: Sendable {
        /// The text; invalid UTF-8 (a range may cut a character) shows as U+FFFD.
        var text: String
        /// Lines in `text`.
        var lines: Int
        /// Whether the text was cut to the byte bound.
        var truncated: Bool
        /// For a range: the offset right after it, to ask for the next one.
        var nextOffset: Int64?
        /// For a range: whether the log ended inside it (so far, for a running job).
        var endOfLog: Bool?
    }

    /// The most bytes any output a tool returns holds: 64 KiB.
    static let maxBytes = 64 * 1024
    /// The most lines a head or tail asks for.
    static let maxLines = 1000
    /// Longer lines are cut to this many bytes when kept for matching, to bound memory.
    static let maxLineBytes = 64 * 1024

    let selection: Selection
    let filter: NSRegularExpression?
    let maxBytes: Int

    private var partial = Data()
    private var kept: [Data] = []
    private var keptStart = 0  // the ring's oldest element, for tails
    private var position: Int64 = 0
    private var rangeBytes = Data()
    /// Whether nothing more is needed: the caller may stop reading.
    private(set) var isComplete = false

    /// Creates a window; `maxBytes` bounds the result.
    init(_ selection: Selection, filter: NSRegularExpression? = nil, maxBytes: Int = Self.maxBytes) {
        self.selection = selection
        self.filter = filter
        self.maxBytes = maxBytes
        if case .head(0) = selection { isComplete = true }
        if case .range(_, 0) = selection { isComplete = true }
    }

    /// Takes the next bytes of the log.
    mutating func consume(_ chunk: Data) {
        guard !isComplete else { return }
        if case .range(let offset, let length) = selection {
            let start = max(offset - position, 0)
            let end = min(offset + length - position, Int64(chunk.count))
            if start < end {
                let base = chunk.startIndex
                rangeBytes.append(chunk[(base + Int(start))..<(base + Int(end))])
            }
            position += Int64(chunk.count)
            if position >= offset + length { isComplete = true }
            return
        }
        partial.append(chunk)
        var lineStart = partial.startIndex
        while let newline = partial[lineStart...].firstIndex(of: 0x0A) {
            take(partial[lineStart..<newline])
            lineStart = partial.index(after: newline)
            if isComplete { return }
        }
        partial = Data(partial[lineStart...])
        // A line with no end in sight: judge what there is, rather than hold it all.
        if partial.count > Self.maxLineBytes * 4 {
            take(partial)
            partial = Data()
        }
    }

    /// The selection, once the log has been read to its end (or ``isComplete``).
    mutating func finish() -> Excerpt {
        if case .range(let offset, let length) = selection {
            var data = rangeBytes
            let endOfLog = Int64(data.count) < length
            if let filter {
                let matching = split(data).filter { Self.matches(filter, $0) }
                data = Self.join(matching, trailingNewline: !matching.isEmpty)
            }
            let (text, kept, truncated) = cut(data, keepEnd: false, maxLines: Self.maxLines)
            // Unfiltered, the next range starts right after the bytes returned; filtered, after
            // the bytes read (the cut then dropped matching lines: `truncated` says so).
            let consumed = filter == nil && truncated ? Int64(kept) : Int64(rangeBytes.count)
            return Excerpt(
                text: text, lines: lineCount(Data(text.utf8)), truncated: truncated,
                nextOffset: offset + consumed, endOfLog: endOfLog && !(filter == nil && truncated))
        }
        if !partial.isEmpty, !isComplete {
            take(partial)
            partial = Data()
        }
        let ordered = Array(kept[keptStart...] + kept[..<keptStart])
        let isTail: Bool
        if case .tail = selection { isTail = true } else { isTail = false }
        let data = Self.join(ordered, trailingNewline: !ordered.isEmpty)
        let (text, _, truncated) = cut(data, keepEnd: isTail, maxLines: Self.maxLines)
        return Excerpt(text: text, lines: truncated ? lineCount(Data(text.utf8)) : ordered.count, truncated: truncated)
    }

    // MARK: - Lines

    private mutating func take(_ line: Data) {
        if let filter, !Self.matches(filter, line) { return }
        let line = line.count > Self.maxLineBytes ? Data(line.prefix(Self.maxLineBytes)) : Data(line)
        switch selection {
        case .head(let count):
            kept.append(line)
            if kept.count >= count { isComplete = true }
        case .tail(let count):
            guard count > 0 else { return }
            if kept.count < count {
                kept.append(line)
            } else {
                kept[keptStart] = line
                keptStart = (keptStart + 1) % count
            }
        case .range:
            break
        }
    }

    private static func matches(_ filter: NSRegularExpression, _ line: Data) -> Bool {
        let text = String(decoding: line, as: UTF8.self)
        return filter.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    private func split(_ data: Data) -> [Data] {
        var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false).map { Data($0) }
        if data.last == 0x0A { lines.removeLast() }
        return lines
    }

    private func lineCount(_ data: Data) -> Int {
        data.isEmpty ? 0 : data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } + (data.last == 0x0A ? 0 : 1)
    }

    private static func join(_ lines: [Data], trailingNewline: Bool) -> Data {
        var data = Data()
        for (index, line) in lines.enumerated() {
            if index > 0 { data.append(0x0A) }
            data.append(line)
        }
        if trailingNewline { data.append(0x0A) }
        return data
    }

    /// `data` as text of at most `maxLines` lines and `maxBytes` bytes of UTF-8 (counted
    /// after invalid bytes became U+FFFD): its start or its end, cut at a line boundary
    /// when there is one; with the bytes of `data` kept and whether anything was cut.
    private func cut(_ data: Data, keepEnd: Bool, maxLines: Int) -> (text: String, kept: Int, truncated: Bool) {
        var piece = data
        var truncated = false
        if lineCount(piece) > maxLines {
            let lines = split(piece)
            piece = Self.join(
                keepEnd ? Array(lines.suffix(maxLines)) : Array(lines.prefix(maxLines)),
                trailingNewline: keepEnd ? data.last == 0x0A : true)
            truncated = true
        }
        var budget = maxBytes
        while true {
            var text = String(decoding: piece, as: UTF8.self)
            guard text.utf8.count > maxBytes else { return (text, piece.count, truncated) }
            truncated = true
            var cutPiece = keepEnd ? Data(piece.suffix(budget)) : Data(piece.prefix(budget))
            if keepEnd, let newline = cutPiece.firstIndex(of: 0x0A), newline < cutPiece.endIndex - 1 {
                cutPiece = Data(cutPiece[cutPiece.index(after: newline)...])
            } else if !keepEnd, let newline = cutPiece.lastIndex(of: 0x0A), newline > cutPiece.startIndex {
                cutPiece = Data(cutPiece[...newline])
            }
            text = String(decoding: cutPiece, as: UTF8.self)
            if text.utf8.count <= maxBytes { return (text, cutPiece.count, true) }
            // Invalid bytes grew in decoding: try again with less.
            budget -= max(1, text.utf8.count - maxBytes)
            piece = cutPiece
        }
    }
}
