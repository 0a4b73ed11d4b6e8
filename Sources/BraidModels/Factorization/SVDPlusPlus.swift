public import BraidCore
internal import Foundation

/// SVD++ (Koren 2008): biased matrix factorization whose user vector adds the normalized sum
/// of implicit item factors of everything the user rated:
/// `r̂ = μ + b_u + b_i + q_i · (p_u + |N(u)|^−½ Σ_{j∈N(u)} y_j)`.
///
/// Fitted by SGD user by user: the implicit sum is computed once per user and its gradient
/// accumulated over the user's ratings, then applied to every y_j of the user — the standard
/// efficient form of Koren's per-rating update. Defaults are Surprise's `SVDpp`.
public struct SVDPlusPlus: IterativeFactorizationModel {
    public struct Configuration: ModelConfiguration {
        /// Surprise SVDpp's defaults: 20 factors, 20 epochs, learning rate 0.007,
        /// regularization 0.02, initial factors N(0, 0.1). Only the SGD solver applies.
        public var settings: ExplicitFactorizationSettings

        public init() {
            settings = ExplicitFactorizationSettings()
            settings.factors = 20
            settings.learningRate = 0.007
        }

        public init(parameters: ModelParameters) throws(ModelError) {
            self.init()
            try settings.read(parameters)
            guard settings.solver == .sgd else { throw ModelError(.invalidParameter, "SVD++ is fitted by SGD only (solver=sgd)") }
        }
    }

    public static let name = "svdpp"
    public static let summary = "SVD++ (Koren 2008): biased MF plus implicit feedback from what each user rated"

    public let configuration: Configuration
    public let data: InteractionMatrix
    /// Scoring factors: the user rows already include the implicit term.
    public let factors: LatentFactors
    /// The implicit item factors y_j.
    public let implicitFactors: DenseMatrix
    public let scale: RatingScale

    public init(fitting data: InteractionMatrix, configuration: Configuration,
                onIteration: ((Int, LatentFactors) -> Bool)?) throws(ModelError) {
        guard data.interactionCount > 0 else { throw ModelError(.noTrainingData, "SVD++ needs at least one rating") }
        try data.requireGradedValues(model: Self.name, because: "it regresses on the rating values")
        self.configuration = configuration
        let c = configuration.settings
        self.data = data
        scale = RatingScale(data)
        let f = c.factors
        var model = LatentFactors(users: data.userCount, items: data.itemCount, factors: f, scale: c.initialStandardDeviation,
                                  seed: c.seed, biases: true)
        model.globalBias = data.globalMean
        var y = LatentFactors(users: 0, items: data.itemCount, factors: f, scale: c.initialStandardDeviation, seed: SeededGenerator.mix(c.seed ^ 2)).itemFactors
        var rng = SeededGenerator(seed: c.seed, stream: 1)
        var users = Array(0..<data.userCount)
        for iteration in 0..<c.iterations {
            users.shuffle(using: &rng)
            Self.epoch(&model, implicit: &y, data: data, users: users, configuration: c)
            try model.checkFinite(model: Self.name, iteration: iteration + 1)
            if let onIteration, !onIteration(iteration + 1, Self.folded(model, implicit: y, data: data)) { break }
        }
        implicitFactors = y
        factors = Self.folded(model, implicit: y, data: data)
    }

    static func epoch(_ model: inout LatentFactors, implicit y: inout DenseMatrix, data: InteractionMatrix, users: [Int],
                      configuration c: ExplicitFactorizationSettings) {
        let f = c.factors, lr = c.learningRate, reg = c.regularization, biasReg = c.biasRegularization ?? c.regularization
        let mu = model.globalBias
        let matrix = data.byUser
        var sum = [Float](repeating: 0, count: f), gradient = sum
        model.userFactors.storage.withUnsafeMutableBufferPointer { pb in
            model.itemFactors.storage.withUnsafeMutableBufferPointer { qb in
                y.storage.withUnsafeMutableBufferPointer { yb in
                    model.userBiases!.withUnsafeMutableBufferPointer { bu in
                        model.itemBiases!.withUnsafeMutableBufferPointer { bi in
                            sum.withUnsafeMutableBufferPointer { zb in
                                gradient.withUnsafeMutableBufferPointer { gb in
                                    let p = pb.baseAddress!, q = qb.baseAddress!, yy = yb.baseAddress!, z = zb.baseAddress!, g = gb.baseAddress!
                                    for u in users {
                                        let entries = matrix.rowStarts[u]..<matrix.rowStarts[u + 1]
                                        guard !entries.isEmpty else { continue }
                                        let norm = 1 / Float(entries.count).squareRoot()
                                        z.update(repeating: 0, count: f)
                                        g.update(repeating: 0, count: f)
                                        for k in entries { VectorKernels.axpy(norm, yy + Int(matrix.columns[k]) * f, z, f) }
                                        let pu = p + u * f
                                        for k in entries {
                                            let i = Int(matrix.columns[k])
                                            let qi = q + i * f
                                            let estimate = mu + bu[u] + bi[i] + VectorKernels.dot(pu, qi, f) + VectorKernels.dot(z, qi, f)
                                            let error = matrix.values[k] - estimate
                                            bu[u] += lr * (error - biasReg * bu[u])
                                            bi[i] += lr * (error - biasReg * bi[i])
                                            // ∂/∂y_j of the squared error, summed over the user's ratings: e·|N|^−½·q_i.
                                            VectorKernels.axpy(error * norm, qi, g, f)
                                            for d in 0..<f {
                                                let pud = pu[d], qid = qi[d]
                                                pu[d] = pud + lr * (error * qid - reg * pud)
                                                qi[d] = qid + lr * (error * (pud + z[d]) - reg * qid)
                                            }
                                        }
                                        let decay = 1 - lr * reg * Float(entries.count)
                                        for k in entries {
                                            let yj = yy + Int(matrix.columns[k]) * f
                                            for d in 0..<f { yj[d] = yj[d] * max(0, decay) + lr * g[d] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Scoring factors with the implicit term folded into each user's row.
    static func folded(_ model: LatentFactors, implicit y: DenseMatrix, data: InteractionMatrix) -> LatentFactors {
        var out = model
        let f = model.factorCount
        for u in 0..<data.userCount {
            let entries = data.byUser.entries(ofRow: u)
            guard !entries.isEmpty else { continue }
            let norm = 1 / Float(entries.count).squareRoot()
            for k in entries {
                let j = Int(data.byUser.columns[k])
                for d in 0..<f { out.userFactors.storage[u * f + d] += norm * y.storage[j * f + d] }
            }
        }
        return out
    }

    public var predictsRatings: Bool { true }

    public func predictRating(user: Int, item: Int) -> Float? { scale.clip(factors.score(user: user, item: item)) }

    /// Each rated item's exact share of the score, q_i · y_j / √|N(u)|; the contributions are
    /// the biases, the free user factors' product q_i · p_u and those shares' sum ("rated
    /// items"), which add up to the score.
    public func explanation(user: Int, item: Int) -> Explanation? {
        guard (0..<data.userCount).contains(user), (0..<data.itemCount).contains(item) else { return nil }
        let rated = data.items(ofUser: user), f = factors.factorCount
        let norm = 1 / Float(max(1, rated.count)).squareRoot()
        let shares = factors.itemFactors.storage.withUnsafeBufferPointer { q in
            implicitFactors.storage.withUnsafeBufferPointer { y in
                rated.map { j in (index: j, weight: norm * VectorKernels.dot(q.baseAddress! + item * f, y.baseAddress! + Int(j) * f, f)) }
            }
        }
        let history = shares.reduce(Float(0)) { $0 + $1.weight }
        var parts = factors.contributions(user: user, item: item)
        parts.removeLast()
        parts += [("user factors", factors.product(user: user, item: item) - history), ("rated items", history)]
        return Explanation(items: shares, sumsToScore: false, contributions: parts)
    }

    public func archive(into archive: inout ModelArchive) {
        factors.archive(into: &archive)
        archive.arrays["svdpp.implicit"] = .float32(implicitFactors.storage)
        scale.archive(into: &archive)
    }

    /// New items as in every factor model (`FactorizationModel.extendingCatalogue(to:)`), their
    /// implicit factors zero too: no user's history holds them.
    public func extendingCatalogue(to data: InteractionMatrix) throws(ModelError) -> any RecommendationModel {
        try extendingArchive(to: data, rows: LatentFactors.itemRows + [ItemRows(key: "svdpp.implicit")])
    }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        factors = try LatentFactors(archive: archive, data: data)
        let y = try ModelArchive.mapError { () throws(DataError) in try archive.floatBuffer("svdpp.implicit") }
        guard y.count == data.itemCount * factors.factorCount else { throw ModelError(.corruptModel, "the implicit factors do not match the items") }
        implicitFactors = DenseMatrix(rows: data.itemCount, columns: factors.factorCount, storage: y)
        scale = RatingScale(archive: archive)
    }
}
