import BraidCore
@testable import BraidModels
import BraidTestSupport
import Foundation
import Testing

@Suite struct LambdaMARTTests {
    /// Two documents, labels (1, 0), equal scores (ranked by index): IDCG = 1,
    /// |ΔNDCG| = 1 − 1/log2(3) = 0.3690702, ρ = 1/(1 + e⁰) = ½, so λ = σρ|ΔNDCG| = 0.1845351 and
    /// the Hessian σ²ρ(1 − ρ)|ΔNDCG| = 0.0922675 (σ = 1).
    @Test func lambdaRankGradientsByHand() {
        var data = LambdaMART.Dataset(featureCount: 1)
        data.append(features: [0, 0], labels: [1, 0])
        let (g, h) = LambdaMART.lambdas(data, scores: [0, 0], sigma: 1)
        #expect(abs(g[0] + 0.1845351) < 1e-6 && abs(g[1] - 0.1845351) < 1e-6)
        #expect(abs(h[0] - 0.0922675) < 1e-6 && abs(h[1] - 0.0922675) < 1e-6)
    }

    /// Queries of 20 documents whose relevance is an XOR of two features (no linear score
    /// separates it) plus a noise feature: boosted trees must rank fresh queries almost perfectly.
    @Test func learnsAnInteractionNoLinearScoreCaptures() {
        func queries(_ count: Int, seed: UInt64) -> LambdaMART.Dataset {
            var rng = SeededGenerator(seed: seed)
            var data = LambdaMART.Dataset(featureCount: 3)
            for _ in 0..<count {
                var features: [Float] = [], labels: [Float] = []
                for _ in 0..<20 {
                    let a = Float(rng.nextUnit()), b = Float(rng.nextUnit()), noise = Float(rng.nextUnit())
                    features += [a, b, noise]
                    labels.append((a > 0.5) != (b > 0.5) ? 1 : 0)
                }
                data.append(features: features, labels: labels)
            }
            return data
        }
        var settings = LambdaMART.Settings()
        settings.trees = 60
        settings.learningRate = 0.2
        settings.leaves = 8
        let model = LambdaMART(training: queries(200, seed: 1), validation: queries(40, seed: 2), settings: settings)
        let test = queries(100, seed: 3)
        let ndcg = LambdaMART.meanNDCG(test, scores: model.scores(test.features), cutoff: 10)
        #expect(ndcg > 0.95, "NDCG@10 \(ndcg) with \(model.trees.count) trees")
        // Random scores reach about 0.5 here.
        var rng = SeededGenerator(seed: 9)
        let random = LambdaMART.meanNDCG(test, scores: test.labels.map { _ in Float(rng.nextUnit()) }, cutoff: 10)
        #expect(random < 0.7)
    }
}
