public import BraidCore
internal import Foundation

/// RP³β (Paudel et al. 2016; as evaluated by Ferrari Dacrema et al. 2019): a three-step random
/// walk item → user → item on the bipartite interaction graph, with transition probabilities
/// raised to α and the arrival item's popularity divided out to the power β:
/// `W_ij = (Σ_u P(u|i)^α · P(j|u)^α) / pop(j)^β`, P(u|i) = 1/|U_i|, P(j|u) = 1/|I_u|, each row
/// of W kept to its `neighbors` largest entries. A user's score for j is `Σ_{i ∈ I_u} W_ij`,
/// so explanations are the history items' terms.
public struct RP3Beta: RecommendationModel, ItemToItemWeights {
    public struct Configuration: ModelConfiguration {
        public var alpha: Float = 1
        /// 0.3, chosen on development splits carved from the benchmarks' training parts (eight
        /// MovieLens splits and Debian uploads' two): it beat 0.6 on nine of the ten, most on
        /// ml-latest-small (0.067 → 0.156 and 0.065 → 0.167 NDCG@10 on its random ones), where
        /// 0.6 divides out so much popularity that items with one or two ratings lead.
        public var beta: Float = 0.3
        public var neighbors = 200

        public init() {}

        public init(parameters: ModelParameters) throws(ModelError) {
            try parameters.checkKnown(["alpha", "beta", "neighbors"])
            alpha = try parameters.float("alpha", default: alpha, range: 0...10)
            beta = try parameters.float("beta", default: beta, range: 0...10)
            neighbors = try parameters.int("neighbors", default: neighbors, range: 1...1_000_000)
        }
    }

    public static let name = "rp3beta"
    public static let summary = "RP3beta (Paudel et al. 2016): item-user-item random walk with popularity penalized by pop^beta"

    public let configuration: Configuration
    public internal(set) var data: InteractionMatrix
    /// Items × items, row i holding W_i· (its strongest entries).
    public internal(set) var weights: SparseMatrix

    public init(fitting data: InteractionMatrix, configuration: Configuration = Configuration()) throws(ModelError) {
        guard data.interactionCount > 0 else { throw ModelError(.noTrainingData, "RP3beta needs interactions") }
        self.configuration = configuration
        self.data = data
        let alpha = configuration.alpha, beta = configuration.beta
        let itemUser = data.byItem.mapValues { i, _, _ in pow(1 / Float(data.byItem.count(ofRow: i)), alpha) }
        let userItem = data.byUser.mapValues { u, _, _ in pow(1 / Float(data.byUser.count(ofRow: u)), alpha) }
        let popularity = (0..<data.itemCount).map { Float(data.byItem.count(ofRow: $0)) }
        weights = itemUser.multiplied(by: userItem, keepingStrongest: configuration.neighbors) { i, j, w in
            Int(j) == i ? 0 : w / pow(max(1, popularity[Int(j)]), beta)
        }
    }

    public func scores(forUser user: Int) -> [Float] { weights.summingRows(data.items(ofUser: user)) }

    public var scoresAnyHistory: Bool { true }

    /// The same walk from any history; its values are ignored, as in training.
    public func scores(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float] {
        try validateHistory(items, values: values)
        return weights.summingRows(items)
    }

    public var scoresHistoryBySum: Bool { true }

    public func addHistoryTerm(item: Int32, value: Float, factor: Float, to scores: inout [Float]) {
        weights.addRow(item, times: factor, to: &scores)
    }

    public func explanation(user: Int, item: Int) -> Explanation? { explanation(of: item, history: data.items(ofUser: user)) }

    public func explanation(history: [Int32], values: [Float], trainedUser user: Int?, item: Int) -> Explanation? {
        guard explainable(history, values: values, items: [item]) else { return nil }
        return explanation(of: item, history: history)
    }

    /// Each history item's walk to `item`.
    func explanation(of item: Int, history: some Collection<Int32>) -> Explanation {
        Explanation(items: history.map { i in (i, weights.value(row: Int(i), column: item) ?? 0) }, sumsToScore: true)
    }

    public func itemSimilarities(to item: Int) -> [Float]? { weights.denseRow(item) }

    public func archive(into archive: inout ModelArchive) { archive.store(weights, as: "rp3beta.weights") }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        weights = try archive.itemToItem("rp3beta.weights", items: data.itemCount, model: "RP3beta")
    }
}

/// A model that scores by item-to-item weights learned from the interactions alone (RP3beta,
/// adjacency).
protocol ItemToItemWeights: RecommendationModel {
    var data: InteractionMatrix { get set }
    var weights: SparseMatrix { get set }
}

extension ItemToItemWeights {
    /// New items come without interactions, so no walk or neighbourhood reaches them: the
    /// weights gain empty rows and columns for them (a fit on the grown data gives the same).
    public func extendingCatalogue(to data: InteractionMatrix) throws(ModelError) -> any RecommendationModel {
        guard data.extendsCatalogue(of: self.data) else { return try Self(fitting: data, configuration: configuration) }
        var grown = self
        grown.data = data
        grown.weights = weights.widened(to: data.itemCount)
        return grown
    }
}

extension SparseMatrix {
    /// A square matrix (items × items) grown to `size` rows and columns, the new ones empty:
    /// item-to-item weights when items without interactions join the catalogue.
    func widened(to size: Int) -> SparseMatrix {
        SparseMatrix(rowCount: max(size, rowCount), columnCount: max(size, columnCount),
                     rowStarts: rowStarts + [Int](repeating: rowStarts.last ?? 0, count: max(0, size - rowCount)), columns: columns, values: values)
    }
}
