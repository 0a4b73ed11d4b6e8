import BraidCore
import BraidEvaluation
import Foundation
import Testing

/// Metrics against values worked out by hand.
@Suite struct MetricTests {
    // Ranked [1,2,3,4,5], relevant {2,5,9}, k = 5: hits at ranks 2 and 5.
    let outcome = RankingMetrics.evaluate(ranked: [1, 2, 3, 4, 5], relevant: [2, 5, 9], k: 5)

    @Test func precisionRecallAndF1() {
        #expect(abs(outcome.precision - 0.4) < 1e-12)
        #expect(abs(outcome.recall - 2.0 / 3) < 1e-12)
        // 2 · 0.4 · 2/3 / (0.4 + 2/3) = 0.5
        #expect(abs(outcome.f1 - 0.5) < 1e-12)
    }

    @Test func ndcgWithBinaryGains() {
        // DCG = 1/log2(3) + 1/log2(6) = 1.017783; IDCG over min(5, 3) = 3 hits = 1 + 1/log2(3) + 1/2 = 2.130930.
        #expect(abs(outcome.ndcg - 0.477624) < 1e-6)
    }

    @Test func averagePrecisionReciprocalRankAndHit() {
        // (1/2 + 2/5) / min(5, 3) = 0.3
        #expect(abs(outcome.averagePrecision - 0.3) < 1e-12)
        #expect(outcome.reciprocalRank == 0.5)
        #expect(outcome.hit == 1)
    }

    @Test func noHits() {
        let miss = RankingMetrics.evaluate(ranked: [1, 2], relevant: [7], k: 2)
        #expect([miss.precision, miss.recall, miss.f1, miss.ndcg, miss.averagePrecision, miss.reciprocalRank, miss.hit] == [0, 0, 0, 0, 0, 0, 0])
    }

    @Test func precisionDividesByKEvenForShortLists() {
        let short = RankingMetrics.evaluate(ranked: [3], relevant: [3], k: 10)
        #expect(short.precision == 0.1 && short.recall == 1 && short.ndcg == 1)
    }

    @Test func aucCountsOrderedPairs() {
        // Scores 0.9, 0.8, 0.3, 0.1 for items 0–3, relevant {1, 3}: of the four (relevant,
        // irrelevant) pairs only (1, 2) is ordered correctly: 1/4.
        let auc = RankingMetrics.auc(scores: [0.9, 0.8, 0.3, 0.1], relevant: [1, 3])
        #expect(abs(auc! - 0.25) < 1e-12)
        // Ties count one half.
        #expect(RankingMetrics.auc(scores: [1, 1], relevant: [0]) == 0.5)
        // An unscorable relevant item loses to every irrelevant candidate: (1 + 0) / 2.
        #expect(RankingMetrics.auc(scores: [0.9, 0.1], relevant: [0, 5]) == 0.5)
        // Ties between a relevant and irrelevant items: relevant 0 (0.5) and 3 (0.2) against
        // 1 (0.5), 2 (0.5) and 4 (0.9): the pairs (0, 1) and (0, 2) tie, the other four are
        // lost, so (½ + ½) / 6. Item 5 (−∞) is not a candidate and not relevant: it counts for nothing.
        let tied = RankingMetrics.auc(scores: [0.5, 0.5, 0.5, 0.2, 0.9, -.infinity], relevant: [0, 3])
        #expect(abs(tied! - 1.0 / 6) < 1e-12)
        // The same with the candidates listed: item 5 (7) is left out by not being listed.
        let listed = RankingMetrics.auc(scores: [0.5, 0.5, 0.5, 0.2, 0.9, 7], candidates: [0, 1, 2, 3, 4], relevant: [0, 3])
        #expect(abs(listed! - 1.0 / 6) < 1e-12)
        // No irrelevant candidate, or no relevant item: undefined.
        #expect(RankingMetrics.auc(scores: [0.5, 0.1], relevant: [0, 1]) == nil)
        #expect(RankingMetrics.auc(scores: [0.5, 0.1], relevant: []) == nil)
    }

    @Test func aucEqualsThePairCountOnManyTies() {
        // Scores drawn from a few values, so that most pairs tie, against counting every
        // (relevant, irrelevant) pair one by one.
        var generator = SeededGenerator(seed: 7)
        // One relevant item in 12 (about 25, counted by a pass each) or in 2 (about 150, counted
        // by binary search); 303 scores, so the vectorized passes end with a remainder. Some
        // candidates score +∞; the others are left out by −∞ or NaN.
        for round in 0..<20 {
            let n = 303
            var scores = (0..<n).map { _ in generator.next() % 40 == 0 ? Float.infinity : Float(generator.next() % 6) / 2 }
            let candidates = (0..<n).filter { _ in generator.next() % 5 != 0 }.map { Int32($0) }
            for item in Set(0..<n).subtracting(candidates.map { Int($0) }) { scores[item] = item.isMultiple(of: 2) ? -.infinity : .nan }
            let density: UInt64 = round.isMultiple(of: 2) ? 12 : 2
            let relevant = Set((0..<n).filter { _ in generator.next() % density == 0 }.map { Int32($0) })
            let candidateSet = Set(candidates)
            let negatives = candidates.filter { !relevant.contains($0) }
            var pairs = 0.0
            for r in relevant where candidateSet.contains(r) {
                for q in negatives {
                    let a = scores[Int(r)], b = scores[Int(q)]
                    pairs += a > b ? 1 : a == b ? 0.5 : 0
                }
            }
            let expected = pairs / (Double(relevant.count) * Double(negatives.count))
            let auc = RankingMetrics.auc(scores: scores, relevant: relevant)
            #expect(abs(auc! - expected) < 1e-12)
        }
    }

    @Test func ratingErrors() {
        let pairs: [(predicted: Float, actual: Float)] = [(3, 4), (5, 3)]
        #expect(abs(RatingMetrics.rmse(pairs) - 2.5.squareRoot()) < 1e-12)
        #expect(RatingMetrics.mae(pairs) == 1.5)
    }

    @Test func beyondAccuracy() {
        let lists: [[Int32]] = [[0, 1], [0, 2]]
        #expect(BeyondAccuracyMetrics.coverage(lists, catalogueSize: 4) == 0.75)
        // Item 0 seen by 2 of 4 users (1 bit), items 1 and 2 by 1 of 4 (2 bits): (1+2+1+2)/4.
        #expect(BeyondAccuracyMetrics.novelty(lists, itemUserCounts: [2, 1, 1, 4], userCount: 4) == 1.5)
        // Categories {x}, {x,y}, {z}: pair distances 1/2, 1, 1 → 5/6 for a list of all three.
        let ild = BeyondAccuracyMetrics.intraListDiversity([[0, 1, 2]], categories: [["x"], ["x", "y"], ["z"]])
        #expect(abs(ild - 5.0 / 6) < 1e-12)
        // Exposure counts over catalogue [0,1,2,3]: 2,1,1,0 → Gini = Σ(2i−n−1)x/(nΣx) over sorted
        // (0,1,1,2): (−3·0 − 1·1 + 1·1 + 3·2)/(4·4) = 0.375.
        #expect(abs(BeyondAccuracyMetrics.exposureGini(lists, catalogue: [0, 1, 2, 3]) - 0.375) < 1e-12)
    }
}
