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
    /// - Parameters:
    ///   - scores: score per item index.
    ///   - candidates: the rankable items (for the protocol: items with training data that the
    ///     user has not interacted with in training).
    /// - Returns: nil when there is no relevant or no irrelevant item.
    public static func auc(scores: [Float], candidates: [Int32], relevant: Set<Int32>) -> Double? {
        var entries: [(score: Float, relevant: Bool)] = candidates.map { (scores[Int($0)], relevant.contains($0)) }
        let candidateSet = Set(candidates)
        let unscorable = relevant.filter { !candidateSet.contains($0) }.count
        entries.sort { $0.score < $1.score }
        var positives = 0, negatives = 0
        var rankSum = 0.0
        var start = 0
        while start < entries.count {
            var end = start
            while end < entries.count && entries[end].score == entries[start].score { end += 1 }
            let meanRank = Double(start + end + 1) / 2  // 1-based average rank of the tie group
            for e in entries[start..<end] {
                if e.relevant { positives += 1; rankSum += meanRank } else { negatives += 1 }
            }
            start = end
        }
        let totalPositives = positives + unscorable
        guard totalPositives > 0, negatives > 0 else { return nil }
        // Mann–Whitney U of the scorable positives; unscorable ones beat no negative.
        let u = rankSum - Double(positives * (positives + 1)) / 2
        return u / (Double(totalPositives) * Double(negatives))
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
