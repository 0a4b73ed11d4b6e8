internal import BraidCore
import Foundation

/// Adam (Kingma & Ba 2015) with decoupled weight decay (AdamW, Loshchilov & Hutter 2019) and
/// optional clipping of the global gradient norm.
public struct Adam: Sendable {
    public var learningRate: Float
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float
    /// Scale gradients down when their global L2 norm exceeds this (0: never).
    public var clipNorm: Float
    public private(set) var step = 0

    public init(learningRate: Float, weightDecay: Float = 0, clipNorm: Float = 0) {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.clipNorm = clipNorm
    }

    /// Values per block of the parallel passes: each block's sum of squares is taken on its own
    /// and the blocks' sums added in order, so the norm does not depend on the thread count.
    static let block = 1 << 15

    /// The global L2 norm of the gradients.
    public static func gradientNorm(_ parameters: [Parameter]) -> Float {
        var sum: Double = 0
        for p in parameters where p.holdsGradient {
            let blocks = (p.count + block - 1) / block
            var partial = [Double](repeating: 0, count: blocks)
            p.gradient.withUnsafeBufferPointer { g in
                let gp = UnsafeSendablePointer(g.baseAddress!), count = g.count
                partial.withUnsafeMutableBufferPointer { out in
                    let sums = SharedBuffer(out)
                    parallelFor(blocks) { b in
                        var s: Double = 0
                        for i in (b * block)..<min(count, (b + 1) * block) { s += Double(gp.pointer[i]) * Double(gp.pointer[i]) }
                        sums.base[b] = s
                    }
                }
            }
            for s in partial { sum += s }
        }
        return Float(sum.squareRoot())
    }

    /// One update from the accumulated gradients, which are then zeroed. Returns the gradient
    /// norm before clipping.
    @discardableResult
    public mutating func update(_ parameters: [Parameter]) -> Float {
        step += 1
        let norm = Self.gradientNorm(parameters)
        let clip: Float = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1
        let correction1 = 1 - Foundation.pow(beta1, Float(step)), correction2 = 1 - Foundation.pow(beta2, Float(step))
        let rate = learningRate / correction1
        for p in parameters {
            if p.firstMoment.isEmpty {
                p.firstMoment = [Float](repeating: 0, count: p.count)
                p.secondMoment = p.firstMoment
            }
            let decay = p.decays ? 1 - learningRate * weightDecay : 1
            let b1 = beta1, b2 = beta2, eps = epsilon
            // Elementwise, so the blocks run on the worker threads with the same result as one pass.
            p.value.withUnsafeMutableBufferPointer { w in
                p.gradient.withUnsafeMutableBufferPointer { g in
                    p.firstMoment.withUnsafeMutableBufferPointer { m in
                        p.secondMoment.withUnsafeMutableBufferPointer { v in
                            let w = SharedBuffer(w), g = SharedBuffer(g), m = SharedBuffer(m), v = SharedBuffer(v)
                            parallelChunks(w.count, minimumChunk: Self.block) { range in
                                for i in range {
                                    let gi = g.base[i] * clip
                                    m.base[i] = b1 * m.base[i] + (1 - b1) * gi
                                    v.base[i] = b2 * v.base[i] + (1 - b2) * gi * gi
                                    w.base[i] = w.base[i] * decay - rate * m.base[i] / ((v.base[i] / correction2).squareRoot() + eps)
                                    g.base[i] = 0
                                }
                            }
                        }
                    }
                }
            }
        }
        return norm
    }
}
