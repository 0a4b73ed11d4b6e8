public import BraidCore
public import Foundation

/// EASE^R, the embarrassingly shallow autoencoder (Steck 2019): an item × item weight matrix
/// `B` with zero diagonal, in closed form `B = I − P · diag(1/diag(P))` with
/// `P = (XᵀX + λI)⁻¹`, inverted by LAPACK's Cholesky routines on the worker threads.
///
/// Memory ceiling: the Gram matrix and B share one items² float32 buffer (4·n² bytes: 144 MB
/// for 6,000 items, 1.6 GB for 20,000); fits that would need more than `max-memory-gb` are
/// refused before any work.
public struct EASE: RecommendationModel {
    public struct Configuration: ModelConfiguration {
        /// The L2 weight λ.
        public var lambda: Float = 500
        /// Use 0/1 instead of the interaction values.
        public var binarize = true
        /// Refuse fits whose items² buffer would exceed this many GiB.
        public var maximumMemoryGB: Double = 8

        public init() {}

        public init(parameters: ModelParameters) throws(ModelError) {
            try parameters.checkKnown(["lambda", "binarize", "max-memory-gb"])
            lambda = try parameters.float("lambda", default: lambda, range: 1e-9...1e12)
            binarize = try parameters.bool("binarize", default: binarize)
            maximumMemoryGB = try parameters.double("max-memory-gb", default: maximumMemoryGB, range: 0.001...1e6)
        }
    }

    public static let name = "ease"
    public static let summary = "EASE^R linear autoencoder (Steck 2019), closed form by Cholesky inversion"

    public let configuration: Configuration
    public let data: InteractionMatrix
    /// The item × item weights, row-major: score_i = Σ_j x_uj · B[j, i].
    public let weights: DenseMatrix

    public init(fitting data: InteractionMatrix, configuration: Configuration = Configuration()) throws(ModelError) {
        guard data.interactionCount > 0 else { throw ModelError(.noTrainingData, "EASE needs at least one interaction") }
        let n = data.itemCount
        let bytes = Double(n) * Double(n) * 4
        guard bytes <= configuration.maximumMemoryGB * 1_073_741_824 else {
            throw ModelError(.tooLarge, "EASE on \(n) items needs a \(n)×\(n) float32 matrix, \(String(format: "%.1f", bytes / 1_073_741_824)) GiB, more than max-memory-gb=\(configuration.maximumMemoryGB)",
                             hint: "raise --param max-memory-gb if the machine has the memory, or reduce the catalogue with --min-item-interactions")
        }
        self.configuration = configuration
        self.data = data
        var g = Self.gram(data, binarize: configuration.binarize)
        for i in 0..<n { g[i * n + i] += configuration.lambda }
        let info = BLAS.parallel { BLAS.invertSymmetricPositiveDefinite(&g, n: n) }
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

    /// XᵀX as a dense row-major items × items matrix, one row per worker at a time.
    static func gram(_ data: InteractionMatrix, binarize: Bool) -> [Float] {
        let n = data.itemCount
        var g = [Float](repeating: 0, count: n * n)
        let byItem = data.byItem, byUser = data.byUser
        g.withUnsafeMutableBufferPointer { buffer in
            let out = SharedBuffer(buffer)
            parallelFor(n, minimumChunk: 16) { i in
                let row = out.base + i * n
                for k in byItem.entries(ofRow: i) {
                    let x = binarize ? 1 : byItem.values[k]
                    let user = Int(byItem.columns[k])
                    for m in byUser.entries(ofRow: user) { row[Int(byUser.columns[m])] += x * (binarize ? 1 : byUser.values[m]) }
                }
            }
        }
        return g
    }

    static func checkFinite(_ weights: DenseMatrix) throws(ModelError) {
        guard weights.storage.allSatisfy(\.isFinite) else {
            throw ModelError(.diverged, "EASE produced NaN or infinite weights", hint: "raise lambda")
        }
    }

    public func scores(forUser user: Int) -> [Float] {
        let n = data.itemCount
        var scores = [Float](repeating: 0, count: n)
        let byUser = data.byUser
        weights.storage.withUnsafeBufferPointer { b in
            scores.withUnsafeMutableBufferPointer { s in
                for k in byUser.entries(ofRow: user) {
                    let x = configuration.binarize ? 1 : byUser.values[k]
                    VectorKernels.axpy(x, b.baseAddress! + Int(byUser.columns[k]) * n, s.baseAddress!, n)
                }
            }
        }
        return scores
    }

    /// The terms `B[j, i] · x_uj` that make up the score of `item` for `user`, one per history
    /// item j; they sum to the score.
    public func explain(user: Int, item: Int) -> [(item: Int32, contribution: Float)] {
        let n = data.itemCount
        return zip(data.items(ofUser: user), data.byUser.values(ofRow: user)).map { j, value in
            (j, weights.storage[Int(j) * n + item] * (configuration.binarize ? 1 : value))
        }
    }

    /// Similar items: the weights with which other items predict `item`, B[j, item].
    public func itemSimilarities(to item: Int) -> [Float]? {
        let n = data.itemCount
        return (0..<n).map { weights.storage[$0 * n + item] }
    }

    public func archive(into archive: inout ModelArchive) {
        archive.arrays["ease.weights"] = .float32(weights.storage)
    }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        let storage = try ModelArchive.mapError { () throws(DataError) in try archive.floats("ease.weights") }
        guard storage.count == data.itemCount * data.itemCount else {
            throw ModelError(.corruptModel, "the EASE weights do not match the items")
        }
        weights = DenseMatrix(rows: data.itemCount, columns: data.itemCount, storage: storage)
    }
}
