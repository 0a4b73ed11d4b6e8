public import BraidCore
import Foundation

/// LambdaMART (Burges 2010, "From RankNet to LambdaRank to LambdaMART: An Overview"):
/// gradient-boosted regression trees whose gradients are LambdaRank's, so that boosting climbs
/// NDCG directly. Trees grow leaf-wise on binned features with histogram split finding and
/// the parent − sibling histogram subtraction, as LightGBM's `lambdarank` objective does
/// (Ke et al. 2017); histograms are built on the worker threads, one feature per task.
///
/// Per query, for every pair (i, j) with label_i > label_j, with scores s and σ = `sigma`:
/// ρ = 1 / (1 + e^{σ(s_i − s_j)}), |ΔNDCG| = |g_i − g_j| · |1/log2(1 + r_i) − 1/log2(1 + r_j)| / IDCG
/// (gains g = 2^label − 1, r the current 1-based ranks); the loss gradient is −σρ|ΔNDCG| for i
/// and +σρ|ΔNDCG| for j, the Hessian σ²ρ(1 − ρ)|ΔNDCG| for both. A leaf predicts
/// −η·ΣG / (ΣH + λ).
public struct LambdaMART: Sendable, Equatable {
    public struct Settings: Codable, Sendable, Equatable {
        /// Boosting rounds (the most; early stopping on validation queries may use fewer).
        public var trees = 200
        /// Leaves per tree.
        public var leaves = 31
        public var learningRate: Float = 0.05
        /// No leaf holds fewer samples.
        public var minimumLeafSamples = 20
        /// Histogram bins per feature (at most 255).
        public var bins = 63
        /// L2 penalty λ on leaf values.
        public var l2: Float = 1
        /// σ of the pairwise logistic.
        public var sigma: Float = 1
        /// Stop when validation NDCG@`cutoff` has not improved for this many rounds.
        public var patience = 30
        public var cutoff = 10

        public init() {}
    }

    /// One regression tree as node arrays; a leaf has `feature == -1`.
    public struct Tree: Sendable, Equatable {
        public var feature: [Int32] = []
        public var threshold: [Float] = []
        public var left: [Int32] = []
        public var right: [Int32] = []
        public var value: [Float] = []

        /// The leaf value for `row` (go left when the value is at most the threshold).
        @inlinable public func predict(_ row: UnsafePointer<Float>) -> Float {
            var node = 0
            while feature[node] >= 0 {
                node = Int(row[Int(feature[node])] <= threshold[node] ? left[node] : right[node])
            }
            return value[node]
        }
    }

    /// Rows grouped by query: rows `queryStarts[q]..<queryStarts[q + 1]` belong to query q.
    public struct Dataset: Sendable {
        public var featureCount: Int
        /// Row-major, `rows × featureCount`.
        public var features: [Float]
        public var labels: [Float]
        public var queryStarts: [Int]
        /// Scores the boosting starts from (LightGBM's `init_score`), e.g. a first-stage
        /// model's; the trees then learn corrections to that ranking. Empty means zeros.
        public var baseScores: [Float]

        public init(featureCount: Int, features: [Float] = [], labels: [Float] = [], queryStarts: [Int] = [0], baseScores: [Float] = []) {
            self.featureCount = featureCount
            self.features = features
            self.labels = labels
            self.queryStarts = queryStarts
            self.baseScores = baseScores
        }

        public var rowCount: Int { labels.count }
        public var queryCount: Int { queryStarts.count - 1 }

        /// Appends one query's rows (with their base scores when the set has them).
        public mutating func append(features rows: [Float], labels queryLabels: [Float], baseScores base: [Float] = []) {
            features += rows
            labels += queryLabels
            baseScores += base
            queryStarts.append(labels.count)
        }

        /// The base score of every row.
        var initialScores: [Float] { baseScores.count == labels.count ? baseScores : [Float](repeating: 0, count: labels.count) }
    }

    public var trees: [Tree]
    public var featureCount: Int

    public init(trees: [Tree], featureCount: Int) {
        self.trees = trees
        self.featureCount = featureCount
    }

    /// The ensemble's score of one row.
    @inlinable public func score(_ row: UnsafePointer<Float>) -> Float {
        var total: Float = 0
        for tree in trees { total += tree.predict(row) }
        return total
    }

    /// Scores of every row of row-major `features`, added to `base` when given.
    public func scores(_ features: [Float], base: [Float] = []) -> [Float] {
        let rows = features.count / max(1, featureCount)
        return features.withUnsafeBufferPointer { f in
            (0..<rows).map { (base.isEmpty ? 0 : base[$0]) + score(f.baseAddress! + $0 * featureCount) }
        }
    }

    /// Trains on `training`, stopping early on `validation` queries when given.
    public init(training: Dataset, validation: Dataset? = nil, settings: Settings) {
        featureCount = training.featureCount
        trees = []
        guard training.rowCount > 0, featureCount > 0 else { return }
        let binned = BinnedFeatures(training, bins: min(255, max(2, settings.bins)))
        var scores = training.initialScores
        var validationScores = validation?.initialScores ?? []
        var best = (ndcg: validation.map { Self.meanNDCG($0, scores: validationScores, cutoff: settings.cutoff) } ?? -1, trees: 0)
        for round in 0..<settings.trees {
            let (gradients, hessians) = Self.lambdas(training, scores: scores, sigma: settings.sigma)
            let (tree, leafOfRow) = TreeGrower(binned: binned, gradients: gradients, hessians: hessians, settings: settings).grow()
            for row in 0..<scores.count { scores[row] += tree.value[Int(leafOfRow[row])] }
            trees.append(tree)
            guard let validation else { continue }
            validation.features.withUnsafeBufferPointer { f in
                for row in 0..<validationScores.count { validationScores[row] += tree.predict(f.baseAddress! + row * featureCount) }
            }
            let ndcg = Self.meanNDCG(validation, scores: validationScores, cutoff: settings.cutoff)
            if ndcg > best.ndcg + 1e-9 { best = (ndcg, round + 1) } else if round + 1 - best.trees >= settings.patience { break }
        }
        if validation != nil { trees.removeLast(trees.count - best.trees) }
    }

    /// LambdaRank gradients and Hessians of every row, queries in parallel.
    static func lambdas(_ data: Dataset, scores: [Float], sigma: Float) -> (gradients: [Float], hessians: [Float]) {
        var gradients = [Float](repeating: 0, count: data.rowCount), hessians = gradients
        gradients.withUnsafeMutableBufferPointer { gb in
            hessians.withUnsafeMutableBufferPointer { hb in
                let g = SharedBuffer(gb), h = SharedBuffer(hb)
                parallelFor(data.queryCount, minimumChunk: 16) { q in
                    let start = data.queryStarts[q], end = data.queryStarts[q + 1]
                    let n = end - start
                    guard n > 1 else { return }
                    let order = DescendingOrder.of(start..<end, scores)
                    var rank = [Int](repeating: 0, count: n)
                    for (position, row) in order.enumerated() { rank[row - start] = position + 1 }
                    let ideal = idealDCG(data.labels[start..<end], cutoff: n)
                    guard ideal > 0 else { return }
                    let gain = (start..<end).map { pow(2, Double(data.labels[$0])) - 1 }
                    let discount = rank.map { 1 / log2(1 + Double($0)) }
                    for i in start..<end where data.labels[i] > 0 {
                        for j in start..<end where data.labels[j] < data.labels[i] {
                            let delta = Float(abs((gain[i - start] - gain[j - start]) * (discount[i - start] - discount[j - start])) / ideal)
                            let rho = 1 / (1 + exp(sigma * (scores[i] - scores[j])))
                            let lambda = sigma * rho * delta, curvature = sigma * sigma * rho * (1 - rho) * delta
                            g[i] -= lambda
                            g[j] += lambda
                            h[i] += curvature
                            h[j] += curvature
                        }
                    }
                }
            }
        }
        return (gradients, hessians)
    }

    static func idealDCG(_ labels: ArraySlice<Float>, cutoff: Int) -> Double {
        labels.sorted(by: >).prefix(cutoff).enumerated().reduce(0.0) { $0 + (pow(2, Double($1.element)) - 1) / log2(Double($1.offset) + 2) }
    }

    /// Mean NDCG@cutoff over the queries that have a relevant row.
    static func meanNDCG(_ data: Dataset, scores: [Float], cutoff: Int) -> Double {
        // Per query in parallel; summed in query order, as one loop would.
        let perQuery: [Double?] = parallelMap(data.queryCount, minimumChunk: 64) { q in
            let range = data.queryStarts[q]..<data.queryStarts[q + 1]
            let ideal = idealDCG(data.labels[range], cutoff: cutoff)
            guard ideal > 0 else { return nil }
            var dcg = 0.0
            for (position, row) in DescendingOrder.of(range, scores, prefix: cutoff).enumerated() {
                dcg += (pow(2, Double(data.labels[row])) - 1) / log2(Double(position) + 2)
            }
            return dcg / ideal
        }
        var total = 0.0, counted = 0
        for case let value? in perQuery {
            total += value
            counted += 1
        }
        return counted == 0 ? 0 : total / Double(counted)
    }
}

/// Features cut into quantile bins, stored column by column for histogram building.
struct BinnedFeatures: Sendable {
    let rowCount: Int
    let featureCount: Int
    /// `featureCount × rowCount`, the bin of each value.
    let bins: [UInt8]
    /// Per feature, the upper edge of each bin but the last: a value v falls in the first bin
    /// whose edge is ≥ v.
    let edges: [[Float]]

    init(_ data: LambdaMART.Dataset, bins maximum: Int) {
        rowCount = data.rowCount
        featureCount = data.featureCount
        let rows = rowCount, width = featureCount
        let edges: [[Float]] = parallelMap(width) { f in
            var values = (0..<rows).map { data.features[$0 * width + f] }
            values.sort()
            var distinct: [Float] = []
            for v in values where distinct.last != v { distinct.append(v) }
            if distinct.count <= maximum {
                return zip(distinct, distinct.dropFirst()).map { ($0 + $1) / 2 }
            }
            var cuts: [Float] = []
            for k in 1..<maximum {
                let v = values[k * values.count / maximum]
                if cuts.last.map({ $0 < v }) ?? true, v < distinct.last! { cuts.append(v) }
            }
            return cuts
        }
        self.edges = edges
        bins = parallelArray(count: width * rows, repeating: 0, minimumChunk: rows) { range, out in
            for k in range {
                let f = k / rows, row = k % rows
                let e = edges[f], v = data.features[row * width + f]
                var low = 0, high = e.count
                while low < high {
                    let mid = (low + high) / 2
                    if e[mid] < v { low = mid + 1 } else { high = mid }
                }
                out[k] = UInt8(low)
            }
        }
    }

    func binCount(_ feature: Int) -> Int { edges[feature].count + 1 }
}

/// Grows one tree leaf-wise: always split the leaf whose best split gains most.
struct TreeGrower {
    let binned: BinnedFeatures
    let gradients: [Float]
    let hessians: [Float]
    let settings: LambdaMART.Settings

    /// Per feature and bin: gradient sum, Hessian sum, count.
    typealias Histogram = [[(g: Double, h: Double, n: Int)]]

    struct Split {
        var feature = -1, bin = 0
        var gain = 0.0
    }

    struct Leaf {
        var rows: [Int32]
        var histogram: Histogram
        var g: Double, h: Double
        var split: Split
        var node: Int
    }

    func histogram(_ rows: [Int32]) -> Histogram {
        let n = binned.rowCount
        return parallelMap(binned.featureCount) { f in
            var bins = [(g: Double, h: Double, n: Int)](repeating: (0, 0, 0), count: binned.binCount(f))
            binned.bins.withUnsafeBufferPointer { b in
                let column = b.baseAddress! + f * n
                for row in rows {
                    let r = Int(row), bin = Int(column[r])
                    bins[bin].g += Double(gradients[r])
                    bins[bin].h += Double(hessians[r])
                    bins[bin].n += 1
                }
            }
            return bins
        }
    }

    func bestSplit(_ histogram: Histogram, g: Double, h: Double, count: Int) -> Split {
        let l2 = Double(settings.l2), minimum = settings.minimumLeafSamples
        let parent = g * g / (h + l2)
        var best = Split()
        for (f, bins) in histogram.enumerated() {
            var gl = 0.0, hl = 0.0, nl = 0
            for b in 0..<(bins.count - 1) {
                gl += bins[b].g; hl += bins[b].h; nl += bins[b].n
                let nr = count - nl
                guard nl >= minimum else { continue }
                guard nr >= minimum else { break }
                let gr = g - gl, hr = h - hl
                guard hl > 1e-6, hr > 1e-6 else { continue }
                let gain = gl * gl / (hl + l2) + gr * gr / (hr + l2) - parent
                if gain > best.gain { best = Split(feature: f, bin: b, gain: gain) }
            }
        }
        return best
    }

    /// The tree and, for every training row, the index of its leaf node.
    func grow() -> (LambdaMART.Tree, [Int32]) {
        var tree = LambdaMART.Tree()
        func addNode() -> Int {
            tree.feature.append(-1); tree.threshold.append(0); tree.left.append(-1); tree.right.append(-1); tree.value.append(0)
            return tree.feature.count - 1
        }
        let all = (0..<Int32(binned.rowCount)).map { $0 }
        let rootHistogram = histogram(all)
        let g = gradients.reduce(0.0) { $0 + Double($1) }, h = hessians.reduce(0.0) { $0 + Double($1) }
        var leaves = [Leaf(rows: all, histogram: rootHistogram, g: g, h: h, split: bestSplit(rootHistogram, g: g, h: h, count: all.count), node: addNode())]
        while leaves.count < settings.leaves {
            guard let k = leaves.indices.max(by: { leaves[$0].split.gain < leaves[$1].split.gain }), leaves[k].split.gain > 0 else { break }
            let parent = leaves.remove(at: k)
            let f = parent.split.feature, bin = UInt8(parent.split.bin)
            let column = f * binned.rowCount
            var leftRows: [Int32] = [], rightRows: [Int32] = []
            for row in parent.rows { if binned.bins[column + Int(row)] <= bin { leftRows.append(row) } else { rightRows.append(row) } }
            // Histogram of the smaller child; the other is the parent's minus it.
            let leftSmaller = leftRows.count <= rightRows.count
            let small = histogram(leftSmaller ? leftRows : rightRows)
            var large = parent.histogram
            for feature in 0..<large.count {
                for b in 0..<large[feature].count {
                    large[feature][b].g -= small[feature][b].g
                    large[feature][b].h -= small[feature][b].h
                    large[feature][b].n -= small[feature][b].n
                }
            }
            let (leftHistogram, rightHistogram) = leftSmaller ? (small, large) : (large, small)
            let gl = leftHistogram[0].reduce(0.0) { $0 + $1.g }, hl = leftHistogram[0].reduce(0.0) { $0 + $1.h }
            let leftNode = addNode(), rightNode = addNode()
            tree.feature[parent.node] = Int32(f)
            tree.threshold[parent.node] = binned.edges[f][Int(bin)]
            tree.left[parent.node] = Int32(leftNode)
            tree.right[parent.node] = Int32(rightNode)
            leaves.append(Leaf(rows: leftRows, histogram: leftHistogram, g: gl, h: hl,
                               split: bestSplit(leftHistogram, g: gl, h: hl, count: leftRows.count), node: leftNode))
            let gr = parent.g - gl, hr = parent.h - hl
            leaves.append(Leaf(rows: rightRows, histogram: rightHistogram, g: gr, h: hr,
                               split: bestSplit(rightHistogram, g: gr, h: hr, count: rightRows.count), node: rightNode))
        }
        var leafOfRow = [Int32](repeating: 0, count: binned.rowCount)
        for leaf in leaves {
            tree.value[leaf.node] = Float(-Double(settings.learningRate) * leaf.g / (leaf.h + Double(settings.l2)))
            for row in leaf.rows { leafOfRow[Int(row)] = Int32(leaf.node) }
        }
        return (tree, leafOfRow)
    }
}
