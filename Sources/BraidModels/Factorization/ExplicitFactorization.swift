public import BraidCore
internal import Foundation

/// The defaults and name of one explicit-rating factorization model.
public protocol ExplicitFactorizationFlavor: Sendable {
    static var name: String { get }
    static var summary: String { get }
    static var defaults: ExplicitFactorizationSettings { get }
}

/// Biased matrix factorization for explicit ratings (Funk 2006; Koren, Bell & Volinsky 2009):
/// `r̂ = μ + b_u + b_i + p_u · q_i`, fitted by SGD over the shuffled ratings or by
/// alternating weighted-λ least squares (Zhou et al. 2008).
public typealias BiasedMatrixFactorization = ExplicitFactorization<BiasedMFFlavor>

/// The same model with Surprise's `SVD` defaults (100 factors, 20 epochs, learning rate
/// 0.005, regularization 0.02, initial factors N(0, 0.1)), so results compare directly.
public typealias SVD = ExplicitFactorization<SVDFlavor>

public enum BiasedMFFlavor: ExplicitFactorizationFlavor {
    public static let name = "biasedmf"
    public static let summary = "biased matrix factorization for ratings (SGD as Funk/Koren, or ALS)"
    public static var defaults: ExplicitFactorizationSettings {
        var settings = ExplicitFactorizationSettings()
        // Chosen by `braid tune` (early stopping on RMSE) on a validation split of MovieLens
        // 100k's u1.base; the test folds were not consulted.
        settings.factors = 200
        settings.iterations = 35
        settings.learningRate = 0.01
        settings.regularization = 0.08
        settings.initialStandardDeviation = 0.05
        return settings
    }
}

public enum SVDFlavor: ExplicitFactorizationFlavor {
    public static let name = "svd"
    public static let summary = "biased matrix factorization with Surprise SVD's defaults"
    public static var defaults: ExplicitFactorizationSettings { ExplicitFactorizationSettings() }
}

/// Settings of the explicit factorization models; the defaults are Surprise SVD's.
public struct ExplicitFactorizationSettings: Codable, Sendable, Equatable {
    public enum Solver: String, Sendable, Codable, CaseIterable { case sgd, als }

    public var factors = 100
    public var iterations = 20
    public var learningRate: Float = 0.005
    public var regularization: Float = 0.02
    /// Separate regularization for the biases (nil: `regularization`).
    public var biasRegularization: Float?
    public var initialStandardDeviation: Float = 0.1
    public var solver = Solver.sgd
    public var seed: UInt64 = 42

    public init() {}

    static let parameterNames = ["factors", "iterations", "learning-rate", "regularization", "bias-regularization", "init-std", "solver", "seed"]

    mutating func read(_ parameters: ModelParameters) throws(ModelError) {
        try parameters.checkKnown(Self.parameterNames)
        factors = try parameters.int("factors", default: factors, range: 1...4096)
        iterations = try parameters.int("iterations", default: iterations, range: 0...100_000)
        learningRate = try parameters.float("learning-rate", default: learningRate, range: 1e-9...10)
        regularization = try parameters.float("regularization", default: regularization, range: 0...1e6)
        if parameters.string("bias-regularization") != nil {
            biasRegularization = try parameters.float("bias-regularization", default: 0, range: 0...1e6)
        }
        initialStandardDeviation = try parameters.float("init-std", default: initialStandardDeviation, range: 0...10)
        solver = try parameters.choice("solver", default: solver)
        seed = UInt64(try parameters.int("seed", default: Int(seed), range: 0...Int.max))
    }
}

/// Biased matrix factorization, in the flavours `biasedmf` and `svd`.
public struct ExplicitFactorization<Flavor: ExplicitFactorizationFlavor>: IterativeFactorizationModel {
    public struct Configuration: ModelConfiguration {
        public var settings: ExplicitFactorizationSettings
        public init() { settings = Flavor.defaults }
        public init(parameters: ModelParameters) throws(ModelError) {
            settings = Flavor.defaults
            try settings.read(parameters)
        }
    }

    public static var name: String { Flavor.name }
    public static var summary: String { Flavor.summary }

    public let configuration: Configuration
    public let data: InteractionMatrix
    public let factors: LatentFactors
    public let scale: RatingScale

    /// Fits, calling `onIteration(iteration, factors)` after each epoch; returning false stops.
    public init(fitting data: InteractionMatrix, configuration: Configuration,
                onIteration: ((Int, LatentFactors) -> Bool)?) throws(ModelError) {
        guard data.interactionCount > 0 else { throw ModelError(.noTrainingData, "\(Flavor.name) needs at least one rating") }
        try data.requireGradedValues(model: Self.name, because: "it regresses on the rating values")
        self.configuration = configuration
        self.data = data
        scale = RatingScale(data)
        let s = configuration.settings
        var factors = LatentFactors(users: data.userCount, items: data.itemCount, factors: s.factors,
                                    scale: s.initialStandardDeviation, seed: s.seed, biases: true)
        factors.globalBias = data.globalMean
        var rng = SeededGenerator(seed: s.seed, stream: 1)
        var users = Array(0..<data.userCount)
        for iteration in 0..<s.iterations {
            switch s.solver {
            case .sgd:
                users.shuffle(using: &rng)
                Self.sgdEpoch(&factors, data: data, users: users, settings: s)
            case .als:
                BiasedLeastSquares.solve(&factors, data: data, users: true, regularization: s.regularization)
                BiasedLeastSquares.solve(&factors, data: data, users: false, regularization: s.regularization)
            }
            try factors.checkFinite(model: Flavor.name, iteration: iteration + 1)
            if let onIteration, !onIteration(iteration + 1, factors) { break }
        }
        self.factors = factors
    }

    /// One pass of SGD over every rating (Funk 2006; Koren et al. 2009, eq. 5), user by user
    /// in the shuffled `users` order, so that each user's factors stay in cache.
    static func sgdEpoch(_ factors: inout LatentFactors, data: InteractionMatrix, users: [Int], settings s: ExplicitFactorizationSettings) {
        let f = s.factors, lr = s.learningRate, reg = s.regularization, biasReg = s.biasRegularization ?? s.regularization
        let mu = factors.globalBias
        let matrix = data.byUser
        factors.userFactors.storage.withUnsafeMutableBufferPointer { pb in
            factors.itemFactors.storage.withUnsafeMutableBufferPointer { qb in
                factors.userBiases!.withUnsafeMutableBufferPointer { bu in
                    factors.itemBiases!.withUnsafeMutableBufferPointer { bi in
                        let p = pb.baseAddress!, q = qb.baseAddress!
                        matrix.columns.withUnsafeBufferPointer { columns in
                            matrix.values.withUnsafeBufferPointer { values in
                                for u in users {
                                    let pu = p + u * f
                                    for k in matrix.rowStarts[u]..<matrix.rowStarts[u + 1] {
                                        let i = Int(columns[k])
                                        let qi = q + i * f
                                        let error = values[k] - (mu + bu[u] + bi[i] + VectorKernels.dot(pu, qi, f))
                                        bu[u] += lr * (error - biasReg * bu[u])
                                        bi[i] += lr * (error - biasReg * bi[i])
                                        VectorKernels.sgdStep(pu, qi, error: error, learningRate: lr, regularization: reg, count: f)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    public var predictsRatings: Bool { true }

    public func predictRating(user: Int, item: Int) -> Float? { scale.clip(factors.score(user: user, item: item)) }

    public func archive(into archive: inout ModelArchive) {
        factors.archive(into: &archive)
        scale.archive(into: &archive)
    }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        factors = try LatentFactors(archive: archive, data: data)
        scale = RatingScale(archive: archive)
    }
}

/// The ALS solver of biased MF: each user's `[p_u, b_u]` is the ridge regression of
/// `r − μ − b_i` on `[q_i, 1]` with weighted-λ regularization `λ·n_u` (Zhou et al. 2008), and
/// symmetrically for items.
enum BiasedLeastSquares {
    static func solve(_ factors: inout LatentFactors, data: InteractionMatrix, users: Bool, regularization: Float) {
        let f = factors.factorCount, width = f + 1
        let matrix = users ? data.byUser : data.byItem
        let mu = factors.globalBias
        let fixedFactors = users ? factors.itemFactors.storage : factors.userFactors.storage
        let fixedBiases = users ? factors.itemBiases! : factors.userBiases!
        var targetFactors = users ? factors.userFactors.storage : factors.itemFactors.storage
        var targetBiases = users ? factors.userBiases! : factors.itemBiases!
        targetFactors.withUnsafeMutableBufferPointer { tf in
            targetBiases.withUnsafeMutableBufferPointer { tb in
                let outFactors = SharedBuffer(tf), outBiases = SharedBuffer(tb)
                parallelChunks(matrix.rowCount, minimumChunk: 16) { rows in
                    var a = [Float](repeating: 0, count: width * width), b = [Float](repeating: 0, count: width), z = b
                    for row in rows {
                        let entries = matrix.entries(ofRow: row)
                        guard !entries.isEmpty else { continue }
                        for k in 0..<(width * width) { a[k] = 0 }
                        for k in 0..<width { b[k] = 0 }
                        for k in entries {
                            let other = Int(matrix.columns[k])
                            for d in 0..<f { z[d] = fixedFactors[other * f + d] }
                            z[f] = 1
                            let target = matrix.values[k] - mu - fixedBiases[other]
                            for x in 0..<width {
                                b[x] += z[x] * target
                                for y in 0..<width { a[x * width + y] += z[x] * z[y] }
                            }
                        }
                        let lambda = regularization * Float(entries.count)
                        for d in 0..<width { a[d * width + d] += lambda }
                        let solved = a.withUnsafeMutableBufferPointer { ap in
                            b.withUnsafeMutableBufferPointer { bp in VectorKernels.choleskySolve(ap.baseAddress!, bp.baseAddress!, width) }
                        }
                        guard solved else { continue }
                        for d in 0..<f { outFactors[row * f + d] = b[d] }
                        outBiases[row] = b[f]
                    }
                }
            }
        }
        if users {
            factors.userFactors.storage = targetFactors
            factors.userBiases = targetBiases
        } else {
            factors.itemFactors.storage = targetFactors
            factors.itemBiases = targetBiases
        }
    }
}
