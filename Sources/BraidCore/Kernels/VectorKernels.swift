internal import CBraidKernels

/// Small dense vector kernels on raw pointers, used in the inner loops of the factor models.
/// The hot ones live in the C target `CBraidKernels`, compiled for the baseline instruction
/// set and again for AVX2+FMA, with the path chosen at run time (`VectorKernels.path`): one
/// binary runs on any x86-64 or arm64 machine and uses wide vectors where the CPU has them.
public enum VectorKernels {
    /// The instruction-set path the C kernels take on this CPU: "avx2+fma" or "generic".
    public static var path: String { String(cString: braid_kernels_path()) }

    /// The cosine of each of `count` rows of `width` floats (row-major from `rows`) with row
    /// `row`'s; 0 where either has no length (all 0 for a row outside the rows).
    public static func rowCosines(_ rows: UnsafePointer<Float>, count: Int, width: Int, to row: Int) -> [Float] {
        guard (0..<count).contains(row) else { return [Float](repeating: 0, count: count) }
        let own = rows + row * width
        let ownNorm = dot(own, own, width).squareRoot()
        return (0..<count).map { j in
            let other = rows + j * width
            let norm = dot(other, other, width).squareRoot()
            return ownNorm > 0 && norm > 0 ? dot(own, other, width) / (ownNorm * norm) : 0
        }
    }

    /// `Σ a[i]·b[i]` for `count` elements. Short vectors (SVD++'s 20 factors) stay inline in
    /// four-wide vectors, which every target has; longer ones go to the dispatched kernel.
    @inlinable @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        guard count < 32 else { return dotKernel(a, b, count) }
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var acc = SIMD4<Float>()
        var i = 0
        while i + 4 <= count {
            acc += ra.loadUnaligned(fromByteOffset: i &* 4, as: SIMD4<Float>.self) * rb.loadUnaligned(fromByteOffset: i &* 4, as: SIMD4<Float>.self)
            i &+= 4
        }
        var sum = acc.sum()
        while i < count { sum += a[i] * b[i]; i &+= 1 }
        return sum
    }

    @usableFromInline static func dotKernel(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        braid_dot(a, b, count)
    }

    /// `y[i] += alpha · x[i]` for `count` elements (short vectors inline, as for `dot`).
    @inlinable @inline(__always)
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        guard count < 32 else { return axpyKernel(alpha, x, y, count) }
        var i = 0
        while i < count { y[i] += alpha * x[i]; i &+= 1 }
    }

    @usableFromInline static func axpyKernel(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        braid_axpy(alpha, x, y, count)
    }

    /// `y = A·x` for a symmetric row-major `n × n` matrix, computed as `Σ_c x[c]·A[c, :]` in
    /// register blocks of 32 outputs, so no horizontal sums are needed.
    public static func symmetricMatrixVector(_ a: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        braid_symmetric_matrix_vector(a, x, y, n)
    }

    /// `out[k] = rows[k] · x` for the `n` rows of a row-major `n × f` block, four rows at a
    /// time so each load of `x` serves four dot products.
    public static func multiplyRows(_ rows: UnsafePointer<Float>, _ n: Int, _ f: Int, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        braid_multiply_rows(rows, n, f, x, out)
    }

    /// `y += Σ_k w[k] · rows[k]` over the `n` rows of a row-major `n × f` block, four rows at a
    /// time so each load and store of `y` serves four rows.
    public static func accumulateRows(_ rows: UnsafePointer<Float>, _ n: Int, _ f: Int, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        braid_accumulate_rows(rows, n, f, w, y)
    }

    /// Items per panel of `packPanels`.
    public static let panelWidth = 32

    /// The rows of a row-major `n × f` matrix (a catalogue's item factors) packed for
    /// `scorePanels`: panels of 32 rows, each stored as f runs of 32 floats (factor d of the
    /// panel's 32 rows), the last panel padded with zeros. ⌈n/32⌉·32·f floats.
    public static func packPanels(_ rows: UnsafeBufferPointer<Float>, _ n: Int, _ f: Int) -> [Float] {
        let width = panelWidth
        var packed = [Float](repeating: 0, count: (n + width - 1) / width * width * f)
        guard let base = rows.baseAddress, n > 0, f > 0 else { return packed }
        precondition(rows.count >= n * f, "\(rows.count) values are fewer than \(n) rows of \(f)")
        packed.withUnsafeMutableBufferPointer { braid_pack_panels(base, n, f, $0.baseAddress!) }
        return packed
    }

    /// `y[j] = Σ_d x[d] · (factor d of row j)` for `count` rows packed by `packPanels`,
    /// starting at `panels` (a panel's start: row 32p is at `panels + 32p·f`). Each sum runs
    /// over d in order, so a row's value does not depend on which panels one call covers: a
    /// block of users can be scored panel range by panel range, with the same scores.
    public static func scorePanels(_ panels: UnsafePointer<Float>, _ count: Int, _ f: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        braid_score_panels(panels, count, f, x, y)
    }

    /// `scorePanels`' scores of `count` rows of a row-major `count × f` matrix, bit for bit,
    /// without packing the whole matrix: each run of 64 rows is packed into a buffer of 64·f
    /// floats and scored there. For a few vectors this is cheaper than `packPanels` (which
    /// writes a copy of every row); for many, packing once and scoring the panels is.
    public static func scoreRows(_ rows: UnsafePointer<Float>, _ count: Int, _ f: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * panelWidth * max(1, f)) { scratch in
            braid_score_rows(rows, count, f, x, y, scratch.baseAddress!)
        }
    }

    /// The first `k` in `start..<count` with `scores[k] >= threshold` (a NaN never is), or
    /// `count`, comparing eight scores at a time.
    public static func firstAtLeast(_ scores: UnsafePointer<Float>, from start: Int, count: Int, threshold: Float) -> Int {
        braid_first_at_least(scores, start, count, threshold)
    }

    /// One SGD step of a factor pair: `p += lr·(e·q − λ·p)` and `q += lr·(e·p_old − λ·q)`.
    public static func sgdStep(_ p: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Float>, error: Float, learningRate: Float,
                               regularization: Float, count: Int) {
        braid_sgd_step(p, q, error, learningRate, regularization, count)
    }

    /// Row `i`'s LambdaRank pairs with rows `start..<count` of a query gathered in label order
    /// (`braid_lambdarank_pairs`): adds each pair's λ and Hessian to j's sums and their totals
    /// to i's (λ taken away); `weight` nil: every pair counts. Every array needs room up to the
    /// next multiple of 8 past `count` (counted from `start`), whatever those places hold.
    public static func lambdaRankPairs(score: UnsafePointer<Float>, gain: UnsafePointer<Float>, discount: UnsafePointer<Float>,
                                       weight: UnsafePointer<Float>?, gradient: UnsafeMutablePointer<Float>, hessian: UnsafeMutablePointer<Float>,
                                       i: Int, start: Int, count: Int, sigma: Float) {
        braid_lambdarank_pairs(score, gain, discount, weight, gradient, hessian, i, start, count, sigma)
    }

    /// In-place `v[i] = e^v[i]` (Cephes' single-precision method: x = n·ln2 + r, a degree-5
    /// polynomial for e^r, then the exponent bits; relative error about 2e-7, inputs clamped to
    /// [−87.3, 88.3]), in the C kernels' AVX2 lanes where the CPU has them.
    public static func exp(_ v: UnsafeMutablePointer<Float>, _ count: Int) {
        braid_exp(v, count)
    }

    /// In-place `v[i] = e^(v[i] − max) / Σ` over `count` values (a numerically stable softmax),
    /// e^x as `exp(_:_:)` computes it, in the C kernels' AVX2 lanes where the CPU has them.
    public static func softmax(_ v: UnsafeMutablePointer<Float>, _ count: Int) {
        braid_softmax(v, count)
    }

    /// In-place exact-form GELU, `0.5·x·(1 + erf(x/√2))`, with erf from Abramowitz & Stegun
    /// 7.1.26 (absolute error below 1.5e-7), in the C kernels' AVX2 lanes where the CPU has them.
    public static func gelu(_ v: UnsafeMutablePointer<Float>, _ count: Int) {
        braid_gelu(v, count)
    }

    /// In-place `v[i] = Φ(v[i]) = 0.5·(1 + erf(v[i]/√2))`, the standard normal CDF with
    /// `gelu(_:_:)`'s erf (GELU is x·Φ(x)), in the C kernels' AVX2 lanes where the CPU has them.
    public static func normalCDF(_ v: UnsafeMutablePointer<Float>, _ count: Int) {
        braid_normal_cdf(v, count)
    }

    /// Σ g[i]² over `count` values, in double: eight lanes summed in order, then across the
    /// lanes in a fixed tree, then the last `count` mod 8 in order; the same value on every path.
    public static func sumOfSquares(_ g: UnsafePointer<Float>, _ count: Int) -> Double {
        braid_sum_of_squares(g, count)
    }

    /// The constants of one Adam step (`adamStep`).
    public struct AdamStep: Sendable {
        public var clip, beta1, beta2, rate, correction2, epsilon, decay: Float
        public init(clip: Float, beta1: Float, beta2: Float, rate: Float, correction2: Float, epsilon: Float, decay: Float) {
            (self.clip, self.beta1, self.beta2, self.rate, self.correction2, self.epsilon, self.decay) = (clip, beta1, beta2, rate, correction2, epsilon, decay)
        }
    }

    /// One Adam step over `count` values in the C kernels' lanes, each value as a scalar loop
    /// writes it (no fused multiply-adds, so the same bits on every path): g ← g·clip,
    /// m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g·g, w ← w·decay − rate·m/(√(v/correction2) + ε),
    /// g ← 0. Returns Σ g² of the gradient as given, summed as `sumOfSquares` sums it.
    public static func adamStep(_ w: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                                _ v: UnsafeMutablePointer<Float>, _ count: Int, _ s: AdamStep) -> Double {
        braid_adam_step(w, g, m, v, count, s.clip, s.beta1, s.beta2, s.rate, s.correction2, s.epsilon, s.decay)
    }

    /// Solves `A x = b` in place for a symmetric positive definite row-major `n × n` matrix
    /// by Cholesky decomposition (A is overwritten by its factor, b by the solution).
    /// - Returns: false when A is not positive definite.
    @inlinable @discardableResult
    public static func choleskySolve(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, _ n: Int) -> Bool {
        // A = L Lᵀ, L stored in the lower triangle.
        for j in 0..<n {
            var diagonal = a[j * n + j] - dot(a + j * n, a + j * n, j)
            guard diagonal > 0 else { return false }
            diagonal = diagonal.squareRoot()
            a[j * n + j] = diagonal
            let inverse = 1 / diagonal
            for i in (j + 1)..<max(j + 1, n) {
                a[i * n + j] = (a[i * n + j] - dot(a + i * n, a + j * n, j)) * inverse
            }
        }
        // L y = b
        for i in 0..<n { b[i] = (b[i] - dot(a + i * n, b, i)) / a[i * n + i] }
        // Lᵀ x = y
        for i in stride(from: n - 1, through: 0, by: -1) {
            var sum = b[i]
            for k in (i + 1)..<max(i + 1, n) { sum -= a[k * n + i] * b[k] }
            b[i] = sum / a[i * n + i]
        }
        return true
    }
}
