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
///
/// The factors that map best from content are not the ones that rank warm items best: ALS with a
/// small constant λ keeps popularity in its factors, which content predicts, while ALS's default
/// weighted λ ranks warm items far better. So by default (`warm`) a second model, Braid's default
/// ALS, scores the items with interactions, and a cold item's score from the mapped factors is
/// put on that model's scale by the affine map that carries the collaborative model's scores of
/// warm items onto the warm model's (equal mean and deviation over every user and warm item):
/// one list, in which warm items rank exactly as ALS ranks them and cold items among themselves
/// exactly as the mapped factors rank them. As one dot product: the user is [u_warm; u; 1], a warm
/// item [q_warm; 0; 0], a cold item [0; a·q̂; b].
public struct Hybrid: RecommendationModel {
    /// Which content vectors the map reads.
    public enum Content: String, Codable, Sendable, CaseIterable {
        case bm25, tfidf, attributes
        /// The vectors supplied with the items (`--item-vectors`: image, audio, any embedding).
        case vectors
        /// `vectors` when the items have vectors (any item of the catalogue), else `bm25`;
        /// resolved when a model is fitted, which keeps the choice (`resolved(for:)`).
        case auto

        /// The kind `auto` stands for on `catalog`; any other kind itself.
        public func resolved(for catalog: ItemCatalog?) -> Content {
            guard self == .auto else { return self }
            return catalog?.vectorDimension != nil ? .vectors : .bm25
        }

        /// The items' content vectors of this kind.
        func itemVectors(_ data: InteractionMatrix, _ catalog: ItemCatalog, settings: ContentSettings) throws(ModelError) -> ItemVectors {
            switch self {
            case .auto: return try resolved(for: catalog).itemVectors(data, catalog, settings: settings)
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

        /// The representation whose weights of term counts this kind is (BM25, TF-IDF), or nil.
        var termRepresentation: (any TermRepresentation.Type)? {
            switch self {
            case .bm25: BM25Representation.self
            case .tfidf: TFIDFRepresentation.self
            case .attributes, .vectors, .auto: nil
            }
        }

        /// The items' content vectors as sparse rows and, for BM25 and TF-IDF, the term counts
        /// they are weighted from, for a model to keep (`extendedVectors`).
        func countedVectors(_ data: InteractionMatrix, _ catalog: ItemCatalog, settings: ContentSettings) throws(ModelError) -> (vectors: SparseMatrix, counts: TermCounts?) {
            guard let representation = termRepresentation else { return (try itemVectors(data, catalog, settings: settings).asSparse, nil) }
            let counts = TermCounts(data, catalog)
            return (representation.termVectors(counts, settings: settings), counts)
        }

        /// The content vectors of `data`, whose catalogue extends `base`'s, and their counts:
        /// BM25 and TF-IDF weight the counts of `base`'s items that `kept` holds (counted now
        /// when it holds none), with only the added and changed items' text counted again
        /// (`TermCounts.updated(known:from:to:_:)`: the vectors a fit on `data` gives, old
        /// terms in their old columns); any other kind is computed anew.
        func extendedVectors(_ kept: Lazily<TermCounts>, base: InteractionMatrix, to data: InteractionMatrix, _ catalog: ItemCatalog,
                             settings: ContentSettings) throws(ModelError) -> (vectors: SparseMatrix, counts: TermCounts?) {
            guard let representation = termRepresentation, let counts = kept.updated(from: base, to: data) else {
                return try countedVectors(data, catalog, settings: settings)
            }
            return (representation.termVectors(counts, settings: settings), counts)
        }

        /// What each column of `itemVectors` stands for (a term, a category), so that columns
        /// of two catalogues can be matched; nil for `vectors`, whose columns are positions.
        func columnLabels(_ data: InteractionMatrix, _ catalog: ItemCatalog) -> [String]? {
            switch self {
            case .auto: resolved(for: catalog).columnLabels(data, catalog)
            case .bm25, .tfidf: TermCounts.terms(data, catalog)
            case .attributes: Vocabulary(AttributeRepresentation.categoryLists(data, catalog).joined()).identifiers
            case .vectors: nil
            }
        }
    }

    public struct Configuration: ModelConfiguration {
        /// The collaborative model; it must be a latent-factor model (als, bpr, svd, biasedmf).
        /// ALS with a constant λ of 0.01, as the ridge's λ was chosen with: on the seed-2 cold
        /// split its factors carried over to cold items better than weighted-λ ALS's (NDCG@10
        /// among cold items 0.294 against 0.263 at λ = 0.2 per interaction and 0.284 at 0.05).
        public var collaborative = MemberSpec(model: "als", parameters: ["factors": "64", "regularization-scaling": "none", "regularization": "0.01"])
        /// The model that scores items with interactions (any registered model but a composite),
        /// or nil (`warm=none`) for the collaborative model's own scores. Braid's default ALS: on
        /// ml-100k's random split the constant-λ factors ranked warm items at NDCG@10 0.2273
        /// against 0.3116 for weighted λ, and no single λ did well at both (on development splits,
        /// a constant λ of 20 matched weighted λ on warm items and lost 13% on cold ones).
        /// Configurations saved without it (files written before it) have none (`savedDefaults`).
        public var warm: MemberSpec? = MemberSpec(model: "als")
        /// `auto`: the vectors supplied with the items when they have any (`--item-vectors`,
        /// `--item-vectors text`), else BM25. On ml-latest-small's cold items (titles and genres)
        /// the map from MiniLM embeddings ranked at NDCG@10 0.2843 against BM25's 0.2501 on a
        /// development split carved from the benchmark's training file, and 0.2964 against
        /// 0.2441 on its test; on ml-100k's cold split 0.2827 against 0.2596.
        public var content = Content.auto
        /// λ of the ridge map (chosen on ml-latest-small's seed-2 cold-item split, titles and
        /// genres only, from 0.01–300; the README's numbers use seed 1).
        public var regularization: Float = 5
        /// Conjugate-gradient iterations per factor.
        public var iterations = 100
        public var contentSettings = ContentSettings()

        public init() {}

        public init(parameters: ModelParameters) throws(ModelError) {
            try parameters.checkKnown(["collaborative", "warm", "content", "regularization", "iterations", "k1", "b", "min-df"])
            /// The one model `key` names.
            func single(_ key: String, _ text: String) throws(ModelError) -> MemberSpec {
                let parsed = try MemberSpec.parse(text, composite: "hybrid")
                guard parsed.count == 1 else { throw ModelError(.invalidParameter, "the hybrid takes one \(key) model, not \(parsed.count)") }
                return parsed[0]
            }
            if let text = parameters.string("collaborative") { collaborative = try single("collaborative", text) }
            if let text = parameters.string("warm") {
                warm = text.trimmingCharacters(in: .whitespaces) == "none" ? nil : try single("warm", text)
            }
            content = try parameters.choice("content", default: content)
            regularization = try parameters.float("regularization", default: regularization, range: 1e-6...1e9)
            iterations = try parameters.int("iterations", default: iterations, range: 1...100_000)
            contentSettings.k1 = try parameters.float("k1", default: contentSettings.k1, range: 0...100)
            contentSettings.b = try parameters.float("b", default: contentSettings.b, range: 0...1)
            contentSettings.minimumDocumentFrequency = try parameters.int("min-df", default: contentSettings.minimumDocumentFrequency, range: 1...1_000_000)
            try MemberSpec.validate([collaborative] + (warm.map { [$0] } ?? []), composite: "hybrid", forbidden: [Hybrid.name, Fusion.name, Blend.name])
        }

        /// Files written before `warm` scored warm items with the collaborative model.
        public static var savedDefaults: Configuration {
            var defaults = Configuration()
            defaults.warm = nil
            defaults.content = .bm25  // files written before `auto` were fitted on BM25 unless told
            return defaults
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
    /// With `configuration.warm`: the model that scores the items with interactions.
    let warmModel: (any RecommendationModel)?
    /// The scale and shift that put the collaborative model's scores of cold items on the warm
    /// model's scale (1 and 0 without a warm model).
    let calibration: (scale: Float, shift: Float)
    /// Whether each item had interactions in training (the warm model scores those).
    let itemIsWarm: [Bool]
    /// The term counts the content vectors were weighted from (BM25, TF-IDF), kept from the fit
    /// or made at the first change of catalogue after a load (or by `prepareForServing()`), so
    /// that a change of catalogue counts only the added and changed items' terms.
    let termCounts: Lazily<TermCounts>

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
        let member = configuration.collaborative
        guard let collaborative = try ModelRegistry.fit(member.model, parameters: ModelParameters(member.parameters), data: data) as? any FactorizationModel else {
            throw ModelError(.invalidParameter, "the hybrid's collaborative model must be a latent-factor model (als, bpr, svd, biasedmf), not \(member.model)")
        }
        let warmModel = try configuration.warm.map { spec throws(ModelError) in try MemberSpec.fit([spec], data: data, for: Self.name)[0] }
        // `auto` resolved once, here: a catalogue that gains vectors later keeps the fitted kind.
        var resolved = configuration
        resolved.content = configuration.content.resolved(for: catalog)
        let content = try resolved.content.countedVectors(data, catalog, settings: resolved.contentSettings)
        let gram = Self.foldInGram(collaborative.factors, data: data, als: Self.alsSettings(resolved.collaborative, data: data))
        try self.init(data: data, configuration: resolved, content: content, collaborative: collaborative.factors, warmModel: warmModel,
                      calibration: nil, foldInGram: gram)
    }

    /// The hybrid of the fitted `collaborative` factors and `warmModel` over `content`'s vectors
    /// (with the term counts they were weighted from, to keep): every item without interactions
    /// gets the factors (and bias) the ridge map from the warm items' content predicts;
    /// `calibration` nil is worked out from the warm model. `foldInGram` is `foldInGram(_:data:als:)`
    /// of the warm items' factors, which the map leaves as they are.
    private init(data: InteractionMatrix, configuration: Configuration, content: (vectors: SparseMatrix, counts: TermCounts?),
                 collaborative: consuming LatentFactors, warmModel: (any RecommendationModel)?, calibration: (scale: Float, shift: Float)?,
                 foldInGram: DenseMatrix?) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        let x = content.vectors
        termCounts = Lazily(content.counts)
        let warm = data.itemHasInteractions
        let map = Self.ridgeMap(x, to: collaborative, warm: warm, configuration: configuration)
        // The predictions go straight into the cold items' rows: factors the caller no longer
        // holds (a change of catalogue's grown ones) are written in place, not copied.
        var mapped = consume collaborative
        let f = mapped.factorCount, cold = (0..<data.itemCount).filter { !warm[$0] }
        let hasBiases = mapped.itemBiases != nil
        var biases = mapped.itemBiases ?? []
        mapped.itemBiases = nil
        mapped.itemFactors.storage.withUnsafeMutableBufferPointer { factorBuffer in
            biases.withUnsafeMutableBufferPointer { biasBuffer in
                let factors = SharedBuffer(factorBuffer), biases = SharedBuffer(biasBuffer)
                map.predict(x, items: cold) { r, y in
                    for d in 0..<f { factors[cold[r] * f + d] = y[d] }
                    if hasBiases { biases[cold[r]] = y[f] }
                }
            }
        }
        if hasBiases { mapped.itemBiases = biases }
        try mapped.checkFinite(model: Self.name, iteration: 0)
        factors = mapped
        als = Self.alsSettings(configuration.collaborative, data: data)
        self.foldInGram = foldInGram
        itemIsWarm = warm
        self.warmModel = warmModel
        self.calibration = calibration ?? warmModel.map { Self.calibration(from: mapped, to: $0, data: data) } ?? (1, 0)
    }

    /// The ridge map from content rows `x` to the factors (and bias) of `factors`' items,
    /// fitted on the `warm` ones. Without biases (ALS) the map reads the factors in place.
    static func ridgeMap(_ x: SparseMatrix, to factors: borrowing LatentFactors, warm: [Bool], configuration: Configuration) -> RidgeMap {
        let f = factors.factorCount, items = factors.itemFactors.rows
        guard let biases = factors.itemBiases else {
            return RidgeMap(x, targets: factors.itemFactors.storage.array, width: f, rows: warm,
                            regularization: configuration.regularization, iterations: configuration.iterations)
        }
        let width = f + 1
        var targets = [Float](repeating: 0, count: items * width)
        for item in 0..<items {
            for d in 0..<f { targets[item * width + d] = factors.itemFactors.storage[item * f + d] }
            targets[item * width + f] = biases[item]
        }
        return RidgeMap(x, targets: targets, width: width, rows: warm, regularization: configuration.regularization, iterations: configuration.iterations)
    }

    /// New items come without interactions, so the collaborative factors of the warm items and
    /// the warm model stay (it takes the new items in its own way, without a fit), and so do
    /// the calibration between them and the fold-in's YᵀY, worked out over warm items; the
    /// ridge map is learned again, as the content vectors changed with the catalogue (BM25's
    /// and TF-IDF's document frequencies), and maps every item without interactions, the new
    /// ones among them. BM25 and TF-IDF weight again the term counts the model keeps, with only
    /// the added and changed items' text counted (`Content.extendedVectors`). Any other `data`
    /// is fitted anew.
    public func extendingCatalogue(to data: InteractionMatrix) throws(ModelError) -> any RecommendationModel {
        guard data.extendsCatalogue(of: self.data), let catalog = data.catalog, catalog.count > 0 else {
            return try Hybrid(fitting: data, configuration: configuration)
        }
        let collaborative = factors.addingItems(data.itemCount - self.data.itemCount)
        var warm: (any RecommendationModel)?
        if let warmModel, let spec = configuration.warm { warm = try warmModel.extendingCatalogue(to: MemberSpec.matrices(for: [spec], data: data)[0]) }
        let content = try configuration.content.extendedVectors(termCounts, base: self.data, to: data, catalog, settings: configuration.contentSettings)
        return try Hybrid(data: data, configuration: configuration, content: content, collaborative: collaborative,
                          warmModel: warm, calibration: calibration, foldInGram: foldInGram)
    }

    public func prepareForServing() {
        warmModel?.prepareForServing()
        factors.packForScoring()
        if configuration.content.termRepresentation != nil { termCounts.counts(of: data) }
    }

    /// The scale a > 0 and shift b with which a·s + b over every (user with interactions, warm
    /// item) pair of the collaborative scores s has the warm model's mean and deviation there
    /// (users sampled evenly, at most 500).
    static func calibration(from factors: LatentFactors, to warm: any RecommendationModel, data: InteractionMatrix) -> (scale: Float, shift: Float) {
        let users = (0..<data.userCount).filter { data.byUser.count(ofRow: $0) > 0 }
        let sample = users.count <= 500 ? users : (0..<500).map { users[$0 * users.count / 500] }
        let warmItems = (0..<data.itemCount).filter { data.byItem.count(ofRow: $0) > 0 }
        var sums = (from: 0.0, fromSquares: 0.0, to: 0.0, toSquares: 0.0)
        for user in sample {
            let from = factors.scores(forUser: user), to = warm.scores(forUser: user)
            for item in warmItems {
                let a = Double(from[item]), b = Double(to[item])
                sums.from += a; sums.fromSquares += a * a; sums.to += b; sums.toSquares += b * b
            }
        }
        let n = Double(sample.count * warmItems.count)
        guard n > 0 else { return (1, 0) }
        let meanFrom = sums.from / n, meanTo = sums.to / n
        let deviationFrom = max(0, sums.fromSquares / n - meanFrom * meanFrom).squareRoot()
        let deviationTo = max(0, sums.toSquares / n - meanTo * meanTo).squareRoot()
        guard deviationFrom > 0, deviationTo > 0, (deviationTo / deviationFrom).isFinite else { return (1, Float(meanTo - meanFrom)) }
        let scale = deviationTo / deviationFrom
        return (Float(scale), Float(meanTo - scale * meanFrom))
    }

    /// The warm model's scores for the warm items and the calibrated collaborative scores for
    /// the cold ones.
    func combined(collaborative: [Float], warm: [Float]) -> [Float] {
        var out = collaborative
        for item in out.indices { out[item] = itemIsWarm[item] ? warm[item] : calibration.scale * collaborative[item] + calibration.shift }
        return out
    }

    static func foldInGram(_ factors: LatentFactors, data: InteractionMatrix, als: AlternatingLeastSquares.Configuration?) -> DenseMatrix? {
        guard let als else { return nil }
        return AlternatingLeastSquares.foldInGram(factors.itemFactors, configuration: als) { data.byItem.count(ofRow: $0) > 0 }
    }

    /// With ALS as the collaborative model, any history folds in as ALS folds it in (and as
    /// the warm model folds it in, when it can).
    public var scoresAnyHistory: Bool { als != nil && (warmModel?.scoresAnyHistory ?? true) }

    public func scores(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float] {
        guard let summed, scoresAnyHistory else {
            throw ModelError(.unsupported, "the hybrid folds in new histories only over ALS, with a warm model that folds them in too",
                             hint: "use collaborative=als, and warm=als or warm=none")
        }
        try validateHistory(items, values: values)
        let collaborative = summed.scores(summed.sum(items, values: values))
        guard let warmModel else { return collaborative }
        return combined(collaborative: collaborative, warm: try warmModel.scores(forHistory: items, values: values))
    }

    public func scores(forUser user: Int) -> [Float] {
        let collaborative = factors.scores(forUser: user)
        guard let warmModel else { return collaborative }
        return combined(collaborative: collaborative, warm: warmModel.scores(forUser: user))
    }

    /// `scores(forUser:)` of each of `users`, the same values: the factors score the block in
    /// one pass over the item factors, and so does a warm model that scores blocks (ALS).
    public func scores(forUsers users: [Int]) -> [[Float]]? {
        let collaborative = factors.scores(forUsers: users)
        guard let warmModel else { return collaborative }
        let warm = warmModel.scores(forUsers: users) ?? users.map(warmModel.scores(forUser:))
        return zip(collaborative, warm).map { combined(collaborative: $0, warm: $1) }
    }

    /// With ALS as the collaborative model, a history's fold-in is a sum of per-item terms, as
    /// ALS's is (cold items' terms from their predicted factors).
    var summed: AlternatingLeastSquares.SummedFoldIn? {
        guard let als, let foldInGram else { return nil }
        return AlternatingLeastSquares.SummedFoldIn(factors: factors, gram: foldInGram, configuration: als)
    }

    /// The collaborative fold-in's sum, then (with a warm model) the warm model's.
    public var scoresHistoryBySum: Bool { summed != nil && (warmModel?.scoresHistoryBySum ?? true) }
    public var historySumCount: Int {
        guard let summed, scoresHistoryBySum else { return data.itemCount }
        return summed.count + (warmModel?.historySumCount ?? 0)
    }

    public func historySum(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float] {
        guard let summed, scoresHistoryBySum else { return try scores(forHistory: items, values: values) }  // throws: no fold-in
        try validateHistory(items, values: values)
        return try summed.sum(items, values: values) + (warmModel?.historySum(forHistory: items, values: values) ?? [])
    }

    public func addHistoryTerm(item: Int32, value: Float, factor: Float, to sum: inout [Float]) {
        guard let summed, scoresHistoryBySum, sum.count == historySumCount else { return }
        guard let warmModel else { return summed.add(item: item, value: value, factor: factor, to: &sum) }
        var own = Array(sum[..<summed.count]), other = Array(sum[summed.count...])
        summed.add(item: item, value: value, factor: factor, to: &own)
        warmModel.addHistoryTerm(item: item, value: value, factor: factor, to: &other)
        sum = own + other
    }

    public func scores(fromHistorySum sum: [Float]) -> [Float] {
        guard let summed, scoresHistoryBySum, sum.count == historySumCount else { return sum }
        let collaborative = summed.scores(Array(sum[..<summed.count]))
        guard let warmModel else { return collaborative }
        return combined(collaborative: collaborative, warm: warmModel.scores(fromHistorySum: Array(sum[summed.count...])))
    }

    /// With ALS as the collaborative model, ALS's decomposition over the user's history: it
    /// holds for a cold item's predicted factors as for a warm item's.
    /// The user's factors were solved before the cold items had any (ALS leaves them zero), so
    /// the system is the warm items' YᵀY, as a fold-in's.
    /// With a warm model, a warm item is explained by it, and a cold item's history items'
    /// shares are scaled as its score is, with the shift as a contribution of its own.
    public func explanation(user: Int, item: Int) -> Explanation? {
        if let warmModel, itemIsWarm[item] { return warmModel.explanation(user: user, item: item) }
        guard let als, let foldInGram else { return nil }
        let parts = AlternatingLeastSquares.explain(history: Array(data.items(ofUser: user)), values: Array(data.byUser.values(ofRow: user)), item: item,
                                                    factors: factors, gram: foldInGram, configuration: als)
        return calibrated(AlternatingLeastSquares.explanation(parts, sumsToScore: als.solver == .cholesky))
    }

    /// A history folds in as `scores(forHistory:values:)` folds it (against the warm items'
    /// YᵀY), so its contributions sum to its score.
    public func explanation(history: [Int32], values: [Float], trainedUser user: Int?, item: Int) -> Explanation? {
        if let warmModel, item >= 0, item < data.itemCount, itemIsWarm[item] {
            return warmModel.explanation(history: history, values: values, trainedUser: user, item: item)
        }
        guard let als, let foldInGram, explainable(history, values: values, items: [item]) else { return nil }
        let parts = AlternatingLeastSquares.explain(history: history, values: values, item: item, factors: factors, gram: foldInGram, configuration: als)
        return calibrated(AlternatingLeastSquares.explanation(parts, sumsToScore: true))
    }

    /// A cold item's explanation in the collaborative model's terms, on the warm model's scale.
    func calibrated(_ explanation: Explanation) -> Explanation {
        guard warmModel != nil else { return explanation }
        var out = explanation
        out.items = explanation.items.map { ($0.index, calibration.scale * $0.weight) }
        out.contributions = [("history", out.items.reduce(0) { $0 + $1.weight }), ("calibration shift", calibration.shift)]
        return out
    }

    public func itemSimilarities(to item: Int) -> [Float]? { factors.itemSimilarities(to: item) }

    /// The warm model's arrays go under `member0/`, as a composite's members'.
    public func archive(into archive: inout ModelArchive) {
        factors.archive(into: &archive)
        if als != nil { archive.scalars[AlternatingLeastSquares.scalingKey] = 1 }
        if let warmModel {
            MemberSpec.archive([warmModel], into: &archive, data: data)
            archive.scalars["hybrid.scale"] = Double(calibration.scale)
            archive.scalars["hybrid.shift"] = Double(calibration.shift)
        }
    }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        factors = try LatentFactors(archive: archive, data: data)
        als = Self.alsSettings(configuration.collaborative, data: data).map { AlternatingLeastSquares.configuration($0, as: archive) }
        foldInGram = Self.foldInGram(factors, data: data, als: als)
        itemIsWarm = data.itemHasInteractions
        termCounts = Lazily()
        if let spec = configuration.warm {
            guard let scale = archive.scalars["hybrid.scale"], let shift = archive.scalars["hybrid.shift"], scale.isFinite, shift.isFinite else {
                throw ModelError(.corruptModel, "the hybrid's configuration names a warm model (\(spec.description)) but the file has no calibration for it")
            }
            warmModel = try MemberSpec.restore([spec], from: archive, data: data)[0]
            calibration = (Float(scale), Float(shift))
        } else {
            warmModel = nil
            calibration = (1, 0)
        }
    }
}
