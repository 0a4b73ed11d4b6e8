internal import BraidCore
import Foundation

/// The fusion's default second stage, and the linear baseline for its LambdaMART: a weighted
/// sum of the features, s = Σ_f w_f·x_f, trained on the same LambdaRank gradients (so it climbs
/// NDCG as the trees do) by steps of fixed length, from a start that ranks as one feature does
/// (the fusion's base member's score) or from zero. The datasets' base scores are not used:
/// the weights carry the start themselves.
///
/// The features are standardized over the training rows (z = (x − mean) / deviation; a
/// constant feature gets no weight). Each step takes the rows' LambdaRank gradients g at the
/// current scores (`LambdaMART.lambdas`), G_f = Σ_r g_r z_rf + λ·w_f, and moves the
/// standardized weights by −η·G / ‖G‖. (Newton steps, −G_f / Σ_r h_r z_rf², overshoot here:
/// pairs the base ranks badly wrong carry full gradients and almost no curvature.) Early
/// stopping on validation queries keeps the best step. The stored weights are per raw feature
/// (w_f / deviation_f); the constant the means add is the same for every row and does not
/// change a ranking.
public struct LinearRanker: Sendable, Equatable {
    /// One weight per raw feature.
    public var weights: [Float]

    public init(weights: [Float]) {
        self.weights = weights
    }

    public var featureCount: Int { weights.count }

    /// Scores of every row of row-major `features`.
    public func scores(_ features: [Float]) -> [Float] {
        let width = weights.count, rows = features.count / max(1, width), weights = weights
        return parallelMap(rows, minimumChunk: 4096) { row in
            var total: Float = 0
            for f in 0..<width { total += weights[f] * features[row * width + f] }
            return total
        }
    }

    /// Trains on `training` for at most `settings.trees` steps of size `settings.learningRate`
    /// with L2 penalty `settings.l2`, stopping early on `validation` queries when given (after
    /// `settings.patience` steps without a better NDCG@`settings.cutoff`). With `start`, the
    /// weights start at that feature alone (weight 1 per standard deviation), else at zero.
    public init(training: LambdaMART.Dataset, validation: LambdaMART.Dataset? = nil, settings: LambdaMART.Settings, start: Int? = nil) {
        let width = training.featureCount, rows = training.rowCount
        weights = [Float](repeating: 0, count: width)
        guard rows > 0, width > 0 else { return }
        // Standardized columns, feature-major.
        var mean = [Double](repeating: 0, count: width), deviation = mean
        for f in 0..<width {
            var sum = 0.0, squares = 0.0
            for r in 0..<rows {
                let x = Double(training.features[r * width + f])
                sum += x
                squares += x * x
            }
            mean[f] = sum / Double(rows)
            let variance = max(0, squares / Double(rows) - mean[f] * mean[f])
            deviation[f] = variance > 1e-12 ? variance.squareRoot() : 0
        }
        let standardized: [[Float]] = (0..<width).map { f in
            deviation[f] == 0 ? [] : (0..<rows).map { Float((Double(training.features[$0 * width + f]) - mean[f]) / deviation[f]) }
        }
        let raw = { (w: [Double]) -> [Float] in (0..<width).map { deviation[$0] == 0 ? 0 : Float(w[$0] / deviation[$0]) } }
        var w = [Double](repeating: 0, count: width)
        if let start, start >= 0, start < width, deviation[start] > 0 { w[start] = 1 }
        weights = raw(w)
        let constants = LambdaMART.RankingConstants(training, cutoff: settings.cutoff)
        let validationConstants = validation.map { LambdaMART.RankingConstants($0, cutoff: settings.cutoff) }
        func validationNDCG(_ weights: [Float]) -> Double? {
            validation.map { LambdaMART.meanNDCG($0, scores: LinearRanker(weights: weights).scores($0.features), cutoff: settings.cutoff, constants: validationConstants) }
        }
        var best = (ndcg: validationNDCG(weights) ?? -1, weights: weights)
        var since = 0
        func trainingScores() -> [Float] {
            let current = w
            return parallelMap(rows, minimumChunk: 4096) { r in
                var total = 0.0
                for f in 0..<width where !standardized[f].isEmpty { total += current[f] * Double(standardized[f][r]) }
                return Float(total)
            }
        }
        var scores = trainingScores()
        var order = (0..<Int32(rows)).map { $0 }
        let eta = Double(settings.learningRate), l2 = Double(settings.l2)
        for _ in 0..<settings.trees {
            let g = LambdaMART.lambdas(training, scores: scores, sigma: settings.sigma, truncation: settings.truncation, constants: constants, order: &order).gradients
            let current = w
            let gradient: [Double] = parallelMap(width) { f in
                let z = standardized[f]
                guard !z.isEmpty else { return 0 }
                var total = 0.0
                for r in 0..<rows { total += Double(g[r]) * Double(z[r]) }
                return total + l2 * current[f]
            }
            let norm = gradient.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0 else { break }
            for f in 0..<width { w[f] -= eta * gradient[f] / norm }
            scores = trainingScores()
            let candidate = raw(w)
            guard let ndcg = validationNDCG(candidate) else { continue }
            if ndcg > best.ndcg + 1e-9 {
                best = (ndcg, candidate)
                since = 0
            } else {
                since += 1
                if since >= settings.patience { break }
            }
        }
        weights = validation == nil ? raw(w) : best.weights
    }
}
