import Foundation

/// Quotes words so a POSIX shell reads them back unchanged.
public enum ShellQuoting {
    /// `word` quoted only when it needs to be.
    public static func quote(_ word: String) -> String {
        if word.isEmpty { return "''" }
        let safe = word.allSatisfy { $0.isLetter || $0.isNumber || "@%+:,./_-".contains($0) }
        if safe { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// `words` quoted and joined with spaces.
    public static func join(_ words: [String]) -> String {
        words.map(quote).joined(separator: " ")
    }
}
