import BraidCore

/// A ridge regression from items' content rows to any per-item targets (factors, a bias, a
/// tower's outputs): W = argmin ‖X_w W − T_w‖² + λ‖W‖² over the rows chosen, solved column by
/// column by conjugate gradient on (X_wᵀX_w + λI) w = X_wᵀt, which needs only sparse products
/// (the vocabulary can be large). The columns are solved eight at a time, in parallel: a
/// block's columns step together as the lanes of SIMD vectors, each with its own step sizes,
/// so one pass over the warm rows per step serves eight columns (each column's arithmetic is
/// what solving it alone does, in the same order: the weights are the same bit for bit). When
/// the content is dense and narrow (sentence embeddings: 384 columns on every row),
/// X_wᵀX_w + λI is formed once (one BLAS product) and each step multiplies by it: the same
/// iterations, with a d × d product in place of two passes over every warm row (ml-latest-small,
/// 384 dimensions: the hybrid's fit 10.9 s → about 1 s, its map for one new item on the server
/// 13.8 s → 0.34 s).
struct RidgeMap: Sendable {
    /// `vocabulary × targets`, row-major.
    let weights: [Float]
    let targets: Int
    /// Whether any fitted row uses each column. Conjugate gradient from zero never moves the
    /// weights of a column no fitted row uses (its right-hand side and products stay zero), so
    /// those rows of `weights` are exactly zero and `predict` skips them.
    let used: [Bool]

    /// `targets` is row-major `x.rowCount × width`; `rows[i]` says whether row i is fitted.
    init(_ x: SparseMatrix, targets: [Float], width: Int, rows: [Bool], regularization: Float, iterations: Int) {
        let vocabulary = x.columnCount
        let fitted = (0..<x.rowCount).filter { rows[$0] }
        var used = [Bool](repeating: false, count: vocabulary)
        for row in fitted { for k in x.entries(ofRow: row) { used[Int(x.columns[k])] = true } }
        self.used = used
        let gram = Self.gram(x, rows: fitted, regularization: regularization)
        // Blocks of eight columns, one lane each (a block's last lanes past `width` have zero
        // targets, so they are done before the first step), solved in parallel.
        let solved: [[Lanes]] = parallelMap((width + Lanes.scalarCount - 1) / Lanes.scalarCount) { n in
            let first = n * Lanes.scalarCount, w = min(width, first + Lanes.scalarCount) - first
            // A·v for each lane's column: X_wᵀ(X_w v) + λv, or the Gram matrix's product.
            func apply(_ v: [Lanes]) -> [Lanes] {
                if let gram {
                    var out = [Lanes](repeating: .zero, count: vocabulary)
                    var column = [Float](repeating: 0, count: vocabulary), product = column
                    for j in 0..<w {
                        for k in 0..<vocabulary { column[k] = v[k][j] }
                        gram.withUnsafeBufferPointer { a in
                            column.withUnsafeBufferPointer { p in
                                product.withUnsafeMutableBufferPointer { y in VectorKernels.symmetricMatrixVector(a.baseAddress!, p.baseAddress!, y.baseAddress!, vocabulary) }
                            }
                        }
                        for k in 0..<vocabulary { out[k][j] = product[k] }
                    }
                    return out
                }
                var out = v.map { $0 * regularization }
                for row in fitted {
                    var s = Lanes.zero
                    for k in x.entries(ofRow: row) { s = s + x.values[k] * v[Int(x.columns[k])] }
                    for k in x.entries(ofRow: row) { out[Int(x.columns[k])] = out[Int(x.columns[k])] + x.values[k] * s }
                }
                return out
            }
            /// Σ_k a[k] · b[k] in each lane, summed in the order of k.
            func dots(_ a: [Lanes], _ b: [Lanes]) -> Lanes {
                var sums = Lanes.zero
                for k in 0..<vocabulary { sums = sums + a[k] * b[k] }
                return sums
            }
            var rhs = [Lanes](repeating: .zero, count: vocabulary)
            for row in fitted {
                var t = Lanes.zero
                for j in 0..<w { t[j] = targets[row * width + first + j] }
                for k in x.entries(ofRow: row) { rhs[Int(x.columns[k])] = rhs[Int(x.columns[k])] + x.values[k] * t }
            }
            var b = [Lanes](repeating: .zero, count: vocabulary)
            var r = rhs, p = rhs
            var rr = dots(r, r)
            let tolerance = rr * 1e-10
            // A column is done once its residual is small enough or its direction has no
            // curvature left; its step sizes are zero from then on, which leaves its weights
            // as they are (they are never −0, so adding 0 · p changes no bit).
            var done = (0..<Lanes.scalarCount).map { !(rr[$0] > tolerance[$0]) }
            for _ in 0..<iterations where done.contains(false) {
                let ap = apply(p)
                let pap = dots(p, ap)
                var alpha = Lanes.zero
                for j in 0..<Lanes.scalarCount where !done[j] {
                    if pap[j] > 0 { alpha[j] = rr[j] / pap[j] } else { done[j] = true }
                }
                for k in 0..<vocabulary {
                    b[k] = b[k] + alpha * p[k]
                    r[k] = r[k] - alpha * ap[k]
                }
                let next = dots(r, r)
                var beta = Lanes.zero
                for j in 0..<Lanes.scalarCount where !done[j] {
                    beta[j] = next[j] / rr[j]
                    rr[j] = next[j]
                    if !(rr[j] > tolerance[j]) { done[j] = true }
                }
                for k in 0..<vocabulary { p[k] = r[k] + beta * p[k] }
            }
            return b
        }
        var weights = [Float](repeating: 0, count: vocabulary * width)
        for (n, values) in solved.enumerated() {
            let first = n * Lanes.scalarCount, w = min(width, first + Lanes.scalarCount) - first
            for k in 0..<vocabulary { for j in 0..<w { weights[k * width + first + j] = values[k][j] } }
        }
        self.weights = weights
        self.targets = width
    }

    /// The columns a block solves together, one per lane: each lane's arithmetic is the one
    /// solving its column alone does, in the same order.
    typealias Lanes = SIMD8<Float>

    /// X_wᵀX_w + λI over the `rows` of `x`, row-major, when that is cheaper to multiply by than
    /// X_w twice: the vocabulary squared at most the warm rows' entries, and at most 4,096
    /// columns (64 MB); nil otherwise (a sparse vocabulary of terms).
    static func gram(_ x: SparseMatrix, rows: [Int], regularization: Float) -> [Float]? {
        let d = x.columnCount
        let entries = rows.reduce(0) { $0 + x.entries(ofRow: $1).count }
        guard d > 0, d <= 4096, d * d <= entries else { return nil }
        var dense = DenseMatrix(rows: rows.count, columns: d)
        for (r, row) in rows.enumerated() {
            for k in x.entries(ofRow: row) { dense.storage[r * d + Int(x.columns[k])] = x.values[k] }
        }
        var product = DenseMatrix(rows: d, columns: d)
        BLAS.gemm(dense, transposeA: true, dense, into: &product)
        for c in 0..<d { product.storage[c * d + c] += regularization }
        return Array(product.storage)
    }

    /// Every target the map predicts for each of the rows `items` of `x`, row-major
    /// (`items.count × targets`), the rows on every thread; the columns no fitted row used add
    /// nothing (their weights are zero) and are skipped.
    func predict(_ x: SparseMatrix, items: [Int]) -> [Float] {
        var out = [Float](repeating: 0, count: items.count * targets)
        let width = targets
        out.withUnsafeMutableBufferPointer { buffer in
            let out = SharedBuffer(buffer)
            predict(x, items: items) { r, y in for t in 0..<width { out[r * width + t] = y[t] } }
        }
        return out
    }

    /// The same predictions handed to `write` row by row, with the row's place in `items`, on
    /// every thread, for a caller that puts them where they belong without an array of them
    /// all (a row's buffer is reused once `write` returns).
    func predict(_ x: SparseMatrix, items: [Int], write: @Sendable (Int, UnsafePointer<Float>) -> Void) {
        let width = targets, used = used
        guard !items.isEmpty, width > 0 else { return }
        guard !weights.isEmpty else {
            // No vocabulary: every prediction is zero.
            let zeros = [Float](repeating: 0, count: width)
            zeros.withUnsafeBufferPointer { y in for r in items.indices { write(r, y.baseAddress!) } }
            return
        }
        weights.withUnsafeBufferPointer { w in
            let weights = UnsafeSendablePointer(w.baseAddress!)
            parallelChunks(items.count, minimumChunk: 256) { rows in
                let y = UnsafeMutablePointer<Float>.allocate(capacity: width)
                defer { y.deallocate() }
                for r in rows {
                    y.initialize(repeating: 0, count: width)
                    for k in x.entries(ofRow: items[r]) where used[Int(x.columns[k])] {
                        let row = weights.pointer + Int(x.columns[k]) * width, value = x.values[k]
                        for t in 0..<width { y[t] = y[t] + value * row[t] }
                    }
                    write(r, y)
                }
            }
        }
    }
}
