public import Foundation

/// Who claims an attempt: the node (a host, or the name given with `--node`) and the
/// daemon instance on it. Every attempt records both; a daemon reconciles only the
/// attempts of its own node, so daemons on other hosts sharing a store keep theirs.
public struct WorkerIdentity: Sendable, Hashable {
    /// The node's stable name: the host name unless `stint daemon --node NAME` says otherwise.
    public var node: String
    /// This daemon process: a new random id at every start.
    public var instance: String

    /// Creates an identity.
    public init(node: String, instance: String = UUID().uuidString.lowercased()) {
        self.node = node
        self.instance = instance
    }

    /// The longest node name accepted: 255 bytes, a host name's limit.
    public static let maxNodeBytes = 255

    /// Checks a node name: 1 to 255 bytes of printable ASCII without spaces; throws `E_USAGE`.
    public static func validate(node: String) throws(StintError) {
        let printable = node.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
        guard !node.isEmpty, node.utf8.count <= maxNodeBytes, printable else {
            throw StintError(
                .usage, "invalid node name \"\(node)\"", hint: "use 1 to 255 printable characters without spaces")
        }
    }
}
