/// What matching a user's regular expression against some output gave.
public enum PatternResult: String, Sendable, Hashable, Codable {
    /// The pattern matched.
    case matched
    /// The pattern did not match.
    case notMatched = "not_matched"
    /// The match ran out of its step budget before it could answer: the pattern
    /// backtracks too much on this input (such as `(.*a){12}$`).
    case overBudget = "over_budget"
}
