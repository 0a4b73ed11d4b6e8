internal import BraidCore
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
/// and +σρ|ΔNDCG| for j, the Hessian σ²ρ(1 − ρ)|ΔNDCG| for both (with a truncation T, only the
/// pairs with r_i ≤ T or r_j ≤ T). A leaf predicts
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
        /// Only pairs with a row among the query's first `truncation` by the current scores
        /// give gradients, as LightGBM's `lambdarank_truncation_level`: a ranker judged on the
        /// top of its lists learns from the pairs that can change the top (0: every pair).
        public var truncation = 0

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

    public var trees: [Tree] { didSet { layout = QuickScorer(trees, featureCount: featureCount) } }
    public var featureCount: Int { didSet { layout = QuickScorer(trees, featureCount: featureCount) } }
    /// The trees laid out for `scores(_:base:)`; nil when a tree has more than 64 leaves.
    private var layout: QuickScorer?

    public init(trees: [Tree], featureCount: Int) {
        self.trees = trees
        self.featureCount = featureCount
        layout = QuickScorer(trees, featureCount: featureCount)
    }

    /// How many of the trees' nodes split on each feature.
    public var splitsPerFeature: [Int] {
        var splits = [Int](repeating: 0, count: featureCount)
        for tree in trees { for f in tree.feature where f >= 0 { splits[Int(f)] += 1 } }
        return splits
    }

    public static func == (a: LambdaMART, b: LambdaMART) -> Bool { a.trees == b.trees && a.featureCount == b.featureCount }

    /// The ensemble's score of one row, each tree walked from its root.
    @inlinable public func score(_ row: UnsafePointer<Float>) -> Float {
        var total: Float = 0
        for tree in trees { total += tree.predict(row) }
        return total
    }

    /// Scores of every row of row-major `features`, added to `base` when given: the same
    /// values as `score(_:)` (the trees' leaf values added in the trees' order), found without
    /// walking the trees (`QuickScorer`).
    public func scores(_ features: [Float], base: [Float] = []) -> [Float] {
        let rows = features.count / max(1, featureCount)
        guard rows > 0 else { return [] }
        return features.withUnsafeBufferPointer { f in
            layout?.scores(f.baseAddress!, rows: rows, base: base)
                ?? (0..<rows).map { (base.isEmpty ? 0 : base[$0]) + score(f.baseAddress! + $0 * featureCount) }
        }
    }

    /// Trains on `training`, stopping early on `validation` queries when given.
    public init(training: Dataset, validation: Dataset? = nil, settings: Settings) {
        featureCount = training.featureCount
        trees = []
        defer { layout = QuickScorer(trees, featureCount: featureCount) }
        guard training.rowCount > 0, featureCount > 0 else { return }
        let binned = BinnedFeatures(training, bins: min(255, max(2, settings.bins)))
        var scores = training.initialScores
        var validationScores = validation?.initialScores ?? []
        let constants = RankingConstants(training, cutoff: settings.cutoff)
        let validationConstants = validation.map { RankingConstants($0, cutoff: settings.cutoff) }
        var best = (ndcg: validation.map { Self.meanNDCG($0, scores: validationScores, cutoff: settings.cutoff, constants: validationConstants) } ?? -1, trees: 0)
        var order = (0..<Int32(training.rowCount)).map { $0 }
        for round in 0..<settings.trees {
            let (gradients, hessians) = Self.lambdas(training, scores: scores, sigma: settings.sigma, truncation: settings.truncation, constants: constants, order: &order)
            let (tree, leafOfRow) = TreeGrower(binned: binned, gradients: gradients, hessians: hessians, settings: settings).grow()
            for row in 0..<scores.count { scores[row] += tree.value[Int(leafOfRow[row])] }
            trees.append(tree)
            guard let validation else { continue }
            validation.features.withUnsafeBufferPointer { f in
                for row in 0..<validationScores.count { validationScores[row] += tree.predict(f.baseAddress! + row * featureCount) }
            }
            let ndcg = Self.meanNDCG(validation, scores: validationScores, cutoff: settings.cutoff, constants: validationConstants)
            if ndcg > best.ndcg + 1e-9 { best = (ndcg, round + 1) } else if round + 1 - best.trees >= settings.patience { break }
        }
        if validation != nil { trees.removeLast(trees.count - best.trees) }
    }

    /// What the gradients and NDCG read that the scores never change, computed once per
    /// dataset instead of every round: each row's gain 2^label − 1, each query's ideal DCG over
    /// all its rows (the gradients') and over its first `cutoff` (NDCG@cutoff's), and
    /// log2(1 + r) for every rank r a query can have.
    struct RankingConstants: Sendable {
        let cutoff: Int
        let gains: [Double]
        let fullIdeals: [Double]
        let cutoffIdeals: [Double]
        /// `logs[r]` = log2(1 + r); index 0 unused.
        let logs: [Double]
        /// Each query's rows by label, highest first (ties in row order).
        let labelOrder: [Int32]
        /// Each row's gain over its query's `fullIdeals` (0 when that is 0), and the discount
        /// 1/log2(2 + p) at every 0-based position p, in single precision for the gradients.
        let scaledGains: [Float]
        let discounts: [Float]

        init(_ data: Dataset, cutoff: Int) {
            self.cutoff = cutoff
            gains = data.labels.map { pow(2, Double($0)) - 1 }
            let ideals: [(full: Double, cut: Double)] = parallelMap(data.queryCount, minimumChunk: 64) { q in
                let labels = data.labels[data.queryStarts[q]..<data.queryStarts[q + 1]]
                return (LambdaMART.idealDCG(labels, cutoff: labels.count), LambdaMART.idealDCG(labels, cutoff: cutoff))
            }
            fullIdeals = ideals.map(\.full)
            cutoffIdeals = ideals.map(\.cut)
            let longest = (0..<data.queryCount).reduce(0) { max($0, data.queryStarts[$1 + 1] - data.queryStarts[$1]) }
            logs = (0...max(1, longest)).map { log2(1 + Double($0)) }
            var labelOrder = [Int32](repeating: 0, count: data.rowCount)
            labelOrder.withUnsafeMutableBufferPointer { buffer in
                let out = SharedBuffer(buffer)
                parallelChunks(data.queryCount, minimumChunk: 64) { queries in
                    for q in queries {
                        let start = data.queryStarts[q]
                        let rows = (start..<data.queryStarts[q + 1]).sorted { (-data.labels[$0], $0) < (-data.labels[$1], $1) }
                        for (k, row) in rows.enumerated() { out[start + k] = Int32(row) }
                    }
                }
            }
            self.labelOrder = labelOrder
            var scaledGains = [Float](repeating: 0, count: data.rowCount)
            for q in 0..<data.queryCount where fullIdeals[q] > 0 {
                for row in data.queryStarts[q]..<data.queryStarts[q + 1] { scaledGains[row] = Float(gains[row] / fullIdeals[q]) }
            }
            self.scaledGains = scaledGains
            discounts = logs.dropFirst().map { Float(1 / $0) }
        }
    }

    /// LambdaRank gradients and Hessians of every row, queries in parallel (`constants`: the
    /// data's, when the caller keeps them across rounds).
    static func lambdas(_ data: Dataset, scores: [Float], sigma: Float, truncation: Int = 0, constants: RankingConstants? = nil) -> (gradients: [Float], hessians: [Float]) {
        var order = (0..<Int32(data.rowCount)).map { $0 }
        return lambdas(data, scores: scores, sigma: sigma, truncation: truncation, constants: constants ?? RankingConstants(data, cutoff: 10), order: &order)
    }

    /// The same, with `order` holding each query's rows in the order of the scores of the round
    /// before (any order of the query's rows at first): each query is sorted from there, which
    /// the standard library's run-detecting merge sort finishes in nearly linear time when the
    /// scores moved little. The order left behind is this round's.
    ///
    /// Each query's rows are gathered in `constants.labelOrder` (labels descending), so a row's
    /// pairs are the rows after its label's run, worked eight at a time
    /// (`VectorKernels.lambdaRankPairs`); the pairs a truncation drops weigh 0.
    static func lambdas(_ data: Dataset, scores: [Float], sigma: Float, truncation: Int = 0, constants: RankingConstants,
                        order: inout [Int32]) -> (gradients: [Float], hessians: [Float]) {
        var gradients = [Float](repeating: 0, count: data.rowCount), hessians = gradients
        let capacity = constants.logs.count + 8
        gradients.withUnsafeMutableBufferPointer { gb in
            hessians.withUnsafeMutableBufferPointer { hb in
                order.withUnsafeMutableBufferPointer { ob in
                    let g = SharedBuffer(gb), h = SharedBuffer(hb), order = SharedBuffer(ob)
                    parallelChunks(data.queryCount, minimumChunk: 16) { queries in
                        var keys: [UInt64] = [], positions = [Int](repeating: 0, count: capacity)
                        // The query's rows in label order: score, gain, discount, weight as a pair's
                        // lower row under a truncation (0 outside the first T), and the gradient and
                        // Hessian sums; each with room for the kernel's last block of eight.
                        let lanes = UnsafeMutablePointer<Float>.allocate(capacity: 6 * capacity)
                        lanes.initialize(repeating: 0, count: 6 * capacity)
                        defer { lanes.deallocate() }
                        let score = lanes, gain = lanes + capacity, discount = lanes + 2 * capacity
                        let top = lanes + 3 * capacity, gsum = lanes + 4 * capacity, hsum = lanes + 5 * capacity
                        let truncation = truncation > 0 ? truncation : Int.max
                        for q in queries {
                            let start = data.queryStarts[q], end = data.queryStarts[q + 1], count = end - start
                            guard count > 1, constants.fullIdeals[q] > 0 else { continue }
                            keys.removeAll(keepingCapacity: true)
                            for k in start..<end {
                                let row = Int(order[k])
                                keys.append(DescendingOrder.key(row, scores[row]))
                            }
                            keys.sort()
                            for (position, key) in keys.enumerated() {
                                let row = Int(UInt32(truncatingIfNeeded: key))
                                order[start + position] = Int32(row)
                                positions[row - start] = position
                            }
                            for k in 0..<count {
                                let row = Int(constants.labelOrder[start + k]), position = positions[row - start]
                                score[k] = scores[row]
                                gain[k] = constants.scaledGains[row]
                                discount[k] = constants.discounts[position]
                                top[k] = position < truncation ? 1 : 0
                                gsum[k] = 0; hsum[k] = 0
                            }
                            var lower = 0
                            for i in 0..<count {
                                let label = data.labels[Int(constants.labelOrder[start + i])]
                                guard label > 0 else { break }
                                lower = max(lower, i + 1)
                                while lower < count && data.labels[Int(constants.labelOrder[start + lower])] >= label { lower += 1 }
                                guard lower < count else { continue }
                                // Outside the first T, only the pairs with a row inside them count.
                                VectorKernels.lambdaRankPairs(score: score, gain: gain, discount: discount, weight: top[i] == 0 ? top : nil, gradient: gsum, hessian: hsum,
                                                              i: i, start: lower, count: count, sigma: sigma)
                            }
                            for k in 0..<count {
                                let row = Int(constants.labelOrder[start + k])
                                g[row] = gsum[k]
                                h[row] = hsum[k]
                            }
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

    /// Mean NDCG@cutoff of `scores` (one per row) over the queries that have a relevant row;
    /// rows of equal score rank in their order in the data.
    public static func ndcg(_ data: Dataset, scores: [Float], cutoff: Int) -> Double {
        meanNDCG(data, scores: scores, cutoff: cutoff)
    }

    /// Mean NDCG@cutoff over the queries that have a relevant row (`constants`: the data's,
    /// when the caller keeps them across rounds).
    static func meanNDCG(_ data: Dataset, scores: [Float], cutoff: Int, constants: RankingConstants? = nil) -> Double {
        let constants = constants.flatMap { $0.cutoff == cutoff ? $0 : nil } ?? RankingConstants(data, cutoff: cutoff)
        // Per query in parallel; summed in query order, as one loop would.
        let perQuery: [Double?] = parallelMap(data.queryCount, minimumChunk: 64) { q in
            let range = data.queryStarts[q]..<data.queryStarts[q + 1]
            let ideal = constants.cutoffIdeals[q]
            guard ideal > 0 else { return nil }
            var dcg = 0.0
            for (position, row) in DescendingOrder.of(range, scores, prefix: cutoff).enumerated() {
                dcg += constants.gains[row] / constants.logs[position + 1]
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

/// Trees laid out for QuickScorer (Lucchese et al., SIGIR 2015, "QuickScorer: a Fast Algorithm
/// to Rank Documents with Additive Ensembles of Regression Trees"): instead of walking each tree,
/// a row marks the nodes whose test it fails. Each tree's leaves are numbered left to right,
/// and a node's mask clears the leaves of its left subtree; the nodes are grouped by feature and
/// sorted by threshold, so the nodes a value v fails (`v <= threshold` false, NaN failing
/// every one) are a prefix of its feature's list. ANDing the failed nodes' masks into each
/// tree's leaf set, the leftmost leaf left is the one the walk reaches: every node on the path
/// to it that goes right failed and cleared the leaves on its left, and every leaf further left
/// sits in the left subtree of a failed node on that path.
struct QuickScorer: Sendable {
    /// A split: its threshold, its tree, and the leaves it leaves reachable when it fails.
    struct Node {
        var threshold: Float
        var tree: Int32
        var mask: UInt64
    }

    /// Feature f's nodes are `featureStarts[f]..<featureStarts[f + 1]`, ascending by threshold.
    let featureStarts: [Int]
    let nodes: [Node]
    /// Per tree, its leaves' values left to right from `leafStarts[t]`.
    let leafStarts: [Int32]
    let leafValues: [Float]
    /// Per tree, every leaf (a leaf for each bit), less those of nodes failed whatever the row
    /// (a NaN threshold).
    let initialMasks: [UInt64]

    /// Nil when a tree has more than 64 leaves (or a node names a feature outside the rows).
    init?(_ trees: [LambdaMART.Tree], featureCount: Int) {
        var nodes: [(feature: Int32, threshold: Float, tree: Int32, mask: UInt64)] = []
        var leafStarts: [Int32] = [], leafValues: [Float] = [], initialMasks: [UInt64] = []
        for (t, tree) in trees.enumerated() {
            leafStarts.append(Int32(leafValues.count))
            // Depth first, left before right: leaves get their numbers in order, and each
            // internal node the numbers of the leaves below its left child.
            var leaves = 0
            var initial = UInt64.max
            func visit(_ node: Int) -> Range<Int>? {
                guard node >= 0, node < tree.feature.count else { return nil }
                let feature = tree.feature[node]
                if feature < 0 {
                    guard leaves < 64 else { return nil }
                    leafValues.append(tree.value[node])
                    leaves += 1
                    return (leaves - 1)..<leaves
                }
                guard Int(feature) < featureCount, let left = visit(Int(tree.left[node])), let right = visit(Int(tree.right[node])) else { return nil }
                let cleared = left.reduce(UInt64(0)) { $0 | 1 << UInt64($1) }
                if tree.threshold[node].isNaN { initial &= ~cleared } else { nodes.append((feature, tree.threshold[node], Int32(t), ~cleared)) }
                return left.lowerBound..<right.upperBound
            }
            guard visit(0) != nil else { return nil }
            initialMasks.append(leaves == 64 ? initial : initial & (1 << UInt64(leaves) - 1))
        }
        nodes.sort { ($0.feature, $0.threshold) < ($1.feature, $1.threshold) }
        var starts = [Int](repeating: nodes.count, count: featureCount + 1)
        for (k, node) in nodes.enumerated().reversed() { starts[Int(node.feature)] = k }
        for f in stride(from: featureCount - 1, through: 0, by: -1) { starts[f] = min(starts[f], starts[f + 1]) }
        featureStarts = starts
        self.nodes = nodes.map { Node(threshold: $0.threshold, tree: $0.tree, mask: $0.mask) }
        self.leafStarts = leafStarts
        self.leafValues = leafValues
        self.initialMasks = initialMasks
    }

    /// Each of the `rows` row-major rows at `features` (the trees' feature count wide): the trees'
    /// leaf values added in the trees' order, after `base[r]` when `base` is not empty.
    func scores(_ features: UnsafePointer<Float>, rows: Int, base: [Float]) -> [Float] {
        let width = featureStarts.count - 1
        var masks = initialMasks
        return nodes.withUnsafeBufferPointer { nodes in
            leafValues.withUnsafeBufferPointer { values in
                masks.withUnsafeMutableBufferPointer { masks in
                    (0..<rows).map { r in
                        let row = features + r * width
                        _ = masks.update(fromContentsOf: initialMasks)
                        for f in 0..<width {
                            let value = row[f]
                            var k = featureStarts[f]
                            let end = featureStarts[f + 1]
                            while k < end, !(value <= nodes[k].threshold) {
                                masks[Int(nodes[k].tree)] &= nodes[k].mask
                                k += 1
                            }
                        }
                        var total: Float = 0
                        for t in 0..<masks.count { total += values[Int(leafStarts[t]) + masks[t].trailingZeroBitCount] }
                        return (base.isEmpty ? 0 : base[r]) + total
                    }
                }
            }
        }
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
    /// Feature f's bins are `offsets[f]..<offsets[f + 1]` of a flat histogram.
    let offsets: [Int]

    init(_ data: LambdaMART.Dataset, bins maximum: Int) {
        rowCount = data.rowCount
        featureCount = data.featureCount
        let rows = rowCount, width = featureCount
        let edges: [[Float]] = parallelMap(width) { f in
            let values = DescendingOrder.ascending((0..<rows).map { data.features[$0 * width + f] })
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
        offsets = edges.reduce(into: [0]) { $0.append($0[$0.count - 1] + $1.count + 1) }
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
}

/// Grows one tree leaf-wise: always split the leaf whose best split gains most.
///
/// As LightGBM does, the rows live in one index array in which every leaf owns a contiguous
/// range, kept in ascending row order by a stable partition at each split; a leaf's gradient
/// pairs are gathered in that order once, so every feature's pass reads them contiguously.
/// Each feature's histogram is summed in row order, so the sums (and the tree) do not depend
/// on the thread count.
struct TreeGrower {
    let binned: BinnedFeatures
    let gradients: [Float]
    let hessians: [Float]
    let settings: LambdaMART.Settings

    /// Per bin of every feature (feature f's bins from `binned.offsets[f]`): the sums of the
    /// rows' gradients and Hessians, and their count.
    struct Histogram {
        var sums: [SIMD2<Double>]
        var counts: [Int32]

        /// The leaf's gradient and Hessian sums: over feature 0's bins (`bins` of them), in order.
        func totals(bins: Int) -> (g: Double, h: Double) {
            var g = 0.0, h = 0.0
            for b in 0..<bins {
                g += sums[b].x
                h += sums[b].y
            }
            return (g, h)
        }
    }

    struct Split {
        var feature = -1, bin = 0
        var gain = 0.0
    }

    struct Leaf {
        /// Its rows are `indices[start..<start + count]`.
        var start: Int, count: Int
        var histogram: Histogram
        var g: Double, h: Double
        var split: Split
        var node: Int
    }

    /// The histogram of `rows` (ascending; nil for every row), whose gradient pairs are
    /// `ordered[k]` for the k-th row; one feature per task.
    func histogram(_ rows: UnsafeBufferPointer<Int32>?, ordered: [SIMD2<Float>]) -> Histogram {
        let n = binned.rowCount, offsets = binned.offsets, m = ordered.count
        var histogram = Histogram(sums: [SIMD2<Double>](repeating: .zero, count: offsets[offsets.count - 1]),
                                  counts: [Int32](repeating: 0, count: offsets[offsets.count - 1]))
        guard m > 0 else { return histogram }
        histogram.sums.withUnsafeMutableBufferPointer { s in
            histogram.counts.withUnsafeMutableBufferPointer { c in
                ordered.withUnsafeBufferPointer { o in
                    binned.bins.withUnsafeBufferPointer { b in
                        let sums = SharedBuffer(s), counts = SharedBuffer(c)
                        let pairs = UnsafeSendablePointer(o.baseAddress!), bins = UnsafeSendablePointer(b.baseAddress!)
                        let rowList = rows.map { UnsafeSendablePointer($0.baseAddress!) }
                        parallelFor(binned.featureCount) { f in
                            let column = bins.pointer + f * n
                            let sum = sums.base + offsets[f], count = counts.base + offsets[f]
                            if let rowList {
                                for k in 0..<m {
                                    let bin = Int(column[Int(rowList.pointer[k])]), pair = pairs.pointer[k]
                                    sum[bin] += SIMD2(Double(pair.x), Double(pair.y))
                                    count[bin] &+= 1
                                }
                            } else {
                                for k in 0..<m {
                                    let bin = Int(column[k]), pair = pairs.pointer[k]
                                    sum[bin] += SIMD2(Double(pair.x), Double(pair.y))
                                    count[bin] &+= 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return histogram
    }

    func bestSplit(_ histogram: Histogram, g: Double, h: Double, count: Int) -> Split {
        let l2 = Double(settings.l2), minimum = settings.minimumLeafSamples
        let parent = g * g / (h + l2)
        var best = Split()
        for f in 0..<binned.featureCount {
            var gl = 0.0, hl = 0.0, nl = 0
            for b in binned.offsets[f]..<(binned.offsets[f + 1] - 1) {
                gl += histogram.sums[b].x; hl += histogram.sums[b].y; nl += Int(histogram.counts[b])
                let nr = count - nl
                guard nl >= minimum else { continue }
                guard nr >= minimum else { break }
                let gr = g - gl, hr = h - hl
                guard hl > 1e-6, hr > 1e-6 else { continue }
                let gain = gl * gl / (hl + l2) + gr * gr / (hr + l2) - parent
                if gain > best.gain { best = Split(feature: f, bin: b - binned.offsets[f], gain: gain) }
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
        let n = binned.rowCount
        let pairs = parallelArray(count: n, repeating: SIMD2<Float>.zero, minimumChunk: 1 << 16) { range, out in
            for row in range { out[row] = SIMD2(gradients[row], hessians[row]) }
        }
        var indices = (0..<Int32(n)).map { $0 }, scratch = [Int32](repeating: 0, count: n)
        let rootHistogram = histogram(nil, ordered: pairs)
        let g = gradients.reduce(0.0) { $0 + Double($1) }, h = hessians.reduce(0.0) { $0 + Double($1) }
        var leaves = [Leaf(start: 0, count: n, histogram: rootHistogram, g: g, h: h, split: bestSplit(rootHistogram, g: g, h: h, count: n), node: addNode())]
        while leaves.count < settings.leaves {
            guard let k = leaves.indices.max(by: { leaves[$0].split.gain < leaves[$1].split.gain }), leaves[k].split.gain > 0 else { break }
            let parent = leaves.remove(at: k)
            let f = parent.split.feature, bin = UInt8(parent.split.bin)
            // Stable partition of the parent's range: its left rows first, then its right rows.
            let leftCount = indices.withUnsafeMutableBufferPointer { rows in
                scratch.withUnsafeMutableBufferPointer { right in
                    binned.bins.withUnsafeBufferPointer { b in
                        let column = b.baseAddress! + f * n
                        var left = parent.start, rightCount = 0
                        for k in parent.start..<(parent.start + parent.count) {
                            let row = rows[k]
                            if column[Int(row)] <= bin { rows[left] = row; left += 1 } else { right[rightCount] = row; rightCount += 1 }
                        }
                        for k in 0..<rightCount { rows[left + k] = right[k] }
                        return left - parent.start
                    }
                }
            }
            let rightCount = parent.count - leftCount
            // Histogram of the smaller child; the other is the parent's minus it.
            let leftSmaller = leftCount <= rightCount
            let smallStart = leftSmaller ? parent.start : parent.start + leftCount, smallCount = leftSmaller ? leftCount : rightCount
            let small = indices.withUnsafeBufferPointer { rows in
                let range = UnsafeBufferPointer(rebasing: rows[smallStart..<(smallStart + smallCount)])
                return histogram(range, ordered: range.map { pairs[Int($0)] })
            }
            var large = parent.histogram
            for b in 0..<large.sums.count {
                large.sums[b] -= small.sums[b]
                large.counts[b] -= small.counts[b]
            }
            let (leftHistogram, rightHistogram) = leftSmaller ? (small, large) : (large, small)
            let (gl, hl) = leftHistogram.totals(bins: binned.offsets[1])
            let leftNode = addNode(), rightNode = addNode()
            tree.feature[parent.node] = Int32(f)
            tree.threshold[parent.node] = binned.edges[f][Int(bin)]
            tree.left[parent.node] = Int32(leftNode)
            tree.right[parent.node] = Int32(rightNode)
            leaves.append(Leaf(start: parent.start, count: leftCount, histogram: leftHistogram, g: gl, h: hl,
                               split: bestSplit(leftHistogram, g: gl, h: hl, count: leftCount), node: leftNode))
            let gr = parent.g - gl, hr = parent.h - hl
            leaves.append(Leaf(start: parent.start + leftCount, count: rightCount, histogram: rightHistogram, g: gr, h: hr,
                               split: bestSplit(rightHistogram, g: gr, h: hr, count: rightCount), node: rightNode))
        }
        var leafOfRow = [Int32](repeating: 0, count: n)
        for leaf in leaves {
            tree.value[leaf.node] = Float(-Double(settings.learningRate) * leaf.g / (leaf.h + Double(settings.l2)))
            for k in leaf.start..<(leaf.start + leaf.count) { leafOfRow[Int(indices[k])] = Int32(leaf.node) }
        }
        return (tree, leafOfRow)
    }
}
