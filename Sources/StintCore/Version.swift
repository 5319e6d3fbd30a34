/// Facts about this build of Stint.
public enum StintVersion {
    /// The version printed by `stint --version` and reported by `stint daemon status`.
    public static let current = "0.1.0"
}
