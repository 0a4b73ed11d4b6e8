public import BraidCore
import Foundation

// Layers as pure functions of their input: `forward` returns the output without touching the
// layer, so a trained model scores from many threads at once; `backward` takes the saved input
// (the caller keeps what its backward pass needs), adds to the parameters' gradients and
// returns the gradient of the input. Activations are row-major `rows × width` arrays.

/// A dense layer `y = x·W + b`, W of `input × output`.
public struct Linear: ParameterContainer, Sendable {
    public let weight: Parameter
    public let bias: Parameter
    public let input: Int
    public let output: Int

    public init(_ name: String, input: Int, output: Int, std: Float, generator: inout SeededGenerator) {
        self.input = input
        self.output = output
        weight = Parameter(name + ".weight", shape: [input, output], normalStd: std, generator: &generator)
        bias = Parameter(name + ".bias", shape: [output], constant: 0)
    }

    public var parameters: [Parameter] { [weight, bias] }

    public func forward(_ x: [Float], rows: Int) -> [Float] {
        var y = [Float](repeating: 0, count: rows * output)
        bias.value.withUnsafeBufferPointer { b in
            y.withUnsafeMutableBufferPointer { out in
                for r in 0..<rows { (out.baseAddress! + r * output).update(from: b.baseAddress!, count: output) }
            }
        }
        Matmul.multiply(x, weight.value, m: rows, n: output, k: input, into: &y, accumulate: true)
        return y
    }

    /// dW += xᵀ·dy, db += Σ_rows dy; returns dy·Wᵀ.
    public func backward(_ dy: [Float], input x: [Float], rows: Int) -> [Float] {
        Matmul.multiply(x, transposeA: true, dy, m: input, n: output, k: rows, into: &weight.gradient, accumulate: true)
        bias.gradient.withUnsafeMutableBufferPointer { db in
            dy.withUnsafeBufferPointer { g in
                for r in 0..<rows { VectorKernels.axpy(1, g.baseAddress! + r * output, db.baseAddress!, output) }
            }
        }
        var dx = [Float](repeating: 0, count: rows * input)
        Matmul.multiply(dy, weight.value, transposeB: true, m: rows, n: input, k: output, into: &dx)
        return dx
    }
}

/// Layer normalization (Ba et al. 2016) over each row, with a gain and a bias.
public struct LayerNorm: ParameterContainer, Sendable {
    public let gain: Parameter
    public let bias: Parameter
    public let width: Int
    public let epsilon: Float

    public init(_ name: String, width: Int, epsilon: Float = 1e-12) {
        self.width = width
        self.epsilon = epsilon
        gain = Parameter(name + ".gain", shape: [width], constant: 1)
        bias = Parameter(name + ".bias", shape: [width], constant: 0)
    }

    public var parameters: [Parameter] { [gain, bias] }

    /// The output, and per row x̂ and 1/σ for the backward pass. Rows are independent, so they
    /// run on the worker threads with the same values.
    public func forward(_ x: [Float], rows: Int) -> (output: [Float], normalized: [Float], inverseStd: [Float]) {
        var y = [Float](repeating: 0, count: x.count), xhat = y
        var inverse = [Float](repeating: 0, count: rows)
        let g = gain.value, b = bias.value, n = width, epsilon = epsilon
        guard rows > 0, n > 0 else { return (y, xhat, inverse) }
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                xhat.withUnsafeMutableBufferPointer { hb in
                    inverse.withUnsafeMutableBufferPointer { ib in
                        let x = UnsafeSendablePointer(xb.baseAddress!), (y, xhat, inverse) = (SharedBuffer(yb), SharedBuffer(hb), SharedBuffer(ib))
                        parallelChunks(rows, minimumChunk: max(1, 4096 / n)) { range in
                            for r in range {
                                let row = x.pointer + r * n
                                var mean: Float = 0
                                for j in 0..<n { mean += row[j] }
                                mean /= Float(n)
                                var variance: Float = 0
                                for j in 0..<n { variance += (row[j] - mean) * (row[j] - mean) }
                                variance /= Float(n)
                                let s = 1 / (variance + epsilon).squareRoot()
                                inverse.base[r] = s
                                for j in 0..<n {
                                    let h = (row[j] - mean) * s
                                    xhat.base[r * n + j] = h
                                    y.base[r * n + j] = g[j] * h + b[j]
                                }
                            }
                        }
                    }
                }
            }
        }
        return (y, xhat, inverse)
    }

    /// dx row by row on the worker threads, then the gain's and the bias's gradients column by
    /// column (each summed over the rows in order), so the same values as one pass.
    public func backward(_ dy: [Float], normalized xhat: [Float], inverseStd: [Float], rows: Int) -> [Float] {
        var dx = [Float](repeating: 0, count: dy.count)
        let g = gain.value, n = width
        guard rows > 0, n > 0 else { return dx }
        var dGain = [Float](repeating: 0, count: n), dBias = dGain
        dy.withUnsafeBufferPointer { dyb in
            xhat.withUnsafeBufferPointer { hb in
                let dy = UnsafeSendablePointer(dyb.baseAddress!), xhat = UnsafeSendablePointer(hb.baseAddress!)
                dx.withUnsafeMutableBufferPointer { xb in
                    let dx = SharedBuffer(xb)
                    parallelChunks(rows, minimumChunk: max(1, 4096 / n)) { range in
                        for r in range {
                            let dyRow = dy.pointer + r * n, hRow = xhat.pointer + r * n
                            var meanD: Float = 0, meanDX: Float = 0
                            for j in 0..<n {
                                let d = dyRow[j] * g[j]
                                meanD += d
                                meanDX += d * hRow[j]
                            }
                            meanD /= Float(n)
                            meanDX /= Float(n)
                            for j in 0..<n {
                                let d = dyRow[j] * g[j]
                                dx.base[r * n + j] = inverseStd[r] * (d - meanD - hRow[j] * meanDX)
                            }
                        }
                    }
                }
                dGain.withUnsafeMutableBufferPointer { gb in
                    dBias.withUnsafeMutableBufferPointer { bb in
                        let (dGain, dBias) = (SharedBuffer(gb), SharedBuffer(bb))
                        parallelParts(n, minimumPart: 8) { columns in
                            for r in 0..<rows {
                                let dyRow = dy.pointer + r * n, hRow = xhat.pointer + r * n
                                for j in columns {
                                    dGain.base[j] += dyRow[j] * hRow[j]
                                    dBias.base[j] += dyRow[j]
                                }
                            }
                        }
                    }
                }
            }
        }
        gain.gradient.withUnsafeMutableBufferPointer { g in for j in 0..<n { g[j] += dGain[j] } }
        bias.gradient.withUnsafeMutableBufferPointer { b in for j in 0..<n { b[j] += dBias[j] } }
        return dx
    }
}

/// A lookup table of `count` rows of `width`.
public struct Embedding: ParameterContainer, Sendable {
    public let table: Parameter
    public let count: Int
    public let width: Int

    public init(_ name: String, count: Int, width: Int, std: Float, generator: inout SeededGenerator) {
        self.count = count
        self.width = width
        table = Parameter(name, shape: [count, width], normalStd: std, generator: &generator)
    }

    public var parameters: [Parameter] { [table] }

    /// The rows of `indices`, one after another.
    public func forward(_ indices: [Int32]) -> [Float] {
        var out = [Float](repeating: 0, count: indices.count * width)
        let t = table.value
        for (r, index) in indices.enumerated() {
            let base = Int(index) * width
            for j in 0..<width { out[r * width + j] = t[base + j] }
        }
        return out
    }

    /// Adds each row of `dy` to the gradient of its index's row.
    public func backward(_ dy: [Float], indices: [Int32]) {
        table.gradient.withUnsafeMutableBufferPointer { g in
            dy.withUnsafeBufferPointer { d in
                for (r, index) in indices.enumerated() {
                    VectorKernels.axpy(1, d.baseAddress! + r * width, g.baseAddress! + Int(index) * width, width)
                }
            }
        }
    }
}

/// Elementwise activations: the ones Braid's networks train with, and the ones the text models
/// it reads name (`hidden_act`, a Dense module's `activation_function`).
public enum Activation: String, Codable, Sendable, CaseIterable {
    /// 0.5·x·(1 + erf(x/√2)), as BERT and RecBole use.
    case gelu
    case relu
    /// GELU's tanh approximation (Hendrycks & Gimpel 2016), 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))),
    /// transformers' `gelu_new`.
    case geluTanh = "gelu-tanh"
    /// x·σ(x).
    case silu
    case tanh
    case sigmoid
    case identity

    static let tanhScale: Float = 0.7978845608028654  // √(2/π)

    /// Applies the activation to `count` values in place.
    public func apply(_ v: UnsafeMutablePointer<Float>, _ count: Int) {
        switch self {
        case .gelu: VectorKernels.gelu(v, count)
        case .relu: for i in 0..<count where v[i] < 0 { v[i] = 0 }
        case .geluTanh:
            for i in 0..<count { let x = v[i]; v[i] = 0.5 * x * (1 + Foundation.tanh(Self.tanhScale * (x + 0.044715 * x * x * x))) }
        case .silu: for i in 0..<count { let x = v[i]; v[i] = x / (1 + Foundation.exp(-x)) }
        case .tanh: for i in 0..<count { v[i] = Foundation.tanh(v[i]) }
        case .sigmoid: for i in 0..<count { v[i] = 1 / (1 + Foundation.exp(-v[i])) }
        case .identity: break
        }
    }

    /// Values per chunk of the elementwise passes on the worker threads.
    static let chunk = 16384

    /// The activation of every value, in chunks on the worker threads (elementwise: the same
    /// values as one pass).
    public func forward(_ x: [Float]) -> [Float] {
        var y = x
        y.withUnsafeMutableBufferPointer { buffer in
            let y = SharedBuffer(buffer)
            parallelChunks(y.count, minimumChunk: Self.chunk) { range in apply(y.base + range.lowerBound, range.count) }
        }
        return y
    }

    /// dy · f′(x), in chunks on the worker threads (elementwise: the same values as one pass).
    public func backward(_ dy: [Float], input x: [Float]) -> [Float] {
        if self == .identity { return dy }
        var dx = [Float](repeating: 0, count: x.count)
        guard !x.isEmpty else { return dx }
        dx.withUnsafeMutableBufferPointer { out in
            let dx = SharedBuffer(out)
            dy.withUnsafeBufferPointer { dyb in
                x.withUnsafeBufferPointer { xb in
                    let dy = UnsafeSendablePointer(dyb.baseAddress!), x = UnsafeSendablePointer(xb.baseAddress!)
                    parallelChunks(dx.count, minimumChunk: Self.chunk) { range in
                        let i = range.lowerBound
                        backward(dy.pointer + i, input: x.pointer + i, into: dx.base + i, range.count)
                    }
                }
            }
        }
        return dx
    }

    /// dx[i] = dy[i] · f′(x[i]) for `count` values.
    func backward(_ dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, _ count: Int) {
        switch self {
        case .gelu:
            // d/dx [x·Φ(x)] = Φ(x) + x·φ(x); Φ from the same erf as the forward pass.
            var cdf = Array(UnsafeBufferPointer(start: x, count: count)), density = cdf.map { -0.5 * $0 * $0 }
            cdf.withUnsafeMutableBufferPointer { VectorKernels.normalCDF($0.baseAddress!, count) }
            density.withUnsafeMutableBufferPointer { VectorKernels.exp($0.baseAddress!, count) }
            let inverseRoot2Pi: Float = 0.3989422804014327
            for i in 0..<count { dx[i] = dy[i] * (cdf[i] + x[i] * inverseRoot2Pi * density[i]) }
        case .relu:
            for i in 0..<count { dx[i] = x[i] > 0 ? dy[i] : 0 }
        case .geluTanh:
            // With u = c·(x + 0.044715·x³) and t = tanh u: 0.5·(1 + t) + 0.5·x·(1 − t²)·c·(1 + 3·0.044715·x²).
            for i in 0..<count {
                let v = x[i], t = Foundation.tanh(Self.tanhScale * (v + 0.044715 * v * v * v))
                dx[i] = dy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * Self.tanhScale * (1 + 3 * 0.044715 * v * v))
            }
        case .silu:
            for i in 0..<count { let s = 1 / (1 + Foundation.exp(-x[i])); dx[i] = dy[i] * s * (1 + x[i] * (1 - s)) }
        case .tanh:
            for i in 0..<count { let t = Foundation.tanh(x[i]); dx[i] = dy[i] * (1 - t * t) }
        case .sigmoid:
            for i in 0..<count { let s = 1 / (1 + Foundation.exp(-x[i])); dx[i] = dy[i] * s * (1 - s) }
        case .identity:
            dx.update(from: dy, count: count)
        }
    }
}

/// Inverted dropout: each value kept with probability 1 − p and scaled by 1/(1 − p).
public enum Dropout {
    /// The mask (0 or 1/(1 − p) per value), or nil when nothing is dropped. Value i is dropped
    /// when the generator's i-th next unit draw is below p; the draws are made on the worker
    /// threads (`SeededGenerator.upcoming(_:)`), the same as drawn one by one.
    public static func mask(count: Int, probability p: Float, generator: inout SeededGenerator) -> [Float]? {
        guard p > 0 else { return nil }
        let keep = 1 / (1 - p), threshold = Double(p)
        var mask = [Float](repeating: 0, count: count)
        let draws = generator.upcoming(count)
        mask.withUnsafeMutableBufferPointer { buffer in
            let out = SharedBuffer(buffer)
            parallelChunks(count, minimumChunk: 4096) { range in
                for i in range { out.base[i] = draws.unit(i) < threshold ? 0 : keep }
            }
        }
        return mask
    }

    public static func apply(_ x: [Float], mask: [Float]?) -> [Float] {
        guard let mask else { return x }
        var y = x
        for i in y.indices { y[i] *= mask[i] }
        return y
    }
}

/// Elementwise sum of two equal-length arrays.
@inlinable
public func adding(_ a: [Float], _ b: [Float]) -> [Float] {
    var c = a
    for i in c.indices { c[i] += b[i] }
    return c
}

/// Each row scaled to unit L2 norm (two-tower outputs, so scores are cosines).
public enum RowNormalize {
    /// The normalized rows and each row's norm.
    public static func forward(_ x: [Float], rows: Int, width: Int) -> (output: [Float], norms: [Float]) {
        var y = x
        var norms = [Float](repeating: 0, count: rows)
        for r in 0..<rows {
            var sum: Float = 0
            for j in 0..<width { sum += x[r * width + j] * x[r * width + j] }
            let norm = max(sum.squareRoot(), 1e-12)
            norms[r] = norm
            for j in 0..<width { y[r * width + j] /= norm }
        }
        return (y, norms)
    }

    /// dx = (dy − y·(y·dy)) / ‖x‖.
    public static func backward(_ dy: [Float], output y: [Float], norms: [Float], rows: Int, width: Int) -> [Float] {
        var dx = dy
        for r in 0..<rows {
            var dot: Float = 0
            for j in 0..<width { dot += y[r * width + j] * dy[r * width + j] }
            for j in 0..<width { dx[r * width + j] = (dy[r * width + j] - y[r * width + j] * dot) / norms[r] }
        }
        return dx
    }
}
