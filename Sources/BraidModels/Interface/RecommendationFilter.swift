public import BraidCore

/// Which items a recommendation list may contain.
public struct RecommendationFilter: Sendable, Equatable {
    /// Leave out the items the user interacted with in training, including those whose values
    /// fell below the threshold (`InteractionMatrix.belowThreshold`).
    public var excludeSeen: Bool
    /// When set, only these item indices may be recommended.
    public var allowedItems: Set<Int32>?
    /// These item indices are never recommended.
    public var deniedItems: Set<Int32>
    /// Allow items that have no training interactions (models cannot score them from
    /// collaborative data; they are left out by default).
    public var includeItemsWithoutInteractions: Bool

    public init(excludeSeen: Bool = true, allowedItems: Set<Int32>? = nil, deniedItems: Set<Int32> = [],
                includeItemsWithoutInteractions: Bool = false) {
        self.excludeSeen = excludeSeen
        self.allowedItems = allowedItems
        self.deniedItems = deniedItems
        self.includeItemsWithoutInteractions = includeItemsWithoutInteractions
    }

    /// Resolves external item ids to indices. An allowed id the model does not know is an
    /// `unknownItem` error naming every such id; unknown denied ids are ignored (there is
    /// nothing to leave out).
    public init(excludeSeen: Bool = true, allowing allowed: [String]?, denying denied: [String], items: Vocabulary) throws(ModelError) {
        let unknown = allowed?.filter { items.index(of: $0) == nil } ?? []
        guard unknown.isEmpty else {
            throw ModelError(.unknownItem, "the allowed items include \(unknown.count) the model does not know: "
                             + unknown.prefix(10).joined(separator: ", ") + (unknown.count > 10 ? ", …" : ""),
                             hint: "allow only items that occur in the training data")
        }
        self.init(excludeSeen: excludeSeen,
                  allowedItems: allowed.map { Set($0.compactMap { items.index(of: $0) }) },
                  deniedItems: Set(denied.compactMap { items.index(of: $0) }))
    }
}

/// One recommended item by external id.
public struct Recommendation: Sendable, Equatable, Codable {
    public var item: String
    public var score: Float
    public init(item: String, score: Float) {
        self.item = item
        self.score = score
    }
}
