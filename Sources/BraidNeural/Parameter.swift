public import BraidCore

/// A trainable array: its values, the gradient accumulated by backward passes, and the
/// optimizer's moments. A reference type so that layers and the optimizer share one copy;
/// a training step is single-writer (workers write disjoint parts of the gradient).
public final class Parameter: @unchecked Sendable {
    public let name: String
    public let shape: [Int]
    public var value: [Float]
    public var gradient: [Float]
    /// Whether weight decay applies (weights and embeddings; not biases or layer-norm gains).
    public let decays: Bool
    var firstMoment: [Float] = []
    var secondMoment: [Float] = []

    public init(_ name: String, shape: [Int], value: [Float], decays: Bool = true) {
        self.name = name
        self.shape = shape
        self.value = value
        self.decays = decays
        gradient = [Float](repeating: 0, count: value.count)
    }

    /// Values drawn from N(0, std²), seeded.
    public convenience init(_ name: String, shape: [Int], normalStd std: Float, generator: inout SeededGenerator, decays: Bool = true) {
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        var i = 0
        while i < count {
            let (a, b) = generator.nextGaussianPair()
            values[i] = Float(a) * std
            if i + 1 < count { values[i + 1] = Float(b) * std }
            i += 2
        }
        self.init(name, shape: shape, value: values, decays: decays)
    }

    /// A constant array (biases 0, gains 1).
    public convenience init(_ name: String, shape: [Int], constant: Float, decays: Bool = false) {
        self.init(name, shape: shape, value: [Float](repeating: constant, count: shape.reduce(1, *)), decays: decays)
    }

    public var count: Int { value.count }

    public func zeroGradient() {
        gradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}

/// Where a model keeps its parameters, in a fixed order (for the optimizer and the model file).
public protocol ParameterContainer {
    var parameters: [Parameter] { get }
}
