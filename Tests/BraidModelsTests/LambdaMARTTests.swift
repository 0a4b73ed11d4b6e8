import BraidCore
import BraidNeural
@testable import BraidModels
import BraidTestSupport
import Foundation
import Testing

/// `count` queries of 20 documents with features (a, b, noise) drawn uniformly from [0, 1),
/// each relevant when `relevant(a, b)`.
func rankingQueries(_ count: Int, seed: UInt64, relevant: (Float, Float) -> Bool) -> LambdaMART.Dataset {
    var rng = SeededGenerator(seed: seed)
    var data = LambdaMART.Dataset(featureCount: 3)
    for _ in 0..<count {
        var features: [Float] = [], labels: [Float] = []
        for _ in 0..<20 {
            let a = Float(rng.nextUnit()), b = Float(rng.nextUnit()), noise = Float(rng.nextUnit())
            features += [a, b, noise]
            labels.append(relevant(a, b) ? 1 : 0)
        }
        data.append(features: features, labels: labels)
    }
    return data
}

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

    /// Three documents, labels (1, 0, 0), scores (0, 2, 1): row 1 ranks first, row 2 second,
    /// row 0 third. IDCG = 1; row 0's discount is 1/log2(4) = ½.
    /// Pair (0, 1): ρ = 1/(1 + e^(0 − 2)) = 0.8807971, |ΔNDCG| = |½ − 1| = ½, λ = 0.4403985,
    /// Hessian 0.8807971 · 0.1192029 · ½ = 0.0524967.
    /// Pair (0, 2): ρ = 1/(1 + e^(0 − 1)) = 0.7310586, |ΔNDCG| = |½ − 1/log2(3)| = 0.1309298,
    /// λ = 0.0957173, Hessian 0.7310586 · 0.2689414 · 0.1309298 = 0.0257424.
    /// Row 0 sums both: −0.5361159 and 0.0782391. With truncation 1, pair (0, 2) has neither
    /// row first and gives nothing; with 2 (or 0, every pair) both count.
    @Test func truncationKeepsThePairsThatReachTheTop() {
        var data = LambdaMART.Dataset(featureCount: 1)
        data.append(features: [0, 0, 0], labels: [1, 0, 0])
        let scores: [Float] = [0, 2, 1]
        let (g1, h1) = LambdaMART.lambdas(data, scores: scores, sigma: 1, truncation: 1)
        #expect(abs(g1[0] + 0.4403985) < 1e-6 && abs(g1[1] - 0.4403985) < 1e-6 && g1[2] == 0, "\(g1)")
        #expect(abs(h1[0] - 0.0524967) < 1e-6 && abs(h1[1] - 0.0524967) < 1e-6 && h1[2] == 0, "\(h1)")
        for truncation in [0, 2] {
            let (g, h) = LambdaMART.lambdas(data, scores: scores, sigma: 1, truncation: truncation)
            #expect(abs(g[0] + 0.5361159) < 1e-6 && abs(g[1] - 0.4403985) < 1e-6 && abs(g[2] - 0.0957173) < 1e-6, "\(truncation): \(g)")
            #expect(abs(h[0] - 0.0782391) < 1e-6 && abs(h[2] - 0.0257424) < 1e-6, "\(truncation): \(h)")
        }
    }

    /// Queries of 1 to 40 rows with graded labels 0–3 (ties among them and among the scores)
    /// against the pairs summed one by one in Double straight from the formula in the type's
    /// documentation: the gathered, eight-at-a-time kernel (and its approximate exp) agrees
    /// to 2e-5 of the largest gradient, with every truncation.
    @Test func gradientsEqualThePairwiseFormula() {
        var rng = SeededGenerator(seed: 7)
        var data = LambdaMART.Dataset(featureCount: 1)
        var scores: [Float] = []
        for q in 0..<60 {
            let count = 1 + q % 40
            data.append(features: [Float](repeating: 0, count: count), labels: (0..<count).map { _ in Float(Int(rng.nextUnit() * 4)) })
            scores += (0..<count).map { _ in Float(Int(rng.nextUnit() * 12)) / 3 - 2 }
        }
        for (truncation, sigma) in [(0, Float(1)), (3, 1), (10, 2), (100, 0.5)] {
            let (g, h) = LambdaMART.lambdas(data, scores: scores, sigma: sigma, truncation: truncation)
            var expectedG = [Double](repeating: 0, count: scores.count), expectedH = expectedG
            for q in 0..<data.queryCount {
                let rows = Array(data.queryStarts[q]..<data.queryStarts[q + 1])
                // Ranks by score, ties in row order; ideal DCG over all the rows.
                let ranked = rows.sorted { (-scores[$0], $0) < (-scores[$1], $1) }
                var rank = [Int: Int]()
                for (position, row) in ranked.enumerated() { rank[row] = position + 1 }
                let gain = { (row: Int) in pow(2, Double(data.labels[row])) - 1 }
                let ideal = rows.map(gain).sorted(by: >).enumerated().reduce(0.0) { $0 + $1.element / log2(Double($1.offset) + 2) }
                guard ideal > 0 else { continue }
                for i in rows { for j in rows where data.labels[i] > data.labels[j] {
                    if truncation > 0 && rank[i]! > truncation && rank[j]! > truncation { continue }
                    let delta = abs(gain(i) - gain(j)) * abs(1 / log2(1 + Double(rank[i]!)) - 1 / log2(1 + Double(rank[j]!))) / ideal
                    let rho = 1 / (1 + exp(Double(sigma) * Double(scores[i] - scores[j])))
                    let s = Double(sigma)
                    expectedG[i] -= s * rho * delta
                    expectedG[j] += s * rho * delta
                    expectedH[i] += s * s * rho * (1 - rho) * delta
                    expectedH[j] += s * s * rho * (1 - rho) * delta
                } }
            }
            let largest = expectedG.map(abs).max()!
            #expect(largest > 0.1)
            for row in 0..<scores.count {
                #expect(abs(Double(g[row]) - expectedG[row]) < 2e-5 * largest, "truncation \(truncation), row \(row): \(g[row]) against \(expectedG[row])")
                #expect(abs(Double(h[row]) - expectedH[row]) < 2e-5 * largest, "truncation \(truncation), row \(row): \(h[row]) against \(expectedH[row])")
            }
        }
    }

    /// Two hand-built trees over rows of two features: the first splits on feature 0 at 0.5
    /// (leaves 1 and 2), the second on feature 1 at 0 and then, on its right, feature 0 at 2
    /// (leaves 10, 20 and 30). So (0.5, 0) scores 1 + 10 = 11 (a value equal to the threshold
    /// goes left), (0.7, 1) scores 2 + 20 = 22, (3, 1) scores 2 + 30 = 32, and a NaN goes right:
    /// (NaN, −1) scores 2 + 10 = 12; base scores are added. A third tree whose split has a NaN
    /// threshold always goes right (v ≤ NaN is false), to 200; with it, (4, −0) scores
    /// 2 + 10 + 200 = 212 (−0 ≤ 0) and (∞, ∞) 2 + 30 + 200 = 232. A one-leaf tree adds its value.
    @Test func handBuiltTreesScoreByHand() {
        let first = LambdaMART.Tree(feature: [0, -1, -1], threshold: [0.5, 0, 0], left: [1, -1, -1], right: [2, -1, -1], value: [0, 1, 2])
        let second = LambdaMART.Tree(feature: [1, -1, 0, -1, -1], threshold: [0, 0, 2, 0, 0], left: [1, -1, 3, -1, -1],
                                     right: [2, -1, 4, -1, -1], value: [0, 10, 0, 20, 30])
        let rows: [Float] = [0.5, 0, 0.7, 1, 3, 1, .nan, -1]
        #expect(LambdaMART(trees: [first, second], featureCount: 2).scores(rows) == [11, 22, 32, 12])
        #expect(LambdaMART(trees: [first, second], featureCount: 2).scores(rows, base: [1, 2, 3, 4]) == [12, 24, 35, 16])
        let third = LambdaMART.Tree(feature: [1, -1, -1], threshold: [.nan, 0, 0], left: [1, -1, -1], right: [2, -1, -1], value: [0, 100, 200])
        let single = LambdaMART.Tree(feature: [-1], threshold: [0], left: [-1], right: [-1], value: [1000])
        let more: [Float] = rows + [4, -0.0, .infinity, .infinity]
        #expect(LambdaMART(trees: [first, second, third], featureCount: 2).scores(more) == [211, 222, 232, 212, 212, 232])
        #expect(LambdaMART(trees: [single, first], featureCount: 2).scores(more) == [1001, 1002, 1002, 1002, 1002, 1002])
    }

    /// `scores` (QuickScorer's layout) gives every row exactly what walking each tree from its
    /// root gives (`score`), over fitted trees of 31 leaves and rows that include NaNs and
    /// values equal to the trees' thresholds; trees of more than 64 leaves are walked.
    @Test func laidOutTreesScoreAsTheWalk() {
        let training = rankingQueries(150, seed: 7) { a, b in a + b > 1 }
        for leaves in [31, 64, 100] {
            var settings = LambdaMART.Settings()
            settings.trees = 30
            settings.leaves = leaves
            settings.minimumLeafSamples = 5
            let model = LambdaMART(training: training, settings: settings)
            #expect(model.trees.count == 30)
            var rows = Array(training.features.prefix(600))
            var rng = SeededGenerator(seed: 3)
            let thresholds = model.trees.flatMap { tree in tree.feature.indices.filter { tree.feature[$0] >= 0 }.map { tree.threshold[$0] } }
            for k in rows.indices where rng.nextUnit() < 0.3 {
                rows[k] = rng.nextUnit() < 0.2 ? .nan : thresholds[Int(rng.next() % UInt64(thresholds.count))]
            }
            let walked = rows.withUnsafeBufferPointer { f in (0..<200).map { model.score(f.baseAddress! + $0 * 3) } }
            #expect(model.scores(rows) == walked)
        }
    }

    /// A leaf's histogram, from the rows gathered in the leaf's order, equals the per-bin sums
    /// of the rows' gradients, Hessians and counts taken one row at a time; the root's (no row
    /// list) sums every row.
    @Test func histogramsSumTheirRows() {
        let data = rankingQueries(30, seed: 4) { a, _ in a > 0.5 }
        let binned = BinnedFeatures(data, bins: 8)
        var rng = SeededGenerator(seed: 5)
        let gradients = (0..<data.rowCount).map { _ in Float(rng.nextUnit()) - 0.5 }, hessians = (0..<data.rowCount).map { _ in Float(rng.nextUnit()) }
        let grower = TreeGrower(binned: binned, gradients: gradients, hessians: hessians, settings: LambdaMART.Settings())
        let pairs = zip(gradients, hessians).map { SIMD2($0, $1) }
        let rows: [Int32] = (0..<Int32(data.rowCount)).filter { _ in rng.nextUnit() < 0.3 }
        for subset in [rows, nil] {
            let histogram = subset.map { r in r.withUnsafeBufferPointer { grower.histogram($0, ordered: r.map { pairs[Int($0)] }) } }
                ?? grower.histogram(nil, ordered: pairs)
            for f in 0..<data.featureCount {
                var g = [Double](repeating: 0, count: 8), h = g, n = [Int32](repeating: 0, count: 8)
                for row in subset ?? (0..<Int32(data.rowCount)).map({ $0 }) {
                    let bin = Int(binned.bins[f * data.rowCount + Int(row)])
                    g[bin] += Double(gradients[Int(row)]); h[bin] += Double(hessians[Int(row)]); n[bin] += 1
                }
                let bins = binned.offsets[f]..<binned.offsets[f + 1]
                #expect(bins.count == 8)
                #expect(bins.map { histogram.sums[$0].x } == g && bins.map { histogram.sums[$0].y } == h && bins.map { histogram.counts[$0] } == n)
            }
        }
    }

    /// Each feature's histogram is summed in row order whatever the threads, so one thread and
    /// two grow the same trees; the gradients are the same when each query's rows start from a
    /// scrambled order instead of the last round's.
    @Test func treesAndGradientsDoNotDependOnThreadsOrStartingOrder() {
        let training = rankingQueries(120, seed: 1) { ($0 > 0.5) != ($1 > 0.5) }
        var settings = LambdaMART.Settings()
        settings.trees = 20
        settings.leaves = 8
        let one = Parallelism.withThreadCount(1) { LambdaMART(training: training, settings: settings) }
        let two = Parallelism.withThreadCount(2) { LambdaMART(training: training, settings: settings) }
        #expect(one == two && one.trees.count == 20)
        let scores = one.scores(training.features)
        let constants = LambdaMART.RankingConstants(training, cutoff: 10)
        var order = (0..<Int32(training.rowCount)).map { $0 }
        for q in 0..<training.queryCount { order[training.queryStarts[q]..<training.queryStarts[q + 1]].reverse() }
        let scrambled = LambdaMART.lambdas(training, scores: scores, sigma: 1, constants: constants, order: &order)
        let fresh = LambdaMART.lambdas(training, scores: scores, sigma: 1)
        #expect(scrambled.gradients == fresh.gradients && scrambled.hessians == fresh.hessians)
        // Queries without a relevant row have no gradients and keep their order.
        let sorted = descendingOrderOfQueries(training, scores)
        for q in 0..<training.queryCount where training.labels[training.queryStarts[q]..<training.queryStarts[q + 1]].contains(where: { $0 > 0 }) {
            let rows = training.queryStarts[q]..<training.queryStarts[q + 1]
            #expect(order[rows] == sorted[rows])
        }
    }

    /// Queries of 20 documents whose relevance is an XOR of two features (no linear score
    /// separates it) plus a noise feature: boosted trees must rank fresh queries almost perfectly.
    @Test func learnsAnInteractionNoLinearScoreCaptures() {
        func queries(_ count: Int, seed: UInt64) -> LambdaMART.Dataset { rankingQueries(count, seed: seed) { ($0 > 0.5) != ($1 > 0.5) } }
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

/// Each query's rows in descending order of `scores`, ties by row, query after query.
func descendingOrderOfQueries(_ data: LambdaMART.Dataset, _ scores: [Float]) -> [Int32] {
    (0..<data.queryCount).flatMap { q in
        (data.queryStarts[q]..<data.queryStarts[q + 1]).sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.map { Int32($0) }
    }
}

@Suite struct LinearRankerTests {
    /// One query, two documents with features (1, 1) and (0, 3), labels (1, 0), zero base
    /// scores: the first feature's mean ½ and deviation ½ make z = (1, −1), the second's mean 2
    /// and deviation 1 make z = (−1, 1). The gradients are (−a, +a), a = 0.1845351 (as in
    /// `lambdaRankGradientsByHand`), so G = (−2a, 2a) and one step of length 1 gives
    /// w = (1/√2, −1/√2) per standard deviation: (1.4142136, −0.7071068) per raw unit.
    @Test func firstStepByHand() {
        var data = LambdaMART.Dataset(featureCount: 2)
        data.append(features: [1, 1, 0, 3], labels: [1, 0])
        var settings = LambdaMART.Settings()
        settings.trees = 1
        settings.learningRate = 1
        let ranker = LinearRanker(training: data, settings: settings)
        #expect(abs(ranker.weights[0] - 1.4142136) < 1e-5 && abs(ranker.weights[1] + 0.7071068) < 1e-5, "\(ranker.weights)")
        #expect(ranker.scores([1, 1, 0, 3]) == [ranker.weights[0] + ranker.weights[1], 3 * ranker.weights[1]])
    }

    /// Relevance that a weighted sum decides (2a − b > 0.5, with a noise feature) is learned by
    /// the linear ranker; the XOR of `learnsAnInteractionNoLinearScoreCaptures` is not (the
    /// trees learn it; `ranker=lambdamart` keeps them).
    @Test func learnsALinearRuleButNotAnInteraction() {
        var settings = LambdaMART.Settings()
        settings.trees = 100
        settings.learningRate = 0.5
        let linearRule = { (a: Float, b: Float) in 2 * a - b > 0.5 }, xor = { (a: Float, b: Float) in (a > 0.5) != (b > 0.5) }
        let linear = LinearRanker(training: rankingQueries(200, seed: 1, relevant: linearRule), validation: rankingQueries(40, seed: 2, relevant: linearRule), settings: settings)
        let test = rankingQueries(100, seed: 3, relevant: linearRule)
        let ndcg = LambdaMART.meanNDCG(test, scores: linear.scores(test.features), cutoff: 10)
        #expect(ndcg > 0.97, "NDCG@10 \(ndcg), weights \(linear.weights)")
        #expect(linear.weights[0] > 0 && linear.weights[1] < 0 && abs(linear.weights[2]) < 0.2 * linear.weights[0])
        let onXOR = LinearRanker(training: rankingQueries(200, seed: 1, relevant: xor), validation: rankingQueries(40, seed: 2, relevant: xor), settings: settings)
        let xorTest = rankingQueries(100, seed: 3, relevant: xor)
        #expect(LambdaMART.meanNDCG(xorTest, scores: onXOR.scores(xorTest.features), cutoff: 10) < 0.75)
    }
}

@Suite struct HybridTests {
    /// Warm items' content rows (1, 0), (0, 1), (1, 0) with factors 2, 4, 4; λ = 1:
    /// XᵀX + λI = diag(3, 2), Xᵀq = (6, 4), so b = (2, 2), and a cold item with content
    /// (0.6, 0.8) gets 0.6·2 + 0.8·2 = 2.8.
    @Test func ridgeMapByHand() {
        let x = SparseMatrix(rowCount: 4, columnCount: 2, rowStarts: [0, 1, 2, 3, 5], columns: [0, 1, 0, 0, 1], values: [1, 1, 1, 0.6, 0.8])
        let map = RidgeMap(x, targets: [2, 4, 4, 0], width: 1, rows: [true, true, true, false], regularization: 1, iterations: 50)
        let predicted = map.predict(x, items: [0, 3])
        #expect(abs(predicted[0] - 2) < 1e-5)
        #expect(abs(predicted[1] - 2.8) < 1e-5)
    }

    /// Each of several target columns (solved eight at a time, as SIMD lanes) is the one solved
    /// alone (bit for bit), and the normal equations hold: Xᵀ(XW − T) + λW ≈ 0 over the fitted
    /// rows, worked out in doubles. Over sparse rows and over dense ones (every column on every
    /// row: the Gram matrix's path).
    @Test(arguments: [false, true]) func ridgeMapSolvesTheNormalEquationsPerColumn(dense: Bool) {
        var generator = SeededGenerator(seed: 3)
        let rowCount = 60, vocabulary = 25, width = 40
        let rows: [(columns: [Int32], values: [Float])] = (0..<rowCount).map { _ in
            let columns = dense ? Array(0..<Int32(vocabulary)) : Array(Set((0..<4).map { _ in Int32(generator.next() % UInt64(vocabulary)) })).sorted()
            return (columns, columns.map { _ in Float(generator.nextUnit()) + 0.1 })
        }
        let x = SparseMatrix(stackingRows: rows, columnCount: vocabulary)
        #expect((RidgeMap.gram(x, rows: Array(0..<rowCount), regularization: 0.5) != nil) == dense)
        let targets = (0..<(rowCount * width)).map { _ in Float(generator.nextUnit()) - 0.5 }
        let fitted = (0..<rowCount).map { $0 % 5 != 0 }
        let map = RidgeMap(x, targets: targets, width: width, rows: fitted, regularization: 0.5, iterations: 100)
        for t in 0..<width {
            let alone = RidgeMap(x, targets: (0..<rowCount).map { targets[$0 * width + t] }, width: 1, rows: fitted, regularization: 0.5, iterations: 100)
            #expect((0..<vocabulary).map { map.weights[$0 * width + t] } == alone.weights, "column \(t)")
        }
        // Normal equations, in doubles.
        var gradient = [Double](repeating: 0, count: vocabulary * width)
        let predicted = map.predict(x, items: Array(0..<rowCount))
        for i in 0..<rowCount where fitted[i] {
            for k in x.entries(ofRow: i) {
                for t in 0..<width { gradient[Int(x.columns[k]) * width + t] += Double(x.values[k]) * Double(predicted[i * width + t] - targets[i * width + t]) }
            }
        }
        for c in 0..<(vocabulary * width) { gradient[c] += 0.5 * Double(map.weights[c]) }
        #expect(gradient.allSatisfy { abs($0) < 1e-3 }, "\(gradient.map(abs).max()!)")
    }

    /// Items whose text names their taste group: cold items of a user's group must outrank
    /// the others, and warm items keep the collaborative model's scores.
    /// 40 users who each take only even or only odd items (i0…i15); the catalogue's titles
    /// name the group, and two items nobody took, cold-even and cold-odd, name theirs.
    static func coldCatalogue() -> (matrix: InteractionMatrix, even: Int, odd: Int) {
        var table = InteractionTable()
        for u in 0..<40 {
            for i in 0..<16 where i % 2 == u % 2 && (u + i) % 3 != 0 { table.append(Interaction(user: "u\(u)", item: "i\(i)")) }
        }
        var data = InteractionMatrix(table)
        var records = (0..<20).map { i in ItemRecord(id: "i\(i)", title: i % 2 == 0 ? "even story \(i)" : "odd story \(i)") }
        records.append(ItemRecord(id: "cold-even", title: "even story new"))
        records.append(ItemRecord(id: "cold-odd", title: "odd story new"))
        data.catalog = ItemCatalog(records)
        var withCold = InteractionTable(users: data.users, items: data.items)
        _ = withCold.items.insert("cold-even"); _ = withCold.items.insert("cold-odd")
        withCold.append(contentsOf: table)
        var matrix = InteractionMatrix(withCold)
        matrix.catalog = data.catalog
        return (matrix, Int(matrix.items.index(of: "cold-even")!), Int(matrix.items.index(of: "cold-odd")!))
    }

    /// Warm items keep the warm model's scores (Braid's default ALS by default, the
    /// collaborative model's own with `warm=none`); cold ones rank by their content either way.
    @Test(arguments: ["als", "none"]) func coldItemsRankByTheirContent(warm: String) throws {
        let (matrix, even, odd) = Self.coldCatalogue()
        let model = try ModelRegistry.fit("hybrid", parameters: ModelParameters(["collaborative": "als(factors=4,iterations=10)", "regularization": "0.1", "warm": warm]),
                                          data: matrix)
        for user in 0..<matrix.userCount {
            let s = model.scores(forUser: user)
            #expect(user % 2 == 0 ? s[even] > s[odd] : s[odd] > s[even], "user \(user): \(s[even]) vs \(s[odd])")
        }
        let als = try ModelRegistry.fit("als", parameters: ModelParameters(warm == "none" ? ["factors": "4", "iterations": "10"] : [:]), data: matrix)
        #expect(Array(model.scores(forUser: 0)[0..<16]) == Array(als.scores(forUser: 0)[0..<16]))
    }

    /// New items join a fitted hybrid without a fit (`extendingCatalogue(to:)`): the warm items
    /// keep their scores, and the new items are mapped from their content and recommended (over
    /// ALS, a new "even" title outranks a new "odd" one for the even users). With a deterministic collaborative model
    /// (SVD: its SGD never touches an item without ratings, and the old items' random start does
    /// not depend on how many items follow) and warm model (EASE), the extended hybrid scores
    /// every item as a hybrid fitted on the grown catalogue does.
    @Test(arguments: [false, true]) func newItemsJoinWithoutAFit(deterministic: Bool) throws {
        let (data, grown) = Self.newItemsCatalogue()
        let parameters = deterministic ? ["collaborative": "svd(factors=4,iterations=10)", "warm": "ease"]
            : ["collaborative": "als(factors=4,iterations=10)", "regularization": "0.1"]
        let model = try ModelRegistry.fit("hybrid", parameters: ModelParameters(parameters), data: data)
        let extended = try model.extendingCatalogue(to: grown)
        #expect(extended is Hybrid && extended.data == grown)
        let refit = try ModelRegistry.fit("hybrid", parameters: ModelParameters(parameters), data: grown)
        for user in 0..<data.userCount {
            let before = model.scores(forUser: user), after = extended.scores(forUser: user)
            #expect(Array(after.prefix(16)) == before, "user \(user)")
            if deterministic {
                let again = refit.scores(forUser: user)
                for item in 0..<18 { #expect(abs(again[item] - after[item]) <= 1e-4 * max(1, abs(after[item])), "user \(user) item \(item)") }
            } else {
                // (SVD regresses on rating values that do not follow the groups, so its factors do not tell them apart.)
                #expect(user % 2 == 0 ? after[16] > after[17] : after[17] > after[16], "user \(user): \(after[16]) vs \(after[17])")
            }
        }
        #expect(extended.recommend(userIndex: 0, count: 20).contains { $0.index == 16 })
    }

    /// The hybrid keeps the term counts its BM25 vectors were weighted from, so a change of
    /// catalogue counts only the added and changed items' text: a second change (a known
    /// item's title changed, an item added) taken from the first change's counts scores every
    /// item as a hybrid fitted on that catalogue does (deterministic SVD and EASE; the columns
    /// are in another order, so to rounding). A hybrid read from a file counts its items' terms
    /// at its first change, or when readied for serving, and then extends exactly as the
    /// fitted one does.
    @Test func hybridCountsOnlyTheChangedItems() throws {
        let (data, grown) = Self.newItemsCatalogue()
        let parameters = ModelParameters(["collaborative": "svd(factors=4,iterations=10)", "warm": "ease", "content": "bm25"])
        let model = try #require(try ModelRegistry.fit("hybrid", parameters: parameters, data: data) as? Hybrid)
        let first = try #require(try model.extendingCatalogue(to: grown) as? Hybrid)
        _ = first.termCounts.value { Issue.record("the first change kept no counts"); return TermCounts(grown, grown.catalog!) }
        let changed = grown.addingItems([ItemRecord(id: "i3", title: "zebra odd story 3"), ItemRecord(id: "new-even-2", title: "even zebra")])
        let second = try #require(try first.extendingCatalogue(to: changed) as? Hybrid)
        let counts = try #require(second.termCounts.value { Issue.record("the second change kept no counts"); return TermCounts(changed, changed.catalog!) })
        /// Each item's term counts, by the terms' names.
        func named(_ c: TermCounts) -> [[String: Float]] {
            (0..<c.counts.rowCount).map { r in Dictionary(uniqueKeysWithValues: c.counts.entries(ofRow: r).map { (c.terms.identifiers[Int(c.counts.columns[$0])], c.counts.values[$0]) }) }
        }
        #expect(counts.terms.identifiers.last == "zebra" && named(counts) == named(TermCounts(changed, changed.catalog!)))
        let refit = try ModelRegistry.fit("hybrid", parameters: parameters, data: changed)
        for user in 0..<data.userCount {
            let (after, again) = (second.scores(forUser: user), refit.scores(forUser: user))
            for item in 0..<19 { #expect(abs(after[item] - again[item]) <= 1e-4 * max(1, abs(again[item])), "user \(user) item \(item)") }
        }
        let loaded = try #require(try ModelRegistry.load(ModelRegistry.archive(model)) as? Hybrid)
        let loadedFirst = try loaded.extendingCatalogue(to: grown)
        for user in [0, 1, 7] { #expect(loadedFirst.scores(forUser: user) == first.scores(forUser: user), "user \(user)") }
        let readied = try #require(try ModelRegistry.load(ModelRegistry.archive(model)) as? Hybrid)
        #expect(!readied.factors.isPackedForScoring)
        readied.prepareForServing()
        // Its item factors are packed for scoring too.
        #expect(readied.factors.isPackedForScoring)
        let readiedCounts = try #require(readied.termCounts.value { Issue.record("not readied"); return TermCounts(data, data.catalog!) })
        #expect(readiedCounts.counts == TermCounts(data, data.catalog!).counts && readiedCounts.terms == TermCounts(data, data.catalog!).terms)
    }

    /// `coldCatalogue`'s users and groups, rated 1–5 (values that do not follow the groups), its
    /// warm items alone in the catalogue; and the same with a new "even" and a new "odd" title
    /// added (`addingItems`, items 16 and 17).
    static func newItemsCatalogue() -> (data: InteractionMatrix, grown: InteractionMatrix) {
        var table = InteractionTable()
        for u in 0..<40 {
            for i in 0..<16 where i % 2 == u % 2 && (u + i) % 3 != 0 {
                table.append(Interaction(user: "u\(u)", item: "i\(i)", value: Float(1 + (u + 2 * i) % 5)))
            }
        }
        var data = InteractionMatrix(table)
        data.catalog = ItemCatalog((0..<16).map { i in ItemRecord(id: "i\(i)", title: i % 2 == 0 ? "even story \(i)" : "odd story \(i)") })
        return (data, data.addingItems([ItemRecord(id: "new-even", title: "even story new"), ItemRecord(id: "new-odd", title: "odd story new")]))
    }

    /// `content=auto` (the default) maps the items' vectors when they have any, else BM25, and
    /// the fitted model keeps the kind it resolved to: a catalogue without vectors that gains
    /// some later (new items with vectors) leaves a BM25 hybrid on BM25. A configuration saved
    /// before `auto` without `content` reads back as BM25.
    @Test func contentAutoResolvesOnceAtTheFit() throws {
        let (data, _) = Self.newItemsCatalogue()
        let parameters = ModelParameters(["collaborative": "als(factors=4,iterations=10)"])
        let plain = try #require(try ModelRegistry.fit("hybrid", parameters: parameters, data: data) as? Hybrid)
        #expect(Hybrid.Configuration().content == .auto && plain.configuration.content == .bm25)
        var described = data
        described.catalog?.attach(vectors: Dictionary(uniqueKeysWithValues: (0..<16).map { ("i\($0)", [$0 % 2 == 0 ? 1 : 0.1, $0 % 2 == 0 ? 0.1 : 1] as [Float]) }))
        let mapped = try #require(try ModelRegistry.fit("hybrid", parameters: parameters, data: described) as? Hybrid)
        #expect(mapped.configuration.content == .vectors)
        let grown = data.addingItems([ItemRecord(id: "new-even", title: "even story new", vector: [1, 0.1])])
        let extended = try #require(try plain.extendingCatalogue(to: grown) as? Hybrid)
        #expect(extended.configuration.content == .bm25)
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Hybrid.Configuration())) as! [String: Any]
        json["content"] = nil
        json["warm"] = nil
        #expect(try Hybrid.Configuration.decodingSaved(JSONSerialization.data(withJSONObject: json)).content == .bm25)
    }

    /// A saved configuration without `warm` (written before it) has none, whether it decodes
    /// directly or, lacking other fields too, over the saved defaults; `warm=none` saved now
    /// reads back as none, and a warm model as itself.
    @Test func configurationsWithoutAWarmModelReadBackWithNone() throws {
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Hybrid.Configuration())) as! [String: Any]
        #expect(json["warm"] != nil)
        json["warm"] = nil
        #expect(try Hybrid.Configuration.decodingSaved(JSONSerialization.data(withJSONObject: json)).warm == nil)
        json["iterations"] = nil
        let older = try Hybrid.Configuration.decodingSaved(JSONSerialization.data(withJSONObject: json))
        #expect(older.warm == nil && older.iterations == Hybrid.Configuration().iterations)
        for warm in ["none", "als(factors=8)"] {
            let configuration = try Hybrid.Configuration(parameters: ModelParameters(["warm": warm]))
            #expect(try Hybrid.Configuration.decodingSaved(JSONEncoder().encode(configuration)) == configuration)
        }
    }

    /// The calibration by hand. Users u0 {i0, i1} and u1 {i0}; i2 has no interactions. One
    /// factor: users 1 and 2, items 1, 3 and 100, so over the (user, warm item) pairs the
    /// collaborative scores are 1, 3, 2, 6 (mean 3, variance (4 + 0 + 1 + 9)/4 = 3.5) and
    /// popularity's are 2, 1, 2, 1 (mean 1.5, deviation 0.5): scale 0.5/√3.5 = 0.267261, shift
    /// 1.5 − 3·0.267261 = 0.698217. i2's factor 100 is not among them.
    @Test func calibrationMatchesTheWarmModelsMeanAndDeviation() throws {
        var table = InteractionTable()
        _ = table.items.insert("i0"); _ = table.items.insert("i1"); _ = table.items.insert("i2")
        table.append(Interaction(user: "u0", item: "i0"))
        table.append(Interaction(user: "u0", item: "i1"))
        table.append(Interaction(user: "u1", item: "i0"))
        let data = InteractionMatrix(table)
        let factors = LatentFactors(userFactors: DenseMatrix(rows: 2, columns: 1, storage: [1, 2]), itemFactors: DenseMatrix(rows: 3, columns: 1, storage: [1, 3, 100]))
        let (scale, shift) = Hybrid.calibration(from: factors, to: try Popularity(fitting: data), data: data)
        #expect(abs(scale - 0.267261) < 1e-5 && abs(shift - 0.698217) < 1e-5, "\(scale), \(shift)")
    }

    /// The two-tower model places a cold item from its content by either route (the tower
    /// reading content alone, or the ridge map onto the warm items' tower outputs), with the
    /// lexical part off so that the route alone decides.
    @Test(arguments: ["tower", "ridge"]) func twoTowerColdItemsRankByTheirContent(route: String) throws {
        let (matrix, even, odd) = Self.coldCatalogue()
        let model = try ModelRegistry.fit("twotower", parameters: ModelParameters([
            "cold": route, "lexical": "false", "cold-regularization": "0.1", "factors": "8", "hidden": "16", "epochs": "40",
            "patience": "0", "batch-size": "32", "learning-rate": "0.01", "min-df": "1",
        ]), data: matrix)
        for user in 0..<matrix.userCount {
            let s = model.scores(forUser: user)
            #expect(user % 2 == 0 ? s[even] > s[odd] : s[odd] > s[even], "user \(user): \(s[even]) vs \(s[odd])")
        }
    }

    /// New items join a fitted two-tower model without training (`extendingCatalogue(to:)`):
    /// the ridge map is learned again from the grown catalogue's content and places them, so a
    /// new "even" title outranks a new "odd" one for the even users, by the map alone (lexical
    /// part off; the old items then keep their scores exactly) and with the lexical part; the
    /// extended model saves and loads as any.
    @Test(arguments: [false, true]) func twoTowerTakesNewItemsWithoutAFit(lexical: Bool) throws {
        let (data, grown) = Self.newItemsCatalogue()
        let model = try ModelRegistry.fit("twotower", parameters: ModelParameters([
            "lexical": "\(lexical)", "cold-regularization": "0.1", "factors": "8", "hidden": "16", "epochs": "40",
            "patience": "0", "batch-size": "32", "learning-rate": "0.01", "min-df": "1",
        ]), data: data)
        let extended = try #require(try model.extendingCatalogue(to: grown) as? TwoTower)
        #expect(extended.data == grown)
        let loaded = try ModelRegistry.load(ModelRegistry.archive(extended))
        for user in 0..<data.userCount {
            let before = model.scores(forUser: user), after = extended.scores(forUser: user)
            if !lexical { #expect(Array(after.prefix(16)) == before, "user \(user)") }
            #expect(user % 2 == 0 ? after[16] > after[17] : after[17] > after[16], "user \(user): \(after[16]) vs \(after[17])")
            #expect(loaded.scores(forUser: user) == after, "user \(user)")
        }
        #expect(extended.recommend(userIndex: 0, count: 18).contains { $0.index == 16 })
    }

    /// The extended two-tower model projects a new item's content with the item tower's
    /// projection, its rows matched to the grown catalogue's terms: here a known title gains a
    /// leading new term, which moves every column of the vocabulary by one, so rows matched by
    /// position would project the new items wrongly. The expected rows are Σ x_ik · W[term k]
    /// over the grown BM25 vectors, looked up by term, a new term adding nothing; known items
    /// keep their projected content; a file from before the projection was kept gives new items
    /// none; the projection survives a save and load.
    @Test func twoTowerProjectsNewItemsContentByTerm() throws {
        let (data, grown) = Self.newItemsCatalogue()
        let first = data.items.identifiers[0]
        let renamed = grown.addingItems([ItemRecord(id: first, title: "zebra " + (data.catalog![first]?.title ?? ""))])
        #expect(renamed.extendsCatalogue(of: data) && renamed.itemCount == 18)
        let model = try #require(try ModelRegistry.fit("twotower", parameters: ModelParameters([
            "lexical": "false", "factors": "8", "hidden": "16", "epochs": "5", "patience": "0", "batch-size": "32", "min-df": "1",
        ]), data: data) as? TwoTower)
        let projection = try #require(model.projection), d = 8
        let oldTerms = TermCounts.terms(data, data.catalog!)
        #expect(projection.count == oldTerms.count * d && projection.contains { $0 != 0 })
        let row = Dictionary(uniqueKeysWithValues: oldTerms.enumerated().map { ($1, $0) })
        // The known items unchanged (their columns first, as they were), and one renamed.
        for (target, isRenamed) in [(grown, false), (renamed, true)] {
            let extended = try #require(try model.extendingCatalogue(to: target) as? TwoTower)
            let content = try Hybrid.Content.bm25.itemVectors(target, target.catalog!, settings: model.configuration.contentSettings).asSparse
            let newTerms = TermCounts.terms(target, target.catalog!)
            #expect((newTerms.first == "zebra") == isRenamed)
            // The extension weights the counts the fit kept: the old terms in their columns, new ones after.
            let kept = try #require(extended.termCounts.value { Issue.record("no counts kept"); return TermCounts(target, target.catalog!) })
            #expect(Array(kept.terms.identifiers.prefix(oldTerms.count)) == oldTerms && kept.terms.count == newTerms.count)
            #expect(kept.terms.identifiers.contains("zebra") == isRenamed)
            let grownContent = try #require(extended.itemContent), oldContent = try #require(model.itemContent)
            for item in 16..<18 {
                var expected = [Float](repeating: 0, count: d)
                for e in content.entries(ofRow: item) {
                    guard let r = row[newTerms[Int(content.columns[e])]] else { continue }
                    for k in 0..<d { expected[k] += content.values[e] * projection[r * d + k] }
                }
                let got = Array(grownContent[(item * d)..<((item + 1) * d)])
                #expect(expected.contains { $0 != 0 })
                #expect(zip(got, expected).allSatisfy { abs($0 - $1) <= 1e-5 }, "item \(item): \(got) vs \(expected)")
            }
            #expect(Array(grownContent.prefix(16 * d)) == oldContent)
            #expect(extended.projection?.count == newTerms.count * d)
            guard isRenamed else { continue }
            // Saved and loaded, the projection stays, and so do the scores.
            let loaded = try #require(try ModelRegistry.load(ModelRegistry.archive(extended)) as? TwoTower)
            #expect(loaded.projection == extended.projection)
            #expect(try loaded.scores(forHistory: [16, 2], values: [1, 1]) == extended.scores(forHistory: [16, 2], values: [1, 1]))
        }
        // A file written before the projection was kept: new items get no projected content.
        var older = ModelRegistry.archive(model)
        older.arrays["twotower.projection"] = nil
        let restored = try #require(try ModelRegistry.load(older) as? TwoTower)
        let without = try #require(try restored.extendingCatalogue(to: renamed) as? TwoTower)
        #expect(without.projection == nil && without.itemContent?.suffix(2 * d).allSatisfy { $0 == 0 } == true)
    }

    /// The projection's rows matched by label, by hand: rows of "a" (1, 2) and "b" (3, 4) under
    /// the columns "b", "c", "a" are (3, 4), (0, 0), (1, 2); positions (no labels) keep the rows.
    @Test func projectionRowsFollowTheirLabels() {
        #expect(TwoTower.projection([1, 2, 3, 4], labels: ["a", "b"], onto: ["b", "c", "a"], columns: 3, factors: 2) == [3, 4, 0, 0, 1, 2])
        #expect(TwoTower.projection([1, 2, 3, 4], labels: nil, onto: nil, columns: 2, factors: 2) == [1, 2, 3, 4])
        #expect(TwoTower.projection([1, 2, 3, 4], labels: nil, onto: nil, columns: 3, factors: 2) == nil)
        #expect(TwoTower.projection([1, 2, 3, 4], labels: ["a"], onto: ["a"], columns: 1, factors: 2) == nil)
    }
}

/// The two-tower item tower's content projection over dense rows (vectors supplied with the
/// items) by matrix products, against values worked out by hand, and the same as entry by entry.
@Suite struct TwoTowerDenseContentTests {
    @Test func denseRowsProjectAndBackPropagateByHand() {
        // Two items × three columns, every column in order; a 3 × 2 projection W.
        let x = SparseMatrix(rowCount: 2, columnCount: 3, rowStarts: [0, 3, 6], columns: [0, 1, 2, 0, 1, 2], values: [1, 2, 0, 0, 1, 3])
        #expect(TwoTower.ItemTower.denseRows(x))
        #expect(!TwoTower.ItemTower.denseRows(SparseMatrix(rowCount: 2, columnCount: 3, rowStarts: [0, 3, 6], columns: [0, 2, 1, 0, 1, 2], values: [1, 2, 0, 0, 1, 3])))
        #expect(!TwoTower.ItemTower.denseRows(SparseMatrix(rowCount: 2, columnCount: 3, rowStarts: [0, 2, 5], columns: [0, 1, 0, 1, 2], values: [1, 2, 0, 1, 3])))
        var generator = SeededGenerator(seed: 1)
        func tower(dense: Bool) -> TwoTower.ItemTower {
            TwoTower.ItemTower(ids: Embedding("ids", count: 2, width: 2, std: 0, generator: &generator),
                               projection: Parameter("content", shape: [3, 2], value: [1, 0, 0, 1, 2, -1]),
                               inner: Linear("inner", input: 2, output: 2, std: 0.1, generator: &generator),
                               outer: Linear("outer", input: 2, output: 2, std: 0.1, generator: &generator), denseContent: dense)
        }
        // X·W: item 0 = 1·(1, 0) + 2·(0, 1) + 0·(2, −1) = (1, 2); item 1 = (0, 1) + 3·(2, −1) = (6, −2).
        let (dense, sparse) = (tower(dense: true), tower(dense: false))
        #expect(dense.contentEmbeddings(x) == [1, 2, 6, -2])
        #expect(sparse.contentEmbeddings(x) == [1, 2, 6, -2])
        // Xᵀ·dC with dC = (1, 1; 0, 2): column 0 (1, 1), column 1 (2, 2 + 2) = (2, 4), column 2 (0, 6).
        dense.backwardContent([1, 1, 0, 2], items: [0, 1], content: x)
        sparse.backwardContent([1, 1, 0, 2], items: [0, 1], content: x)
        #expect(dense.projection?.gradient == [1, 1, 2, 4, 0, 6])
        #expect(sparse.projection?.gradient == [1, 1, 2, 4, 0, 6])
    }
}
