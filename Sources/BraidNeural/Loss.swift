import BraidCore
import Foundation

/// Softmax cross-entropy of rows of hidden states against every row of an output table
/// (tied item embeddings): logits = H·Eᵀ over the table's rows `first..<first + classes`.
public enum SoftmaxCrossEntropy {
    /// The mean loss over rows with a target (targets < 0 are ignored), with dL/dH returned
    /// and dL/dE added to `table.gradient`. Rows are processed in blocks so that the logits
    /// of a large catalogue never fill memory at once.
    /// With `bias`, each class's logit adds its bias (BERT4Rec's output bias); `excluded[r]`
    /// lists classes left out of row r's softmax (a sampled negative that is one of the
    /// user's own positives: an accidental hit).
    public static func full(hidden: [Float], rows: Int, width: Int, targets: [Int32],
                            table: Parameter, first: Int, classes: Int, bias: Parameter? = nil,
                            excluded: [[Int32]]? = nil) -> (loss: Double, dHidden: [Float]) {
        let counted = targets.filter { $0 >= 0 }.count
        var dHidden = [Float](repeating: 0, count: rows * width)
        guard counted > 0 else { return (0, dHidden) }
        if counted < rows {
            // Only rows with a target cost logits: gather them, and scatter their gradients back.
            let kept = (0..<rows).filter { targets[$0] >= 0 }
            var compact = [Float](repeating: 0, count: counted * width)
            for (c, r) in kept.enumerated() {
                compact.replaceSubrange((c * width)..<((c + 1) * width), with: hidden[(r * width)..<((r + 1) * width)])
            }
            let (loss, dCompact) = full(hidden: compact, rows: counted, width: width, targets: kept.map { targets[$0] },
                                        table: table, first: first, classes: classes, bias: bias,
                                        excluded: excluded.map { e in kept.map { e[$0] } })
            for (c, r) in kept.enumerated() {
                dHidden.replaceSubrange((r * width)..<((r + 1) * width), with: dCompact[(c * width)..<((c + 1) * width)])
            }
            return (loss, dHidden)
        }
        let block = max(16, min(rows, (1 << 22) / max(1, classes)))
        var loss = 0.0
        let weight = 1 / Float(counted)
        var start = 0
        while start < rows {
            let count = min(block, rows - start)
            var logits = [Float](repeating: 0, count: count * classes)
            if let bias { for r in 0..<count { logits.replaceSubrange((r * classes)..<((r + 1) * classes), with: bias.value) } }
            hidden.withUnsafeBufferPointer { h in
                table.value.withUnsafeBufferPointer { e in
                    logits.withUnsafeMutableBufferPointer { z in
                        Matmul.gemm(m: count, n: classes, k: width, a: h.baseAddress! + start * width, lda: width,
                                    b: e.baseAddress! + first * width, ldb: width, transposeB: true,
                                    beta: bias == nil ? 0 : 1, c: z.baseAddress!, ldc: classes)
                    }
                }
            }
            let blockLoss = logits.withUnsafeMutableBufferPointer { z in
                rowsToGradient(z, classes: classes, weight: weight, targets: targets, offset: start, excluded: excluded)
            }
            loss += blockLoss
            if let bias {
                bias.gradient.withUnsafeMutableBufferPointer { db in
                    logits.withUnsafeBufferPointer { g in
                        for r in 0..<count { VectorKernels.axpy(1, g.baseAddress! + r * classes, db.baseAddress!, classes) }
                    }
                }
            }
            logits.withUnsafeBufferPointer { g in
                table.value.withUnsafeBufferPointer { e in
                    dHidden.withUnsafeMutableBufferPointer { dh in
                        Matmul.gemm(m: count, n: width, k: classes, a: g.baseAddress!, lda: classes,
                                    b: e.baseAddress! + first * width, ldb: width, c: dh.baseAddress! + start * width, ldc: width)
                    }
                }
                hidden.withUnsafeBufferPointer { h in
                    table.gradient.withUnsafeMutableBufferPointer { de in
                        Matmul.gemm(m: classes, n: width, k: count, a: g.baseAddress!, lda: classes, transposeA: true,
                                    b: h.baseAddress! + start * width, ldb: width, beta: 1, c: de.baseAddress! + first * width, ldc: width)
                    }
                }
            }
            start += count
        }
        return (loss / Double(counted), dHidden)
    }

    /// The mean softmax cross-entropy of rows of logits computed elsewhere (rows × classes)
    /// against `targets` (< 0: the row is ignored), `excluded[r]` left out of row r's softmax;
    /// `logits` is replaced by dL/dlogits.
    public static func fromLogits(_ logits: inout [Float], rows: Int, classes: Int, targets: [Int32],
                                  excluded: [[Int32]]? = nil) -> Double {
        let counted = targets.filter { $0 >= 0 }.count
        guard counted > 0 else { logits = [Float](repeating: 0, count: logits.count); return 0 }
        let loss = logits.withUnsafeMutableBufferPointer { z in
            rowsToGradient(z, classes: classes, weight: 1 / Float(counted), targets: targets, offset: 0, excluded: excluded)
        }
        return loss / Double(counted)
    }

    /// Replaces rows `offset..<offset + z.count / classes` of the logits (held in `z`) by
    /// `weight` × (softmax − one-hot of the row's target), in parallel over rows, and returns
    /// the summed loss; rows without a target get zeros, and a row's excluded classes get no
    /// probability.
    static func rowsToGradient(_ z: UnsafeMutableBufferPointer<Float>, classes: Int, weight: Float,
                               targets: [Int32], offset: Int, excluded: [[Int32]]?) -> Double {
        let zs = SharedBuffer(z)
        let partial = parallelMap(z.count / classes, minimumChunk: 16) { r -> Double in
            let t = Int(targets[offset + r])
            let row = zs.base + r * classes
            guard t >= 0 else { row.update(repeating: 0, count: classes); return 0 }
            let left = (excluded?[offset + r] ?? []).filter { Int($0) != t }
            for j in left { row[Int(j)] = -.infinity }
            VectorKernels.softmax(row, classes)
            for j in left { row[Int(j)] = 0 }
            let p = max(row[t], Float.leastNormalMagnitude)
            row[t] -= 1
            for j in 0..<classes { row[j] *= weight }
            return -Foundation.log(Double(p))
        }
        return partial.reduce(0, +)
    }

    /// Sampled softmax with the logQ correction (Bengio & Senécal 2008; Yi et al. 2019): each
    /// row is scored against a sample of candidate rows (in-batch: the distinct items of the
    /// batch), each logit minus the log of its candidate's sampling probability, so that the
    /// estimate of the full softmax's gradient is unbiased. `targets` index the candidates.
    /// Returns the mean loss and dL/dH, and adds dL/dC to `candidates.gradient`.
    /// `excluded[r]` lists candidates that are not negatives for row r (its user's other positives).
    public static func sampled(hidden: [Float], rows: Int, width: Int, targets: [Int32], candidates: Parameter,
                               logProbabilities: [Float], excluded: [[Int32]]? = nil) -> (loss: Double, dHidden: [Float]) {
        let correction = Parameter("log-q", shape: [logProbabilities.count], value: logProbabilities.map { -$0 }, decays: false)
        return full(hidden: hidden, rows: rows, width: width, targets: targets, table: candidates, first: 0,
                    classes: logProbabilities.count, bias: correction, excluded: excluded)
    }
}

/// Binary cross-entropy on logits: −y·log σ(z) − (1 − y)·log(1 − σ(z)), as NeuMF trains.
public enum BinaryCrossEntropy {
    /// The mean loss and dL/dz = (σ(z) − y)/n.
    public static func withLogits(_ z: [Float], labels: [Float]) -> (loss: Double, dLogits: [Float]) {
        let n = Float(max(1, z.count))
        var loss = 0.0
        var d = [Float](repeating: 0, count: z.count)
        for k in z.indices {
            // log(1 + e^−|z|) + max(z, 0) − y·z, stable for large |z|.
            let x = Double(z[k]), y = Double(labels[k])
            loss += Foundation.log1p(Foundation.exp(-abs(x))) + max(x, 0) - y * x
            let sigma = 1 / (1 + Foundation.exp(-x))
            d[k] = Float(sigma - y) / n
        }
        return (loss / Double(n), d)
    }
}
