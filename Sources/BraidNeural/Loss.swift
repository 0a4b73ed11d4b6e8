public import BraidCore
import Foundation

/// Softmax cross-entropy of rows of hidden states against every row of an output table
/// (tied item embeddings): logits = H·Eᵀ over the table's rows `first..<first + classes`.
public enum SoftmaxCrossEntropy {
    /// The mean loss over rows with a target (targets < 0 are ignored), with dL/dH returned
    /// and dL/dE added to `table.gradient`. Rows are processed in blocks so that the logits
    /// of a large catalogue never fill memory at once.
    /// With `bias`, each class's logit adds its bias (BERT4Rec's output bias).
    public static func full(hidden: [Float], rows: Int, width: Int, targets: [Int32],
                            table: Parameter, first: Int, classes: Int, bias: Parameter? = nil) -> (loss: Double, dHidden: [Float]) {
        let counted = targets.filter { $0 >= 0 }.count
        var dHidden = [Float](repeating: 0, count: rows * width)
        guard counted > 0 else { return (0, dHidden) }
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
            // Softmax minus one-hot, scaled by 1/targets; rows without a target get no gradient.
            let blockStart = start
            let blockLoss: Double = logits.withUnsafeMutableBufferPointer { z in
                let zs = SharedBuffer(z)
                let partial = parallelMap(count, minimumChunk: 16) { r -> Double in
                    let t = Int(targets[blockStart + r])
                    let row = zs.base + r * classes
                    guard t >= 0 else { row.update(repeating: 0, count: classes); return 0 }
                    VectorKernels.softmax(row, classes)
                    let p = max(row[t], Float.leastNormalMagnitude)
                    row[t] -= 1
                    for j in 0..<classes { row[j] *= weight }
                    return -Foundation.log(Double(p))
                }
                return partial.reduce(0, +)
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

    /// Sampled softmax with the logQ correction (Bengio & Senécal 2008; Yi et al. 2019): each
    /// row's logits are its target's and those of `negatives` shared by the batch, each logit
    /// minus log of its item's sampling probability, so that the estimate is unbiased for the
    /// full softmax's gradient as the sample grows. A negative equal to a row's target is masked.
    /// Returns the mean loss, dL/dH, and adds dL/dE to `table.gradient`.
    public static func sampled(hidden: [Float], rows: Int, width: Int, targets: [Int32], negatives: [Int32],
                               logProbability: (Int32) -> Float, table: Parameter, first: Int) -> (loss: Double, dHidden: [Float]) {
        let counted = targets.filter { $0 >= 0 }.count
        var dHidden = [Float](repeating: 0, count: rows * width)
        guard counted > 0 else { return (0, dHidden) }
        let weight = 1 / Float(counted)
        let e = table.value
        let negativeCorrection = negatives.map(logProbability)
        var loss = 0.0
        var dTable: [(row: Int, scale: Float, from: Int)] = []
        for r in 0..<rows {
            let t = targets[r]
            guard t >= 0 else { continue }
            let h = r * width
            func logit(_ item: Int32) -> Float {
                var z: Float = 0
                let base = (first + Int(item)) * width
                for j in 0..<width { z += hidden[h + j] * e[base + j] }
                return z
            }
            var z = [logit(t) - logProbability(t)]
            for (k, n) in negatives.enumerated() { z.append(n == t ? -.infinity : logit(n) - negativeCorrection[k]) }
            let maximum = z.max()!
            var sum: Float = 0
            for k in z.indices { z[k] = z[k] == -.infinity ? 0 : Foundation.exp(z[k] - maximum); sum += z[k] }
            for k in z.indices { z[k] /= sum }
            loss -= Foundation.log(Double(max(z[0], Float.leastNormalMagnitude)))
            z[0] -= 1
            // dL/dz_k = (p_k − y_k)·weight; z depends on h and on the item's row.
            for (k, item) in ([t] + negatives).enumerated() where z[k] != 0 {
                let base = (first + Int(item)) * width
                for j in 0..<width { dHidden[h + j] += z[k] * weight * e[base + j] }
                dTable.append((first + Int(item), z[k] * weight, h))
            }
        }
        for (row, scale, from) in dTable {
            for j in 0..<width { table.gradient[row * width + j] += scale * hidden[from + j] }
        }
        return (loss / Double(counted), dHidden)
    }
}
