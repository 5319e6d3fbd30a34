import Foundation
public import StintCore

/// The units of a batch, in order: a range of integers, a list of ids, or the lines of a file.
///
/// A unit has a value (what replaces `{}` in the command) and a position (1-based). A
/// range resumes by value (`--resume-from 53051`), a list by position.
public struct BatchUnits: Sendable, Hashable {
    /// Where the units come from.
    public enum Source: Sendable, Hashable {
        /// `--range LO-HI`, both ends included.
        case range(Int64, Int64)
        /// `--ids A,B,C` or `--from FILE`.
        case list([String])
    }

    /// The units' source.
    public let source: Source

    /// Creates units from a source.
    public init(_ source: Source) { self.source = source }

    /// Parses `--range LO-HI` (non-negative integers, LO ≤ HI).
    public static func range(_ text: String) throws(StintError) -> BatchUnits {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let low = Int64(parts[0]), let high = Int64(parts[1]), low >= 0, low <= high else {
            throw StintError(.usage, "--range takes LO-HI with integers 0 ≤ LO ≤ HI, not \(text)", hint: "for example --range 1-500")
        }
        return BatchUnits(.range(low, high))
    }

    /// Parses `--ids A,B,C` (comma-separated, no empty item).
    public static func ids(_ text: String) throws(StintError) -> BatchUnits {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard !items.isEmpty, !items.contains(where: \.isEmpty) else {
            throw StintError(.usage, "--ids takes a comma-separated list without empty items, not \(text)")
        }
        return BatchUnits(.list(items))
    }

    /// The units of a file's text: one per line; empty lines and `#` comments skipped.
    public static func lines(_ text: String) throws(StintError) -> BatchUnits {
        let items = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !items.isEmpty else { throw StintError(.usage, "the unit file has no units") }
        return BatchUnits(.list(items))
    }

    /// How many units there are.
    public var count: Int64 {
        switch source {
        case .range(let low, let high): high - low + 1
        case .list(let items): Int64(items.count)
        }
    }

    /// The value of the unit at `position` (1-based).
    public func value(at position: Int64) -> String {
        switch source {
        case .range(let low, _): String(low + position - 1)
        case .list(let items): items[Int(position - 1)]
        }
    }

    /// The position a `--resume-from N` starts at: the value N of a range, the position N of a list.
    public func position(resumingFrom text: String) throws(StintError) -> Int64 {
        switch source {
        case .range(let low, let high):
            guard let value = Int64(text), value >= low, value <= high + 1 else {
                throw StintError(.usage, "--resume-from must be a unit of the range \(low)-\(high), not \(text)")
            }
            return value - low + 1
        case .list(let items):
            guard let position = Int64(text), position >= 1, position <= Int64(items.count) + 1 else {
                throw StintError(.usage, "--resume-from takes a position from 1 to \(items.count) in the list, not \(text)")
            }
            return position
        }
    }

    /// What `--resume-from` names for the unit at `position`: its value in a range, the position in a list.
    public func resumeArgument(for position: Int64) -> String {
        switch source {
        case .range(let low, _): String(low + position - 1)
        case .list: String(position)
        }
    }
}
