import BraidCore
@testable import BraidModels
import BraidNeural
import BraidTestSupport
import Foundation
import Testing

/// The backward passes the neural models write themselves (around the checked layers):
/// NeuMF's GMF product and concatenations, the two-tower pooling, shared content projection,
/// normalization and in-batch softmax, each against finite differences of its loss.
@Suite struct NeuralModelGradientTests {
    static func check(_ parameters: [Parameter], tolerance: Double = 2e-2, epsilon: Float = 1e-2, lossAndGradients: () -> Double,
                      sourceLocation: SourceLocation = #_sourceLocation) {
        for p in parameters { p.zeroGradient() }
        _ = lossAndGradients()
        let gradients = parameters.map(\.gradient)
        for (p, analytic) in zip(parameters, gradients) {
            let error = GradientCheck.relativeError(count: p.count, analytic: analytic, samples: 30, epsilon: epsilon, get: { p.value[$0] },
                                                    set: { p.value[$0] = $1 }, loss: lossAndGradients)
            #expect(error < tolerance, "\(p.name): relative error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func neumf() {
        let network = NeuMF.Network(users: 3, items: 5, factors: 4, seed: 3)
        // Larger weights than the 0.01 initialization, so every term matters.
        var g = SeededGenerator(seed: 4)
        for p in network.parameters { for i in p.value.indices { p.value[i] = Float(g.nextGaussian()) * 0.5 } }
        let users: [Int32] = [0, 0, 1, 2, 2, 1], items: [Int32] = [1, 3, 0, 4, 2, 2]
        let labels: [Float] = [1, 0, 1, 0, 1, 0]
        Self.check(network.parameters) {
            let (logits, tape) = network.forward(users: users, items: items)
            let (loss, d) = BinaryCrossEntropy.withLogits(logits, labels: labels)
            network.backward(d, tape: tape, users: users, items: items)
            return loss
        }
        // Scoring the catalogue from the precomputed item half of the first layer is the
        // gradient-checked forward pass over every (user, item) pair.
        let half = network.itemHalf()
        for user in Int32(0)..<3 {
            let pairs = network.forward(users: [Int32](repeating: user, count: 5), items: [0, 1, 2, 3, 4]).logits
            for (a, b) in zip(network.allItemLogits(user: user, itemHalf: half), pairs) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b))) }
        }
    }

    @Test func twoTower() {
        var g = SeededGenerator(seed: 5)
        let d = 4, items = 6
        let user = TwoTower.UserTower(history: Embedding("h", count: items, width: d, std: 0.5, generator: &g),
                                      inner: Linear("ui", input: d, output: 5, std: 0.5, generator: &g),
                                      outer: Linear("uo", input: 5, output: d, std: 0.5, generator: &g))
        let content = SparseMatrix(stackingRows: (0..<items).map { i in (columns: [Int32(i % 3), 3], values: [0.8, 0.6]) }, columnCount: 4)
        let item = TwoTower.ItemTower(ids: Embedding("ids", count: items, width: d, std: 0.5, generator: &g),
                                      projection: Parameter("content", shape: [4, d], normalStd: 0.5, generator: &g),
                                      inner: Linear("ii", input: d, output: 5, std: 0.5, generator: &g),
                                      outer: Linear("io", input: 5, output: d, std: 0.5, generator: &g),
                                      lexical: Parameter("lexical", shape: [2], value: [1.5, 2.5]))
        for p in user.parameters + item.parameters where p.name.hasSuffix(".bias") { for i in p.value.indices { p.value[i] = 0.1 * Float(i % 3) } }
        // A small step: the towers' ReLUs have kinks that a step of 1e-2 crosses.
        Self.check(user.parameters + item.parameters, epsilon: 2e-3) {
            TwoTower.lossAndGradients(user: user, item: item, content: content, histories: [[0, 2], [1], [3, 4, 5]], weights: [[1, 3], [2], [0.5, 1, 4]],
                                      candidates: [1, 3, 5], targets: [0, 2, 1], useID: [true, false, true],
                                      logQ: [-1, -2, -1.5], temperature: 0.5)
        }
    }
}
