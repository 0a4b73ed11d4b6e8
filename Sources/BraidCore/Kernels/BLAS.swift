internal import COpenBLAS
internal import CBraidKernels

/// Safe wrappers over the OpenBLAS routines Braid uses. Only this file and the blocked
/// Cholesky steps it calls (`BlockedCholesky.swift`) import the C module.
public enum BLAS {
    /// Dot product of two equal-length vectors.
    public static func dot(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) -> Float {
        precondition(x.count == y.count, "vector lengths differ: \(x.count) vs \(y.count)")
        _ = blasConfigured
        return cblas_sdot(Int32(x.count), x.baseAddress, 1, y.baseAddress, 1)
    }

    public static func dot(_ x: [Float], _ y: [Float]) -> Float {
        x.withUnsafeBufferPointer { a in y.withUnsafeBufferPointer { b in dot(a, b) } }
    }

    /// `C = alpha · op(A) · op(B) + beta · C` for row-major matrices.
    ///
    /// - Complexity: O(m·n·k).
    public static func gemm(_ a: DenseMatrix, transposeA: Bool = false, _ b: DenseMatrix, transposeB: Bool = false,
                            alpha: Float = 1, beta: Float = 0, into c: inout DenseMatrix) {
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        let kb = transposeB ? b.columns : b.rows
        let n = transposeB ? b.rows : b.columns
        precondition(k == kb, "inner dimensions differ: \(k) vs \(kb)")
        precondition(c.rows == m && c.columns == n, "result is \(c.rows)×\(c.columns), expected \(m)×\(n)")
        _ = blasConfigured
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                c.storage.withUnsafeMutableBufferPointer { pc in
                    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
                                transposeB ? CblasTrans : CblasNoTrans,
                                Int32(m), Int32(n), Int32(k), alpha,
                                pa.baseAddress, Int32(a.columns), pb.baseAddress, Int32(b.columns),
                                beta, pc.baseAddress, Int32(c.columns))
                }
            }
        }
    }

    /// `C = alpha · op(A) · op(B) + beta · C` on raw row-major storage with leading
    /// dimensions, for sub-blocks such as one attention head's columns.
    public static func gemm(m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
                            b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        _ = blasConfigured
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `C = alpha · op(A) · op(B) + beta · C` in double precision, on raw row-major storage.
    public static func gemm(m: Int, n: Int, k: Int, alpha: Double = 1,
                            a: UnsafePointer<Double>, lda: Int, transposeA: Bool = false,
                            b: UnsafePointer<Double>, ldb: Int, transposeB: Bool = false,
                            beta: Double = 0, c: UnsafeMutablePointer<Double>, ldc: Int) {
        _ = blasConfigured
        cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `B ← B · U⁻¹` for a row-major `m × n` B and an upper-triangular `n × n` U (row-major,
    /// its lower triangle ignored), in double precision: LAPACK's `dtrsm` from the right.
    public static func solveRightUpper(_ b: UnsafeMutablePointer<Double>, rows m: Int, columns n: Int, upper u: UnsafePointer<Double>) {
        _ = blasConfigured
        cblas_dtrsm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, Int32(m), Int32(n), 1, u, Int32(n), b, Int32(n))
    }

    /// The product `op(A) · op(B)` as a new matrix.
    public static func multiply(_ a: DenseMatrix, transposeA: Bool = false, _ b: DenseMatrix, transposeB: Bool = false) -> DenseMatrix {
        var c = DenseMatrix(rows: transposeA ? a.columns : a.rows, columns: transposeB ? b.rows : b.columns)
        gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &c)
        return c
    }

    /// `y = A · x` for a row-major matrix, as one dot product per row with Braid's own kernel:
    /// on this project's shapes (a catalogue's rows of 64 factors or 384 embedding dimensions)
    /// that measured 1.7–2.3× faster than OpenBLAS's `sgemv` on a host where Debian's OpenBLAS
    /// falls back to its SSE3 kernels (6,298 × 384: 433–484 µs against 744–839), and the
    /// product is memory-bound either way.
    public static func multiply(_ a: DenseMatrix, _ x: [Float]) -> [Float] {
        precondition(x.count == a.columns, "vector length \(x.count) is not \(a.columns)")
        var y = [Float](repeating: 0, count: a.rows)
        a.storage.withUnsafeBufferPointer { pa in
            x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    for row in 0..<a.rows { py[row] = VectorKernels.dot(pa.baseAddress! + row * a.columns, px.baseAddress!, a.columns) }
                }
            }
        }
        return y
    }

    /// Inverts a symmetric positive definite `n × n` matrix in place, on Braid's worker threads:
    /// the Cholesky factorization `A = L·Lᵀ`, the inverse `W = L⁻¹` and the product
    /// `A⁻¹ = Wᵀ·W`, as LAPACK's `spotrf`, `strtri` and `slauum` compute them, recursively by
    /// blocks with each large block product split across the threads and every BLAS call
    /// single-threaded (so no process-wide OpenBLAS thread switch is ever flipped).
    ///
    /// - Returns: 0 on success; k > 0 when the leading minor of order k is not positive
    ///   definite.
    /// - Complexity: n³ flops (n³/3 for each of the three steps).
    public static func invertSymmetricPositiveDefinite(_ matrix: inout [Float], n: Int) -> Int {
        precondition(matrix.count == n * n, "matrix holds \(matrix.count) values, not \(n)×\(n)")
        guard n > 0 else { return 0 }
        _ = blasConfigured
        return matrix.withUnsafeMutableBufferPointer { buffer -> Int in
            let a = SharedBuffer(buffer)
            let info = BlockedCholesky.factor(a.base, order: n, ld: n)
            guard info == 0 else { return info }
            BlockedCholesky.invertLower(a.base, order: n, ld: n)
            BlockedCholesky.lowerGram(a.base, order: n, ld: n)
            // Mirror the lower triangle into the upper one.
            parallelFor(n, minimumChunk: 64) { row in
                for column in 0..<row { a[column * n + row] = a[row * n + column] }
            }
            return 0
        }
    }

    /// Sets OpenBLAS up for this process, once, before the first BLAS call or parallel loop:
    /// its kernels for this CPU when it fell back to old ones (`braid_openblas_upgrade_kernels`),
    /// and a single thread (Braid parallelizes around BLAS calls, never inside them).
    static func configure() -> String? {
        let upgraded = braid_openblas_upgrade_kernels().map { String(cString: $0) }
        openblas_set_num_threads(1)
        return upgraded
    }

    /// The CPU core whose kernels OpenBLAS runs ("SkylakeX", "Haswell", "Zen", …).
    public static var coreName: String {
        _ = blasConfigured
        return openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }

    /// The core Braid switched OpenBLAS to at start, when it had fallen back to SSE3 kernels
    /// on a CPU newer than it knew (nil: OpenBLAS's own choice stands).
    public static var upgradedCore: String? { blasConfigured }
}
