public import BraidCore
internal import BraidNeural
internal import Foundation

/// A learned linear blend of several models (the fusion of the Netflix Prize ensembles, Töscher
/// & Jahrer 2009, in its simplest honest form): every member is fitted on a share of each
/// user's ratings, a ridge regression learns how to weigh their predictions on the held-out
/// rest, and the members are then refitted on everything.
///
/// Ratings: `r̂ = w₀ + Σ_k (w_k + w'_k·s_u + w''_k·s_i) · r̂_k`, clipped to the training scale,
/// where `s_u` and `s_i` are the user's and item's support, log(1 + n)/log(1 + n_max), so the
/// blend can trust the neighbourhood and factor members differently for sparse and dense
/// users and items (the support meta-features of the Netflix Prize blends). Ranking: each member's
/// ranking scores are standardized per user (z-scores over the catalogue) and summed with the
/// members' non-negative weights.
public struct Blend: RecommendationModel {
    /// One model in the blend.
    public typealias Member = MemberSpec

    public struct Configuration: ModelConfiguration {
        /// The default members: the baseline, neighbourhood models with pearson-baseline and with
        /// cosine similarities, biased MF by SGD and by ALS, and SVD++ (the factor models'
        /// settings chosen by `braid tune` on a validation split of MovieLens 100k's u1.base).
        public var members: [Member] = [
            Member(model: "baseline"),
            Member(model: "itemknn", parameters: ["similarity": "pearson-baseline"]),
            Member(model: "userknn", parameters: ["similarity": "pearson-baseline"]),
            Member(model: "itemknn"),
            Member(model: "userknn"),
            Member(model: "biasedmf"),
            Member(model: "biasedmf", parameters: ["solver": "als", "factors": "20", "iterations": "15", "regularization": "0.05"]),
            Member(model: "svdpp", parameters: ["factors": "120", "iterations": "44", "learning-rate": "0.009", "regularization": "0.12"]),
        ]
        /// Share of each user's ratings held out to learn the weights.
        public var holdout = 0.2
        /// Ridge penalty on the weights.
        public var regularization: Float = 1
        public var seed: UInt64 = 42

        public init() {}

        /// `members=baseline+itemknn(similarity=pearson-baseline)+svdpp(factors=50,iterations=30)`.
        public init(parameters: ModelParameters) throws(ModelError) {
            try parameters.checkKnown(["members", "holdout", "regularization", "seed"])
            if let text = parameters.string("members") { members = try Self.parseMembers(text) }
            holdout = try parameters.double("holdout", default: holdout, range: 0.01...0.5)
            regularization = try parameters.float("regularization", default: regularization, range: 0...1e9)
            seed = UInt64(try parameters.int("seed", default: Int(seed), range: 0...Int.max))
            try MemberSpec.validate(members, composite: "blend", forbidden: [Blend.name, Fusion.name])
        }

        static func parseMembers(_ text: String) throws(ModelError) -> [Member] { try MemberSpec.parse(text, composite: "blend") }
    }

    public static let name = "blend"
    public static let summary = "learned ridge blend of several models' predictions (fusion), refitted on all data"

    public let configuration: Configuration
    public let data: InteractionMatrix
    public let members: [any RecommendationModel]
    /// Intercept first, then three weights per member (plain, × user support, × item support).
    public let weights: [Float]
    public let scale: RatingScale
    let support: Support

    public init(fitting data: InteractionMatrix, configuration: Configuration = Configuration()) throws(ModelError) {
        guard data.interactionCount > 0 else { throw ModelError(.noTrainingData, "a blend needs ratings") }
        try data.requireGradedValues(model: Self.name, because: "it learns its weights by regressing on held-out ratings")
        self.configuration = configuration
        self.data = data
        scale = RatingScale(data)
        support = Support(data)
        let (fitPart, heldOut) = data.holdingOut(share: configuration.holdout, temporal: false, seed: configuration.seed)
        // Features: each member's prediction of the held-out ratings, alone and times the
        // user's and the item's support.
        let fitSupport = Support(fitPart)
        var features: [[Float]] = []
        for member in configuration.members {
            let model = try ModelRegistry.fit(member.model, parameters: ModelParameters(member.parameters), data: fitPart)
            guard model.predictsRatings else {
                throw ModelError(.invalidParameter, "blend member \(member.model) does not predict ratings")
            }
            let predictions = parallelMap(heldOut.count, minimumChunk: 256) { k in
                model.predictRating(user: Int(heldOut[k].user), item: Int(heldOut[k].item)) ?? fitPart.globalMean
            }
            features.append(predictions)
            features.append(predictions.indices.map { predictions[$0] * fitSupport.user(Int(heldOut[$0].user)) })
            features.append(predictions.indices.map { predictions[$0] * fitSupport.item(Int(heldOut[$0].item)) })
        }
        weights = try Self.ridge(features: features, targets: heldOut.map(\.value), penalty: configuration.regularization)
        members = try MemberSpec.fit(configuration.members, data: data, for: Self.name)
    }

    /// Ridge regression with an unpenalized intercept: `(XᵀX + λI') w = Xᵀy`.
    static func ridge(features: [[Float]], targets: [Float], penalty: Float) throws(ModelError) -> [Float] {
        let m = features.count + 1
        var a = [Float](repeating: 0, count: m * m), b = [Float](repeating: 0, count: m)
        var row = [Float](repeating: 1, count: m)
        for n in 0..<targets.count {
            for k in 0..<features.count { row[k + 1] = features[k][n] }
            for x in 0..<m {
                b[x] += row[x] * targets[n]
                for y in 0..<m { a[x * m + y] += row[x] * row[y] }
            }
        }
        for d in 1..<m { a[d * m + d] += penalty }
        let solved = a.withUnsafeMutableBufferPointer { ap in
            b.withUnsafeMutableBufferPointer { bp in VectorKernels.choleskySolve(ap.baseAddress!, bp.baseAddress!, m) }
        }
        guard solved, b.allSatisfy(\.isFinite) else {
            throw ModelError(.diverged, "the blend's weights could not be solved", hint: "raise the blend's regularization")
        }
        return b
    }

    public var predictsRatings: Bool { true }

    public func predictRating(user: Int, item: Int) -> Float? {
        let su = support.user(user), si = support.item(item)
        var r = weights[0]
        for (k, member) in members.enumerated() {
            let prediction = member.predictRating(user: user, item: item) ?? data.globalMean
            r += (weights[3 * k + 1] + weights[3 * k + 2] * su + weights[3 * k + 3] * si) * prediction
        }
        return scale.clip(r)
    }

    /// log(1 + n)/log(1 + n_max) for users and items.
    struct Support: Sendable {
        let byUser: SparseMatrix, byItem: SparseMatrix
        let userScale: Float, itemScale: Float

        init(_ data: InteractionMatrix) {
            byUser = data.byUser
            byItem = data.byItem
            userScale = 1 / log(1 + Float(max(1, byUser.rowCounts.max() ?? 1)))
            itemScale = 1 / log(1 + Float(max(1, byItem.rowCounts.max() ?? 1)))
        }

        func user(_ u: Int) -> Float { log(1 + Float(byUser.count(ofRow: u))) * userScale }
        func item(_ i: Int) -> Float { log(1 + Float(byItem.count(ofRow: i))) * itemScale }
    }

    public func scores(forUser user: Int) -> [Float] {
        var total = [Float](repeating: 0, count: data.itemCount)
        for (_, weight, standardized) in rankingParts(user: user) {
            for i in 0..<standardized.count { total[i] += weight * standardized[i] }
        }
        return total
    }

    /// The members that rank (a positive plain weight and scores that vary for the user): each
    /// one's index, weight and standardized scores of every item, which the ranking weighs and sums.
    func rankingParts(user: Int) -> [(member: Int, weight: Float, standardized: [Float])] {
        members.enumerated().compactMap { k, member in
            guard weights[3 * k + 1] > 0 else { return nil }
            let scores = member.scores(forUser: user)
            let mean = scores.reduce(0, +) / Float(max(1, scores.count))
            let deviation = (scores.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(max(1, scores.count))).squareRoot()
            guard deviation > 0 else { return nil }
            return (k, weights[3 * k + 1], scores.map { ($0 - mean) / deviation })
        }
    }

    /// Similar items: each member's own similarity of every item to `item`
    /// (`itemSimilarities(to:)`; members without one are left out), standardized over the
    /// other items, times the member's weight, summed, as its ranking weighs and sums the
    /// members' standardized scores: the items its members agree on, in the proportions it
    /// trusts them. Nil when no member with a nonzero weight has similarities that vary.
    public func itemSimilarities(to item: Int) -> [Float]? {
        Self.similarities(to: item, members: members, weights: members.indices.map { max(0, weights[3 * $0 + 1]) })
    }

    /// `itemSimilarities(to:)` for given members and weights.
    static func similarities(to item: Int, members: [any RecommendationModel], weights: [Float]) -> [Float]? {
        var total: [Float]?
        for (member, weight) in zip(members, weights) where weight != 0 {
            guard let row = member.itemSimilarities(to: item) else { continue }
            let others = row.indices.filter { $0 != item && row[$0].isFinite }
            let (mean, variance) = FusionFeatures.moments(of: row, over: others)
            guard variance > 0 else { continue }
            let scale = Float(Double(weight) / variance.squareRoot()), shift = Float(mean)
            var sum = total ?? [Float](repeating: 0, count: row.count)
            for j in others { sum[j] += scale * (row[j] - shift) }
            total = sum
        }
        return total
    }

    public func explanation(user: Int, item: Int) -> Explanation? { explanations(user: user, items: [item])[0] }

    /// Each ranking member's standardized score, and its weight times that score: the
    /// contributions, which add up to the ranking score. The members are scored once per list.
    public func explanations(user: Int, items: [Int]) -> [Explanation?] {
        guard (0..<data.userCount).contains(user) else { return items.map { _ in nil } }
        let parts = rankingParts(user: user)
        return items.map { item in
            guard (0..<data.itemCount).contains(item) else { return nil }
            let names = parts.map { configuration.members[$0.member].description }
            return Explanation(members: zip(names, parts).map { ($0, $1.standardized[item]) }, sumsToScore: false,
                               contributions: zip(names, parts).map { ($0, $1.weight * $1.standardized[item]) })
        }
    }

    /// The blend serving `data`, its training data with items added to the catalogue
    /// (`InteractionMatrix.addingItems(_:)`): each member takes the new items in its own way
    /// (`MemberSpec.extend`), and the weights stay, as what they learned from, the members'
    /// predictions of held-out ratings, has not changed. The support is counted again (a new
    /// item has none). A fit on `data` gives the same weights and, for deterministic members,
    /// the same model. Any other `data` is fitted anew.
    public func extendingCatalogue(to data: InteractionMatrix) throws(ModelError) -> any RecommendationModel {
        guard data.extendsCatalogue(of: self.data) else { return try Blend(fitting: data, configuration: configuration) }
        TrainingLog.report("blend: taking \(data.itemCount - self.data.itemCount) new items into the members' catalogues; the weights stay")
        return Blend(configuration: configuration, data: data, weights: weights, scale: scale,
                     members: try MemberSpec.extend(members, specs: configuration.members, to: data))
    }

    public func prepareForServing() { for member in members { member.prepareForServing() } }

    private init(configuration: Configuration, data: InteractionMatrix, weights: [Float], scale: RatingScale, members: [any RecommendationModel]) {
        self.configuration = configuration
        self.data = data
        self.weights = weights
        self.scale = scale
        self.members = members
        support = Support(data)
    }

    public func archive(into archive: inout ModelArchive) {
        archive.arrays["blend.weights"] = .float32(FloatBuffer(weights))
        scale.archive(into: &archive)
        MemberSpec.archive(members, into: &archive, data: data)
    }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        weights = try ModelArchive.mapError { () throws(DataError) in try archive.floats("blend.weights") }
        guard weights.count == 3 * configuration.members.count + 1 else { throw ModelError(.corruptModel, "the blend weights do not match its members") }
        scale = RatingScale(archive: archive)
        support = Support(data)
        members = try MemberSpec.restore(configuration.members, from: archive, data: data)
    }
}
