/// Top-k accuracy of one user's ranked list, by the definitions Braid's evaluation protocol
/// documents (the same as `shared/tools/peers.py`).
public struct RankingOutcome: Sendable, Equatable {
    /// hits / k.
    public var precision: Double
    /// hits / |relevant|.
    public var recall: Double
    /// 2PR / (P + R) of this user's precision and recall (0 without hits).
    public var f1: Double
    /// DCG with binary gains and 1/log2(rank + 1) discounts, over the ideal DCG of
    /// min(k, |relevant|) hits.
    public var ndcg: Double
    /// Σ over hit ranks of precision@rank, over min(k, |relevant|).
    public var averagePrecision: Double
    /// 1 / rank of the first hit, 0 without one.
    public var reciprocalRank: Double
    /// 1 when any of the top k is relevant.
    public var hit: Double
}

public enum RankingMetrics {
    /// Scores one ranked list.
    ///
    /// - Parameters:
    ///   - ranked: item indices, best first (only the first `k` count).
    ///   - relevant: the user's relevant items, including ones the model could not rank.
    ///   - k: the cut-off.
    public static func evaluate(ranked: [Int32], relevant: Set<Int32>, k: Int) -> RankingOutcome {
        precondition(k > 0 && !relevant.isEmpty, "need k > 0 and at least one relevant item")
        var hits = 0
        var dcg = 0.0, precisionSum = 0.0, firstHit = 0
        for (position, item) in ranked.prefix(k).enumerated() where relevant.contains(item) {
            hits += 1
            dcg += 1 / log2(Double(position + 2))
            precisionSum += Double(hits) / Double(position + 1)
            if firstHit == 0 { firstHit = position + 1 }
        }
        let ideal = min(k, relevant.count)
        let idcg = (0..<ideal).reduce(0.0) { $0 + 1 / log2(Double($1 + 2)) }
        let precision = Double(hits) / Double(k)
        let recall = Double(hits) / Double(relevant.count)
        return RankingOutcome(precision: precision, recall: recall,
                              f1: hits == 0 ? 0 : 2 * precision * recall / (precision + recall),
                              ndcg: dcg / idcg, averagePrecision: precisionSum / Double(ideal),
                              reciprocalRank: firstHit == 0 ? 0 : 1 / Double(firstHit), hit: hits > 0 ? 1 : 0)
    }

    /// Area under the ROC curve for one user: the probability that a relevant candidate is
    /// scored above an irrelevant one (ties count one half). Relevant items that are not
    /// candidates (unscorable) count as ranked below every candidate.
    ///
    /// The pairs are counted without sorting or gathering the candidates: up to 64 relevant
    /// items each count the scores below and equal to their own in one vectorized pass over all
    /// of them; past that each candidate is placed among the relevant ones' sorted scores by
    /// binary search. Both count the relevant candidates' pairs among themselves as well, which
    /// add up to r² (a pair of two counts 2 whichever way it goes, an item against itself 1) and
    /// are taken off. A user costs O(n·min(r, log r)) for n items and r relevant ones.
    ///
    /// - Parameters:
    ///   - scores: score per item index; the candidates (for the protocol: items with training
    ///     data that the user has not interacted with in training) are the scores above −∞, so
    ///     a caller leaves an item out by scoring it −∞ (a NaN score is no candidate either).
    /// - Returns: nil when there is no relevant or no irrelevant candidate.
    public static func auc(scores: [Float], relevant: Set<Int32>) -> Double? {
        guard !relevant.isEmpty else { return nil }
        var positives: [Float] = []
        positives.reserveCapacity(relevant.count)
        for item in relevant where item >= 0 && Int(item) < scores.count && scores[Int(item)] > -.infinity {
            positives.append(scores[Int(item)])
        }
        return scores.withUnsafeBufferPointer { all -> Double? in
            // Candidates: not −∞ (below +∞ or equal to it, less the −∞s; NaN is neither).
            let minusInfinity = countBelowAndEqual(all, -.infinity).equal
            let (belowInfinity, plusInfinity) = countBelowAndEqual(all, .infinity)
            let negativeCount = belowInfinity + plusInfinity - minusInfinity - positives.count
            guard negativeCount > 0 else { return nil }
            // Mann–Whitney U, doubled: a (relevant, irrelevant) pair ordered correctly counts 2,
            // a tie 1.
            var doubledU = 0
            if positives.count <= 64 {
                for positive in positives {
                    let (below, equal) = countBelowAndEqual(all, positive)
                    doubledU += 2 * (below - minusInfinity) + equal
                }
            } else {
                positives.sort()
                positives.withUnsafeBufferPointer { positives in
                    for score in all where score > -.infinity {
                        let below = prefixCount(positives) { $0 < score }, notAbove = prefixCount(positives) { $0 <= score }
                        doubledU += 2 * (positives.count - notAbove) + (notAbove - below)
                    }
                }
            }
            doubledU -= positives.count * positives.count
            return Double(doubledU) / 2 / (Double(relevant.count) * Double(negativeCount))
        }
    }

    /// `auc(scores:relevant:)` with the candidates listed instead: every other item is left
    /// out (as if scored −∞), and so is a listed one scored NaN or −∞.
    public static func auc(scores: [Float], candidates: [Int32], relevant: Set<Int32>) -> Double? {
        var listed = [Float](repeating: -.infinity, count: scores.count)
        for item in candidates where item >= 0 && Int(item) < scores.count { listed[Int(item)] = scores[Int(item)] }
        return auc(scores: listed, relevant: relevant)
    }

    /// How many of `values` are below `threshold`, and how many equal it.
    private static func countBelowAndEqual(_ values: UnsafeBufferPointer<Float>, _ threshold: Float) -> (below: Int, equal: Int) {
        typealias Lanes = SIMD16<Float>
        let width = Lanes.scalarCount
        let splat = Lanes(repeating: threshold)
        var below = SIMD16<Int32>(), equal = SIMD16<Int32>()
        let ones = SIMD16<Int32>(repeating: 1), zeros = SIMD16<Int32>()
        var index = 0
        if let base = values.baseAddress {
            let raw = UnsafeRawPointer(base)
            while index + width <= values.count {
                let lanes = raw.loadUnaligned(fromByteOffset: index * MemoryLayout<Float>.stride, as: Lanes.self)
                below &+= zeros.replacing(with: ones, where: lanes .< splat)
                equal &+= zeros.replacing(with: ones, where: lanes .== splat)
                index += width
            }
        }
        var belowCount = Int(below.wrappedSum()), equalCount = Int(equal.wrappedSum())
        while index < values.count {
            if values[index] < threshold { belowCount += 1 } else if values[index] == threshold { equalCount += 1 }
            index += 1
        }
        return (belowCount, equalCount)
    }

    /// How many of `sorted`'s leading values `holds` is true for, by binary search (it must
    /// hold for a prefix and for nothing after it).
    private static func prefixCount(_ sorted: UnsafeBufferPointer<Float>, where holds: (Float) -> Bool) -> Int {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if holds(sorted[middle]) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// Error of predicted ratings.
public enum RatingMetrics {
    /// √(mean squared error).
    public static func rmse(_ pairs: [(predicted: Float, actual: Float)]) -> Double {
        guard !pairs.isEmpty else { return .nan }
        return (pairs.reduce(0.0) { $0 + pow(Double($1.predicted - $1.actual), 2) } / Double(pairs.count)).squareRoot()
    }

    /// Mean absolute error.
    public static func mae(_ pairs: [(predicted: Float, actual: Float)]) -> Double {
        guard !pairs.isEmpty else { return .nan }
        return pairs.reduce(0.0) { $0 + abs(Double($1.predicted - $1.actual)) } / Double(pairs.count)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
