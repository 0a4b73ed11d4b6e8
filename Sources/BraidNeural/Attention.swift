public import BraidCore
import Foundation

/// Multi-head scaled dot-product self-attention (Vaswani et al. 2017) over a batch of
/// sequences of one padded length: Q, K, V from one fused dense layer, softmax(QKᵀ/√d_h)
/// per head with a causal or bidirectional mask that also hides the padding after each
/// sequence's length, dropout on the attention weights, and an output dense layer.
public struct SelfAttention: ParameterContainer, Sendable {
    public let projection: Linear   // width → 3·width: Q, K, V
    public let output: Linear       // width → width
    public let width: Int
    public let heads: Int
    public let causal: Bool

    public init(_ name: String, width: Int, heads: Int, causal: Bool, std: Float, generator: inout SeededGenerator) {
        self.width = width
        self.heads = heads
        self.causal = causal
        projection = Linear(name + ".qkv", input: width, output: 3 * width, std: std, generator: &generator)
        output = Linear(name + ".out", input: width, output: width, std: std, generator: &generator)
    }

    public var parameters: [Parameter] { projection.parameters + output.parameters }

    /// What the backward pass needs.
    public struct Tape: Sendable {
        var input: [Float]
        var qkv: [Float]
        /// Softmax weights per (sequence, head), `length × length` each.
        var weights: [Float]
        var dropMask: [Float]?
        var context: [Float]
    }

    /// Whether query `i` may see key `j` in a sequence of `count` real positions.
    @inline(__always)
    func visible(_ i: Int, _ j: Int, count: Int) -> Bool { j < count && (!causal || j <= i) }

    /// `x` holds `batch` sequences of `length` rows; `counts[b]` of them are real.
    public func forward(_ x: [Float], batch: Int, length: Int, counts: [Int], dropout: Float,
                        generator: inout SeededGenerator) -> (output: [Float], tape: Tape) {
        let rows = batch * length, d = width, dh = width / heads, l = length
        let qkv = projection.forward(x, rows: rows)
        var weights = [Float](repeating: 0, count: batch * heads * l * l)
        var context = [Float](repeating: 0, count: rows * d)
        let scale = 1 / Float(dh).squareRoot()
        let dropMask = Dropout.mask(count: weights.count, probability: dropout, generator: &generator)
        qkv.withUnsafeBufferPointer { qkvBuffer in
            weights.withUnsafeMutableBufferPointer { wBuffer in
                context.withUnsafeMutableBufferPointer { cBuffer in
                    let q = UnsafeSendablePointer(qkvBuffer.baseAddress!), w = SharedBuffer(wBuffer), c = SharedBuffer(cBuffer)
                    let mask = dropMask
                    parallelFor(batch * heads) { job in
                        let b = job / heads, h = job % heads
                        let base = q.pointer + b * l * 3 * d
                        let s = w.base + job * l * l
                        // S = Q_h K_hᵀ / √d_h
                        BLAS.gemm(m: l, n: l, k: dh, alpha: scale, a: base + h * dh, lda: 3 * d,
                                  b: base + d + h * dh, ldb: 3 * d, transposeB: true, c: s, ldc: l)
                        for i in 0..<l {
                            let row = s + i * l
                            var visibleCount = 0
                            for j in 0..<l { if visible(i, j, count: counts[b]) { visibleCount = j + 1 } else { row[j] = -.infinity } }
                            if visibleCount == 0 { row.update(repeating: 0, count: l); continue }
                            VectorKernels.softmax(row, l)
                            for j in 0..<l where !visible(i, j, count: counts[b]) { row[j] = 0 }
                        }
                        // A' = dropout(A); context_h = A' V_h
                        var attended = [Float](UnsafeBufferPointer(start: s, count: l * l))
                        if let mask { for k in 0..<(l * l) { attended[k] *= mask[job * l * l + k] } }
                        attended.withUnsafeBufferPointer { a in
                            BLAS.gemm(m: l, n: dh, k: l, a: a.baseAddress!, lda: l, b: base + 2 * d + h * dh, ldb: 3 * d,
                                      c: c.base + b * l * d + h * dh, ldc: d)
                        }
                    }
                }
            }
        }
        let y = output.forward(context, rows: rows)
        return (y, Tape(input: x, qkv: qkv, weights: weights, dropMask: dropMask, context: context))
    }

    public func backward(_ dy: [Float], tape: Tape, batch: Int, length: Int) -> [Float] {
        let rows = batch * length, d = width, dh = width / heads, l = length
        let dContext = output.backward(dy, input: tape.context, rows: rows)
        var dqkv = [Float](repeating: 0, count: rows * 3 * d)
        let scale = 1 / Float(dh).squareRoot()
        tape.qkv.withUnsafeBufferPointer { qkvBuffer in
            tape.weights.withUnsafeBufferPointer { wBuffer in
                dContext.withUnsafeBufferPointer { dcBuffer in
                    dqkv.withUnsafeMutableBufferPointer { outBuffer in
                        let q = UnsafeSendablePointer(qkvBuffer.baseAddress!), w = UnsafeSendablePointer(wBuffer.baseAddress!)
                        let dc = UnsafeSendablePointer(dcBuffer.baseAddress!), out = SharedBuffer(outBuffer)
                        let mask = tape.dropMask
                        parallelFor(batch * heads) { job in
                            let b = job / heads, h = job % heads
                            let base = q.pointer + b * l * 3 * d
                            let dBase = out.base + b * l * 3 * d
                            let a = w.pointer + job * l * l
                            let dO = dc.pointer + b * l * d + h * dh
                            // dA' = dO V_hᵀ;  dV_h = A'ᵀ dO
                            var dA = [Float](repeating: 0, count: l * l)
                            var attended = [Float](UnsafeBufferPointer(start: a, count: l * l))
                            if let mask { for k in 0..<(l * l) { attended[k] *= mask[job * l * l + k] } }
                            dA.withUnsafeMutableBufferPointer { da in
                                BLAS.gemm(m: l, n: l, k: dh, a: dO, lda: d, b: base + 2 * d + h * dh, ldb: 3 * d, transposeB: true,
                                          c: da.baseAddress!, ldc: l)
                            }
                            attended.withUnsafeBufferPointer { ap in
                                BLAS.gemm(m: l, n: dh, k: l, a: ap.baseAddress!, lda: l, transposeA: true, b: dO, ldb: d,
                                          c: dBase + 2 * d + h * dh, ldc: 3 * d)
                            }
                            // Through the dropout, then the softmax: dS = A ⊙ (dA − Σ_j dA·A).
                            if let mask { for k in 0..<(l * l) { dA[k] *= mask[job * l * l + k] } }
                            for i in 0..<l {
                                var dot: Float = 0
                                for j in 0..<l { dot += dA[i * l + j] * a[i * l + j] }
                                for j in 0..<l { dA[i * l + j] = a[i * l + j] * (dA[i * l + j] - dot) }
                            }
                            // dQ_h = dS K_h / √d_h;  dK_h = dSᵀ Q_h / √d_h
                            dA.withUnsafeBufferPointer { ds in
                                BLAS.gemm(m: l, n: dh, k: l, alpha: scale, a: ds.baseAddress!, lda: l, b: base + d + h * dh, ldb: 3 * d,
                                          c: dBase + h * dh, ldc: 3 * d)
                                BLAS.gemm(m: l, n: dh, k: l, alpha: scale, a: ds.baseAddress!, lda: l, transposeA: true, b: base + h * dh, ldb: 3 * d,
                                          c: dBase + d + h * dh, ldc: 3 * d)
                            }
                        }
                    }
                }
            }
        }
        return projection.backward(dqkv, input: tape.input, rows: rows)
    }
}
