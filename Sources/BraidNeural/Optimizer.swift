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

    /// The global L2 norm of the gradients.
    public static func gradientNorm(_ parameters: [Parameter]) -> Float {
        var sum: Double = 0
        for p in parameters { for g in p.gradient { sum += Double(g) * Double(g) } }
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
            p.value.withUnsafeMutableBufferPointer { w in
                p.gradient.withUnsafeMutableBufferPointer { g in
                    p.firstMoment.withUnsafeMutableBufferPointer { m in
                        p.secondMoment.withUnsafeMutableBufferPointer { v in
                            for i in 0..<w.count {
                                let gi = g[i] * clip
                                m[i] = b1 * m[i] + (1 - b1) * gi
                                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                                w[i] = w[i] * decay - rate * m[i] / ((v[i] / correction2).squareRoot() + eps)
                                g[i] = 0
                            }
                        }
                    }
                }
            }
        }
        return norm
    }
}
