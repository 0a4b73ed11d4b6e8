public import BraidCore
import Foundation

/// How much a short history folded in leans on what is known of the user without it: the
/// list they would get with no history at all (popularity among users sharing their attributes,
/// else popularity, `RecommendationModel.newUserScores(_:attributes:)`).
///
/// A user the model was not trained on, with h items folded in (a session, a new user's first
/// clicks), gets for item i
///
///     s_i = z(f)_i + w(h) · z(p)_i,   w(h) = weight · exp(−h / length)
///
/// where f is the model's fold-in of the history, p the prior list's scores, and z(v) = (v − μ)/σ
/// standardizes each over the items with training interactions (μ, σ their mean and standard
/// deviation; a constant v standardizes to 0). With one or two items a fold-in knows little
/// (EASE, kNN and ALS folded in from a new user's first click all rank below popularity on
/// ml-100k); the prior's weight falls as the history grows, and past `negligible` the model's
/// own scores are returned unchanged.
///
/// The defaults were chosen on a development split carved from the benchmark's training part
/// (ml-100k ≥4★, new users, their first h test interactions by time given; README,
/// "New users' first clicks"), never on a test set.
public struct HistoryPrior: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The prior's weight at an empty history.
    public var weight: Double
    /// The history length over which the weight falls by a factor e.
    public var length: Double

    /// The weight below which the prior is left out.
    public static let negligible = 0.001
    public static let `default` = HistoryPrior(weight: 4, length: 10)
    /// No prior: a history's fold-in as the model gives it.
    public static let off = HistoryPrior(weight: 0, length: 1)

    public init(weight: Double, length: Double) {
        self.weight = weight
        self.length = length
    }

    /// Parses `W,L` (weight and length), `W` (the default length) or `off`, checked.
    public init(parsing text: String) throws(ModelError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "off" {
            self = .off
            return
        }
        let parts = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard (1...2).contains(parts.count), let weight = Double(parts[0]), weight.isFinite, weight >= 0 else {
            throw ModelError(.invalidParameter, "history prior \"\(text)\" is not W,L (a weight ≥ 0 and a length > 0), W or off",
                             hint: "e.g. 4,10 (the default) or off")
        }
        var length = Self.default.length
        if parts.count == 2 {
            guard let value = Double(parts[1]), value.isFinite, value > 0 else {
                throw ModelError(.invalidParameter, "history prior \"\(text)\": the length \"\(parts[1])\" is not a number > 0",
                                 hint: "e.g. 4,10 (the default) or off")
            }
            length = value
        }
        self.init(weight: weight, length: length)
    }

    /// w(h): the prior's weight for a history of `count` items.
    public func weight(historyLength count: Int) -> Double {
        guard weight > 0, length > 0 else { return 0 }
        return weight * exp(-Double(max(0, count)) / length)
    }

    /// Whether a history of `count` items takes the prior at all.
    public func applies(historyLength count: Int) -> Bool {
        weight(historyLength: count) >= Self.negligible
    }

    /// `description`: `W,L`, or `off`.
    public var description: String {
        weight > 0 ? "\(weight.compactText),\(length.compactText)" : "off"
    }

    /// z(scores) + w(h)·z(prior) (type's documentation), standardized over the items for which
    /// `standardizes` is true and both scores are finite; a non-finite fold-in score (an item
    /// the model leaves out) stays as it is. `scores` unchanged when the prior does not apply.
    public func blend(_ scores: [Float], prior: [Float], historyLength count: Int, standardizes: [Bool]) -> [Float] {
        guard let blend = Blend(self, scores: scores, prior: prior, historyLength: count, standardizes: standardizes) else { return scores }
        return blend.scores(scores, prior: prior)
    }

    /// The standardization of one history's blend: the two parts of each item's score.
    public struct Blend: Sendable {
        /// w(h).
        public let weight: Double
        let scoreMean: Double, scoreScale: Double, priorMean: Double, priorScale: Double

        /// nil when the prior does not apply to a history of `count` items.
        public init?(_ prior: HistoryPrior, scores: [Float], prior priorScores: [Float], historyLength count: Int, standardizes: [Bool]) {
            guard prior.applies(historyLength: count), priorScores.count == scores.count else { return nil }
            weight = prior.weight(historyLength: count)
            let kept = scores.indices.filter { $0 < standardizes.count && standardizes[$0] && scores[$0].isFinite && priorScores[$0].isFinite }
            (scoreMean, scoreScale) = HistoryPrior.moments(kept.map { Double(scores[$0]) })
            (priorMean, priorScale) = HistoryPrior.moments(kept.map { Double(priorScores[$0]) })
        }

        /// z(f) and w(h)·z(p) for an item the fold-in scores `score` and the prior `prior`; they
        /// add up to its served score.
        public func parts(_ score: Float, _ prior: Float) -> (history: Float, prior: Float) {
            let z = scoreScale > 0 ? (Double(score) - scoreMean) / scoreScale : 0
            let zp = prior.isFinite && priorScale > 0 ? (Double(prior) - priorMean) / priorScale : 0
            return (Float(z), Float(weight * zp))
        }

        /// Every item's served score: the sum of its `parts`; a non-finite fold-in score stays.
        public func scores(_ scores: [Float], prior: [Float]) -> [Float] {
            scores.indices.map { i in
                guard scores[i].isFinite else { return scores[i] }
                let (history, prior) = parts(scores[i], prior[i])
                return history + prior
            }
        }

        /// The fold-in's `reason` for an item it scores `score` and the prior `prior`, with the
        /// two parts of its served score as `contributions` (they add up to it; the history
        /// items' weights are the fold-in's own, not parts of the served score).
        public func explained(_ reason: Explanation?, score: Float, prior: Float) -> Explanation {
            let (history, prior) = parts(score, prior)
            var blended = reason ?? Explanation(sumsToScore: false)
            blended.sumsToScore = false
            blended.contributions = [("history", history), ("prior", prior)]
            return blended
        }
    }

    /// Mean and (population) standard deviation; 0 and 0 for no values.
    static func moments(_ values: [Double]) -> (mean: Double, deviation: Double) {
        guard !values.isEmpty else { return (0, 0) }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        return (mean, variance.squareRoot())
    }
}

extension RecommendationModel {
    /// The scores for a user the model was not trained on, with the history `items` (and their
    /// `values`): the fold-in blended with the user's prior list by `prior` (`HistoryPrior`),
    /// where the model folds in histories; the prior list alone (`newUserScores(_:attributes:)`)
    /// for an empty history or a model that cannot.
    public func newUserScores(history items: [Int32], values: [Float], record: UserRecord?, attributes: AttributePopularity?,
                              prior: HistoryPrior = .default) throws(ModelError) -> [Float] {
        try newUserScores(history: items, values: values, priorScores: newUserScores(record, attributes: attributes), prior: prior)
    }

    /// `newUserScores(history:values:record:attributes:prior:)` with the prior list given: the
    /// user's scores without a history (`priorScores`, one per item), as
    /// `AttributePopularity.described(_:)` or `popularityScores()` give them.
    public func newUserScores(history items: [Int32], values: [Float], priorScores base: [Float],
                              prior: HistoryPrior = .default) throws(ModelError) -> [Float] {
        guard !items.isEmpty, scoresAnyHistory else { return base }
        let folded = try scores(forHistory: items, values: values)
        return prior.blend(folded, prior: base, historyLength: items.count, standardizes: data.itemHasInteractions)
    }

    /// The reasons of the items `listed` (indices) from `newUserScores(history:…)` with the same
    /// arguments: the fold-in's, with the history's and the prior's parts of each score as
    /// `contributions` (they add up to it) where the prior applies; nil for each item where the
    /// list is the prior list alone.
    public func newUserExplanations(history items: [Int32], values: [Float], priorScores base: [Float],
                                    prior: HistoryPrior = .default, listed: [Int]) throws(ModelError) -> [Explanation?] {
        guard !items.isEmpty, scoresAnyHistory else { return listed.map { _ in nil } }
        let reasons = explanations(history: items, values: values, trainedUser: nil, items: listed)
        let folded = try scores(forHistory: items, values: values)
        guard let blend = HistoryPrior.Blend(prior, scores: folded, prior: base, historyLength: items.count,
                                             standardizes: data.itemHasInteractions) else { return reasons }
        return zip(listed, reasons).map { item, reason in blend.explained(reason, score: folded[item], prior: base[item]) }
    }
}
