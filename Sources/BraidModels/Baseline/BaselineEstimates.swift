public import BraidCore

/// The baseline predictor `b_ui = μ + b_u + b_i` with regularized biases, fitted by
/// alternating least squares (Koren 2010, section 2.1): each pass sets
/// `b_i = Σ_{u∈R(i)} (r_ui − μ − b_u) / (λ_i + |R(i)|)` for every item, then
/// `b_u = Σ_{i∈R(u)} (r_ui − μ − b_i) / (λ_u + |R(u)|)` for every user.
public struct BaselineEstimates: Sendable, Equatable {
    public var globalMean: Float
    public var userBiases: [Float]
    public var itemBiases: [Float]

    public init(globalMean: Float, userBiases: [Float], itemBiases: [Float]) {
        self.globalMean = globalMean
        self.userBiases = userBiases
        self.itemBiases = itemBiases
    }

    /// Fits the biases.
    /// - Complexity: O(iterations × nnz).
    public init(fitting data: InteractionMatrix, iterations: Int, userRegularization: Float, itemRegularization: Float) {
        let mu = data.globalMean
        var bu = [Float](repeating: 0, count: data.userCount)
        var bi = [Float](repeating: 0, count: data.itemCount)
        let byItem = data.byItem, byUser = data.byUser
        for _ in 0..<iterations {
            for i in 0..<data.itemCount {
                var sum: Float = 0
                for k in byItem.entries(ofRow: i) { sum += byItem.values[k] - mu - bu[Int(byItem.columns[k])] }
                bi[i] = sum / (itemRegularization + Float(byItem.count(ofRow: i)))
            }
            for u in 0..<data.userCount {
                var sum: Float = 0
                for k in byUser.entries(ofRow: u) { sum += byUser.values[k] - mu - bi[Int(byUser.columns[k])] }
                bu[u] = sum / (userRegularization + Float(byUser.count(ofRow: u)))
            }
        }
        self.init(globalMean: mu, userBiases: bu, itemBiases: bi)
    }

    /// `μ + b_u + b_i`.
    @inlinable public func estimate(user: Int, item: Int) -> Float {
        globalMean + userBiases[user] + itemBiases[item]
    }

    /// The residuals `r_ui − b_ui` of every entry of `matrix` (users × items).
    public func residuals(ofUserItem matrix: SparseMatrix) -> SparseMatrix {
        matrix.mapValues { u, i, r in r - estimate(user: u, item: Int(i)) }
    }

    func archive(into archive: inout ModelArchive, prefix: String) {
        archive.scalars[prefix + ".globalMean"] = Double(globalMean)
        archive.arrays[prefix + ".userBiases"] = .float32(FloatBuffer(userBiases))
        archive.arrays[prefix + ".itemBiases"] = .float32(FloatBuffer(itemBiases))
    }

    init(archive: ModelArchive, prefix: String, data: InteractionMatrix) throws(ModelError) {
        let (mu, bu, bi) = try ModelArchive.mapError { () throws(DataError) in
            (try archive.scalar(prefix + ".globalMean"), try archive.floats(prefix + ".userBiases"), try archive.floats(prefix + ".itemBiases"))
        }
        guard bu.count == data.userCount, bi.count == data.itemCount else {
            throw ModelError(.corruptModel, "baseline biases do not match the vocabularies")
        }
        self.init(globalMean: Float(mu), userBiases: bu, itemBiases: bi)
    }
}

/// The rating scale seen in training, for clipping predictions.
public struct RatingScale: Sendable, Equatable, Codable {
    public var minimum: Float
    public var maximum: Float

    public init(minimum: Float, maximum: Float) {
        self.minimum = minimum
        self.maximum = maximum
    }

    public init(_ data: InteractionMatrix) {
        minimum = data.byUser.values.min() ?? 0
        maximum = data.byUser.values.max() ?? 0
    }

    @inlinable public func clip(_ value: Float) -> Float { Swift.min(maximum, Swift.max(minimum, value)) }

    func archive(into archive: inout ModelArchive) {
        archive.scalars["scale.min"] = Double(minimum)
        archive.scalars["scale.max"] = Double(maximum)
    }

    init(archive: ModelArchive) {
        self.init(minimum: Float(archive.scalars["scale.min"] ?? 0), maximum: Float(archive.scalars["scale.max"] ?? 0))
    }
}

/// Regularization settings of the baseline predictor, shared by every model that uses it.
public struct BaselineSettings: Codable, Sendable, Equatable {
    public var iterations = 10
    public var userRegularization: Float = 15
    public var itemRegularization: Float = 10

    public init() {}

    static let parameterNames = ["baseline-iterations", "user-regularization", "item-regularization"]

    static let iterationRange = 0...10_000

    /// `ModelConfiguration.checkSaved()` for the settings inside a model's configuration.
    func checkSaved(prefix: String = "baseline-") throws(ModelError) {
        try expectSaved(prefix + "iterations", iterations, in: Self.iterationRange)
    }

    init(parameters: ModelParameters, prefix: String = "baseline-") throws(ModelError) {
        iterations = try parameters.int(prefix + "iterations", default: iterations, range: Self.iterationRange)
        userRegularization = try parameters.float("user-regularization", default: userRegularization, range: 0...1e9)
        itemRegularization = try parameters.float("item-regularization", default: itemRegularization, range: 0...1e9)
    }

    func fit(_ data: InteractionMatrix) -> BaselineEstimates {
        BaselineEstimates(fitting: data, iterations: iterations, userRegularization: userRegularization,
                          itemRegularization: itemRegularization)
    }
}

/// Predicts `μ + b_u + b_i`; ranks items by their bias.
public struct BaselinePredictor: RecommendationModel {
    public struct Configuration: ModelConfiguration {
        public var baseline = BaselineSettings()
        public init() {}
        public init(parameters: ModelParameters) throws(ModelError) {
            try parameters.checkKnown(["iterations", "user-regularization", "item-regularization"])
            baseline = try BaselineSettings(parameters: parameters, prefix: "")
        }
        public func checkSaved() throws(ModelError) { try baseline.checkSaved(prefix: "") }
    }

    public static let name = "baseline"
    public static let summary = "global mean + regularized user and item biases (Koren 2010)"

    public let configuration: Configuration
    public let data: InteractionMatrix
    public let estimates: BaselineEstimates
    public let scale: RatingScale

    public init(fitting data: InteractionMatrix, configuration: Configuration = Configuration()) throws(ModelError) {
        guard data.interactionCount > 0 else { throw ModelError(.noTrainingData, "the baseline needs at least one interaction") }
        try data.requireGradedValues(model: Self.name, because: "user and item biases are deviations from the mean value")
        self.configuration = configuration
        self.data = data
        estimates = configuration.baseline.fit(data)
        scale = RatingScale(data)
    }

    public func scores(forUser user: Int) -> [Float] {
        (0..<data.itemCount).map { estimates.estimate(user: user, item: $0) }
    }

    public var predictsRatings: Bool { true }

    public func predictRating(user: Int, item: Int) -> Float? { scale.clip(estimates.estimate(user: user, item: item)) }

    /// The global mean and the two biases, which add up to the score.
    public func explanation(user: Int, item: Int) -> Explanation? {
        guard (0..<data.userCount).contains(user), (0..<data.itemCount).contains(item) else { return nil }
        return Explanation(sumsToScore: false, contributions: [("global mean", estimates.globalMean), ("user bias", estimates.userBiases[user]),
                                                                ("item bias", estimates.itemBiases[item])])
    }

    public func archive(into archive: inout ModelArchive) {
        estimates.archive(into: &archive, prefix: "baseline")
        scale.archive(into: &archive)
    }

    /// New items have no ratings, so their bias is 0, as a fit gives them, and the others' stay.
    public func extendingCatalogue(to data: InteractionMatrix) throws(ModelError) -> any RecommendationModel {
        try extendingArchive(to: data, rows: [ItemRows(key: "baseline.itemBiases")])
    }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        estimates = try BaselineEstimates(archive: archive, prefix: "baseline", data: data)
        scale = RatingScale(archive: archive)
    }
}
