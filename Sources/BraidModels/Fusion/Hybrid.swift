public import BraidCore
internal import Foundation

/// Content mapped into the collaborative space, for cold start: a latent-factor model is
/// fitted on the interactions, and a ridge regression learns the item factors (and bias) of
/// the items with interactions from their content vectors (BM25, TF-IDF or attributes). An item
/// nobody interacted with gets the factors its content predicts, so it is scored by the same
/// user vector as a warm item and both rank in one list.
///
/// Ridge (`RidgeMap`): B = argmin ‖X_w B − Q_w‖² + λ‖B‖² over the warm items' content rows X_w
/// and factors Q_w.
public struct Hybrid: RecommendationModel {
    /// Which content vectors the map reads.
    public enum Content: String, Codable, Sendable, CaseIterable {
        case bm25, tfidf, attributes
        /// The vectors supplied with the items (`--item-vectors`: image, audio, any embedding).
        case vectors

        /// The items' content vectors of this kind.
        func itemVectors(_ data: InteractionMatrix, _ catalog: ItemCatalog, settings: ContentSettings) throws(ModelError) -> ItemVectors {
            switch self {
            case .bm25: return try BM25Representation.itemVectors(data, catalog, settings: settings)
            case .tfidf: return try TFIDFRepresentation.itemVectors(data, catalog, settings: settings)
            case .attributes: return try AttributeRepresentation.itemVectors(data, catalog, settings: settings)
            case .vectors:
                guard let supplied = ItemVectors.supplied(data, catalog) else {
                    throw ModelError(.noTrainingData, "content=vectors needs item vectors", hint: "pass --item-vectors FILE")
                }
                return .dense(supplied)
            }
        }
    }

    public struct Configuration: ModelConfiguration {
        /// The collaborative model; it must be a latent-factor model (als, bpr, svd, biasedmf).
        /// ALS with a constant λ of 0.01, as the ridge's λ was chosen with: on the seed-2 cold
        /// split its factors carried over to cold items better than weighted-λ ALS's (NDCG@10
        /// among cold items 0.294 against 0.263 at λ = 0.2 per interaction and 0.284 at 0.05).
        public var collaborative = MemberSpec(model: "als", parameters: ["factors": "64", "regularization-scaling": "none", "regularization": "0.01"])
        public var content = Content.bm25
        /// λ of the ridge map (chosen on ml-latest-small's seed-2 cold-item split, titles and
        /// genres only, from 0.01–300; the README's numbers use seed 1).
        public var regularization: Float = 5
        /// Conjugate-gradient iterations per factor.
        public var iterations = 100
        public var contentSettings = ContentSettings()

        public init() {}

        public init(parameters: ModelParameters) throws(ModelError) {
            try parameters.checkKnown(["collaborative", "content", "regularization", "iterations", "k1", "b", "min-df"])
            if let text = parameters.string("collaborative") {
                let parsed = try MemberSpec.parse(text, composite: "hybrid")
                guard parsed.count == 1 else { throw ModelError(.invalidParameter, "the hybrid takes one collaborative model, not \(parsed.count)") }
                collaborative = parsed[0]
            }
            content = try parameters.choice("content", default: content)
            regularization = try parameters.float("regularization", default: regularization, range: 1e-6...1e9)
            iterations = try parameters.int("iterations", default: iterations, range: 1...100_000)
            contentSettings.k1 = try parameters.float("k1", default: contentSettings.k1, range: 0...100)
            contentSettings.b = try parameters.float("b", default: contentSettings.b, range: 0...1)
            contentSettings.minimumDocumentFrequency = try parameters.int("min-df", default: contentSettings.minimumDocumentFrequency, range: 1...1_000_000)
            try MemberSpec.validate([collaborative], composite: "hybrid", forbidden: [Hybrid.name, Fusion.name, Blend.name])
        }
    }

    public static let name = "hybrid"
    public static let summary = "content mapped into a latent-factor model's item space by ridge regression: cold items scored like warm ones"
    public static var needsItemMetadata: Bool { true }

    public let configuration: Configuration
    public let data: InteractionMatrix
    /// The collaborative factors, with every item without interactions given the factors (and
    /// bias) its content predicts.
    public let factors: LatentFactors

    /// The collaborative model's settings, resolved for the data, when it is ALS (for
    /// explanations).
    let als: AlternatingLeastSquares.Configuration?
    /// With ALS: YᵀY (+ λI with a constant λ) over the warm items' factors (the system ALS solved), for folding in
    /// new histories, whose cold items then count by their predicted factors.
    let foldInGram: DenseMatrix?

    public var scoresItemsWithoutInteractions: Bool { true }

    static func alsSettings(_ member: MemberSpec, data: InteractionMatrix) -> AlternatingLeastSquares.Configuration? {
        guard member.model == AlternatingLeastSquares.name else { return nil }
        return (try? AlternatingLeastSquares.Configuration(parameters: ModelParameters(member.parameters)))?.resolved(for: data)
    }

    public init(fitting data: InteractionMatrix, configuration: Configuration = Configuration()) throws(ModelError) {
        guard let catalog = data.catalog, catalog.count > 0 else {
            throw ModelError(.noTrainingData, "hybrid needs item metadata", hint: "pass --items FILE")
        }
        guard data.interactionCount > 0 else { throw ModelError(.noTrainingData, "hybrid needs interactions") }
        self.configuration = configuration
        self.data = data
        let member = configuration.collaborative
        guard let collaborative = try ModelRegistry.fit(member.model, parameters: ModelParameters(member.parameters), data: data) as? any FactorizationModel else {
            throw ModelError(.invalidParameter, "the hybrid's collaborative model must be a latent-factor model (als, bpr, svd, biasedmf), not \(member.model)")
        }
        let x = try configuration.content.itemVectors(data, catalog, settings: configuration.contentSettings).asSparse
        var mapped = collaborative.factors
        let warm = data.itemHasInteractions
        let f = mapped.factorCount, width = f + (mapped.itemBiases == nil ? 0 : 1)
        var targets = [Float](repeating: 0, count: data.itemCount * width)
        for item in 0..<data.itemCount {
            for d in 0..<f { targets[item * width + d] = mapped.itemFactors.storage[item * f + d] }
            if let biases = mapped.itemBiases { targets[item * width + f] = biases[item] }
        }
        let map = RidgeMap(x, targets: targets, width: width, rows: warm, regularization: configuration.regularization, iterations: configuration.iterations)
        for item in 0..<data.itemCount where !warm[item] {
            let predicted = map.predict(x, item: item)
            for d in 0..<f { mapped.itemFactors.storage[item * f + d] = predicted[d] }
            if mapped.itemBiases != nil { mapped.itemBiases![item] = predicted[f] }
        }
        try mapped.checkFinite(model: Self.name, iteration: 0)
        factors = mapped
        als = Self.alsSettings(member, data: data)
        foldInGram = Self.foldInGram(mapped, data: data, als: als)
    }

    static func foldInGram(_ factors: LatentFactors, data: InteractionMatrix, als: AlternatingLeastSquares.Configuration?) -> DenseMatrix? {
        guard let als else { return nil }
        var warm = factors.itemFactors
        let f = factors.factorCount
        for item in 0..<data.itemCount where data.byItem.count(ofRow: item) == 0 {
            for d in 0..<f { warm.storage[item * f + d] = 0 }
        }
        return AlternatingLeastSquares.foldInGram(warm, configuration: als)
    }

    /// With ALS as the collaborative model, any history folds in as ALS folds it in.
    public var scoresAnyHistory: Bool { als != nil }

    public func scores(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float] {
        guard let summed else {
            throw ModelError(.unsupported, "the hybrid folds in new histories only over ALS", hint: "use collaborative=als")
        }
        try validateHistory(items, values: values)
        return summed.scores(summed.sum(items, values: values))
    }

    public func scores(forUser user: Int) -> [Float] { factors.scores(forUser: user) }

    /// With ALS as the collaborative model, a history's fold-in is a sum of per-item terms, as
    /// ALS's is (cold items' terms from their predicted factors).
    var summed: AlternatingLeastSquares.SummedFoldIn? {
        guard let als, let foldInGram else { return nil }
        return AlternatingLeastSquares.SummedFoldIn(factors: factors, gram: foldInGram, configuration: als)
    }

    public var scoresHistoryBySum: Bool { summed != nil }
    public var historySumCount: Int { summed?.count ?? data.itemCount }

    public func historySum(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float] {
        guard let summed else { return try scores(forHistory: items, values: values) }  // throws: no fold-in
        try validateHistory(items, values: values)
        return summed.sum(items, values: values)
    }

    public func addHistoryTerm(item: Int32, value: Float, factor: Float, to sum: inout [Float]) {
        summed?.add(item: item, value: value, factor: factor, to: &sum)
    }

    public func scores(fromHistorySum sum: [Float]) -> [Float] { summed?.scores(sum) ?? sum }

    /// With ALS as the collaborative model, ALS's decomposition over the user's history: it
    /// holds for a cold item's predicted factors as for a warm item's.
    /// The user's factors were solved before the cold items had any (ALS leaves them zero), so
    /// the system is the warm items' YᵀY, as a fold-in's.
    public func explanation(user: Int, item: Int) -> Explanation? {
        guard let als, let foldInGram else { return nil }
        let parts = AlternatingLeastSquares.explain(history: Array(data.items(ofUser: user)), values: Array(data.byUser.values(ofRow: user)), item: item,
                                                    factors: factors, gram: foldInGram, configuration: als)
        return AlternatingLeastSquares.explanation(parts, sumsToScore: als.solver == .cholesky)
    }

    /// A history folds in as `scores(forHistory:values:)` folds it (against the warm items'
    /// YᵀY), so its contributions sum to its score.
    public func explanation(history: [Int32], values: [Float], trainedUser user: Int?, item: Int) -> Explanation? {
        guard let als, let foldInGram, explainable(history, values: values, items: [item]) else { return nil }
        let parts = AlternatingLeastSquares.explain(history: history, values: values, item: item, factors: factors, gram: foldInGram, configuration: als)
        return AlternatingLeastSquares.explanation(parts, sumsToScore: true)
    }

    public func itemSimilarities(to item: Int) -> [Float]? { factors.itemSimilarities(to: item) }

    public func archive(into archive: inout ModelArchive) {
        factors.archive(into: &archive)
        if als != nil { archive.scalars[AlternatingLeastSquares.scalingKey] = 1 }
    }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        factors = try LatentFactors(archive: archive, data: data)
        als = Self.alsSettings(configuration.collaborative, data: data).map { AlternatingLeastSquares.configuration($0, as: archive) }
        foldInGram = Self.foldInGram(factors, data: data, als: als)
    }
}
