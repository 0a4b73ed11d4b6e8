public import BraidCore
import Foundation

/// Item-to-item neighbours by adjacency in time: two items are related by how often users
/// interacted with them close together in their time-ordered histories, as session-based
/// recommenders count sequential rules (Ludewig & Jannach 2018, "SR": pairs at most `window`
/// places apart, weighted 1/distance), here in both directions and over whole histories.
///
/// `A_ij = Σ_u Σ 1/d` over the pairs of places holding i and j in u's history, d ≤ `window`
/// places apart; `W_ij = A_ij / (n_i · n_j)^α`, n the items' interaction counts, each row kept
/// to its `neighbors` largest entries (0 keeps all). A user's score for j is
/// `Σ_k w_k · W_{h_k, j}` over the history h oldest first, `w_k = 2^(−(latest − k)/half-life)`
/// (every w = 1 with `half-life` 0), so explanations are the history items' terms.
///
/// What it knows that item kNN and EASE do not is the order: which films a user rated in the
/// same sitting, next to each other. Without timestamps there is no order, and every pair of
/// a user's items counts as adjacent (d = 1): plain co-occurrence, normalized the same way,
/// and `half-life` has nothing to weigh by.
public struct Adjacency: RecommendationModel, ItemToItemWeights {
    public struct Configuration: ModelConfiguration {
        /// How many places apart two items may be and still count (5).
        public var window = 5
        /// The exponent of the item counts dividing the co-occurrence (0.5: cosine).
        public var alpha: Float = 0.5
        /// Places back from the user's latest item over which a history item's weight halves;
        /// 0 weighs every history item alike.
        public var halfLife: Float = 0
        /// Entries kept per item (0: all).
        public var neighbors = 0

        enum CodingKeys: String, CodingKey { case window, alpha, halfLife = "half-life", neighbors }

        public init() {}

        public init(parameters: ModelParameters) throws(ModelError) {
            try parameters.checkKnown(["window", "alpha", "half-life", "neighbors"])
            window = try parameters.int("window", default: window, range: 1...10_000)
            alpha = try parameters.float("alpha", default: alpha, range: 0...10)
            halfLife = try parameters.float("half-life", default: halfLife, range: 0...1_000_000)
            neighbors = try parameters.int("neighbors", default: neighbors, range: 0...10_000_000)
        }
    }

    public static let name = "adjacency"
    public static let summary = "item neighbours by adjacency in time: items within a window of each other in users' time-ordered histories, weighted 1/distance"

    public let configuration: Configuration
    public internal(set) var data: InteractionMatrix
    /// Items × items, row i holding W_i·.
    public internal(set) var weights: SparseMatrix

    public init(fitting data: InteractionMatrix, configuration: Configuration = Configuration()) throws(ModelError) {
        guard data.interactionCount > 0 else { throw ModelError(.noTrainingData, "adjacency needs interactions") }
        self.configuration = configuration
        self.data = data
        weights = Self.adjacency(data, configuration)
    }

    /// W, computed one item row at a time on the worker threads.
    static func adjacency(_ data: InteractionMatrix, _ configuration: Configuration) -> SparseMatrix {
        let itemCount = data.itemCount
        // Every user's items in time order, and each entry of `byItem` (item, user) the place
        // of the item in that user's history.
        let orders = (0..<data.userCount).map { data.historyEntries(ofUser: $0) }
        let histories = orders.map { $0.map { data.byUser.columns[$0] } }
        var place = [Float](repeating: 0, count: data.byUser.nonzeroCount)
        for order in orders { for (p, k) in order.enumerated() { place[k] = Float(p) } }
        let ordered = data.sequence != nil
        let places = SparseMatrix(rowCount: data.userCount, columnCount: itemCount, rowStarts: data.byUser.rowStarts,
                                  columns: data.byUser.columns, values: place).transposed()
        let counts = (0..<itemCount).map { Float(data.byItem.count(ofRow: $0)) }
        let alpha = configuration.alpha, window = configuration.window
        let rows: [(columns: [Int32], values: [Float])] = parallelMapRows(itemCount) { range in
            var accumulator = [Float](repeating: 0, count: itemCount)
            var occupied = [Bool](repeating: false, count: itemCount)
            var touched: [Int32] = []
            var out: [(columns: [Int32], values: [Float])] = []
            for i in range {
                touched.removeAll(keepingCapacity: true)
                func add(_ j: Int32, _ w: Float) {
                    let c = Int(j)
                    if !occupied[c] { occupied[c] = true; touched.append(j) }
                    accumulator[c] += w
                }
                for k in places.entries(ofRow: i) {
                    let history = histories[Int(places.columns[k])]
                    if ordered {
                        let p = Int(places.values[k])
                        for d in 1...window {
                            if p - d >= 0 { add(history[p - d], 1 / Float(d)) }
                            if p + d < history.count { add(history[p + d], 1 / Float(d)) }
                            if p - d < 0 && p + d >= history.count { break }
                        }
                    } else {
                        for j in history where Int(j) != i { add(j, 1) }
                    }
                }
                touched.sort()
                var columns = [Int32](), values = [Float]()
                columns.reserveCapacity(touched.count)
                values.reserveCapacity(touched.count)
                for j in touched {
                    let c = Int(j)
                    if c != i {
                        columns.append(j)
                        values.append(accumulator[c] / pow(counts[i] * counts[c], alpha))
                    }
                    accumulator[c] = 0
                    occupied[c] = false
                }
                out.append((columns, values))
            }
            return out
        }
        let all = SparseMatrix(stackingRows: rows, columnCount: itemCount)
        return configuration.neighbors > 0 ? all.keepingStrongest(configuration.neighbors) : all
    }

    public func scores(forUser user: Int) -> [Float] {
        let history = data.history(ofUser: user)
        return weights.summingRows(history, weights: historyWeights(history.count))
    }

    public var scoresAnyHistory: Bool { true }

    /// The same sum for any history, read oldest first (its latest item weighs most with a
    /// half-life); its values are ignored, as in training.
    public func scores(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float] {
        try validateHistory(items, values: values)
        return weights.summingRows(items, weights: historyWeights(items.count))
    }

    /// Without a half-life (or timestamps) every history item weighs 1: the scores are a sum
    /// of one row per item. With one, each new item moves every other item's weight.
    public var scoresHistoryBySum: Bool { configuration.halfLife <= 0 || data.sequence == nil }

    public func addHistoryTerm(item: Int32, value: Float, factor: Float, to scores: inout [Float]) {
        guard scoresHistoryBySum else { return }
        weights.addRow(item, times: factor, to: &scores)
    }

    /// w_k for each place k of a history of `count` items, oldest first. Without timestamps in
    /// the training data there is no order to weigh by, and every w is 1.
    func historyWeights(_ count: Int) -> [Float] {
        let halfLife = configuration.halfLife
        guard halfLife > 0, data.sequence != nil else { return [Float](repeating: 1, count: count) }
        return (0..<count).map { k in Float(exp2(-Double(count - 1 - k) / Double(halfLife))) }
    }

    public func explanation(user: Int, item: Int) -> Explanation? { explanation(of: item, history: data.history(ofUser: user)) }

    public func explanation(history: [Int32], values: [Float], trainedUser user: Int?, item: Int) -> Explanation? {
        guard explainable(history, values: values, items: [item]) else { return nil }
        return explanation(of: item, history: history)
    }

    /// Each history item's term w_k·W[j, i] of the score of `item` (oldest first).
    func explanation(of item: Int, history: [Int32]) -> Explanation {
        let parts: [(index: Int32, weight: Float)] = zip(history, historyWeights(history.count)).map { i, w in
            (i, w * (weights.value(row: Int(i), column: item) ?? 0))
        }
        return Explanation(items: parts, sumsToScore: true)
    }

    public func itemSimilarities(to item: Int) -> [Float]? { weights.denseRow(item) }

    public func archive(into archive: inout ModelArchive) { archive.store(weights, as: "adjacency.weights") }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        weights = try archive.itemToItem("adjacency.weights", items: data.itemCount, model: "adjacency")
    }
}
