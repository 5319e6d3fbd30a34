import CPCRE2
import Foundation
public import StintCore

/// A user's regular expression (`--transient-pattern`, `wait --until output:`), matched
/// with a step budget so that no pattern can hold the daemon.
///
/// A backtracking engine takes exponential time on patterns such as `(.*a){12}$`; one
/// such match would hold a CPU for minutes. PCRE2 counts its backtracking steps and
/// stops at ``stepBudget``: the match then reports ``PatternResult/overBudget`` instead
/// of an answer, in milliseconds. The syntax is PCRE2's (Perl's), in UTF-8 mode;
/// invalid UTF-8 in the output is matched as bytes, never an error.
public struct BoundedPattern: @unchecked Sendable {
    // @unchecked: a compiled PCRE2 pattern is read-only and may be shared between
    // threads; every match makes its own match data and context.

    /// Backtracking steps one match may take (PCRE2's match limit): 1,000,000, a few
    /// milliseconds of work. Ordinary patterns need a few steps per byte of input.
    public static let stepBudget: UInt32 = 1_000_000
    /// Nested backtracking levels one match may take (PCRE2's depth limit): 10,000.
    public static let depthBudget: UInt32 = 10_000
    /// KiB of heap one match may use for backtracking (PCRE2's heap limit): 8 MiB.
    public static let heapBudgetKiB: UInt32 = 8192

    private final class Code {
        let pointer: OpaquePointer
        init(_ pointer: OpaquePointer) { self.pointer = pointer }
        deinit { pcre2_code_free_8(pointer) }
    }

    /// The pattern as given.
    public let pattern: String
    private let code: Code

    /// Compiles `pattern`; throws `E_USAGE` naming `option` and PCRE2's reason when it
    /// is not a valid regular expression or is longer than ``Limits/maxPatternBytes``.
    public init(_ pattern: String, option: String) throws(StintError) {
        try Limits.checkText(pattern, option, maximum: Limits.maxPatternBytes)
        guard !pattern.isEmpty else { throw StintError(.usage, "\(option) needs a regular expression") }
        var errorCode: Int32 = 0
        var errorOffset = 0
        let compiled = pattern.utf8CString.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UInt8.self, capacity: buffer.count) { bytes in
                pcre2_compile_8(
                    bytes, pattern.utf8.count, stint_pcre2_compile_options(), &errorCode, &errorOffset, nil)
            }
        }
        guard let compiled else {
            throw StintError(
                .usage, "\(option) is not a valid regular expression: \(Self.message(errorCode)) at offset \(errorOffset)",
                hint: "the syntax is PCRE2's (Perl-compatible)")
        }
        self.pattern = pattern
        self.code = Code(compiled)
    }

    /// Whether `text` holds a match, within the budget.
    public func firstMatch(in text: String) -> PatternResult {
        var text = text
        return text.withUTF8 { firstMatch(in: UnsafeRawBufferPointer($0)) }
    }

    /// Whether the bytes hold a match, within the budget.
    public func firstMatch(in bytes: UnsafeRawBufferPointer) -> PatternResult {
        // An empty buffer may have no base address; PCRE2 wants a pointer all the same.
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            return [UInt8(0)].withUnsafeBufferPointer { match($0.baseAddress!, length: 0) }
        }
        return match(base.assumingMemoryBound(to: UInt8.self), length: bytes.count)
    }

    private func match(_ start: UnsafePointer<UInt8>, length: Int) -> PatternResult {
        guard let context = pcre2_match_context_create_8(nil) else { return .overBudget }
        defer { pcre2_match_context_free_8(context) }
        pcre2_set_match_limit_8(context, Self.stepBudget)
        pcre2_set_depth_limit_8(context, Self.depthBudget)
        pcre2_set_heap_limit_8(context, Self.heapBudgetKiB)
        guard let data = pcre2_match_data_create_from_pattern_8(code.pointer, nil) else { return .overBudget }
        defer { pcre2_match_data_free_8(data) }
        let status = pcre2_match_8(code.pointer, start, length, 0, 0, data, context)
        if status >= 0 { return .matched }
        if status == stint_pcre2_error_nomatch() { return .notMatched }
        // Over the step, depth or heap budget, or any other failure to finish: no answer.
        return .overBudget
    }

    private static func message(_ code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = pcre2_get_error_message_8(code, &buffer, buffer.count)
        guard length > 0 else { return "error \(code)" }
        return String(decoding: buffer.prefix(Int(length)), as: UTF8.self)
    }
}
