/// A two-way map between external identifiers (any string) and dense indices `0..<count`.
///
/// Every user and item id in Braid passes through a vocabulary exactly once; models work on
/// the dense indices only.
public struct Vocabulary: Sendable, Equatable, Codable {
    public private(set) var identifiers: [String]
    private var lookup: [String: Int32]

    public init() {
        identifiers = []
        lookup = [:]
    }

    public init<S: Sequence>(_ ids: S) where S.Element == String {
        self.init()
        identifiers.reserveCapacity(ids.underestimatedCount)
        lookup.reserveCapacity(ids.underestimatedCount)
        for id in ids { _ = insert(id) }
    }

    public var count: Int { identifiers.count }

    /// The index of `id`, adding it when new.
    @discardableResult
    public mutating func insert(_ id: String) -> Int32 {
        // One hash of a new id (the common case): a known one's index is put back.
        let index = Int32(identifiers.count)
        if let known = lookup.updateValue(index, forKey: id) {
            lookup[id] = known
            return known
        }
        identifiers.append(id)
        return index
    }

    /// The index of `id`, or nil when it is not in the vocabulary.
    public func index(of id: String) -> Int32? { lookup[id] }

    /// The identifier at `index`.
    public subscript(index: Int) -> String { identifiers[index] }
    public subscript(index: Int32) -> String { identifiers[Int(index)] }

    public static func == (lhs: Vocabulary, rhs: Vocabulary) -> Bool { lhs.identifiers == rhs.identifiers }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self.init(try container.decode([String].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(identifiers)
    }
}
