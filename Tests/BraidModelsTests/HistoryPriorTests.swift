import BraidCore
import BraidModels
import Foundation
import Testing

/// `HistoryPrior` against values worked out by hand.
@Suite struct HistoryPriorTests {
    /// Fold-in f = (0, 1, 2, 3) over the four standardized items: mean 1.5, standard deviation
    /// √1.25 = 1.1180340. Prior p = (4, 0, 0, 0): mean 1, deviation √3 = 1.7320508. At h = 10
    /// with weight 2 and length 10, w = 2/e = 0.7357589. Item 0: −1.5/1.1180340 + w·3/1.7320508
    /// = −1.3416408 + 1.2743794 = −0.0672614; item 1: −0.4472136 − w·0.5773503 = −0.8720067;
    /// item 2: 0.4472136 − 0.4247931 = 0.0224205; item 3: 1.3416408 − 0.4247931 = 0.9168477.
    /// Item 4 is not standardized over (f = p = 100): 98.5/1.1180340 + w·99/1.7320508 = 130.15535.
    /// Item 5 the model leaves out (−∞): it stays −∞.
    @Test func blendStandardizesBothAndWeighsThePrior() {
        let prior = HistoryPrior(weight: 2, length: 10)
        #expect(abs(prior.weight(historyLength: 10) - 0.7357589) < 1e-7)
        let scores: [Float] = [0, 1, 2, 3, 100, -.infinity]
        let base: [Float] = [4, 0, 0, 0, 100, 0]
        let blended = prior.blend(scores, prior: base, historyLength: 10, standardizes: [true, true, true, true, false, true])
        let expected: [Float] = [-0.0672614, -0.8720067, 0.0224205, 0.9168477, 130.15535]
        for (got, want) in zip(blended, expected) { #expect(abs(got - want) < 1e-4, "\(blended)") }
        #expect(blended[5] == -.infinity)
        // The parts add up to the served score, the prior's being w·z(p).
        let blend = HistoryPrior.Blend(prior, scores: scores, prior: base, historyLength: 10, standardizes: [true, true, true, true, false, true])!
        let (history, weighted) = blend.parts(0, 4)
        #expect(abs(history + 1.3416408) < 1e-5 && abs(weighted - 1.2743794) < 1e-5)
        let explained = blend.explained(Explanation(items: [(3, 0.5)], sumsToScore: true), score: 0, prior: 4)
        #expect(explained.contributionWeights == ["history": history, "prior": weighted] && !explained.sumsToScore && explained.items.count == 1)
    }

    /// A constant fold-in (a history no item's score depends on) standardizes to 0: the prior's
    /// order alone. Off, or past the negligible weight, the fold-in is returned unchanged.
    @Test func constantScoresAndNegligibleWeights() {
        let prior = HistoryPrior(weight: 2, length: 10)
        let blended = prior.blend([5, 5, 5], prior: [1, 2, 3], historyLength: 1, standardizes: [true, true, true])
        #expect(blended[0] < blended[1] && blended[1] < blended[2] && abs(blended[1]) < 1e-6)
        #expect(HistoryPrior.off.blend([3, 1, 2], prior: [1, 2, 3], historyLength: 1, standardizes: [true, true, true]) == [3, 1, 2])
        // 2·e^(−7.6) = 0.0010009 applies, 2·e^(−7.7) = 0.0009057 does not.
        #expect(prior.applies(historyLength: 76) && !prior.applies(historyLength: 77))
        #expect(prior.blend([3, 1, 2], prior: [1, 2, 3], historyLength: 77, standardizes: [true, true, true]) == [3, 1, 2])
    }

    @Test func parsing() throws {
        #expect(try HistoryPrior(parsing: "4,20") == HistoryPrior(weight: 4, length: 20))
        #expect(try HistoryPrior(parsing: " 3 ") == HistoryPrior(weight: 3, length: HistoryPrior.default.length))
        #expect(try HistoryPrior(parsing: "off") == .off)
        #expect(HistoryPrior.default.description == "\(HistoryPrior.default.weight.compactText),\(HistoryPrior.default.length.compactText)")
        #expect(try HistoryPrior(parsing: HistoryPrior.default.description) == .default)
        for bad in ["-1", "2,0", "x", "2,10,3", "nan", "2,inf", ""] {
            #expect(throws: ModelError.self, "\(bad)") { try HistoryPrior(parsing: bad) }
        }
    }
}
