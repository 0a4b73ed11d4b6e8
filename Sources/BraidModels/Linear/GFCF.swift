public import BraidCore
internal import BraidNeural
internal import Foundation

/// GF-CF, graph-filter collaborative filtering (Shen et al., "How Powerful is Graph
/// Convolution for Recommendation?", CIKM 2021): with R̃ = D_U^{-1/2} R D_I^{-1/2} the
/// interaction matrix normalized by both degrees, a user's scores are
/// `r · (R̃ᵀR̃ + α · D_I^{-1/2} V Vᵀ D_I^{1/2})`: a linear low-pass filter (the normalized
/// item-item co-occurrence) plus the "ideal" low-pass filter, V the `factors` leading right
/// singular vectors of R̃. The interactions count as 0/1, as in the paper.
///
/// The singular vectors come from randomized subspace iteration (Halko, Martinsson & Tropp
/// 2011, algorithm 4.4 with a Rayleigh–Ritz step) on the sparse R̃, in double precision: the
/// spectrum of R̃ decays slowly (on ml-100k σ₁ = 1, σ₂₄ ≈ 0.40, σ₄₈ ≈ 0.35), so the default of
/// 16 iterations with 16 extra vectors, which capture 99.9% of the leading 48-dimensional
/// subspace there (8 iterations: 97%; a NumPy check against `scipy.sparse.linalg.svds`). With `linear=false` only the ideal filter scores, and no
/// items × items matrix is formed.
///
/// Every score is a sum of one term per history item, so explanations add up to it.
public struct GFCF: RecommendationModel {
    public struct Configuration: ModelConfiguration {
        /// The number of singular vectors in the ideal low-pass filter. 48, chosen on the six
        /// MovieLens development splits carved from the benchmark's random training parts
        /// (ml-100k's four, ml-latest-small's two): GF-CF's NDCG@10 was on average 0.962 of
        /// EASE's at 48, 0.953 at 64, 0.947 at 32, 0.932 at 128 and 0.844 at 256 (the paper's
        /// value for catalogues of 40,000–90,000 items).
        public var factors = 48
        /// The ideal filter's weight; the paper's 0.3.
        public var alpha: Float = 0.3
        /// Include the linear filter R̃ᵀR̃ (an items × items matrix, as EASE's); nil (the
        /// default, `linear=auto`): include it when it fits in `maximumMemoryGB` (8 GiB: about
        /// 46,000 items with interactions), else score by the ideal filter alone and say so on
        /// stderr. Resolved at fit and saved.
        public var linear: Bool?
        /// Whether the linear filter is included (`linear` as resolved at fit).
        var includesLinear: Bool { linear ?? true }
        /// Subspace iterations and extra vectors of the randomized SVD.
        public var iterations = 16
        public var oversampling = 16
        public var seed: UInt64 = 42
        /// Refuse fits whose items² buffer would exceed this many GiB (with `linear`).
        public var maximumMemoryGB: Double = 8

        public init() {}

        public init(parameters: ModelParameters) throws(ModelError) {
            try parameters.checkKnown(["factors", "alpha", "linear", "iterations", "oversampling", "seed", "max-memory-gb"])
            factors = try parameters.int("factors", default: factors, range: 1...100_000)
            alpha = try parameters.float("alpha", default: alpha, range: 0...1e6)
            if let text = parameters.string("linear"), text.lowercased() != "auto" { linear = try parameters.bool("linear", default: true) }
            iterations = try parameters.int("iterations", default: iterations, range: 1...1000)
            oversampling = try parameters.int("oversampling", default: oversampling, range: 0...100_000)
            seed = UInt64(try parameters.int("seed", default: Int(seed), range: 0...Int.max))
            maximumMemoryGB = try parameters.double("max-memory-gb", default: maximumMemoryGB, range: 0.001...1e6)
            guard linear != false || alpha > 0 else {
                throw ModelError(.invalidParameter, "gfcf with linear=false and alpha=0 scores nothing",
                                 hint: "set alpha above 0, or linear=true")
            }
        }
    }

    public static let name = "gfcf"
    public static let summary = "GF-CF graph filter (Shen et al. 2021): normalized item co-occurrence plus an ideal low-pass filter from a randomized SVD"

    public let configuration: Configuration
    public private(set) var data: InteractionMatrix
    /// The items with training interactions, ascending; other items score 0.
    public let modelled: [Int32]
    private(set) var position: [Int32]
    /// R̃ᵀR̃ over `modelled`, row-major (empty without `linear`).
    public let linearFilter: DenseMatrix
    /// The leading right singular vectors of R̃, one row of `rank` values per modelled item.
    public let vectors: DenseMatrix
    /// The singular values behind `vectors`, descending.
    public let singularValues: [Float]
    /// Per modelled item, d^{-1/2} (history side) and d^{1/2} (scored side) of its degree.
    let inverseRoot: [Float], root: [Float]
    /// `vectors` packed for `VectorKernels.scorePanels`, built by the first score.
    private let packed = PackedItems()

    public init(fitting data: InteractionMatrix, configuration: Configuration = Configuration()) throws(ModelError) {
        guard data.interactionCount > 0 else { throw ModelError(.noTrainingData, "GF-CF needs at least one interaction") }
        let modelled = EASE.modelledItems(of: data)
        let n = modelled.count
        var configuration = configuration
        if configuration.linear != false, let excess = EASE.squareMatrixExcess(items: n, limit: configuration.maximumMemoryGB) {
            let problem = "GF-CF's linear filter " + excess
            guard configuration.linear == nil, configuration.alpha > 0 else {
                throw ModelError(.tooLarge, problem, hint: "set --param linear=false (the ideal filter alone), raise max-memory-gb, or reduce the catalogue with --min-item-interactions")
            }
            TrainingLog.reportOnce("gfcf: \(problem), so it scores by the ideal filter alone (linear=true insists)")
            configuration.linear = false
        }
        configuration.linear = configuration.includesLinear
        self.configuration = configuration
        self.data = data
        self.modelled = modelled
        position = EASE.positions(of: modelled, itemCount: data.itemCount)
        let itemDegree = (0..<data.itemCount).map { Float(data.byItem.count(ofRow: $0)) }
        let userDegree = (0..<data.userCount).map { Float(data.byUser.count(ofRow: $0)) }
        // R̃'s entries 1/√(d_u·d_i), stored both ways.
        let byUser = data.byUser.mapValues { u, i, _ in 1 / (userDegree[u] * itemDegree[Int(i)]).squareRoot() }
        let byItem = data.byItem.mapValues { i, u, _ in 1 / (userDegree[Int(u)] * itemDegree[i]).squareRoot() }
        (inverseRoot, root) = Self.degreeRoots(modelled, data)
        if configuration.includesLinear {
            linearFilter = DenseMatrix(rows: n, columns: n,
                                       storage: EASE.gram(byItem: byItem, byUser: byUser, modelled: modelled, position: position, binarize: false))
        } else {
            linearFilter = DenseMatrix(rows: 0, columns: 0)
        }
        let activeUsers = (0..<data.userCount).filter { data.byUser.count(ofRow: $0) > 0 }.count
        let rank = min(configuration.factors, n, activeUsers)
        let svd = SubspaceIteration(byUser: byUser, byItem: byItem, modelled: modelled, position: position)
            .leadingRightSingularVectors(rank, oversampling: configuration.oversampling, iterations: configuration.iterations, seed: configuration.seed)
        vectors = svd.vectors
        singularValues = svd.values
        guard vectors.storage.allFinite, linearFilter.storage.allFinite else {
            throw ModelError(.diverged, "GF-CF produced NaN or infinite values")
        }
    }

    /// New items come without interactions: the filters over the modelled items stay as they
    /// are (a fit on the grown data gives the same, up to rounding) and the new items score 0.
    public func extendingCatalogue(to data: InteractionMatrix) throws(ModelError) -> any RecommendationModel {
        guard data.extendsCatalogue(of: self.data) else { return try GFCF(fitting: data, configuration: configuration) }
        var grown = self
        grown.data = data
        grown.position = EASE.positions(of: modelled, itemCount: data.itemCount)
        return grown
    }

    public var rank: Int { vectors.columns }

    /// d^{-1/2} and d^{1/2} of each modelled item's degree.
    static func degreeRoots(_ modelled: [Int32], _ data: InteractionMatrix) -> (inverse: [Float], root: [Float]) {
        let root = modelled.map { Float(data.byItem.count(ofRow: Int($0))).squareRoot() }
        return (root.map { 1 / $0 }, root)
    }

    public func scores(forUser user: Int) -> [Float] {
        profileScores(data.byUser.columns(ofRow: user))
    }

    public var scoresAnyHistory: Bool { true }

    /// The same filters applied to any history; its values are ignored, as in training.
    public func scores(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float] {
        try validateHistory(items, values: values)
        return profileScores(items)
    }

    public var scoresHistoryBySum: Bool { true }

    /// History item j's term: R̃ᵀR̃[j, ·] + α d_j^{-1/2} (V_j · V_i) d_i^{1/2}.
    public func addHistoryTerm(item: Int32, value: Float, factor: Float, to scores: inout [Float]) {
        guard item >= 0, Int(item) < position.count, position[Int(item)] >= 0, scores.count == data.itemCount else { return }
        for (a, term) in compactScores(CollectionOfOne(item)).enumerated() { scores[Int(modelled[a])] += factor * term }
    }

    func profileScores<Items: Collection<Int32>>(_ items: Items) -> [Float] {
        EASE.expand(compactScores(items), modelled: modelled, itemCount: data.itemCount)
    }

    /// `scores(forUser:)` of each of `users`, the same values: the ideal filter's products for
    /// the block in one pass over the packed vectors (`PackedItems.scores(of:count:factors:)`).
    public func scores(forUsers users: [Int]) -> [[Float]]? {
        compactScores(ofHistories: users.map { data.byUser.columns(ofRow: $0) }).map {
            EASE.expand($0, modelled: modelled, itemCount: data.itemCount)
        }
    }

    /// The scores of a history over the modelled items: the linear filter's rows of its items,
    /// plus α d_i^{1/2} (V_i · y) with y = Σ_j d_j^{-1/2} V_j over them. Unknown items are skipped.
    func compactScores<Items: Collection<Int32>>(_ items: Items) -> [Float] {
        compactScores(ofHistories: [items])[0]
    }

    /// `compactScores(_:)` of each history, the V · y products of all of them in one pass.
    func compactScores<Items: Collection<Int32>>(ofHistories histories: [Items]) -> [[Float]] {
        let n = modelled.count, k = rank, alpha = configuration.alpha
        var parts = histories.map { linearPart($0) }
        guard k > 0, alpha != 0 else { return parts.map(\.compact) }
        // V · y for every modelled item, each range of packed vectors for every history in turn.
        let ideal = packed.scores(of: parts.flatMap(\.projected), count: parts.count, factors: vectors)
        return parts.indices.map { h in
            var compact: [Float] = []
            swap(&compact, &parts[h].compact)
            compact.withUnsafeMutableBufferPointer { compact in
                root.withUnsafeBufferPointer { root in
                    ideal[h].withUnsafeBufferPointer { ideal in
                        for a in 0..<n { compact[a] += alpha * root[a] * ideal[a] }
                    }
                }
            }
            return compact
        }
    }

    /// A history's linear filter rows summed over the modelled items, and its projection
    /// y = Σ_j d_j^{-1/2} V_j.
    private func linearPart<Items: Collection<Int32>>(_ items: Items) -> (compact: [Float], projected: [Float]) {
        let n = modelled.count, k = rank
        var compact = [Float](repeating: 0, count: n)
        var projected = [Float](repeating: 0, count: k)
        linearFilter.storage.withUnsafeBufferPointer { p in
            vectors.storage.withUnsafeBufferPointer { v in
                compact.withUnsafeMutableBufferPointer { s in
                    projected.withUnsafeMutableBufferPointer { y in
                        for item in items where item >= 0 && Int(item) < position.count && position[Int(item)] >= 0 {
                            let a = Int(position[Int(item)])
                            if configuration.includesLinear { VectorKernels.axpy(1, p.baseAddress! + a * n, s.baseAddress!, n) }
                            if k > 0 { VectorKernels.axpy(inverseRoot[a], v.baseAddress! + a * k, y.baseAddress!, k) }
                        }
                    }
                }
            }
        }
        return (compact, projected)
    }

    /// The term history item at position `a` adds to the score of the item at position `b`.
    func term(from a: Int, to b: Int) -> Float {
        let k = rank
        var ideal: Float = 0
        for f in 0..<k { ideal += vectors.storage[a * k + f] * vectors.storage[b * k + f] }
        return (configuration.includesLinear ? linearFilter.storage[a * modelled.count + b] : 0) + configuration.alpha * inverseRoot[a] * root[b] * ideal
    }

    public func explanation(user: Int, item: Int) -> Explanation? { explanation(of: item, history: data.items(ofUser: user)) }

    public func explanation(history: [Int32], values: [Float], trainedUser user: Int?, item: Int) -> Explanation? {
        guard explainable(history, values: values, items: [item]) else { return nil }
        return explanation(of: item, history: history)
    }

    /// Each history item's term of the score of `item`.
    func explanation(of item: Int, history: some Collection<Int32>) -> Explanation {
        let b = position[item]
        guard b >= 0 else { return Explanation(sumsToScore: true) }
        let parts: [(index: Int32, weight: Float)] = history.compactMap { j in
            let a = position[Int(j)]
            return a >= 0 ? (j, term(from: Int(a), to: Int(b))) : nil
        }
        return Explanation(items: parts, sumsToScore: true)
    }

    /// Similar items: the terms with which every other item, as a one-item history, scores `item`.
    public func itemSimilarities(to item: Int) -> [Float]? {
        let b = position[item]
        return (0..<data.itemCount).map { j in
            let a = position[j]
            return a < 0 || b < 0 || j == item ? 0 : term(from: Int(a), to: Int(b))
        }
    }

    public func archive(into archive: inout ModelArchive) {
        archive.arrays["gfcf.items"] = .int32(modelled)
        archive.arrays["gfcf.vectors"] = .float32(vectors.storage)
        archive.arrays["gfcf.singular-values"] = .float32(FloatBuffer(singularValues))
        if configuration.includesLinear { archive.arrays["gfcf.linear"] = .float32(linearFilter.storage) }
    }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        let (modelled, vectorStorage, values) = try ModelArchive.mapError { () throws(DataError) in
            (try archive.int32s("gfcf.items"), try archive.floatBuffer("gfcf.vectors"), try archive.floats("gfcf.singular-values"))
        }
        let n = modelled.count, k = values.count
        guard modelled.allSatisfy({ $0 >= 0 && Int($0) < data.itemCount && data.byItem.count(ofRow: Int($0)) > 0 }), vectorStorage.count == n * k else {
            throw ModelError(.corruptModel, "the GF-CF vectors do not match the items")
        }
        if configuration.includesLinear {
            let storage = try ModelArchive.mapError { () throws(DataError) in try archive.floatBuffer("gfcf.linear") }
            guard storage.count == n * n else { throw ModelError(.corruptModel, "the GF-CF linear filter does not match the items") }
            linearFilter = DenseMatrix(rows: n, columns: n, storage: storage)
        } else {
            linearFilter = DenseMatrix(rows: 0, columns: 0)
        }
        self.modelled = modelled
        position = EASE.positions(of: modelled, itemCount: data.itemCount)
        vectors = DenseMatrix(rows: n, columns: k, storage: vectorStorage)
        singularValues = values
        (inverseRoot, root) = Self.degreeRoots(modelled, data)
    }
}

/// The leading right singular vectors of a sparse matrix A (users × items, given by rows both
/// ways) over a subset of its columns, by randomized subspace iteration: Q ← orth(AᵀA·Q)
/// from a Gaussian start, then the Rayleigh–Ritz step on the small matrix (AQ)ᵀ(AQ), whose
/// eigenvectors rotate Q onto the singular vectors. Double precision throughout.
struct SubspaceIteration {
    let byUser: SparseMatrix, byItem: SparseMatrix
    let modelled: [Int32], position: [Int32]

    /// `rank` vectors (n × rank, row-major floats) and their singular values, descending.
    func leadingRightSingularVectors(_ rank: Int, oversampling: Int, iterations: Int, seed: UInt64) -> (vectors: DenseMatrix, values: [Float]) {
        let n = modelled.count
        let width = min(n, rank + oversampling)
        guard rank > 0, width > 0 else { return (DenseMatrix(rows: n, columns: 0), []) }
        var rng = SeededGenerator(seed: seed)
        var q = (0..<(n * width)).map { _ in rng.nextGaussian() }
        orthonormalize(&q, rows: n, columns: width, rng: &rng)
        for _ in 0..<iterations {
            q = gramProduct(q, width: width)
            orthonormalize(&q, rows: n, columns: width, rng: &rng)
        }
        // Rayleigh–Ritz: (AQ)ᵀ(AQ) = W Λ Wᵀ, V = Q W, σ = √λ.
        let small = Self.gram(userProduct(q, width: width), rows: byUser.rowCount, columns: width)
        let (eigenvalues, eigenvectors) = SymmetricEigen.jacobi(small, order: width)
        let order = eigenvalues.indices.sorted { eigenvalues[$0] > eigenvalues[$1] }.prefix(rank)
        // W: the kept eigenvectors as columns, width × rank.
        var w = [Double](repeating: 0, count: width * rank)
        for (c, e) in order.enumerated() { for a in 0..<width { w[a * rank + c] = eigenvectors[a * width + e] } }
        var v = [Double](repeating: 0, count: n * rank)
        q.withUnsafeBufferPointer { q in
            w.withUnsafeBufferPointer { w in
                v.withUnsafeMutableBufferPointer { v in
                    BLAS.gemm(m: n, n: rank, k: width, a: q.baseAddress!, lda: width, b: w.baseAddress!, ldb: rank, c: v.baseAddress!, ldc: rank)
                }
            }
        }
        return (DenseMatrix(rows: n, columns: rank, storage: v.map(Float.init)), order.map { Float(max(0, eigenvalues[$0]).squareRoot()) })
    }

    /// A·Q: one row per user.
    func userProduct(_ q: [Double], width: Int) -> [Double] {
        let position = position
        return Self.multiply(byUser, rows: byUser.rowCount, row: { $0 }, column: { Int(position[Int($0)]) }, q, width: width)
    }

    /// AᵀA·Q over the modelled columns.
    func gramProduct(_ q: [Double], width: Int) -> [Double] {
        let modelled = modelled
        return Self.multiply(byItem, rows: modelled.count, row: { Int(modelled[$0]) }, column: { Int($0) }, userProduct(q, width: width), width: width)
    }

    /// Row r of the result is Σ value · source[column(c)] over the entries (c, value) of the
    /// sparse matrix's row `row(r)`; columns mapped to −1 are skipped. One worker per row.
    static func multiply(_ matrix: SparseMatrix, rows: Int, row: @escaping @Sendable (Int) -> Int, column: @escaping @Sendable (Int32) -> Int,
                         _ source: [Double], width: Int) -> [Double] {
        var result = [Double](repeating: 0, count: rows * width)
        result.withUnsafeMutableBufferPointer { buffer in
            let out = SharedBuffer(buffer)
            parallelFor(rows, minimumChunk: 32) { r in
                let target = out.base + r * width
                for e in matrix.entries(ofRow: row(r)) {
                    let a = column(matrix.columns[e])
                    guard a >= 0 else { continue }
                    let w = Double(matrix.values[e])
                    for c in 0..<width { target[c] += w * source[a * width + c] }
                }
            }
        }
        return result
    }

    /// Orthonormal columns: CholeskyQR twice (Fukaya et al. 2014; Q ← Q·R⁻¹ with RᵀR = QᵀQ, by
    /// BLAS), which is as accurate as Householder QR when Q's condition number is below about
    /// 10⁸ in double precision, as after one step of the iteration from orthonormal columns.
    /// When a Cholesky factor breaks down (the matrix has lower rank than `columns`) it falls back
    /// to Gram–Schmidt, which replaces a vanishing column by a random one.
    func orthonormalize(_ m: inout [Double], rows: Int, columns: Int, rng: inout SeededGenerator) {
        for _ in 0..<2 {
            guard Self.choleskyQR(&m, rows: rows, columns: columns) else {
                gramSchmidt(&m, rows: rows, columns: columns, rng: &rng)
                return
            }
        }
    }

    /// One CholeskyQR step in place; false (and `m` untouched) when QᵀQ is not numerically
    /// positive definite.
    static func choleskyQR(_ m: inout [Double], rows: Int, columns w: Int) -> Bool {
        var gram = gram(m, rows: rows, columns: w)
        // Upper Cholesky factor R of the Gram matrix, row-major, in place.
        let largest = (0..<w).map { gram[$0 * w + $0] }.max() ?? 0
        guard largest > 0 else { return false }
        for j in 0..<w {
            var d = gram[j * w + j]
            for k in 0..<j { d -= gram[k * w + j] * gram[k * w + j] }
            guard d > 1e-13 * largest else { return false }
            let r = d.squareRoot()
            gram[j * w + j] = r
            for i in (j + 1)..<max(j + 1, w) {
                var v = gram[j * w + i]
                for k in 0..<j { v -= gram[k * w + j] * gram[k * w + i] }
                gram[j * w + i] = v / r
            }
        }
        m.withUnsafeMutableBufferPointer { q in
            gram.withUnsafeBufferPointer { r in BLAS.solveRightUpper(q.baseAddress!, rows: rows, columns: w, upper: r.baseAddress!) }
        }
        return true
    }

    /// MᵀM for a row-major `rows × columns` M.
    static func gram(_ m: [Double], rows: Int, columns w: Int) -> [Double] {
        var out = [Double](repeating: 0, count: w * w)
        m.withUnsafeBufferPointer { q in
            out.withUnsafeMutableBufferPointer { g in
                BLAS.gemm(m: w, n: w, k: rows, a: q.baseAddress!, lda: w, transposeA: true, b: q.baseAddress!, ldb: w, c: g.baseAddress!, ldc: w)
            }
        }
        return out
    }

    /// Orthonormal columns by classical Gram–Schmidt applied twice; a column that vanishes
    /// (the matrix has lower rank than `columns`) is replaced by a random one and orthogonalized.
    func gramSchmidt(_ m: inout [Double], rows: Int, columns: Int, rng: inout SeededGenerator) {
        // Column-major copy: each column contiguous.
        var t = [Double](repeating: 0, count: rows * columns)
        for i in 0..<rows { for c in 0..<columns { t[c * rows + i] = m[i * columns + c] } }
        t.withUnsafeMutableBufferPointer { t in
            for c in 0..<columns {
                let column = t.baseAddress! + c * rows
                var attempts = 0
                while true {
                    let before = (0..<rows).reduce(0.0) { $0 + column[$1] * column[$1] }.squareRoot()
                    for _ in 0..<2 {
                        for p in 0..<c {
                            let other = t.baseAddress! + p * rows
                            var h = 0.0
                            for i in 0..<rows { h += other[i] * column[i] }
                            for i in 0..<rows { column[i] -= h * other[i] }
                        }
                    }
                    let after = (0..<rows).reduce(0.0) { $0 + column[$1] * column[$1] }.squareRoot()
                    if after > 1e-10 * max(before, 1e-300), after > 0 {
                        for i in 0..<rows { column[i] /= after }
                        break
                    }
                    attempts += 1
                    if attempts > 3 || c >= rows {   // no direction left: a zero column
                        for i in 0..<rows { column[i] = 0 }
                        break
                    }
                    for i in 0..<rows { column[i] = rng.nextGaussian() }
                }
            }
        }
        for i in 0..<rows { for c in 0..<columns { m[i * columns + c] = t[c * rows + i] } }
    }
}

/// Eigenvalues and eigenvectors of a small dense symmetric matrix.
enum SymmetricEigen {
    /// Cyclic Jacobi rotations until the off-diagonal mass is negligible. Returns the
    /// eigenvalues and the eigenvectors as the columns of a row-major `order × order` matrix.
    static func jacobi(_ matrix: [Double], order n: Int, sweeps: Int = 100) -> (values: [Double], vectors: [Double]) {
        var a = matrix
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let scale = max((0..<n).reduce(0.0) { $0 + abs(a[$1 * n + $1]) }, 1e-300)
        for _ in 0..<sweeps {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<n { off += a[p * n + q] * a[p * n + q] } }
            if off.squareRoot() <= 1e-15 * scale { break }
            for p in 0..<n {
                for q in (p + 1)..<n where a[p * n + q] != 0 {
                    let apq = a[p * n + q]
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {   // columns p and q
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {   // rows p and q
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }
}
