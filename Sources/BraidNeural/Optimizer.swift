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
            p.gradient.withUnsafeBufferPointer { g in
                let gp = UnsafeSendablePointer(g.baseAddress!), count = g.count
                sum += blockSums(count) { range in VectorKernels.sumOfSquares(gp.pointer + range.lowerBound, range.count) }
            }
        }
        return Float(sum.squareRoot())
    }

    /// `body` over `count` values in blocks of `block` on the worker threads, its results
    /// added in block order.
    static func blockSums(_ count: Int, _ body: @Sendable (Range<Int>) -> Double) -> Double {
        let blocks = (count + block - 1) / block
        var partial = [Double](repeating: 0, count: blocks)
        partial.withUnsafeMutableBufferPointer { out in
            let sums = SharedBuffer(out)
            parallelFor(blocks) { b in sums.base[b] = body((b * block)..<min(count, (b + 1) * block)) }
        }
        return partial.reduce(0, +)
    }

    /// One update from the accumulated gradients, which are then zeroed. Returns the gradient
    /// norm before clipping: without clipping it is summed in the update's own pass over the
    /// gradients (`VectorKernels.adamStep`), in the same order as `gradientNorm`.
    @discardableResult
    public mutating func update(_ parameters: [Parameter]) -> Float {
        step += 1
        let given = clipNorm > 0 ? Self.gradientNorm(parameters) : nil
        let clip: Float = given.map { $0 > clipNorm ? clipNorm / $0 : 1 } ?? 1
        let correction1 = 1 - Foundation.pow(beta1, Float(step)), correction2 = 1 - Foundation.pow(beta2, Float(step))
        let rate = learningRate / correction1
        var squares: Double = 0
        for p in parameters {
            if p.firstMoment.isEmpty {
                p.firstMoment = [Float](repeating: 0, count: p.count)
                p.secondMoment = p.firstMoment
            }
            let held = p.holdsGradient
            let decay = p.decays ? 1 - learningRate * weightDecay : 1
            let constants = VectorKernels.AdamStep(clip: clip, beta1: beta1, beta2: beta2, rate: rate, correction2: correction2,
                                                   epsilon: epsilon, decay: decay)
            // Elementwise, so the blocks run on the worker threads with the same result as one pass.
            p.value.withUnsafeMutableBufferPointer { w in
                p.gradient.withUnsafeMutableBufferPointer { g in
                    p.firstMoment.withUnsafeMutableBufferPointer { m in
                        p.secondMoment.withUnsafeMutableBufferPointer { v in
                            let w = SharedBuffer(w), g = SharedBuffer(g), m = SharedBuffer(m), v = SharedBuffer(v)
                            let sum = Self.blockSums(w.count) { range in
                                let i = range.lowerBound
                                return VectorKernels.adamStep(w.base + i, g.base + i, m.base + i, v.base + i, range.count, constants)
                            }
                            if held { squares += sum }
                        }
                    }
                }
            }
        }
        return given ?? Float(squares.squareRoot())
    }
}
