import BraidCore
@testable import BraidNeural
import BraidTestSupport
import Foundation
import Testing

/// Every backward pass against central finite differences of the forward pass: the loss is
/// L = Σ r ⊙ y for a fixed random r, so dL/dy = r, and each checked coordinate's analytic
/// derivative must match (L(θ + ε) − L(θ − ε)) / 2ε.
@Suite struct GradientCheckTests {
    static func random(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var g = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float(g.nextGaussian()) * scale }
    }

    static func loss(_ y: [Float], _ r: [Float]) -> Double {
        zip(y, r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Checks dL/dx and dL/dθ for every parameter of a layer.
    static func check(input: [Float], parameters: [Parameter], tolerance: Double = 1e-2,
                      forward: ([Float]) -> [Float], backward: ([Float], [Float]) -> [Float]?,
                      sourceLocation: SourceLocation = #_sourceLocation) {
        var x = input
        let y = forward(x)
        let r = random(y.count, seed: 7)
        for p in parameters { p.zeroGradient() }
        let dx = backward(r, x)
        if let dx {
            let error = GradientCheck.relativeError(count: x.count, analytic: dx, get: { x[$0] }, set: { x[$0] = $1 }, loss: { loss(forward(x), r) })
            #expect(error < tolerance, "input gradient: relative error \(error)", sourceLocation: sourceLocation)
        }
        for p in parameters {
            let analytic = p.gradient
            let error = GradientCheck.relativeError(count: p.count, analytic: analytic, get: { p.value[$0] }, set: { p.value[$0] = $1 },
                                      loss: { loss(forward(x), r) })
            #expect(error < tolerance, "\(p.name): relative error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func linear() {
        var g = SeededGenerator(seed: 1)
        let layer = Linear("l", input: 5, output: 4, std: 0.5, generator: &g)
        layer.bias.value = Self.random(4, seed: 3)
        Self.check(input: Self.random(3 * 5, seed: 2), parameters: layer.parameters,
                   forward: { layer.forward($0, rows: 3) }, backward: { layer.backward($0, input: $1, rows: 3) })
    }

    @Test func layerNorm() {
        let norm = LayerNorm("n", width: 6, epsilon: 1e-5)
        norm.gain.value = Self.random(6, seed: 4)
        norm.bias.value = Self.random(6, seed: 5)
        Self.check(input: Self.random(4 * 6, seed: 6), parameters: norm.parameters,
                   forward: { norm.forward($0, rows: 4).output },
                   backward: { dy, x in
                       let f = norm.forward(x, rows: 4)
                       return norm.backward(dy, normalized: f.normalized, inverseStd: f.inverseStd, rows: 4)
                   })
    }

    @Test(arguments: Activation.allCases) func activation(_ activation: Activation) {
        // Away from ReLU's kink at 0.
        let x = Self.random(30, seed: 8).map { $0 + ($0 >= 0 ? 0.1 : -0.1) }
        Self.check(input: x, parameters: [], forward: { activation.forward($0) },
                   backward: { activation.backward($0, input: $1) })
    }

    @Test(arguments: [true, false]) func attention(causal: Bool) {
        var g = SeededGenerator(seed: 11)
        let layer = SelfAttention("a", width: 8, heads: 2, causal: causal, std: 0.4, generator: &g)
        let counts = [4, 2]  // the second sequence is padded after two positions
        func run(_ x: [Float]) -> (output: [Float], tape: SelfAttention.Tape) {
            var dropout = SeededGenerator(seed: 12)  // the same mask on every call
            return layer.forward(x, batch: 2, length: 4, counts: counts, dropout: 0.3, generator: &dropout)
        }
        Self.check(input: Self.random(2 * 4 * 8, seed: 13), parameters: layer.parameters,
                   forward: { run($0).output },
                   backward: { dy, x in layer.backward(dy, tape: run(x).tape, batch: 2, length: 4) })
    }

    @Test func causalAttentionIgnoresTheFuture() {
        var g = SeededGenerator(seed: 21)
        let layer = SelfAttention("a", width: 8, heads: 2, causal: true, std: 0.4, generator: &g)
        var x = Self.random(4 * 8, seed: 22)
        var none = SeededGenerator(seed: 0)
        let before = layer.forward(x, batch: 1, length: 4, counts: [4], dropout: 0, generator: &none).output
        for j in 24..<32 { x[j] += 1 }  // change only the last position
        let after = layer.forward(x, batch: 1, length: 4, counts: [4], dropout: 0, generator: &none).output
        #expect(Array(before[0..<24]) == Array(after[0..<24]))
        #expect(Array(before[24..<32]) != Array(after[24..<32]))
    }

    @Test(arguments: [Activation.gelu, .relu]) func transformerBlock(_ activation: Activation) {
        var g = SeededGenerator(seed: 31)
        let block = TransformerBlock("b", width: 8, heads: 2, innerWidth: 12, causal: true, activation: activation,
                                     std: 0.3, layerNormEpsilon: 1e-5, generator: &g)
        func run(_ x: [Float]) -> (output: [Float], tape: TransformerBlock.Tape) {
            var dropout = SeededGenerator(seed: 32)
            return block.forward(x, batch: 2, length: 3, counts: [3, 2], dropout: 0.2, attentionDropout: 0.2, generator: &dropout)
        }
        Self.check(input: Self.random(2 * 3 * 8, seed: 33), parameters: block.parameters, tolerance: 2e-2,
                   forward: { run($0).output },
                   backward: { dy, x in block.backward(dy, tape: run(x).tape, batch: 2, length: 3) })
    }

    /// The whole objective of SASRec (causal) and of BERT4Rec (bidirectional, with the output
    /// bias): encoder (embeddings, positions, blocks) and the full softmax over tied item
    /// embeddings.
    @Test(arguments: [true, false]) func encoderWithFullSoftmax(causal: Bool) {
        let encoder = SequenceEncoder(tokens: 7, width: 8, maximumLength: 4, layers: 2, heads: 2, innerWidth: 16, causal: causal,
                                      activation: .gelu, std: 0.3, layerNormEpsilon: 1e-5, seed: 41)
        let bias: Parameter? = causal ? nil : Parameter("bias", shape: [6], value: Self.random(6, seed: 43))
        let tokens: [Int32] = [1, 2, 3, 4, 5, 6, 0, 0]
        let targets: [Int32] = [1, 2, 3, -1, 5, 0, -1, -1]  // item k is token k + 1
        func lossAndTape() -> (Double, [Float], SequenceEncoder.Tape) {
            var dropout = SeededGenerator(seed: 42)
            let (hidden, tape) = encoder.forward(tokens: tokens, batch: 2, length: 4, counts: [4, 2], dropout: 0.1,
                                                 attentionDropout: 0.1, generator: &dropout)
            let (loss, dHidden) = SoftmaxCrossEntropy.full(hidden: hidden, rows: 8, width: 8, targets: targets,
                                                           table: encoder.items.table, first: 1, classes: 6, bias: bias)
            return (loss, dHidden, tape)
        }
        let parameters = encoder.parameters + (bias.map { [$0] } ?? [])
        for p in parameters { p.zeroGradient() }
        let (_, dHidden, tape) = lossAndTape()
        encoder.backward(dHidden, tape: tape, batch: 2, length: 4)
        // Read every gradient before the finite differences, whose loss calls add to the tables' gradients.
        let gradients = parameters.map(\.gradient)
        for (p, analytic) in zip(parameters, gradients) {
            let error = GradientCheck.relativeError(count: p.count, analytic: analytic, samples: 30, get: { p.value[$0] },
                                           set: { p.value[$0] = $1 }, loss: { lossAndTape().0 })
            #expect(error < 2e-2, "\(p.name): relative error \(error)")
        }
    }

    @Test func rowNormalize() {
        Self.check(input: Self.random(3 * 5, seed: 61), parameters: [],
                   forward: { RowNormalize.forward($0, rows: 3, width: 5).output },
                   backward: { dy, x in
                       let f = RowNormalize.forward(x, rows: 3, width: 5)
                       return RowNormalize.backward(dy, output: f.output, norms: f.norms, rows: 3, width: 5)
                   })
    }

    @Test func binaryCrossEntropy() {
        var z = Self.random(8, seed: 71, scale: 2)
        let labels: [Float] = [1, 0, 1, 1, 0, 0, 1, 0]
        let (_, d) = BinaryCrossEntropy.withLogits(z, labels: labels)
        #expect(GradientCheck.relativeError(count: z.count, analytic: d, get: { z[$0] }, set: { z[$0] = $1 },
                                   loss: { BinaryCrossEntropy.withLogits(z, labels: labels).loss }) < 1e-2)
    }

    @Test func sampledSoftmax() {
        var g = SeededGenerator(seed: 51)
        let candidates = Parameter("c", shape: [4, 4], normalStd: 0.7, generator: &g)
        let hidden = Self.random(3 * 4, seed: 52)
        let targets: [Int32] = [0, 3, 2], logQ: [Float] = [-1, -2, -0.5, -3]
        func run(_ h: [Float]) -> (Double, [Float]) {
            SoftmaxCrossEntropy.sampled(hidden: h, rows: 3, width: 4, targets: targets, candidates: candidates, logProbabilities: logQ,
                                        excluded: [[1], [], [0, 2]])  // a row's own target is never excluded
        }
        candidates.zeroGradient()
        var h = hidden
        let (_, dHidden) = run(h)
        let analyticCandidates = candidates.gradient
        #expect(GradientCheck.relativeError(count: h.count, analytic: dHidden, get: { h[$0] }, set: { h[$0] = $1 }, loss: { run(h).0 }) < 1e-2)
        #expect(GradientCheck.relativeError(count: candidates.count, analytic: analyticCandidates, get: { candidates.value[$0] },
                                   set: { candidates.value[$0] = $1 }, loss: { run(hidden).0 }) < 1e-2)
    }

    /// The logQ correction by hand: one row, h·c = (0, 0), log Q = (log ½, log ¼): logits
    /// (0 − log ½, 0 − log ¼) = (log 2, log 4); target 0: p = 2/(2 + 4), loss = log 3.
    @Test func sampledSoftmaxCorrectionByHand() {
        let candidates = Parameter("c", shape: [2, 1], value: [1, 1])
        let (loss, _) = SoftmaxCrossEntropy.sampled(hidden: [0], rows: 1, width: 1, targets: [0], candidates: candidates,
                                                    logProbabilities: [Float(log(0.5)), Float(log(0.25))])
        #expect(abs(loss - log(3)) < 1e-5)
        // Excluding the other candidate leaves the target alone: loss 0.
        let (alone, _) = SoftmaxCrossEntropy.sampled(hidden: [0], rows: 1, width: 1, targets: [0], candidates: candidates,
                                                     logProbabilities: [Float(log(0.5)), Float(log(0.25))], excluded: [[1]])
        #expect(abs(alone) < 1e-6)
    }
}

@Suite struct KnownAnswerTests {
    /// logits (1, 0) with target 0: −log(e/(e + 1)) = log(1 + e⁻¹) = 0.3132617; dL/dh =
    /// Σ_k (p_k − y_k)·e_k = (p₀ − 1, p₁) = (−0.2689414, 0.2689414).
    @Test func fullSoftmaxByHand() {
        let table = Parameter("t", shape: [3, 2], value: [9, 9, 1, 0, 0, 1])  // row 0 is padding, not a class
        let (loss, dHidden) = SoftmaxCrossEntropy.full(hidden: [1, 0], rows: 1, width: 2, targets: [0], table: table, first: 1, classes: 2)
        #expect(abs(loss - 0.3132617) < 1e-5)
        #expect(abs(dHidden[0] + 0.2689414) < 1e-5 && abs(dHidden[1] - 0.2689414) < 1e-5)
        // dL/de₁ = (p₀ − 1)·h = (−0.2689, 0); dL/de₂ = p₁·h = (0.2689, 0); padding untouched.
        #expect(table.gradient[0] == 0 && table.gradient[1] == 0)
        #expect(abs(table.gradient[2] + 0.2689414) < 1e-5 && abs(table.gradient[4] - 0.2689414) < 1e-5)
    }

    /// First Adam step: m̂ = g, v̂ = g², so every weight moves by lr·sign(g); decoupled decay
    /// multiplies by 1 − lr·wd first: 1·(1 − 0.1·0.01) − 0.1 = 0.899; the bias (no decay) 2 − 0.1·(−1) = 2.1.
    @Test func adamFirstStepByHand() {
        let w = Parameter("w", shape: [1], value: [1])
        let b = Parameter("b", shape: [1], value: [2], decays: false)
        w.gradient = [0.5]
        b.gradient = [-3]
        var adam = Adam(learningRate: 0.1, weightDecay: 0.01)
        let norm = adam.update([w, b])
        #expect(abs(norm - (0.25 + 9 as Float).squareRoot()) < 1e-6)
        #expect(abs(w.value[0] - 0.899) < 1e-6)
        #expect(abs(b.value[0] - 2.1) < 1e-6)
        #expect(w.gradient == [0] && b.gradient == [0])
        // Second step with g = 0.5 again: m = 0.095, v = 0.0004998; m̂ = 0.5, v̂ = 0.25 → −0.1 again.
        w.gradient = [0.5]
        adam.update([w])
        #expect(abs(w.value[0] - (0.899 * 0.999 - 0.1)) < 1e-5)
    }

    /// σ(0) = ½: the loss is log 2 = 0.6931472 whatever the label, and dL/dz = (½ − y)/n.
    @Test func binaryCrossEntropyByHand() {
        let (loss, d) = BinaryCrossEntropy.withLogits([0, 0], labels: [1, 0])
        #expect(abs(loss - 0.6931472) < 1e-6)
        #expect(d == [-0.25, 0.25])
        // z = 2, y = 1: log(1 + e⁻²) = 0.126928.
        #expect(abs(BinaryCrossEntropy.withLogits([2], labels: [1]).loss - 0.126928) < 1e-6)
    }

    /// Clipping scales the gradient before the moments: norm 5 clipped to 1 gives m = 0.1·g/5.
    @Test func clipping() {
        let w = Parameter("w", shape: [2], value: [0, 0])
        w.gradient = [3, 4]
        var adam = Adam(learningRate: 0.01, clipNorm: 1)
        #expect(adam.update([w]) == 5)
        #expect(abs(w.firstMoment[0] - 0.06) < 1e-7 && abs(w.firstMoment[1] - 0.08) < 1e-7)
    }
}
