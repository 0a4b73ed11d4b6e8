public import BraidCore
public import BraidModels

/// The one evaluation protocol Braid uses everywhere (README, "Evaluation protocol"):
///
/// - Splits hold out (user, item) pairs, not rows: repeated events are combined by the
///   duplicate policy first, so a pair is in training or in test, never both.
/// - Each evaluated user's candidates are every item with training interactions, minus the
///   user's own training items (under `repeat`, the user's training items stay candidates).
///   With a threshold, the user's training rows below it are as if absent (their items stay
///   candidates), unless `belowThreshold` is `.seen`.
/// - Relevant items are the user's test interactions (with a threshold T: value ≥ T; the
///   training data is then also reduced to its positives, value ≥ T, as implicit feedback).
///   Test pairs that also occur in training (given train and test files that overlap) can
///   never be recommended, so they are not relevant and are counted instead; under `repeat`
///   they are relevant.
/// - Relevant items that never occur in training still count in the denominators.
/// - Ties in a model's scores are broken by a seeded pseudo-random order per user, so a model
///   that cannot tell items apart scores like `random`.
/// - Users without training data are skipped and counted; metrics average over users with at
///   least one relevant test item.
/// - NDCG uses binary gains and log2(rank + 1) discounts.
/// - RMSE and MAE cover the test pairs whose user and item both occur in training and that
///   were not themselves trained on, when the model predicts ratings and no threshold is set.
public struct EvaluationProtocol: Sendable, Codable, Equatable {
    /// Which items are ranked and which users evaluated.
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// Every item with training data is a candidate.
        case standard
        /// Item cold start: only the new catalogue — items that occur in the test set and never
        /// in training — is ranked, and only relevant new items count.
        case coldItems = "cold-items"
        /// Warm and cold items in one list: every item with training interactions and every
        /// item that occurs only in the test set is a candidate, and every relevant test item
        /// counts. A model that cannot score items without interactions leaves the cold ones out
        /// of its lists, as it would when serving. Adds `cold-share@k` (the share of list places
        /// that hold cold items) and `cold-recall@k` (recall over the relevant cold items, users
        /// with at least one). Split with `SplitMethod.coldAndWarmItems`.
        case mixed
        /// User cold start: only users with at most `coldUserHistory` training interactions.
        case coldUsers = "cold-users"
        /// New users: only users without training interactions (held out whole by
        /// `SplitMethod.newUsers`), each ranked by what Braid serves a user it has no history
        /// of, `RecommendationModel.newUserScores(_:attributes:)`: popularity among users with
        /// their attributes when the evaluation has them (`--user-attributes`), else popularity.
        case newUsers = "new-users"
        /// Re-consumption: the user's training items stay candidates and count when the user
        /// returns to them in the test period (plays, purchases, visits). Use it with a split
        /// of rows (`Splitter.unit = .rows`), usually by time.
        case `repeat`
    }

    /// k of the @k metrics.
    public var cutoff: Int
    public var threshold: Float?
    public var duplicates: DuplicatePolicy
    public var mode: Mode
    /// The largest training history of a cold user.
    public var coldUserHistory: Int
    /// Under `Mode.newUsers`: how many of each new user's first test rows (by time, else a
    /// seeded draw) are given to the models as their history, folded in, and not scored; 0
    /// ranks them by their attributes alone.
    public var newUserHistory = 0
    /// Under `Mode.newUsers` with a history given: how the fold-in leans on the user's list
    /// without it (`HistoryPrior`), as Braid serves a short history.
    public var historyPrior = HistoryPrior.default
    /// Seeds the order of tied scores.
    public var seed: UInt64
    /// With a threshold: what the user's training rows below it are.
    public var belowThreshold: BelowThreshold

    /// The user's training rows below the threshold (never trained on, never relevant).
    public enum BelowThreshold: String, Sendable, Codable, CaseIterable {
        /// As if absent: their items stay candidates. The protocol's default, as in the
        /// literature's filter-then-split convention and `peers.py`.
        case absent
        /// Seen: their items leave the user's candidates, as in the lists Braid serves
        /// (`InteractionMatrix.belowThreshold`).
        case seen
    }

    public init(cutoff: Int = 10, threshold: Float? = nil, duplicates: DuplicatePolicy = .last, mode: Mode = .standard,
                coldUserHistory: Int = 5, seed: UInt64 = 42, belowThreshold: BelowThreshold = .absent) {
        self.cutoff = cutoff
        self.threshold = threshold
        self.belowThreshold = belowThreshold
        self.duplicates = duplicates
        self.mode = mode
        self.coldUserHistory = coldUserHistory
        self.seed = seed
    }
}

/// A split made ready for fitting and scoring under a protocol.
public struct PreparedSplit: Sendable {
    /// What models are fitted on (set `train.catalog`, or call `attach(_:)`, to give content
    /// models item metadata).
    public var train: InteractionMatrix
    /// Test rows after deduplication (all of them, for rating metrics).
    public let test: InteractionTable
    /// Relevant test items per user index: the users a ranking evaluation scores.
    public private(set) var relevant: [Int32: Set<Int32>]
    /// The test rows RMSE and MAE score: user and item known in training, pair not trained on.
    public private(set) var ratedRows: [Int]
    /// How many users had relevant test items before `sampleUsers(_:seed:)` kept a sample of
    /// them; nil when every one is kept.
    public private(set) var usersBeforeSampling: Int?
    /// Test pairs that also occur in the training data (before any threshold).
    public let testPairsInTraining: Int
    /// The latest training timestamp, when the training rows have timestamps.
    public let latestTrainingTimestamp: Int64?
    /// Under `Mode.newUsers` with `newUserHistory` K > 0: per new user, the history their first
    /// K test rows give (the positives, valued as training values are) and every item of them,
    /// which their lists leave out.
    public let newUserHistories: [Int32: GivenHistory]

    /// A new user's first interactions, given to the models (`newUserHistories`).
    public struct GivenHistory: Sendable, Equatable {
        public var items: [Int32] = []
        public var values: [Float] = []
        /// Every given item, the ones below the threshold too.
        public var seen: [Int32] = []

        public init(items: [Int32] = [], values: [Float] = [], seen: [Int32] = []) {
            self.items = items
            self.values = values
            self.seen = seen
        }
    }

    public init(_ split: TrainTestSplit, protocol evaluation: EvaluationProtocol) throws(DataError) {
        guard split.train.users == split.test.users && split.train.items == split.test.items else {
            throw DataError(.invalidArgument, "the training and test tables must share their user and item vocabularies",
                            hint: "load them together (InteractionImporter.importFile(_:into:) with one table's vocabularies)")
        }
        let trainTable = split.train.deduplicated(evaluation.duplicates).0
        latestTrainingTimestamp = trainTable.timestamps.filter { $0 != InteractionTable.noTimestamp }.max()
        // Every training pair, before the threshold drops the low values; without a threshold
        // that is the matrix the models train on.
        let allPairs = InteractionMatrix(trainTable, duplicates: evaluation.duplicates)
        let trainedPairs = allPairs.byUser
        if let threshold = evaluation.threshold {
            if let problem = trainTable.thresholdProblem(threshold) { throw problem }
            train = evaluation.belowThreshold == .seen
                ? InteractionMatrix(positivesOf: trainTable, threshold: threshold, duplicates: evaluation.duplicates)
                : InteractionMatrix(trainTable.positives(threshold: threshold), duplicates: evaluation.duplicates)
        } else {
            train = allPairs
        }
        let test = split.test.deduplicated(evaluation.duplicates).0
        train.evaluationHoldout = Self.holdoutOrder(train: trainTable, test: test)
        // New users' first K rows: given as history, never relevant.
        var given: [Int32: GivenHistory] = [:]
        if evaluation.mode == .newUsers, evaluation.newUserHistory > 0 {
            var rowsByUser: [Int32: [Int]] = [:]
            for row in 0..<test.count where self.train.byUser.count(ofRow: Int(test.userIndices[row])) == 0 {
                rowsByUser[test.userIndices[row], default: []].append(row)
            }
            for (user, rows) in rowsByUser {
                var ordered = rows
                if rows.allSatisfy({ test.timestamps[$0] != InteractionTable.noTimestamp }) {
                    ordered.sort { test.timestamps[$0] != test.timestamps[$1] ? test.timestamps[$0] < test.timestamps[$1] : $0 < $1 }
                } else {
                    var rng = SeededGenerator(seed: evaluation.seed &+ UInt64(user))
                    ordered.shuffle(using: &rng)
                }
                var history = GivenHistory()
                for row in ordered.prefix(evaluation.newUserHistory) {
                    history.seen.append(test.itemIndices[row])
                    if let threshold = evaluation.threshold {
                        if test.values[row] >= threshold { history.items.append(test.itemIndices[row]); history.values.append(1) }
                    } else {
                        history.items.append(test.itemIndices[row])
                        history.values.append(test.values[row])
                    }
                }
                given[user] = history
            }
        }
        newUserHistories = given
        var relevant: [Int32: Set<Int32>] = [:]
        var ratedRows: [Int] = []
        var inTraining = 0
        let trainedItems = self.train.itemHasInteractions
        let ratedUsers = trainedPairs.rowCounts, ratedItems = trainedPairs.columnCounts
        for row in 0..<test.count {
            let user = Int(test.userIndices[row]), item = test.itemIndices[row]
            let seen = trainedPairs.contains(row: user, column: item)
            if seen { inTraining += 1 }
            if !seen && ratedUsers[user] > 0 && ratedItems[Int(item)] > 0 { ratedRows.append(row) }
            guard evaluation.threshold.map({ test.values[row] >= $0 }) ?? true else { continue }
            if seen && evaluation.mode != .repeat { continue }
            if evaluation.mode == .coldItems && trainedItems[Int(item)] { continue }
            if evaluation.mode == .coldUsers && self.train.byUser.count(ofRow: user) > evaluation.coldUserHistory { continue }
            if evaluation.mode == .newUsers && self.train.byUser.count(ofRow: user) > 0 { continue }
            // A given row's pair is given (the test rows are pairs).
            if given[Int32(user)]?.seen.contains(item) == true { continue }
            relevant[Int32(user), default: []].insert(item)
        }
        self.test = test
        self.relevant = relevant
        self.ratedRows = ratedRows
        self.testPairsInTraining = inTraining
    }

    /// `init(_:protocol:)`, then `attach(catalog)`: the split with the item metadata its
    /// training part may see; with `users`, then `sampleUsers(users, seed: evaluation.seed)`
    /// (a seeded sample of at most that many users with relevant test items).
    public init(_ split: TrainTestSplit, protocol evaluation: EvaluationProtocol, catalog: ItemCatalog?, users: Int? = nil) throws(DataError) {
        try self.init(split, protocol: evaluation)
        attach(catalog)
        if let users { sampleUsers(users, seed: evaluation.seed) }
    }

    /// "a seeded sample of K of its N users" after `sampleUsers(_:seed:)` kept one; else nil.
    public var sampleDescription: String? {
        usersBeforeSampling.map { "a seeded sample of \(relevant.count) of its \($0) users" }
    }

    /// Keeps a seeded random sample of `count` of the users with relevant test items (and only
    /// their rows among the rated ones), when there are more; the training data and the test
    /// table are untouched. Validation on a very large user base then costs what it costs on
    /// `count` users, for a mean whose standard error falls as 1/√count: adjacency's NDCG@10 on
    /// 50,000 synthetic users has a per-user standard deviation of 0.20, so 0.0014 at 20,000
    /// (200 seeded samples of 20,000 of them fell within 0.003 of the mean over all).
    public mutating func sampleUsers(_ count: Int, seed: UInt64) {
        guard count >= 1, relevant.count > count else { return }
        var users = relevant.keys.sorted()
        var generator = SeededGenerator(seed: seed)
        users.shuffle(using: &generator)
        let kept = Set(users.prefix(count))
        usersBeforeSampling = relevant.count
        relevant = relevant.filter { kept.contains($0.key) }
        ratedRows = ratedRows.filter { kept.contains(test.userIndices[$0]) }
    }

    /// Whether the test rows were held out by time: temporal when, for at least 90% of the
    /// users with timestamped rows on both sides, no test row is earlier than the user's latest
    /// training row (a user-time split, a global time cutoff, leave-last-out); random otherwise.
    /// Nil without such users. A random split of a user with k training and m test rows looks
    /// temporal by chance with probability 1 / C(k + m, m), so the users with long histories
    /// tell the two apart.
    public static func holdoutOrder(train: InteractionTable, test: InteractionTable) -> InteractionMatrix.HoldoutOrder? {
        // The tables share their user vocabulary (`PreparedSplit` checks).
        let users = max(train.users.count, test.users.count)
        var latestTraining = [Int64](repeating: .min, count: users), earliestTest = [Int64](repeating: .max, count: users)
        for row in 0..<train.count where train.timestamps[row] != InteractionTable.noTimestamp {
            let user = Int(train.userIndices[row])
            latestTraining[user] = max(latestTraining[user], train.timestamps[row])
        }
        for row in 0..<test.count where test.timestamps[row] != InteractionTable.noTimestamp {
            let user = Int(test.userIndices[row])
            earliestTest[user] = min(earliestTest[user], test.timestamps[row])
        }
        var both = 0, ordered = 0
        for user in 0..<users where latestTraining[user] != .min && earliestTest[user] != .max {
            both += 1
            if earliestTest[user] >= latestTraining[user] { ordered += 1 }
        }
        guard both > 0 else { return nil }
        return Double(ordered) >= 0.9 * Double(both) ? .temporal : .random
    }

    /// Gives the content models item metadata that cannot leak the test set: text written by a
    /// user about an item is kept only when the item has training data (so never for a held-out
    /// cold item), the pair is not a test pair, and it was written no later than the latest
    /// training interaction.
    public mutating func attach(_ catalog: ItemCatalog?) {
        guard let catalog else { train.catalog = nil; return }
        let hasData = train.itemHasInteractions
        var testPairs = Set<Int64>()
        for row in 0..<test.count { testPairs.insert(Int64(test.userIndices[row]) << 32 | Int64(test.itemIndices[row])) }
        let latest = latestTrainingTimestamp
        let users = train.users, items = train.items
        train.catalog = catalog.filteringUserText { id, written in
            guard let item = items.index(of: id), hasData[Int(item)] else { return false }
            if let user = users.index(of: written.user), testPairs.contains(Int64(user) << 32 | Int64(item)) { return false }
            if let latest, written.timestamp != InteractionTable.noTimestamp, written.timestamp > latest { return false }
            return true
        }
    }
}
