import COpenBLAS

/// The three steps of inverting a symmetric positive definite matrix, in place on row-major
/// storage with leading dimension `ld` whose lower triangle is read and written (the upper one
/// is scratch): `A = L·Lᵀ` (as LAPACK's `spotrf`), `W = L⁻¹` (`strtri`) and `Wᵀ·W` (`slauum`).
///
/// Each is recursive on 2 × 2 block partitions (Gustavson 1997), so that most of the work is a
/// few large block products; each product is split into one part per worker thread, each part
/// a single-threaded BLAS call. Diagonal blocks of order `base` or less go to LAPACK, which
/// sees the row-major lower triangle as a column-major upper one.
enum BlockedCholesky {
    static let base = 128

    /// Factors `A = L·Lᵀ`. Returns 0, or the order of the first leading minor that is not
    /// positive definite.
    static func factor(_ a: UnsafeMutablePointer<Float>, order m: Int, ld: Int) -> Int {
        if m <= base {
            var info: Int32 = 0
            var order = Int32(m), lda = Int32(ld), uplo = CChar(UInt8(ascii: "U"))
            spotrf_(&uplo, &order, a, &lda, &info)
            return Int(info)
        }
        let m1 = m / 2, m2 = m - m1
        let first = factor(a, order: m1, ld: ld)
        guard first == 0 else { return first }
        let a21 = UnsafeSendablePointer(a + m1 * ld), l11 = UnsafeSendablePointer(a)
        // L21 = A21 · L11⁻ᵀ, by rows.
        split(m2) { rows in
            cblas_strsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, Int32(rows.count), Int32(m1),
                        1, l11.pointer, Int32(ld), a21.mutable + rows.lowerBound * ld, Int32(ld))
        }
        // A22 −= L21 · L21ᵀ (lower triangle).
        lowerUpdate(a + m1 * ld + m1, order: m2, ld: ld, factor: a21, depth: m1, transposed: false)
        let second = factor(a + m1 * ld + m1, order: m2, ld: ld)
        return second == 0 ? 0 : m1 + second
    }

    /// Replaces lower-triangular L by `L⁻¹`: with both diagonal blocks inverted, the
    /// off-diagonal block becomes `−L22⁻¹ · L21 · L11⁻¹`.
    static func invertLower(_ a: UnsafeMutablePointer<Float>, order m: Int, ld: Int) {
        if m <= base {
            var info: Int32 = 0
            var order = Int32(m), lda = Int32(ld), uplo = CChar(UInt8(ascii: "U")), diag = CChar(UInt8(ascii: "N"))
            strtri_(&uplo, &diag, &order, a, &lda, &info)
            return
        }
        let m1 = m / 2, m2 = m - m1
        invertLower(a, order: m1, ld: ld)
        invertLower(a + m1 * ld + m1, order: m2, ld: ld)
        let a21 = UnsafeSendablePointer(a + m1 * ld), w11 = UnsafeSendablePointer(a), w22 = UnsafeSendablePointer(a + m1 * ld + m1)
        split(m1) { columns in
            cblas_strmm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, Int32(m2), Int32(columns.count),
                        -1, w22.pointer, Int32(ld), a21.mutable + columns.lowerBound, Int32(ld))
        }
        split(m2) { rows in
            cblas_strmm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, Int32(rows.count), Int32(m1),
                        1, w11.pointer, Int32(ld), a21.mutable + rows.lowerBound * ld, Int32(ld))
        }
    }

    /// Replaces lower-triangular W by the lower triangle of `Wᵀ·W`:
    /// P11 = W11ᵀW11 + W21ᵀW21, P21 = W22ᵀW21, P22 = W22ᵀW22, in an order that reads each
    /// block of W before it is overwritten.
    static func lowerGram(_ a: UnsafeMutablePointer<Float>, order m: Int, ld: Int) {
        if m <= base {
            var info: Int32 = 0
            var order = Int32(m), lda = Int32(ld), uplo = CChar(UInt8(ascii: "U"))
            slauum_(&uplo, &order, a, &lda, &info)
            return
        }
        let m1 = m / 2, m2 = m - m1
        lowerGram(a, order: m1, ld: ld)
        let w21 = UnsafeSendablePointer(a + m1 * ld), w22 = UnsafeSendablePointer(a + m1 * ld + m1)
        lowerUpdate(a, order: m1, ld: ld, factor: w21, depth: m2, transposed: true)
        split(m1) { columns in
            cblas_strmm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, Int32(m2), Int32(columns.count),
                        1, w22.pointer, Int32(ld), w21.mutable + columns.lowerBound, Int32(ld))
        }
        lowerGram(a + m1 * ld + m1, order: m2, ld: ld)
    }

    /// The lower triangle of the `m × m` block C gets `−F·Fᵀ` (F is m × depth) or, transposed,
    /// `+Fᵀ·F` (F is depth × m), in row bands of equal area, one per worker.
    static func lowerUpdate(_ c: UnsafeMutablePointer<Float>, order m: Int, ld: Int, factor f: UnsafeSendablePointer<Float>,
                            depth: Int, transposed: Bool) {
        let c = UnsafeSendablePointer(c)
        let parts = Parallelism.threadCount
        // Band k ends at m·√((k+1)/parts): each band holds an equal share of the triangle.
        let bounds = (0...parts).map { k in k == parts ? m : Int(Double(m) * (Double(k) / Double(parts)).squareRoot()) }
        parallelFor(parts) { k in
            let r0 = bounds[k], r1 = bounds[k + 1]
            guard r1 > r0 else { return }
            let alpha: Float = transposed ? 1 : -1
            let rows = f.pointer + (transposed ? r0 : r0 * ld)
            if r0 > 0 {
                cblas_sgemm(CblasRowMajor, transposed ? CblasTrans : CblasNoTrans, transposed ? CblasNoTrans : CblasTrans,
                            Int32(r1 - r0), Int32(r0), Int32(depth), alpha, rows, Int32(ld), f.pointer, Int32(ld),
                            1, c.mutable + r0 * ld, Int32(ld))
            }
            cblas_ssyrk(CblasRowMajor, CblasLower, transposed ? CblasTrans : CblasNoTrans, Int32(r1 - r0), Int32(depth),
                        alpha, rows, Int32(ld), 1, c.mutable + r0 * ld + r0, Int32(ld))
        }
    }

    /// Runs `body` on `count` indices cut into one contiguous range per worker.
    static func split(_ count: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let parts = min(Parallelism.threadCount, count)
        guard parts > 0 else { return }
        parallelFor(parts) { k in body(count * k / parts..<count * (k + 1) / parts) }
    }
}

extension UnsafeSendablePointer {
    /// The same address, writable: for workers that write disjoint parts of one buffer.
    var mutable: UnsafeMutablePointer<Element> { UnsafeMutablePointer(mutating: pointer) }
}
