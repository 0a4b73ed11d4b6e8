public import BraidCore
public import Foundation

/// Bayesian personalized ranking (Rendle et al. 2009): stochastic gradient ascent on
/// `ln σ(x_ui − x_uj)` over triples of a user, an item they interacted with and an item drawn
/// uniformly from those they did not, with `x_ui = p_u · q_i + b_i`. Each epoch draws as many
/// triples as there are interactions, split across the worker threads, which update the
/// shared factors without locks (Hogwild, Recht et al. 2011).
public struct BayesianPersonalizedRanking: IterativeFactorizationModel {
    /// How negative items are drawn.
    public enum NegativeSampling: String, Sendable, Codable, CaseIterable {
        /// Uniformly over the catalogue (Rendle et al. 2009).
        case uniform
        /// In proportion to popularity: the item of a uniformly drawn interaction, as
        /// implicit does; popular negatives are harder and often rank better.
        case popularity
    }

    public struct Configuration: ModelConfiguration {
        public var negativeSampling = NegativeSampling.uniform
        public var factors = 100
        public var learningRate: Float = 0.01
        public var regularization: Float = 0.01
        public var iterations = 100
        public var seed: UInt64 = 42

        public init() {}

        public init(parameters: ModelParameters) throws(ModelError) {
            try parameters.checkKnown(["factors", "learning-rate", "regularization", "iterations", "seed", "negative-sampling"])
            negativeSampling = try parameters.choice("negative-sampling", default: negativeSampling)
            factors = try parameters.int("factors", default: factors, range: 1...4096)
            learningRate = try parameters.float("learning-rate", default: learningRate, range: 1e-9...10)
            regularization = try parameters.float("regularization", default: regularization, range: 0...1e6)
            iterations = try parameters.int("iterations", default: iterations, range: 0...1_000_000)
            seed = UInt64(try parameters.int("seed", default: Int(seed), range: 0...Int.max))
        }
    }

    public static let name = "bpr"
    public static let summary = "Bayesian personalized ranking (Rendle et al. 2009), Hogwild SGD with item biases"

    public let configuration: Configuration
    public let data: InteractionMatrix
    public let factors: LatentFactors

    /// Fits, calling `onIteration(iteration, factors)` after each epoch; returning false stops.
    public init(fitting data: InteractionMatrix, configuration: Configuration,
                onIteration: ((Int, LatentFactors) -> Bool)?) throws(ModelError) {
        guard data.interactionCount > 0 else { throw ModelError(.noTrainingData, "BPR needs at least one interaction") }
        guard data.byUser.rowCounts.contains(where: { $0 < data.itemCount }) else {
            throw ModelError(.noTrainingData, "BPR needs items a user has not interacted with")
        }
        self.configuration = configuration
        self.data = data
        let f = configuration.factors
        var rng = SeededGenerator(seed: configuration.seed)
        func uniform(_ count: Int) -> [Float] { (0..<count).map { _ in Float(rng.nextUnit() - 0.5) / Float(f) } }
        var factors = LatentFactors(userFactors: DenseMatrix(rows: data.userCount, columns: f, storage: uniform(data.userCount * f)),
                                    itemFactors: DenseMatrix(rows: data.itemCount, columns: f, storage: uniform(data.itemCount * f)),
                                    itemBiases: [Float](repeating: 0, count: data.itemCount))
        // Each interaction's user, for drawing a positive pair uniformly.
        var owners = [Int32](repeating: 0, count: data.interactionCount)
        for u in 0..<data.userCount { for k in data.byUser.entries(ofRow: u) { owners[k] = Int32(u) } }
        for iteration in 0..<configuration.iterations {
            Self.epoch(&factors, data: data, owners: owners, configuration: configuration,
                       seed: configuration.seed &+ UInt64(iteration + 1) &* 0x9E3779B97F4A7C15)
            try factors.checkFinite(model: Self.name, iteration: iteration + 1)
            if let onIteration, !onIteration(iteration + 1, factors) { break }
        }
        self.factors = factors
    }

    static func epoch(_ factors: inout LatentFactors, data: InteractionMatrix, owners: [Int32], configuration: Configuration, seed: UInt64) {
        let f = configuration.factors, lr = configuration.learningRate, reg = configuration.regularization
        let samples = data.interactionCount, items = data.itemCount
        let threads = Parallelism.threadCount
        let byUser = data.byUser
        let popular = configuration.negativeSampling == .popularity
        factors.userFactors.storage.withUnsafeMutableBufferPointer { pb in
            factors.itemFactors.storage.withUnsafeMutableBufferPointer { qb in
                factors.itemBiases!.withUnsafeMutableBufferPointer { bb in
                    let p = SharedBuffer(pb), q = SharedBuffer(qb), b = SharedBuffer(bb)
                    DispatchQueue.concurrentPerform(iterations: threads) { thread in
                        var rng = SeededGenerator(seed: seed &+ UInt64(thread) &* 0xD1B54A32D192ED03)
                        var gradient = [Float](repeating: 0, count: f)
                        gradient.withUnsafeMutableBufferPointer { gb in
                            let g = gb.baseAddress!
                            for _ in 0..<(samples / threads + (thread < samples % threads ? 1 : 0)) {
                                let k = Int(rng.next() % UInt64(samples))
                                let u = Int(owners[k]), i = Int(byUser.columns[k])
                                func negative() -> Int {
                                    popular ? Int(byUser.columns[Int(rng.next() % UInt64(samples))]) : Int(rng.next() % UInt64(items))
                                }
                                var j = negative()
                                var tries = 0
                                while byUser.value(row: u, column: j) != nil && tries < 100 { j = negative(); tries += 1 }
                                if tries == 100 { continue }
                                let pu = p.base + u * f, qi = q.base + i * f, qj = q.base + j * f
                                let x = b[i] - b[j] + VectorKernels.dot(pu, qi, f) - VectorKernels.dot(pu, qj, f)
                                let sigma = 1 / (1 + exp(x))  // d/dx ln σ(x) = σ(−x)
                                // gradient for p_u: σ(q_i − q_j) − reg·p_u, taken before q moves.
                                for d in 0..<f { g[d] = sigma * (qi[d] - qj[d]) - reg * pu[d] }
                                for d in 0..<f {
                                    let pud = pu[d]
                                    qi[d] += lr * (sigma * pud - reg * qi[d])
                                    qj[d] += lr * (-sigma * pud - reg * qj[d])
                                }
                                VectorKernels.axpy(lr, g, pu, f)
                                b[i] += lr * (sigma - reg * b[i])
                                b[j] += lr * (-sigma - reg * b[j])
                            }
                        }
                    }
                }
            }
        }
    }

    public func archive(into archive: inout ModelArchive) { factors.archive(into: &archive) }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        factors = try LatentFactors(archive: archive, data: data)
    }
}
