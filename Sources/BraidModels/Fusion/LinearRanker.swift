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
        // Each feature's mean and deviation over the training rows.
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
        // The features that vary, standardized twice over: column by column (the scores sum
        // one feature at a time over a block of rows) and row by row (the gradient sums one row
        // at a time over every feature). Every sum adds its terms in the order a plain loop
        // would, feature by feature for a score and row by row for a gradient component.
        let varying = (0..<width).filter { deviation[$0] > 0 }
        let standardized = Standardized(training, features: varying, mean: mean, deviation: deviation)
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
        func trainingScores() -> [Float] { standardized.scores(varying.map { w[$0] }) }
        var scores = trainingScores()
        var order = (0..<Int32(rows)).map { $0 }
        let eta = Double(settings.learningRate), l2 = Double(settings.l2)
        for _ in 0..<settings.trees {
            let g = LambdaMART.lambdas(training, scores: scores, sigma: settings.sigma, truncation: settings.truncation, constants: constants, order: &order).gradients
            var gradient = [Double](repeating: 0, count: width)
            for (k, sum) in standardized.weightedSums(g).enumerated() { gradient[varying[k]] = sum }
            for f in varying { gradient[f] += l2 * w[f] }
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

/// A ranker's training features standardized, z = (x − mean) / deviation, for the features
/// that vary, kept both column-major (`columns`, for scores) and row-major in rows padded to
/// a multiple of four (`rows`, for the gradient's sums).
private struct Standardized: Sendable {
    let rowCount: Int
    let featureCount: Int
    let columns: [Float]
    let stride: Int
    let rows: [Float]

    init(_ data: LambdaMART.Dataset, features: [Int], mean: [Double], deviation: [Double]) {
        let rowCount = data.rowCount, width = data.featureCount, count = features.count
        let stride = (count + 3) / 4 * 4
        self.rowCount = rowCount
        featureCount = count
        self.stride = stride
        columns = parallelArray(count: count * rowCount, repeating: 0, minimumChunk: rowCount) { range, out in
            for index in range {
                let k = index / rowCount, row = index % rowCount, f = features[k]
                out[index] = Float((Double(data.features[row * width + f]) - mean[f]) / deviation[f])
            }
        }
        let columns = columns
        rows = parallelArray(count: stride * rowCount, repeating: 0, minimumChunk: 4096 * stride) { range, out in
            for index in range {
                let row = index / stride, k = index % stride
                if k < count { out[index] = columns[k * rowCount + row] }
            }
        }
    }

    /// Σ_k weights[k]·z_rk per row r, summed over k in order from 0 in Double, as Float.
    func scores(_ weights: [Double]) -> [Float] {
        let rowCount = rowCount, featureCount = featureCount, block = 256
        return columns.withUnsafeBufferPointer { columns in
            let z = UnsafeSendablePointer(columns.baseAddress!)
            return parallelArray(count: rowCount, repeating: 0, minimumChunk: 4096) { range, out in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: block) { total in
                    var first = range.lowerBound
                    while first < range.upperBound {
                        let n = min(block, range.upperBound - first)
                        for i in 0..<n { total[i] = 0 }
                        for k in 0..<featureCount {
                            let weight = weights[k], column = z.pointer + k * rowCount + first
                            for i in 0..<n { total[i] += weight * Double(column[i]) }
                        }
                        for i in 0..<n { out[first + i] = Float(total[i]) }
                        first += n
                    }
                }
            }
        }
    }

    /// Σ_r values[r]·z_rk per feature k, summed over the rows in order in Double: the
    /// features' sums advance side by side, four to a vector.
    func weightedSums(_ values: [Float]) -> [Double] {
        let lanes = stride / 4
        var sums = [SIMD4<Double>](repeating: .zero, count: lanes)
        rows.withUnsafeBufferPointer { rows in
            values.withUnsafeBufferPointer { values in
                sums.withUnsafeMutableBufferPointer { sums in
                    var z = rows.baseAddress!
                    for r in 0..<rowCount {
                        let value = SIMD4<Double>(repeating: Double(values[r]))
                        for lane in 0..<lanes {
                            let x = SIMD4<Double>(SIMD4<Float>(z[4 * lane], z[4 * lane + 1], z[4 * lane + 2], z[4 * lane + 3]))
                            sums[lane] += value * x
                        }
                        z += stride
                    }
                }
            }
        }
        return (0..<featureCount).map { sums[$0 / 4][$0 % 4] }
    }
}
