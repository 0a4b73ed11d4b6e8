public import BraidCore

/// A trainable array: its values, the gradient accumulated by backward passes, and the
/// optimizer's moments. A reference type so that layers and the optimizer share one copy;
/// a training step is single-writer (workers write disjoint parts of the gradient, through a
/// buffer the calling thread takes).
///
/// The gradient and the moments are allocated when training first writes them, so a network
/// that only scores (a model read from its file) holds its values alone.
public final class Parameter: @unchecked Sendable {
    public let name: String
    public let shape: [Int]
    public var value: [Float]
    /// Whether weight decay applies (weights and embeddings; not biases or layer-norm gains).
    public let decays: Bool
    var firstMoment: [Float] = []
    var secondMoment: [Float] = []
    private var storedGradient: [Float] = []

    /// The gradient accumulated since the last update: zeros until a backward pass adds to it.
    /// Reading it before then gives zeros without allocating them for good; the first write
    /// allocates it.
    public var gradient: [Float] {
        get { storedGradient.count == value.count ? storedGradient : [Float](repeating: 0, count: value.count) }
        _modify {
            if storedGradient.count != value.count { storedGradient = [Float](repeating: 0, count: value.count) }
            yield &storedGradient
        }
        set { storedGradient = newValue }
    }

    /// Whether a gradient has been allocated (training has written one).
    public var holdsGradient: Bool { !storedGradient.isEmpty }

    public init(_ name: String, shape: [Int], value: [Float], decays: Bool = true) {
        self.name = name
        self.shape = shape
        self.value = value
        self.decays = decays
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

    /// Frees the gradient and the optimizer's moments once training is over, so that a fitted
    /// network scores holding its values alone (an optimizer that updates it again starts its
    /// moments afresh).
    public func releaseTrainingState() {
        storedGradient = []
        firstMoment = []
        secondMoment = []
    }

    public func zeroGradient() {
        storedGradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}

/// Where a model keeps its parameters, in a fixed order (for the optimizer and the model file).
public protocol ParameterContainer {
    var parameters: [Parameter] { get }
}
