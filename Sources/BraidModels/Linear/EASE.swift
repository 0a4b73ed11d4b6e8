public import BraidCore
internal import Foundation

/// EASE^R, the embarrassingly shallow autoencoder (Steck 2019): an item × item weight matrix
/// `B` with zero diagonal, in closed form `B = I − P · diag(1/diag(P))` with
/// `P = (XᵀX + λI)⁻¹`, inverted by LAPACK's Cholesky routines on the worker threads.
///
/// Memory ceiling: the Gram matrix and B share one n² float32 buffer, n = items with training
/// interactions (4·n² bytes: 144 MB for 6,000 items, 1.6 GB for 20,000); fits that would need
/// more than `max-memory-gb` are refused before any work.
public struct EASE: RecommendationModel {
    public struct Configuration: ModelConfiguration {
        /// The L2 weight λ; nil (the default, or `lambda=auto`) resolves when fitting to
        /// `automaticLambda(for:binarize:)`, and the fitted model saves the value.
        public var lambda: Float?
        /// Use 0/1 instead of the interaction values.
        public var binarize = true
        /// Refuse fits whose items² buffer would exceed this many GiB.
        public var maximumMemoryGB: Double = 8

        public init() {}

        public init(parameters: ModelParameters) throws(ModelError) {
            try parameters.checkKnown(["lambda", "binarize", "max-memory-gb"])
            lambda = try parameters.automaticFloat("lambda", range: 1e-9...1e12)
            binarize = try parameters.bool("binarize", default: binarize)
            maximumMemoryGB = try parameters.double("max-memory-gb", default: maximumMemoryGB, range: 0.001...1e6)
        }

        /// This configuration with λ resolved for `data`, and that λ.
        func resolved(for data: InteractionMatrix) -> (configuration: Configuration, lambda: Float) {
            let lambda = lambda ?? EASE.automaticLambda(for: data, binarize: binarize)
            var out = self
            out.lambda = lambda
            return (out, lambda)
        }
    }

    /// λ is added to the Gram matrix's diagonal, so its effect depends on the diagonal's scale:
    /// 3 × Σᵢ Gᵢᵢ² / Σᵢ Gᵢᵢ, the diagonal entry of the item behind an average interaction
    /// (Gᵢᵢ = the item's user count when binarized). Chosen on the six development splits
    /// carved from the benchmarks' training parts (MovieLens' four and Debian uploads' two):
    /// within 1.6% of the best of a λ grid on each, where the former fixed λ = 500 (Steck's
    /// value for MovieLens 20M) was 15% and 9% below it on the count data, whose items have few
    /// users.
    public static func automaticLambda(for data: InteractionMatrix, binarize: Bool) -> Float {
        var sum = 0.0, squares = 0.0
        for i in 0..<data.itemCount {
            let diagonal = binarize ? Double(data.byItem.count(ofRow: i)) : data.byItem.values(ofRow: i).reduce(0.0) { $0 + Double($1) * Double($1) }
            sum += diagonal
            squares += diagonal * diagonal
        }
        return sum > 0 ? Float(max(1e-3, 3 * squares / sum)) : 1
    }

    public static let name = "ease"
    public static let summary = "EASE^R linear autoencoder (Steck 2019), closed form by Cholesky inversion"

    public let configuration: Configuration
    public let data: InteractionMatrix
    /// The weights among the items with training interactions, row-major over `modelled`:
    /// score of modelled[b] = Σ_a x_u,modelled[a] · B[a, b].
    public let weights: DenseMatrix
    /// The item indices B covers (items with at least one training interaction), ascending;
    /// other items score 0.
    public let modelled: [Int32]
    /// Position in `modelled` per item index, or −1.
    let position: [Int32]
    /// The λ the weights were fitted with (the configuration's, resolved when fitted or loaded).
    public var lambda: Float { configuration.resolved(for: data).lambda }

    public init(fitting data: InteractionMatrix, configuration: Configuration = Configuration()) throws(ModelError) {
        guard data.interactionCount > 0 else { throw ModelError(.noTrainingData, "EASE needs at least one interaction") }
        let modelled = Self.modelledItems(of: data)
        let n = modelled.count
        if let excess = Self.squareMatrixExcess(items: n, limit: configuration.maximumMemoryGB) {
            throw ModelError(.tooLarge, "EASE " + excess, hint: "raise --param max-memory-gb if the machine has the memory, or reduce the catalogue with --min-item-interactions")
        }
        let (configuration, lambda) = configuration.resolved(for: data)
        self.configuration = configuration
        self.data = data
        self.modelled = modelled
        position = Self.positions(of: modelled, itemCount: data.itemCount)
        var g = Self.gram(byItem: data.byItem, byUser: data.byUser, modelled: modelled, position: position, binarize: configuration.binarize)
        for i in 0..<n { g[i * n + i] += lambda }
        let info = BLAS.invertSymmetricPositiveDefinite(&g, n: n)
        guard info == 0 else {
            throw ModelError(.diverged, "EASE: XᵀX + λI is not positive definite (minor \(info))", hint: "raise lambda")
        }
        // B = I − P·diag(1/diag(P)): B[i, j] = −P[i, j] / P[j, j], zero diagonal.
        let diagonal = (0..<n).map { g[$0 * n + $0] }
        g.withUnsafeMutableBufferPointer { buffer in
            let b = SharedBuffer(buffer)
            parallelFor(n, minimumChunk: 64) { i in
                for j in 0..<n { b[i * n + j] = i == j ? 0 : -b[i * n + j] / diagonal[j] }
            }
        }
        weights = DenseMatrix(rows: n, columns: n, storage: g)
        try Self.checkFinite(weights)
    }

    /// New items come without interactions, so the weights among the modelled items stay as
    /// they are (a fit on the grown data gives the same, up to rounding) and the new items
    /// score 0: no second Cholesky.
    public func extendingCatalogue(to data: InteractionMatrix) throws(ModelError) -> any RecommendationModel {
        guard data.extendsCatalogue(of: self.data) else { return try EASE(fitting: data, configuration: configuration) }
        return EASE(configuration: configuration, data: data, modelled: modelled, position: Self.positions(of: modelled, itemCount: data.itemCount), weights: weights)
    }

    init(configuration: Configuration, data: InteractionMatrix, modelled: [Int32], position: [Int32], weights: DenseMatrix) {
        self.configuration = configuration
        self.data = data
        self.modelled = modelled
        self.position = position
        self.weights = weights
    }

    static func positions(of modelled: [Int32], itemCount: Int) -> [Int32] {
        var position = [Int32](repeating: -1, count: itemCount)
        for (a, item) in modelled.enumerated() { position[Int(item)] = Int32(a) }
        return position
    }

    /// XᵀX over the modelled items as a dense row-major matrix, one row per worker at a time,
    /// for X given by rows both ways (items × users and users × items, the same values).
    static func gram(byItem: SparseMatrix, byUser: SparseMatrix, modelled: [Int32], position: [Int32], binarize: Bool) -> [Float] {
        let n = modelled.count
        var g = [Float](repeating: 0, count: n * n)
        g.withUnsafeMutableBufferPointer { buffer in
            let out = SharedBuffer(buffer)
            parallelFor(n, minimumChunk: 16) { a in
                let row = out.base + a * n
                for k in byItem.entries(ofRow: Int(modelled[a])) {
                    let x = binarize ? 1 : byItem.values[k]
                    let user = Int(byItem.columns[k])
                    for m in byUser.entries(ofRow: user) { row[Int(position[Int(byUser.columns[m])])] += x * (binarize ? 1 : byUser.values[m]) }
                }
            }
        }
        return g
    }

    static func checkFinite(_ weights: DenseMatrix) throws(ModelError) {
        guard weights.storage.allFinite else {
            throw ModelError(.diverged, "EASE produced NaN or infinite weights", hint: "raise lambda")
        }
    }

    public func scores(forUser user: Int) -> [Float] {
        let byUser = data.byUser
        return profileScores(byUser.columns(ofRow: user), values: byUser.values(ofRow: user))
    }

    public var scoresAnyHistory: Bool { true }

    /// x·B for any history: the same formula as for a training user, so a new event counts at
    /// once. Items the model has no weights for (no training interactions) add nothing.
    public func scores(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float] {
        try validateHistory(items, values: values)
        return profileScores(items, values: values)
    }

    public var scoresHistoryBySum: Bool { true }

    /// `factor` × x_j · B[j, ·] for history item j.
    public func addHistoryTerm(item: Int32, value: Float, factor: Float, to scores: inout [Float]) {
        guard item >= 0, Int(item) < position.count, position[Int(item)] >= 0, scores.count == data.itemCount else { return }
        let n = modelled.count, weight = factor * (configuration.binarize ? 1 : value)
        weights.storage.withUnsafeBufferPointer { b in
            let row = b.baseAddress! + Int(position[Int(item)]) * n
            scores.withUnsafeMutableBufferPointer { s in
                if n == s.count {
                    VectorKernels.axpy(weight, row, s.baseAddress!, n)   // every item is modelled, in order
                } else {
                    for (a, target) in modelled.enumerated() { s[Int(target)] += weight * row[a] }
                }
            }
        }
    }

    func profileScores<Items: Collection<Int32>, Values: Collection<Float>>(_ items: Items, values: Values) -> [Float] {
        let n = modelled.count
        var compact = [Float](repeating: 0, count: n)
        weights.storage.withUnsafeBufferPointer { b in
            compact.withUnsafeMutableBufferPointer { s in
                for (item, value) in zip(items, values) where position[Int(item)] >= 0 {
                    VectorKernels.axpy(configuration.binarize ? 1 : value, b.baseAddress! + Int(position[Int(item)]) * n, s.baseAddress!, n)
                }
            }
        }
        return Self.expand(compact, modelled: modelled, itemCount: data.itemCount)
    }

    public func explanation(user: Int, item: Int) -> Explanation? {
        explanation(of: item, history: data.byUser.columns(ofRow: user), values: data.byUser.values(ofRow: user))
    }

    public func explanation(history: [Int32], values: [Float], trainedUser user: Int?, item: Int) -> Explanation? {
        guard explainable(history, values: values, items: [item]) else { return nil }
        return explanation(of: item, history: history, values: values)
    }

    /// Each history item's term x_j·B[j, i] of the score of `item`.
    func explanation(of item: Int, history: some Collection<Int32>, values: some Collection<Float>) -> Explanation {
        let n = modelled.count, target = position[item]
        guard target >= 0 else { return Explanation(sumsToScore: true) }
        let parts: [(index: Int32, weight: Float)] = zip(history, values).compactMap { column, value in
            let j = position[Int(column)]
            guard j >= 0 else { return nil }
            return (column, (configuration.binarize ? 1 : value) * weights.storage[Int(j) * n + Int(target)])
        }
        return Explanation(items: parts, sumsToScore: true)
    }

    /// Compact scores over `modelled` spread to every item index (others 0).
    static func expand(_ compact: [Float], modelled: [Int32], itemCount: Int) -> [Float] {
        var scores = [Float](repeating: 0, count: itemCount)
        for (a, item) in modelled.enumerated() { scores[Int(item)] = compact[a] }
        return scores
    }

    /// The items with at least one training interaction, ascending.
    static func modelledItems(of data: InteractionMatrix) -> [Int32] {
        (0..<data.itemCount).filter { data.byItem.count(ofRow: $0) > 0 }.map(Int32.init)
    }

    /// "on N items needs a N×N float32 matrix, … GiB, more than max-memory-gb=…" when a float32
    /// matrix over `items` × `items` (EASE's weights, GF-CF's linear filter) would pass `limit`
    /// GiB; nil when it fits.
    static func squareMatrixExcess(items n: Int, limit: Double) -> String? {
        let gib = Double(n) * Double(n) * 4 / 1_073_741_824
        return gib > limit ? "on \(n) items needs a \(n)×\(n) float32 matrix, \(String(format: "%.1f", gib)) GiB, more than max-memory-gb=\(limit)" : nil
    }

    /// Why EASE under `configuration` cannot fit `data` (its items with interactions, squared,
    /// past its memory limit), or nil when it can.
    public static func sizeProblem(_ data: InteractionMatrix, configuration: Configuration = Configuration()) -> String? {
        squareMatrixExcess(items: modelledItems(of: data).count, limit: configuration.maximumMemoryGB).map { "EASE " + $0 }
    }

    /// The weight B[from, to] between two item indices (0 when either has no training data).
    public func weight(from: Int, to: Int) -> Float {
        let a = position[from], b = position[to]
        return a < 0 || b < 0 ? 0 : weights.storage[Int(a) * modelled.count + Int(b)]
    }

    /// The terms `B[j, i] · x_uj` that make up the score of `item` for `user`, one per history
    /// item j; they sum to the score.
    public func explain(user: Int, item: Int) -> [(item: Int32, contribution: Float)] {
        zip(data.items(ofUser: user), data.byUser.values(ofRow: user)).map { j, value in
            (j, weight(from: Int(j), to: item) * (configuration.binarize ? 1 : value))
        }
    }

    /// Similar items: the weights with which other items predict `item`, B[j, item].
    public func itemSimilarities(to item: Int) -> [Float]? {
        (0..<data.itemCount).map { weight(from: $0, to: item) }
    }

    public func archive(into archive: inout ModelArchive) {
        archive.arrays["ease.weights"] = .float32(weights.storage)
        archive.arrays["ease.items"] = .int32(modelled)
    }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration.resolved(for: data).configuration
        self.data = data
        let (storage, modelled) = try ModelArchive.mapError { () throws(DataError) in
            (try archive.floatBuffer("ease.weights"), try archive.int32s("ease.items"))
        }
        guard storage.count == modelled.count * modelled.count, modelled.allSatisfy({ $0 >= 0 && Int($0) < data.itemCount }) else {
            throw ModelError(.corruptModel, "the EASE weights do not match the items")
        }
        self.modelled = modelled
        position = Self.positions(of: modelled, itemCount: data.itemCount)
        weights = DenseMatrix(rows: modelled.count, columns: modelled.count, storage: storage)
    }
}
