import BraidCore

/// Matrix products for training, split over the rows of the result on Braid's worker threads
/// (OpenBLAS itself runs single-threaded in Braid).
public enum Matmul {
    /// `C = alpha · op(A) · op(B) + beta · C`, row-major with leading dimensions, the rows of
    /// C shared among the workers.
    public static func gemm(m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
                            b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        let aShared = UnsafeSendablePointer(a), bShared = UnsafeSendablePointer(b)
        let cShared = SharedBuffer(UnsafeMutableBufferPointer(start: c, count: m * ldc))
        // One block of rows per worker, and none so small that the call costs more than its work.
        let rowsPerChunk = max((m + Parallelism.threadCount - 1) / Parallelism.threadCount, 1 << 16 / max(1, n * k), 1)
        parallelChunks(m, minimumChunk: rowsPerChunk) { rows in
            // Rows r of op(A): row r of A, or column r of A when transposed.
            let aStart = transposeA ? aShared.pointer + rows.lowerBound : aShared.pointer + rows.lowerBound * lda
            BLAS.gemm(m: rows.count, n: n, k: k, alpha: alpha, a: aStart, lda: lda, transposeA: transposeA,
                      b: bShared.pointer, ldb: ldb, transposeB: transposeB, beta: beta,
                      c: cShared.base + rows.lowerBound * ldc, ldc: ldc)
        }
    }

    /// `C (m×n) = op(A) · op(B)` (+ C when `accumulate`) over whole arrays.
    public static func multiply(_ a: [Float], transposeA: Bool = false, _ b: [Float], transposeB: Bool = false,
                                m: Int, n: Int, k: Int, into c: inout [Float], accumulate: Bool = false) {
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    gemm(m: m, n: n, k: k, a: pa.baseAddress!, lda: transposeA ? m : k, transposeA: transposeA,
                         b: pb.baseAddress!, ldb: transposeB ? k : n, transposeB: transposeB,
                         beta: accumulate ? 1 : 0, c: pc.baseAddress!, ldc: n)
                }
            }
        }
    }
}
