import Foundation

/// Durations for people: `400ms`, `12.5s`, `4m35s`, `2h05m`, `3d4h`.
public enum DurationText {
    /// `seconds` as short text.
    public static func short(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let total = Int(seconds.rounded())
        if total < 3600 { return "\(total / 60)m\(String(format: "%02d", total % 60))s" }
        if total < 86400 { return "\(total / 3600)h\(String(format: "%02d", total % 3600 / 60))m" }
        return "\(total / 86400)d\(total % 86400 / 3600)h"
    }
}
