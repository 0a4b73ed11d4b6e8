public import BraidCore
internal import Foundation

/// Bayesian personalized ranking (Rendle et al. 2009): stochastic gradient ascent on
/// `ln σ(x_ui − x_uj)` over triples of a user, an item they interacted with and an item drawn
/// from those they did not, with `x_ui = p_u · q_i + b_i`. Each epoch draws as many triples as
/// there are interactions, in 64 fixed blocks with their own random streams, shared out to the
/// worker threads, which update the factors without locks (Hogwild, Recht et al. 2011).
///
/// Reproducibility: a seed draws the same triples on any machine and thread count. With one
/// thread (`--threads 1`) the fitted factors are identical run to run; with more, the
/// lock-free updates interleave in whatever order the threads run, so factors (and metrics, in
/// the third or fourth decimal) vary between runs.
public struct BayesianPersonalizedRanking: IterativeFactorizationModel {
    /// How negative items are drawn.
    public enum NegativeSampling: String, Sendable, Codable, CaseIterable {
        /// Uniformly over the catalogue (Rendle et al. 2009).
        case uniform
        /// In proportion to popularity: the item of a uniformly drawn interaction, as
        /// implicit does (a draw the user has interacted with is skipped, not redrawn).
        case popularity
    }

    public struct Configuration: ModelConfiguration {
        public var negativeSampling = NegativeSampling.uniform
        public var factors = 100
        public var learningRate: Float = 0.01
        public var regularization: Float = 0.01
        /// Epochs; nil (the default, or `iterations=auto`) chooses them by the data's size
        /// (`epochs(for:)`) when fitting, and the fitted model saves the number it ran.
        public var iterations: Int?
        public var seed: UInt64 = 42

        public init() {}

        public init(parameters: ModelParameters) throws(ModelError) {
            try parameters.checkKnown(["factors", "learning-rate", "regularization", "iterations", "seed", "negative-sampling"])
            negativeSampling = try parameters.choice("negative-sampling", default: negativeSampling)
            factors = try parameters.int("factors", default: factors, range: 1...4096)
            learningRate = try parameters.float("learning-rate", default: learningRate, range: 1e-9...10)
            regularization = try parameters.float("regularization", default: regularization, range: 0...1e6)
            iterations = try parameters.automaticInt("iterations", range: 0...1_000_000)
            seed = UInt64(try parameters.int("seed", default: Int(seed), range: 0...Int.max))
        }
    }

    /// SGD steps a default fit takes: an epoch draws as many triples as there are interactions,
    /// so a fixed number of epochs undertrains small data. On validation splits carved from the
    /// benchmarks' training parts, 100 epochs (implicit's default) left NDCG@10 11–29% below 300
    /// on MovieLens (about 35,000 positives; 1,000 gained on three of the four splits again) and
    /// 3× below 3,000 on Debian uploads (9,300), where 3,000 epochs at the default rate matched
    /// the setting `braid tune` chose there (0.1196 against 0.1183).
    public static let defaultSteps = 30_000_000

    /// Epochs of a default fit: `defaultSteps` triples, at least 100 epochs and at most 3,000.
    public static func epochs(for data: InteractionMatrix) -> Int {
        min(3000, max(100, (defaultSteps + data.interactionCount - 1) / max(1, data.interactionCount)))
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
        let epochs = configuration.iterations ?? Self.epochs(for: data)
        var configuration = configuration
        configuration.iterations = epochs
        self.configuration = configuration
        self.data = data
        let f = configuration.factors
        var rng = SeededGenerator(seed: configuration.seed)
        func uniform(_ count: Int) -> [Float] { (0..<count).map { _ in Float(rng.nextUnit() - 0.5) / Float(f) } }
        var factors = LatentFactors(userFactors: DenseMatrix(rows: data.userCount, columns: f, storage: uniform(data.userCount * f)),
                                    itemFactors: DenseMatrix(rows: data.itemCount, columns: f, storage: uniform(data.itemCount * f)),
                                    itemBiases: [Float](repeating: 0, count: data.itemCount))
        // An item nobody interacted with is never a positive, and under popularity sampling
        // never a negative either: start it at zero rather than leave it random noise.
        let hasData = data.itemHasInteractions
        for item in 0..<data.itemCount where !hasData[item] {
            for d in 0..<f { factors.itemFactors.storage[item * f + d] = 0 }
        }
        // Each interaction's user, for drawing a positive pair uniformly.
        var owners = [Int32](repeating: 0, count: data.interactionCount)
        for u in 0..<data.userCount { for k in data.byUser.entries(ofRow: u) { owners[k] = Int32(u) } }
        let interacted = Interacted(data.byUser)
        for iteration in 0..<epochs {
            Self.epoch(&factors, data: data, owners: owners, interacted: interacted, configuration: configuration, epoch: iteration)
            try factors.checkFinite(model: Self.name, iteration: iteration + 1)
            if let onIteration, !onIteration(iteration + 1, factors) { break }
        }
        self.factors = factors
    }

    /// The number of sample blocks an epoch is cut into, whatever the thread count: block `b`
    /// of epoch `e` always draws the same triples from its own random stream, so the threads
    /// only decide who runs which block.
    static let blocksPerEpoch = 64

    /// One epoch: as many (u, i, j) triples as there are interactions, each followed by one
    /// SGD step. Uniform negatives are redrawn until the user has not interacted with them, as
    /// the paper samples from I \ I_u; popularity negatives the user has are skipped, as
    /// implicit does.
    static func epoch(_ factors: inout LatentFactors, data: InteractionMatrix, owners: [Int32], interacted: Interacted,
                      configuration: Configuration, epoch: Int) {
        let f = configuration.factors, lr = configuration.learningRate, reg = configuration.regularization
        let samples = data.interactionCount, items = data.itemCount
        let blocks = min(blocksPerEpoch, samples)
        let threads = min(Parallelism.threadCount, blocks)
        let byUser = data.byUser
        let popular = configuration.negativeSampling == .popularity
        let seed = configuration.seed
        factors.userFactors.storage.withUnsafeMutableBufferPointer { pb in
            factors.itemFactors.storage.withUnsafeMutableBufferPointer { qb in
                factors.itemBiases!.withUnsafeMutableBufferPointer { bb in
                    let p = SharedBuffer(pb), q = SharedBuffer(qb), b = SharedBuffer(bb)
                    let runBlock = { @Sendable (block: Int, g: UnsafeMutablePointer<Float>) in
                        var rng = SeededGenerator(seed: seed, stream: UInt64(epoch) << 16 | UInt64(block))
                        for _ in 0..<(samples / blocks + (block < samples % blocks ? 1 : 0)) {
                            let k = Int(rng.next() % UInt64(samples))
                            let u = Int(owners[k]), i = Int(byUser.columns[k])
                            var j: Int
                            if popular {
                                j = Int(byUser.columns[Int(rng.next() % UInt64(samples))])
                                if interacted.contains(user: u, item: j) { continue }
                            } else {
                                // The fit checks that every user has a negative; 1,000 draws
                                // bound the loop for a user who has nearly every item.
                                var draws = 0
                                repeat { j = Int(rng.next() % UInt64(items)); draws += 1 }
                                while interacted.contains(user: u, item: j) && draws < 1000
                                if draws == 1000 { continue }
                            }
                            step(user: p.base + u * f, positive: q.base + i * f, negative: q.base + j * f,
                                 positiveBias: b.base + i, negativeBias: b.base + j, gradient: g, count: f,
                                 learningRate: lr, regularization: reg)
                        }
                    }
                    DispatchQueue.concurrentPerform(iterations: threads) { thread in
                        var gradient = [Float](repeating: 0, count: f)
                        gradient.withUnsafeMutableBufferPointer { gb in
                            for block in stride(from: thread, to: blocks, by: threads) { runBlock(block, gb.baseAddress!) }
                        }
                    }
                }
            }
        }
    }

    /// One stochastic gradient ascent step on `ln σ(x_ui − x_uj) − λ(‖p_u‖² + ‖q_i‖² + ‖q_j‖² + b_i² + b_j²)/2`
    /// with `x_ui = p_u · q_i + b_i`: every parameter moves by `learningRate` times its partial
    /// derivative, all taken at the values before the step. Returns σ(−(x_ui − x_uj)).
    @discardableResult
    public static func step(user pu: UnsafeMutablePointer<Float>, positive qi: UnsafeMutablePointer<Float>,
                            negative qj: UnsafeMutablePointer<Float>, positiveBias bi: UnsafeMutablePointer<Float>,
                            negativeBias bj: UnsafeMutablePointer<Float>, gradient g: UnsafeMutablePointer<Float>, count f: Int,
                            learningRate lr: Float, regularization reg: Float) -> Float {
        let x = bi.pointee - bj.pointee + VectorKernels.dot(pu, qi, f) - VectorKernels.dot(pu, qj, f)
        let sigma = 1 / (1 + exp(x))  // d/dx ln σ(x) = σ(−x)
        // gradient for p_u: σ(q_i − q_j) − reg·p_u, taken before q moves.
        for d in 0..<f { g[d] = sigma * (qi[d] - qj[d]) - reg * pu[d] }
        for d in 0..<f {
            let pud = pu[d]
            qi[d] += lr * (sigma * pud - reg * qi[d])
            qj[d] += lr * (-sigma * pud - reg * qj[d])
        }
        VectorKernels.axpy(lr, g, pu, f)
        bi.pointee += lr * (sigma - reg * bi.pointee)
        bj.pointee += lr * (-sigma - reg * bj.pointee)
        return sigma
    }

    /// Whether a user interacted with an item, asked once or more for every sampled negative:
    /// one bit per (user, item) when those bits take at most `maximumBitsetBytes`, else a
    /// binary search of the user's row. A fifth of a fit's time went to that search on
    /// MovieLens 100k; the bit answers the same.
    struct Interacted: Sendable {
        static let maximumBitsetBytes = 64 << 20
        let byUser: SparseMatrix
        let words: [UInt64]?
        let wordsPerUser: Int

        init(_ byUser: SparseMatrix, maximumBytes: Int = maximumBitsetBytes) {
            self.byUser = byUser
            wordsPerUser = (byUser.columnCount + 63) / 64
            let (count, overflow) = byUser.rowCount.multipliedReportingOverflow(by: wordsPerUser)
            guard !overflow, count <= maximumBytes / 8 else { words = nil; return }
            var words = [UInt64](repeating: 0, count: count)
            for u in 0..<byUser.rowCount {
                for k in byUser.entries(ofRow: u) {
                    let item = Int(byUser.columns[k])
                    words[u * wordsPerUser + item >> 6] |= 1 << UInt64(item & 63)
                }
            }
            self.words = words
        }

        @inline(__always)
        func contains(user: Int, item: Int) -> Bool {
            guard let words else { return byUser.value(row: user, column: item) != nil }
            return words[user * wordsPerUser + item >> 6] & (1 << UInt64(item & 63)) != 0
        }
    }

    public func archive(into archive: inout ModelArchive) { factors.archive(into: &archive) }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        factors = try LatentFactors(archive: archive, data: data)
    }
}
