import Foundation

/// The Prometheus text exposition format (version 0.0.4), written by hand for the metrics
/// read at scrape time and the lock-free histograms.
public struct PrometheusText: Sendable {
    /// What has been written.
    public private(set) var text = ""

    /// Creates an empty exposition.
    public init() {}

    /// `# HELP` and `# TYPE` of a metric family.
    public mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    /// One sample: `name{labels} value`.
    public mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
        }
        text += " \(Self.number(value))\n"
    }

    /// A whole histogram family.
    public mutating func histogram(_ name: String, _ help: String, _ histogram: AtomicHistogram, labels: [(String, String)] = [], header: Bool = true) {
        if header { family(name, "histogram", help) }
        let (cumulative, sum) = histogram.snapshot()
        for (index, bound) in histogram.bounds.enumerated() {
            sample(name + "_bucket", labels + [("le", Self.number(bound))], Double(cumulative[index]))
        }
        sample(name + "_bucket", labels + [("le", "+Inf")], Double(cumulative.last ?? 0))
        sample(name + "_sum", labels, sum)
        sample(name + "_count", labels, Double(cumulative.last ?? 0))
    }

    /// A label value with `\`, `"` and newlines escaped.
    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    /// A sample value: whole numbers without a fraction.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
