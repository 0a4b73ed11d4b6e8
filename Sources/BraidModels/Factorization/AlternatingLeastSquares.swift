public import BraidCore
internal import Foundation

/// Implicit-feedback alternating least squares (Hu, Koren & Volinsky 2008).
///
/// Each interaction value r becomes a preference p = 1 with confidence c = 1 + α·r (or
/// 1 + α·log(1 + r/ε)); every unobserved pair has p = 0, c = 1. Each half-iteration solves, for
/// every user in parallel, `(YᵀY + Yᵀ(C_u − I)Y + λ_u I) x_u = Yᵀ C_u p_u` — by a few conjugate
/// gradient steps warm-started from the previous factors (Takács, Pilászy & Tikk 2011) or
/// exactly by Cholesky — then the same for items. YᵀY comes from one BLAS sgemm per half.
///
/// By default λ_u = λ·n_u for a row with n_u interactions, the weighted-λ regularization of
/// Zhou et al. (2008); `regularization-scaling=none` takes λ_u = λ on every row, the objective
/// as Hu et al. and implicit write it.
public struct AlternatingLeastSquares: IterativeFactorizationModel {
    public enum Solver: String, Sendable, Codable, CaseIterable {
        case conjugateGradient = "cg"
        case cholesky
    }

    public enum ConfidenceScaling: String, Sendable, Codable, CaseIterable {
        /// `log` when the values are counts (a long tail of plays or views), else `linear`;
        /// resolved when the model is fitted, and saved resolved. Not the default: on a
        /// synthetic play-count set it lost to `linear` at α = 1 (see the README).
        case auto
        /// c = 1 + α·r
        case linear
        /// c = 1 + α·log(1 + r/ε)
        case log
    }

    /// How the L2 weight λ applies to a row (a user or an item) of the factors.
    public enum RegularizationScaling: String, Sendable, Codable, CaseIterable {
        /// λ·n for a row with n interactions (Zhou, Wilkinson, Schreiber & Pan 2008,
        /// "weighted-λ-regularization"): a row's penalty grows with its data term, so one λ
        /// suits sparse and dense data. The default: on four development splits carved from the
        /// benchmarks' training parts (ml-100k's random and temporal, ml-latest-small's random,
        /// Debian uploads' counts), λ = 0.2 came within 6% of the best constant λ on each, where
        /// the constant 0.01 scored 14–44% below it on the three MovieLens ones (see the README).
        case frequency
        /// λ on every row (Hu, Koren & Volinsky 2008; implicit's ALS).
        case none
    }

    public struct Configuration: ModelConfiguration {
        public var factors = 100
        /// λ: per interaction of the row with `frequency` scaling, per row with `none`.
        public var regularization: Float = 0.2
        public var regularizationScaling = RegularizationScaling.frequency
        public var alpha: Float = 1
        public var iterations = 15
        public var solver = Solver.conjugateGradient
        public var cgSteps = 3
        public var confidence = ConfidenceScaling.linear
        public var epsilon: Float = 1
        public var seed: UInt64 = 42

        public init() {}

        public init(parameters: ModelParameters) throws(ModelError) {
            try parameters.checkKnown(["factors", "regularization", "regularization-scaling", "alpha", "iterations", "solver", "cg-steps", "confidence",
                                       "epsilon", "seed"])
            factors = try parameters.int("factors", default: factors, range: 1...4096)
            regularization = try parameters.float("regularization", default: regularization, range: 0...1e9)
            regularizationScaling = try parameters.choice("regularization-scaling", default: regularizationScaling)
            alpha = try parameters.float("alpha", default: alpha, range: 0...1e9)
            iterations = try parameters.int("iterations", default: iterations, range: 0...100_000)
            solver = try parameters.choice("solver", default: solver)
            cgSteps = try parameters.int("cg-steps", default: cgSteps, range: 1...1000)
            confidence = try parameters.choice("confidence", default: confidence)
            epsilon = try parameters.float("epsilon", default: epsilon, range: 1e-9...1e9)
            seed = UInt64(try parameters.int("seed", default: Int(seed), range: 0...Int.max))
        }

        /// This configuration with `auto` resolved for `data`'s values.
        func resolved(for data: InteractionMatrix) -> Configuration {
            var out = self
            if confidence == .auto { out.confidence = data.valueKind == .counts ? .log : .linear }
            return out
        }

        /// λ on the diagonal of every row's system: the constant part.
        var sharedRegularization: Float { regularizationScaling == .none ? regularization : 0 }

        /// λ on the diagonal of a row with `interactions` interactions, beyond `sharedRegularization`.
        func rowRegularization(_ interactions: Int) -> Float {
            regularizationScaling == .frequency ? regularization * Float(interactions) : 0
        }

        func confidence(_ value: Float) -> Float {
            switch confidence {
            case .linear, .auto: 1 + alpha * abs(value)
            case .log: 1 + alpha * Foundation.log(1 + abs(value) / epsilon)
            }
        }
    }

    public static let name = "als"
    public static let summary = "implicit-feedback alternating least squares (Hu, Koren & Volinsky 2008), CG or Cholesky"

    public let configuration: Configuration
    public let data: InteractionMatrix
    public let factors: LatentFactors
    /// YᵀY + λI over the final item factors, computed once so that folding in a new history
    /// costs one f×f solve over the history's items.
    let foldInGram: DenseMatrix

    /// Fits, calling `onIteration(iteration, factors)` after each full iteration (for early
    /// stopping and progress); returning false stops training.
    public init(fitting data: InteractionMatrix, configuration: Configuration,
                onIteration: ((Int, LatentFactors) -> Bool)?) throws(ModelError) {
        guard data.interactionCount > 0 else { throw ModelError(.noTrainingData, "ALS needs at least one interaction") }
        let configuration = configuration.resolved(for: data)
        self.configuration = configuration
        self.data = data
        let f = configuration.factors
        var factors = LatentFactors(users: data.userCount, items: data.itemCount, factors: f, scale: 0.01, seed: configuration.seed)
        // Items first, users last: the served user factors are then solved against the final
        // item factors, the same system `explain(user:item:)` decomposes.
        for iteration in 0..<configuration.iterations {
            Self.solve(&factors.itemFactors, fixed: factors.userFactors, interactions: data.byItem, configuration: configuration)
            Self.solve(&factors.userFactors, fixed: factors.itemFactors, interactions: data.byUser, configuration: configuration)
            try factors.checkFinite(model: Self.name, iteration: iteration + 1)
            if let onIteration, !onIteration(iteration + 1, factors) { break }
        }
        self.factors = factors
        foldInGram = Self.foldInGram(factors.itemFactors, configuration: configuration)
    }

    /// YᵀY + λI of `itemFactors` (rows of items without data are zero, as ALS leaves them),
    /// with λ the regularization every row shares (none with `frequency` scaling, which adds
    /// each history's own). Y is the rows `including` accepts, less those that are all zero:
    /// a zero row adds nothing, so a catalogue of mostly items without data (500,000 items,
    /// 1,276 with interactions) sums only the few. They are gathered in order, so the same
    /// rows give the same bits whatever zero rows lie around them.
    static func foldInGram(_ itemFactors: DenseMatrix, configuration: Configuration, including: (Int) -> Bool = { _ in true }) -> DenseMatrix {
        let f = itemFactors.columns
        let kept = itemFactors.storage.withUnsafeBufferPointer { y in
            (0..<itemFactors.rows).filter { row in including(row) && y[(row * f)..<((row + 1) * f)].contains { $0 != 0 } }
        }
        let y = kept.count == itemFactors.rows ? itemFactors : itemFactors.rows(kept)
        var gram = BLAS.multiply(y, transposeA: true, y)
        for d in 0..<f { gram[d, d] += configuration.sharedRegularization }
        return gram
    }

    /// A model file written before `regularizationScaling` was fitted with a constant λ. Files
    /// since carry this flag (the configuration itself would read the new default).
    static let scalingKey = "als.regularization-scaling"

    /// `configuration` as the fit in `archive` used it.
    static func configuration(_ configuration: Configuration, as archive: ModelArchive) -> Configuration {
        var out = configuration
        if archive.scalars[scalingKey] == nil { out.regularizationScaling = .none }
        return out
    }

    /// One half-iteration: new rows of `target` given the `fixed` side.
    static func solve(_ target: inout DenseMatrix, fixed: DenseMatrix, interactions: SparseMatrix, configuration: Configuration) {
        let f = fixed.columns
        var gram = BLAS.multiply(fixed, transposeA: true, fixed)
        for d in 0..<f { gram[d, d] += configuration.sharedRegularization }
        let confidences = interactions.values.map { configuration.confidence($0) }
        let preferences = interactions.values.map { $0 > 0 ? Float(1) : 0 }
        let solver = configuration.solver, steps = configuration.cgSteps
        target.storage.withUnsafeMutableBufferPointer { targetBuffer in
            let out = SharedBuffer(targetBuffer)
            withPointers(fixed.storage, gram.storage, interactions.columns, confidences, preferences, interactions.rowStarts) { y, a0, columns, c, p, rowStarts in
                let template = RowProblem(f: f, gram: a0, fixed: y, columns: columns, confidences: c, preferences: p, entries: 0..<0)
                let starts = UnsafeSendablePointer(rowStarts)
                parallelChunks(interactions.rowCount, minimumChunk: 32) { rows in
                    var scratch = RowSolver(factors: f)
                    defer { scratch.release() }
                    for row in rows {
                        let x = out.base + row * f
                        let entries = starts.pointer[row]..<starts.pointer[row + 1]
                        if entries.isEmpty {
                            x.update(repeating: 0, count: f)
                            continue
                        }
                        var problem = template
                        problem.entries = entries
                        problem.rowRegularization = configuration.rowRegularization(entries.count)
                        switch solver {
                        case .conjugateGradient: scratch.conjugateGradient(problem, x: x, steps: steps)
                        case .cholesky: scratch.cholesky(problem, x: x)
                        }
                    }
                }
            }
        }
    }

    /// The factors of a new user from their history, solved exactly against the fitted item
    /// factors without refitting (the real-time fold-in). Throws when the two arrays differ in
    /// length or an item index is outside the catalogue.
    public func userVector(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float] {
        try validateHistory(items, values: values)
        return summed.userVector(summed.sum(items, values: values))
    }

    /// The exact ALS user solve `(YᵀC_uY + λ_uI) x = YᵀC_u p_u` against fixed item factors, as
    /// a sum of per-item terms: what ALS and the hybrid over it fold in, keep (their
    /// `RecommendationModel` summed history) and explain. The sum is laid out as f × f values of
    /// Yᵀ(C_u − I)Y (row-major: (c − 1)·y yᵀ per item), f of YᵀC_u p_u (c·p·y) and one that
    /// counts the history (λ_u grows with its length).
    struct SummedFoldIn {
        let factors: LatentFactors
        /// YᵀY + the shared λI (`foldInGram`'s).
        let gram: DenseMatrix
        let configuration: Configuration

        /// f × f + f + 1.
        var count: Int { factors.factorCount * (factors.factorCount + 1) + 1 }

        /// A valid history's sum, its terms added in item order.
        func sum(_ items: [Int32], values: [Float]) -> [Float] {
            var sum = [Float](repeating: 0, count: count)
            for k in items.indices.sorted(by: { items[$0] < items[$1] }) { add(item: items[k], value: values[k], factor: 1, to: &sum) }
            return sum
        }

        /// Adds `factor` × the item's term; nothing for an item outside the catalogue or a sum
        /// of the wrong length.
        func add(item: Int32, value: Float, factor: Float, to sum: inout [Float]) {
            let y = factors.itemFactors, f = y.columns
            guard item >= 0, Int(item) < y.rows, sum.count == count else { return }
            let c = configuration.confidence(value), p: Float = value > 0 ? 1 : 0
            y.storage.withUnsafeBufferPointer { yb in
                sum.withUnsafeMutableBufferPointer { s in
                    let yi = yb.baseAddress! + Int(item) * f, a = s.baseAddress!
                    for row in 0..<f { VectorKernels.axpy(factor * (c - 1) * yi[row], yi, a + row * f, f) }
                    VectorKernels.axpy(factor * c * p, yi, a + f * f, f)
                    a[f * f + f] += factor
                }
            }
        }

        /// The system of a sum: W = YᵀC_uY + λ_uI (`gram` + the sum's f × f part + λ_u I,
        /// row-major) and YᵀC_u p_u.
        func system(_ sum: [Float]) -> (matrix: FloatBuffer, rightSide: [Float]) {
            let f = factors.factorCount
            var a = gram.storage
            for k in 0..<(f * f) { a[k] += sum[k] }
            let own = configuration.rowRegularization(Int(sum[f * f + f].rounded()))
            for d in 0..<f { a[d * f + d] += own }
            return (a, Array(sum[(f * f)..<(f * f + f)]))
        }

        /// The user's factors from a sum, by Cholesky; zeros where W is not positive definite.
        func userVector(_ sum: [Float]) -> [Float] {
            let f = factors.factorCount
            var (a, x) = system(sum)
            let solved = a.withUnsafeMutableBufferPointer { ab in x.withUnsafeMutableBufferPointer { VectorKernels.choleskySolve(ab.baseAddress!, $0.baseAddress!, f) } }
            return solved ? x : [Float](repeating: 0, count: f)
        }

        /// Every item's score from a sum; zeros for a sum of the wrong length.
        func scores(_ sum: [Float]) -> [Float] {
            guard sum.count == count else { return [Float](repeating: 0, count: factors.itemFactors.rows) }
            return factors.scores(forUserVector: userVector(sum))
        }
    }

    var summed: SummedFoldIn { SummedFoldIn(factors: factors, gram: foldInGram, configuration: configuration) }

    /// Folding in sums the history's terms before one solve, so a user's system can be kept
    /// and updated by the items that came and went (`addHistoryTerm`): after one event a list
    /// costs the solve and the scores, not f² per history item.
    public var scoresHistoryBySum: Bool { true }
    public var historySumCount: Int { summed.count }

    public func historySum(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float] {
        try validateHistory(items, values: values)
        return summed.sum(items, values: values)
    }

    public func addHistoryTerm(item: Int32, value: Float, factor: Float, to sum: inout [Float]) {
        summed.add(item: item, value: value, factor: factor, to: &sum)
    }

    public func scores(fromHistorySum sum: [Float]) -> [Float] { summed.scores(sum) }

    public var scoresAnyHistory: Bool { true }

    /// Scores for a user given only their history (fold-in, then score).
    public func scores(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float] {
        factors.scores(forUserVector: try userVector(forHistory: items, values: values))
    }

    /// How much each history item contributed to the served score of `item` for `user`
    /// (Hu, Koren & Volinsky 2008, section 5): `s_ij · c_uj · p_uj` with `s = Y W_u Yᵀ`,
    /// `W_u = (YᵀC_uY + λ_uI)⁻¹`, over the final item factors. Only items with a positive
    /// preference (p_uj = 1) contribute. The user's served factors solve the same system, so
    /// the contributions sum to the served score: exactly (up to rounding) with
    /// `solver=cholesky`, and to within the conjugate-gradient tolerance with `solver=cg`.
    public func explain(user: Int, item: Int) -> [(item: Int32, contribution: Float)] {
        Self.explain(history: Array(data.items(ofUser: user)), values: Array(data.byUser.values(ofRow: user)), item: item,
                     factors: factors, gram: foldInGram, configuration: configuration)
    }

    /// `explain(user:item:)` of a history folded in by `foldIn` against `factors` with `gram`
    /// (`foldInGram`, or for the hybrid the warm items' alone): the contributions then sum to
    /// the folded-in score exactly, as they solve the same system.
    static func explain(history: [Int32], values: [Float], item: Int, factors: LatentFactors, gram: DenseMatrix,
                        configuration: Configuration) -> [(item: Int32, contribution: Float)] {
        let f = factors.factorCount
        let y = factors.itemFactors
        // W = YᵀC_uY + λ_uI = YᵀY + λ_uI + Σ (c − 1) y yᵀ, as the fold-in solves; then W v = y_item.
        let fold = SummedFoldIn(factors: factors, gram: gram, configuration: configuration)
        var w = fold.system(fold.sum(history, values: values)).matrix
        var v = y.row(item)
        w.withUnsafeMutableBufferPointer { wb in
            v.withUnsafeMutableBufferPointer { vb in _ = VectorKernels.choleskySolve(wb.baseAddress!, vb.baseAddress!, f) }
        }
        return zip(history, values).filter { $0.1 > 0 }.map { j, value in
            let yj = y.row(Int(j))
            let similarity = zip(yj, v).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            return (j, similarity * configuration.confidence(value))
        }
    }

    public func explanation(user: Int, item: Int) -> Explanation? {
        Self.explanation(explain(user: user, item: item), sumsToScore: configuration.solver == .cholesky)
    }

    /// A folded-in history solves its factors exactly, whatever the solver: its contributions
    /// sum to its score.
    public func explanation(history: [Int32], values: [Float], trainedUser user: Int?, item: Int) -> Explanation? {
        guard explainable(history, values: values, items: [item]) else { return nil }
        return Self.explanation(Self.explain(history: history, values: values, item: item, factors: factors, gram: foldInGram,
                                             configuration: configuration), sumsToScore: true)
    }

    /// `explain`'s contributions as an explanation by history items.
    static func explanation(_ parts: [(item: Int32, contribution: Float)], sumsToScore: Bool) -> Explanation {
        Explanation(items: parts.map { ($0.item, $0.contribution) }, sumsToScore: sumsToScore)
    }

    public func archive(into archive: inout ModelArchive) {
        factors.archive(into: &archive)
        archive.scalars[Self.scalingKey] = 1
    }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        let configuration = Self.configuration(configuration.resolved(for: data), as: archive)
        self.configuration = configuration
        self.data = data
        factors = try LatentFactors(archive: archive, data: data)
        foldInGram = Self.foldInGram(factors.itemFactors, configuration: configuration)
    }

    /// New items come without interactions, so a fit would leave their factors zero and
    /// everything else as it is (`FactorizationModel.extendingCatalogue(to:)`): the factors
    /// gain zero rows, and YᵀY, to which zero rows add nothing, is kept rather than worked out
    /// again. Any other `data` is fitted anew.
    public func extendingCatalogue(to data: InteractionMatrix) throws(ModelError) -> any RecommendationModel {
        guard data.extendsCatalogue(of: self.data) else { return try Self(fitting: data, configuration: configuration) }
        return Self(configuration: configuration, data: data, factors: factors.addingItems(data.itemCount - self.data.itemCount),
                    foldInGram: foldInGram)
    }

    private init(configuration: Configuration, data: InteractionMatrix, factors: LatentFactors, foldInGram: DenseMatrix) {
        self.configuration = configuration
        self.data = data
        self.factors = factors
        self.foldInGram = foldInGram
    }
}

/// Borrows raw pointers to six arrays for the duration of `body`.
func withPointers<R>(_ a: FloatBuffer, _ b: FloatBuffer, _ c: [Int32], _ d: [Float], _ e: [Float], _ g: [Int],
                     _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Int32>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Int>) -> R) -> R {
    a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeBufferPointer { pc in
        d.withUnsafeBufferPointer { pd in e.withUnsafeBufferPointer { pe in g.withUnsafeBufferPointer { pg in
            body(pa.baseAddress!, pb.baseAddress!, pc.baseAddress ?? UnsafePointer(bitPattern: 8)!, pd.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                 pe.baseAddress ?? UnsafePointer(bitPattern: 8)!, pg.baseAddress!)
        } } }
    } } }
}

/// One row's least-squares problem in ALS: `A x = b` with `A = A₀ + λ_row I + Σ (c−1) y yᵀ`
/// and `b = Σ c·p·y` over the row's entries.
struct RowProblem: @unchecked Sendable {
    let f: Int
    let gram: UnsafePointer<Float>
    let fixed: UnsafePointer<Float>
    let columns: UnsafePointer<Int32>
    let confidences: UnsafePointer<Float>
    let preferences: UnsafePointer<Float>
    var entries: Range<Int>
    /// The row's own regularization, beyond what `gram` holds (`Configuration.rowRegularization`).
    var rowRegularization: Float = 0
}

/// Per-thread scratch space and the two solvers of ALS. Call `release()` when done.
struct RowSolver {
    let f: Int
    let r: UnsafeMutablePointer<Float>, p: UnsafeMutablePointer<Float>, ap: UnsafeMutablePointer<Float>, matrix: UnsafeMutablePointer<Float>
    private var gather: UnsafeMutablePointer<Float>
    private var gatherWeights: UnsafeMutablePointer<Float>
    private var gatherCoefficients: UnsafeMutablePointer<Float>
    private var gatherCapacity = 0

    init(factors: Int) {
        f = factors
        let base = UnsafeMutablePointer<Float>.allocate(capacity: 3 * factors + factors * factors)
        base.initialize(repeating: 0, count: 3 * factors + factors * factors)
        r = base
        p = base + factors
        ap = base + 2 * factors
        matrix = base + 3 * factors
        gather = .allocate(capacity: 0)
        gatherWeights = .allocate(capacity: 0)
        gatherCoefficients = .allocate(capacity: 0)
    }

    /// Frees the scratch space.
    func release() {
        r.deallocate()
        gather.deallocate()
        gatherWeights.deallocate()
        gatherCoefficients.deallocate()
    }

    /// Warm-started conjugate gradient from the current `x`. The row's fixed-side vectors are
    /// first gathered into a contiguous block, so the repeated passes run from L1/L2 cache.
    mutating func conjugateGradient(_ problem: RowProblem, x: UnsafeMutablePointer<Float>, steps: Int) {
        let f = self.f
        let n = problem.entries.count
        if gatherCapacity < n { growGather(n) }
        let block = gather, weights = gatherWeights
        var k = 0
        for entry in problem.entries {
            (block + k * f).update(from: problem.fixed + Int(problem.columns[entry]) * f, count: f)
            weights[k] = problem.confidences[entry] - 1
            k += 1
        }
        // r = b − A x, with b = Σ c·p·y: per row the coefficient c·p − (c − 1)·(y·x).
        let coefficients = gatherCoefficients
        VectorKernels.symmetricMatrixVector(problem.gram, x, r, f)
        let own = problem.rowRegularization
        for d in 0..<f { r[d] = -r[d] - own * x[d] }
        VectorKernels.multiplyRows(block, n, f, x, coefficients)
        k = 0
        for entry in problem.entries {
            coefficients[k] = (weights[k] + 1) * problem.preferences[entry] - weights[k] * coefficients[k]
            k += 1
        }
        VectorKernels.accumulateRows(block, n, f, coefficients, r)
        p.update(from: r, count: f)
        var rsOld = VectorKernels.dot(r, r, f)
        for _ in 0..<steps {
            if rsOld < 1e-20 { break }
            // Ap = A₀p + Σ (c − 1)(y·p) y
            VectorKernels.symmetricMatrixVector(problem.gram, p, ap, f)
            if own != 0 { VectorKernels.axpy(own, p, ap, f) }
            VectorKernels.multiplyRows(block, n, f, p, coefficients)
            for k in 0..<n { coefficients[k] *= weights[k] }
            VectorKernels.accumulateRows(block, n, f, coefficients, ap)
            let alpha = rsOld / VectorKernels.dot(p, ap, f)
            VectorKernels.axpy(alpha, p, x, f)
            VectorKernels.axpy(-alpha, ap, r, f)
            let rsNew = VectorKernels.dot(r, r, f)
            let beta = rsNew / rsOld
            for d in 0..<f { p[d] = r[d] + beta * p[d] }
            rsOld = rsNew
        }
    }

    private mutating func growGather(_ rows: Int) {
        let capacity = max(rows, 2 * gatherCapacity, 64)
        gather.deallocate()
        gatherWeights.deallocate()
        gatherCoefficients.deallocate()
        gather = .allocate(capacity: capacity * f)
        gatherWeights = .allocate(capacity: capacity)
        gatherCoefficients = .allocate(capacity: capacity)
        gatherCapacity = capacity
    }

    /// The exact solution by Cholesky.
    func cholesky(_ problem: RowProblem, x: UnsafeMutablePointer<Float>) {
        let f = self.f, y = problem.fixed, a = matrix
        a.update(from: problem.gram, count: f * f)
        for d in 0..<f { a[d * f + d] += problem.rowRegularization }
        x.update(repeating: 0, count: f)
        for k in problem.entries {
            let yi = y + Int(problem.columns[k]) * f
            let c = problem.confidences[k]
            for row in 0..<f { VectorKernels.axpy((c - 1) * yi[row], yi, a + row * f, f) }
            VectorKernels.axpy(c * problem.preferences[k], yi, x, f)
        }
        if !VectorKernels.choleskySolve(a, x, f) { x.update(repeating: 0, count: f) }
    }
}
