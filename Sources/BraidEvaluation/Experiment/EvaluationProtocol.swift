public import BraidCore

/// The one evaluation protocol Braid uses everywhere (README, "Evaluation protocol"):
///
/// - Each evaluated user's candidates are every item with training interactions, minus the
///   user's own training items.
/// - Relevant items are the user's test interactions (with a threshold T: value ≥ T; the
///   training data is then also reduced to its positives, value ≥ T, as implicit feedback).
/// - Relevant items that never occur in training still count in the denominators.
/// - Users without training data are skipped and counted; metrics average over users with at
///   least one relevant test item.
/// - NDCG uses binary gains and log2(rank + 1) discounts.
/// - RMSE and MAE cover the test rows whose user and item both occur in training, when the
///   model predicts ratings and no threshold is set.
public struct EvaluationProtocol: Sendable, Codable, Equatable {
    /// Which items are ranked and which users evaluated.
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// Every item with training data is a candidate.
        case standard
        /// Item cold start: only the new catalogue — items that occur in the test set and never
        /// in training — is ranked, and only relevant new items count.
        case coldItems = "cold-items"
        /// User cold start: only users with at most `coldUserHistory` training interactions.
        case coldUsers = "cold-users"
    }

    /// k of the @k metrics.
    public var cutoff: Int
    public var threshold: Float?
    public var duplicates: DuplicatePolicy
    public var mode: Mode
    /// The largest training history of a cold user.
    public var coldUserHistory: Int

    public init(cutoff: Int = 10, threshold: Float? = nil, duplicates: DuplicatePolicy = .last, mode: Mode = .standard,
                coldUserHistory: Int = 5) {
        self.cutoff = cutoff
        self.threshold = threshold
        self.duplicates = duplicates
        self.mode = mode
        self.coldUserHistory = coldUserHistory
    }
}

/// A split made ready for fitting and scoring under a protocol.
public struct PreparedSplit: Sendable {
    /// What models are fitted on (set `train.catalog` to give content models item metadata).
    public var train: InteractionMatrix
    /// Test rows after deduplication (all of them, for rating metrics).
    public let test: InteractionTable
    /// Relevant test items per user index.
    public let relevant: [Int32: Set<Int32>]

    public init(_ split: TrainTestSplit, protocol evaluation: EvaluationProtocol) {
        precondition(split.train.users == split.test.users && split.train.items == split.test.items,
                     "train and test must share vocabularies")
        var train = split.train.deduplicated(evaluation.duplicates).0
        if let threshold = evaluation.threshold { train = train.positives(threshold: threshold) }
        self.train = InteractionMatrix(train, duplicates: evaluation.duplicates)
        let test = split.test.deduplicated(evaluation.duplicates).0
        var relevant: [Int32: Set<Int32>] = [:]
        let trainedItems = self.train.itemHasInteractions
        for row in 0..<test.count where evaluation.threshold.map({ test.values[row] >= $0 }) ?? true {
            if evaluation.mode == .coldItems && trainedItems[Int(test.itemIndices[row])] { continue }
            if evaluation.mode == .coldUsers && self.train.byUser.count(ofRow: Int(test.userIndices[row])) > evaluation.coldUserHistory { continue }
            relevant[test.userIndices[row], default: []].insert(test.itemIndices[row])
        }
        self.test = test
        self.relevant = relevant
    }
}
