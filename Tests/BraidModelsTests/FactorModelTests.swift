@testable import BraidModels
import BraidCore
import BraidTestSupport
import Foundation
import Testing

@Suite struct FactorModelTests {
    func als(_ parameters: [String: String], _ data: InteractionMatrix) throws -> AlternatingLeastSquares {
        try ModelRegistry.fit("als", parameters: ModelParameters(parameters), data: data) as! AlternatingLeastSquares
    }

    /// Scores are the biases plus the dot products, by hand for two users and three items. The
    /// packed copy scoring reads follows the factors: a changed item is scored as changed, in
    /// the factors changed and in a copy changed apart, while the factors copied before keep
    /// their scores. A block of users scores exactly as each alone, over two passes of panels
    /// (2,100 items of 3 factors).
    @Test func latentFactorScoresFollowTheirFactors() {
        var factors = LatentFactors(userFactors: DenseMatrix([[1, 2], [0, -1]]), itemFactors: DenseMatrix([[3, 1], [0, 0], [-1, 4]]),
                                    userBiases: [0.5, 0], itemBiases: [1, 2, 0], globalBias: 0.25)
        // User 0: 0.25 + 0.5 + item bias + (5, 0, 7); user 1: 0.25 + 0 + item bias + (−1, 0, −4).
        #expect(factors.scores(forUser: 0) == [6.75, 2.75, 7.75])
        #expect(factors.scores(forUser: 1) == [0.25, 2.25, -3.75])
        let before = factors
        factors.itemFactors[1, 0] = 10  // item 1 is (10, 0): user 0's dot 10
        #expect(factors.scores(forUser: 0) == [6.75, 12.75, 7.75])
        #expect(before.scores(forUser: 0) == [6.75, 2.75, 7.75])
        var copy = factors
        copy.itemFactors.storage.withUnsafeMutableBufferPointer { $0[0] = 0 }  // item 0 is (0, 1): dot 2
        #expect(copy.scores(forUser: 0) == [3.75, 12.75, 7.75])
        #expect(factors.scores(forUser: 0) == [6.75, 12.75, 7.75])
        #expect(factors.scores(forUsers: [1, 0]) == [factors.scores(forUser: 1), factors.scores(forUser: 0)])

        let wide = LatentFactors(users: 20, items: 2100, factors: 3, scale: 1, seed: 4)
        let users = [3, 0, 19, 3, 7]
        #expect(wide.scores(forUsers: users) == users.map { wide.scores(forUser: $0) })
    }

    /// The first vectors are scored from the factors' rows, the next one packs them; the
    /// scores are the same bit for bit either way (1,000 items: several runs of 64 and a tail).
    @Test func factorsArePackedAfterAFewScores() {
        let factors = LatentFactors(users: 6, items: 1000, factors: 12, scale: 1, seed: 9)
        var fromRows: [[Float]] = []
        for user in 0..<PackedItems.rowScoresBeforePacking {
            fromRows.append(factors.scores(forUser: user))
            #expect(!factors.isPackedForScoring)
        }
        _ = factors.scores(forUser: 5)
        #expect(factors.isPackedForScoring)
        for (user, scores) in fromRows.enumerated() {
            #expect(factors.scores(forUser: user).map(\.bitPattern) == scores.map(\.bitPattern))
        }
    }

    /// YᵀY + λI for fold-ins, by hand: rows (1, 2), (0, 0), (3, 4), (5, 6) with λ = 0.5 give
    /// [[35.5, 44], [44, 56.5]] (the zero row adds nothing); leaving out the last row as an
    /// item without data gives [[10.5, 14], [14, 20.5]].
    @Test func foldInGramSumsTheRowsItIsGiven() {
        var configuration = AlternatingLeastSquares.Configuration()
        configuration.regularization = 0.5
        configuration.regularizationScaling = .none
        let y = DenseMatrix([[1, 2], [0, 0], [3, 4], [5, 6]])
        #expect(AlternatingLeastSquares.foldInGram(y, configuration: configuration) == DenseMatrix([[35.5, 44], [44, 56.5]]))
        #expect(AlternatingLeastSquares.foldInGram(y, configuration: configuration) { $0 != 3 } == DenseMatrix([[10.5, 14], [14, 20.5]]))
    }

    /// A server readies a factor model's packed item factors when it swaps the model in
    /// (`prepareForServing()`), so that its first list does not pack them; a change of
    /// catalogue gives new factors to pack, and the scores are the same either way.
    @Test(arguments: ["als", "bpr(iterations=5)", "svd(iterations=3)"])
    func prepareForServingPacksTheItemFactors(_ spec: String) throws {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let (name, parameters) = try MemberSpec.parse(spec, composite: "test").first.map { ($0.model, $0.parameters) }!
        let model = try #require(try ModelRegistry.fit(name, parameters: ModelParameters(parameters), data: data) as? any FactorizationModel)
        #expect(!model.factors.isPackedForScoring)
        model.prepareForServing()
        #expect(model.factors.isPackedForScoring)
        // The packed scores are the pairs' scores (dot products in another order: to rounding).
        let byPair = (0..<25).map { model.factors.score(user: 3, item: $0) }
        for (a, b) in zip(model.scores(forUser: 3), byPair) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b)), "\(spec)") }
        let grown = try #require(try model.extendingCatalogue(to: data.addingItems([ItemRecord(id: "new", title: "new")])) as? any FactorizationModel)
        #expect(!grown.factors.isPackedForScoring)
        grown.prepareForServing()
        #expect(grown.factors.isPackedForScoring && Array(grown.scores(forUser: 3).prefix(25)) == model.scores(forUser: 3))
    }

    @Test func conjugateGradientConvergesToTheExactSolution() throws {
        let data = Fixtures.randomRatings(users: 40, items: 25, perUser: 8)
        let exact = try als(["factors": "4", "iterations": "6", "solver": "cholesky"], data)
        let iterative = try als(["factors": "4", "iterations": "6", "cg-steps": "40"], data)
        for (a, b) in zip(exact.factors.itemFactors.storage, iterative.factors.itemFactors.storage) { #expect(abs(a - b) < 1e-3) }
    }

    /// One factor: x = Σ c·y_j / (Σ_all y² + Σ_hist (c − 1)·y_j² + λ_u) with c = 1 + α·r, and
    /// λ_u = λ·n for a history of n items (weighted-λ, the default) or λ (`none`).
    @Test(arguments: ["frequency", "none"])
    func foldInSolvesTheNormalEquationsByHand(scaling: String) throws {
        let data = Fixtures.randomRatings(users: 30, items: 20, perUser: 6)
        let model = try als(["factors": "1", "iterations": "3", "alpha": "2", "regularization": "0.5", "regularization-scaling": scaling], data)
        let y = model.factors.itemFactors.storage
        let history: [Int32] = [1, 4, 7], values: [Float] = [1, 3, 2]
        var numerator: Float = 0, denominator = y.reduce(Float(0)) { $0 + $1 * $1 } + (scaling == "none" ? 0.5 : 0.5 * 3)
        for (j, r) in zip(history, values) {
            let c = 1 + 2 * r
            numerator += c * y[Int(j)]
            denominator += (c - 1) * y[Int(j)] * y[Int(j)]
        }
        let x = try model.userVector(forHistory: history, values: values)
        #expect(throws: ModelError.self) { try model.userVector(forHistory: [Int32(model.data.itemCount)], values: [1]) }
        #expect(throws: ModelError.self) { try model.userVector(forHistory: [0, 1], values: [1]) }
        #expect(abs(x[0] - numerator / denominator) < 1e-5)
    }

    /// The fit's last half-iteration solves the users against the final item factors, so each
    /// user's factor satisfies their normal equation; with one factor, by hand:
    /// x_u = Σ_j c·y_j / (Σ_all y² + Σ_j (c − 1)·y_j² + λ·n_u) under weighted-λ, where a
    /// constant λ would give a different value for every user with n_u ≠ 1.
    @Test func weightedRegularizationScalesWithEachUsersInteractions() throws {
        let data = Fixtures.randomRatings(users: 25, items: 15, perUser: 5)
        let model = try als(["factors": "1", "iterations": "4", "alpha": "1", "regularization": "1", "solver": "cholesky"], data)
        #expect(model.configuration.regularizationScaling == .frequency, "the default")
        let y = model.factors.itemFactors.storage, x = model.factors.userFactors.storage
        let all = y.reduce(Float(0)) { $0 + $1 * $1 }
        var distinguished = 0
        for user in 0..<data.userCount {
            let items = Array(data.byUser.columns(ofRow: user)), values = Array(data.byUser.values(ofRow: user))
            var numerator: Float = 0, denominator = all
            for (j, r) in zip(items, values) {
                numerator += (1 + r) * y[Int(j)]
                denominator += r * y[Int(j)] * y[Int(j)]
            }
            let weighted = numerator / (denominator + Float(items.count)), constant = numerator / (denominator + 1)
            #expect(abs(x[user] - weighted) < 1e-4 * max(1, abs(weighted)), "user \(user): \(x[user]) vs \(weighted)")
            if abs(weighted - constant) > 0.1 * abs(weighted) { distinguished += 1 }
        }
        #expect(distinguished > data.userCount / 2)
    }

    /// Explanations explain what `recommend` serves: the per-item contributions sum to the
    /// served score (exactly with the Cholesky solver, to CG tolerance with CG), and a history
    /// item with a non-positive value contributes nothing.
    @Test(arguments: ["cholesky", "cg"])
    func explanationsSumToTheServedScore(solver: String) throws {
        var table = InteractionTable()
        var rng = SeededGenerator(seed: 9)
        for u in 0..<30 {
            for i in 0..<20 where rng.nextUnit() < 0.35 { table.append(Interaction(user: "u\(u)", item: "i\(i)", value: Float(1 + Int(rng.next() % 5)))) }
        }
        table.append(Interaction(user: "u4", item: "i19", value: -1))  // a dislike: p = 0
        let data = InteractionMatrix(table)
        let model = try als(["factors": "3", "iterations": "8", "solver": solver, "cg-steps": "3"], data)
        let user = Int(data.users.index(of: "u4")!)
        let disliked = Int32(data.items.index(of: "i19")!)
        let served = model.recommend(userIndex: user, count: 5)
        #expect(!served.isEmpty)
        for entry in served {
            let parts = model.explain(user: user, item: Int(entry.index))
            #expect(!parts.contains { $0.item == disliked }, "only positive preferences contribute")
            let total = parts.reduce(Float(0)) { $0 + $1.contribution }
            let tolerance: Float = solver == "cholesky" ? 1e-4 : 0.05 * abs(entry.score) + 1e-3
            #expect(abs(total - entry.score) < tolerance, "\(solver): contributions \(total) vs served \(entry.score)")
        }
    }

    /// A factor model's score in parts, by hand: user 0 = (1, 2), item 2 = (−1, 4), biases
    /// 0.25 + 0.5 + 0: factors 1·(−1) + 2·4 = 7, score 7.75. The items by cosine with item 2:
    /// item 0 = (3, 1): (−3 + 4)/(√10·√17) = 0.0767; item 1 = (0, 0) has no length: 0; item 2
    /// itself 1. A history lists each item once, most similar first.
    @Test func factorExplanationsByHand() {
        let factors = LatentFactors(userFactors: DenseMatrix([[1, 2], [0, -1]]), itemFactors: DenseMatrix([[3, 1], [0, 0], [-1, 4]]),
                                    userBiases: [0.5, 0], itemBiases: [1, 2, 0], globalBias: 0.25)
        let parts = factors.contributions(user: 0, item: 2)
        #expect(parts.map(\.name) == ["global bias", "user bias", "item bias", "factors"])
        #expect(parts.map(\.weight) == [0.25, 0.5, 0, 7])
        #expect(factors.score(user: 0, item: 2) == 7.75)
        let similarities = factors.itemSimilarities(to: 2)
        #expect(abs(similarities[0] - 1 / (Float(10).squareRoot() * Float(17).squareRoot())) < 1e-6)
        #expect(similarities[1] == 0 && abs(similarities[2] - 1) < 1e-6)
        let why = Explanation.nearest([1, 0, 2, 0], similarities: similarities)
        #expect(why.items.map(\.index) == [2, 0, 1] && why.itemWeights == .similarity && !why.sumsToScore)
        #expect(Explanation.nearest([0, 1, 2], similarities: similarities) == why, "the same reasons in any order")
    }

    /// SVD++'s explanation splits its score exactly: the shares of the rated items are
    /// q_i · y_j / √|N(u)|, computed here from the fitted factors by hand, and the biases, the
    /// free factors' product and the shares' sum add up to the score.
    @Test func svdPlusPlusExplainsByRatedItems() throws {
        let data = Fixtures.randomRatings(users: 20, items: 12, perUser: 5)
        let model = try ModelRegistry.fit("svdpp", parameters: ModelParameters(["factors": "3", "iterations": "5"]), data: data) as! SVDPlusPlus
        let user = 3, item = Int(model.recommend(userIndex: 3, count: 1)[0].index)
        let why = try #require(model.explanation(user: user, item: item))
        let rated = Array(data.items(ofUser: user)), f = 3
        let q = Array(model.factors.itemFactors.storage[(item * f)..<((item + 1) * f)])
        for (j, share) in zip(rated, why.items) {
            let y = Array(model.implicitFactors.storage[(Int(j) * f)..<((Int(j) + 1) * f)])
            let expected = zip(q, y).reduce(Float(0)) { $0 + $1.0 * $1.1 } / Float(rated.count).squareRoot()
            #expect(share.index == j && abs(share.weight - expected) < 1e-5)
        }
        let parts = why.contributionWeights
        #expect(abs(parts["rated items"]! - why.items.reduce(0) { $0 + $1.weight }) < 1e-5)
        #expect(abs(why.contributions.reduce(0) { $0 + $1.weight } - model.scores(forUser: user)[item]) < 1e-4)
    }

    @Test func divergenceIsAClearError() {
        let data = Fixtures.randomRatings(users: 20, items: 10, perUser: 5)
        #expect(throws: ModelError.self) { _ = try als(["alpha": "1e38", "factors": "2"], data) }
    }
}

@Suite struct EASETests {
    // u0 = {i0, i1}, u1 = {i0, i2}; λ = 1: XᵀX + λI = [[3,1,1],[1,2,0],[1,0,2]], det 8,
    // P = adj/8 = [[1/2, −1/4, −1/4], [−1/4, 5/8, 1/8], [−1/4, 1/8, 5/8]],
    // B[i, j] = −P[i, j]/P[j, j] off the diagonal: [[0, .4, .4], [.5, 0, −.2], [.5, −.2, 0]].
    let data = InteractionMatrix(InteractionTable([
        Interaction(user: "u0", item: "i0"), Interaction(user: "u0", item: "i1"),
        Interaction(user: "u1", item: "i0"), Interaction(user: "u1", item: "i2"),
    ]))

    @Test func closedFormByHand() throws {
        let model = try ModelRegistry.fit("ease", parameters: ModelParameters(["lambda": "1"]), data: data) as! EASE
        let expected: [Float] = [0, 0.4, 0.4, 0.5, 0, -0.2, 0.5, -0.2, 0]
        for (a, b) in zip(model.weights.storage, expected) { #expect(abs(a - b) < 1e-5) }
        // Scores of u0 = x_u0 · B = [0.5, 0.4, 0.2]; explanations sum to them.
        let scores = model.scores(forUser: 0)
        #expect(abs(scores[2] - 0.2) < 1e-5)
        #expect(abs(model.explain(user: 0, item: 2).reduce(Float(0)) { $0 + $1.contribution } - 0.2) < 1e-5)
    }

    @Test func refusesWhatWillNotFit() {
        do {
            _ = try ModelRegistry.fit("ease", parameters: ModelParameters(["max-memory-gb": "0.001"]),
                                      data: InteractionMatrix(InteractionTable((0..<600).map { Interaction(user: "u\($0)", item: "i\($0)") })))
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == .tooLarge && error.message.contains("600×600"))
        }
    }
}

@Suite struct BlendTests {
    @Test func ridgeRecoversExactWeights() throws {
        // targets = 1 + 2·a − 0.5·b exactly; with no penalty the solve returns those weights.
        let a: [Float] = [1, 2, 3, 4, 5, 2, 7], b: [Float] = [3, 1, 4, 1, 5, 9, 2]
        let targets = zip(a, b).map { 1 + 2 * $0 - 0.5 * $1 }
        let w = try Blend.ridge(features: [a, b], targets: targets, penalty: 0)
        #expect(abs(w[0] - 1) < 1e-3 && abs(w[1] - 2) < 1e-3 && abs(w[2] + 0.5) < 1e-3)
    }

    @Test func membersParse() throws {
        let members = try Blend.Configuration.parseMembers("baseline+itemknn(similarity=pearson-baseline,neighbors=20)")
        #expect(members == [Blend.Member(model: "baseline"),
                            Blend.Member(model: "itemknn", parameters: ["similarity": "pearson-baseline", "neighbors": "20"])])
        #expect(throws: ModelError.self) {
            try ModelRegistry.fit("blend", parameters: ModelParameters(["members": "pop"]), data: Fixtures.randomRatings(users: 20, items: 10, perUser: 4))
        }
        #expect(throws: ModelError.self) { try Blend.Configuration(parameters: ModelParameters(["members": "itemknn(nope=1)"])) }
    }

    /// Similar items weigh the members' similarities as the ranking weighs their scores: each
    /// item's value is Σ_m w_m (s_m − mean_m) / sd_m over the members with a positive plain
    /// weight and similarities of their own (baseline has none), the moments over the other
    /// items, worked out here in doubles from the members' rows and the blend's weights.
    @Test func similarItemsWeighTheMembers() throws {
        let data = Fixtures.randomRatings(users: 60, items: 25, perUser: 10, biases: true)
        let blend = try ModelRegistry.fit("blend", parameters: ModelParameters(["members": "baseline+itemknn+svd(factors=4)"]), data: data) as! Blend
        var expected = [Double](repeating: 0, count: data.itemCount)
        var used = 0
        for (m, member) in blend.members.enumerated() {
            let weight = Double(blend.weights[3 * m + 1])
            guard weight > 0, let similarities = member.itemSimilarities(to: 3) else { continue }
            used += 1
            let row = similarities.map(Double.init)
            let others = row.indices.filter { $0 != 3 }
            let mean = others.reduce(0) { $0 + row[$1] } / Double(others.count)
            let sd = (others.reduce(0) { $0 + (row[$1] - mean) * (row[$1] - mean) } / Double(others.count)).squareRoot()
            for j in others { expected[j] += weight * (row[j] - mean) / sd }
        }
        #expect(used > 0, "a member with similarities weighs in")
        let fused = try #require(blend.itemSimilarities(to: 3))
        for j in 0..<data.itemCount where j != 3 { #expect(abs(Double(fused[j]) - expected[j]) < 1e-4, "item \(j)") }
    }

    /// The blend learns its weights on an inner split of the training data only; on ratings it
    /// never saw it must beat each member fitted alone on the same training data.
    @Test func blendBeatsItsBestMemberOnTheHoldout() throws {
        let (train, test) = Fixtures.holdOut(Fixtures.randomRatings(users: 150, items: 30, perUser: 20, biases: true), perUser: 4)
        let members = ["baseline", "itemknn", "svd(factors=4)"]
        let blend = try ModelRegistry.fit("blend", parameters: ModelParameters(["members": members.joined(separator: "+")]), data: train) as! Blend
        #expect(blend.members.map { type(of: $0).name } == ["baseline", "itemknn", "svd"])
        let alone = try [("baseline", ModelParameters()), ("itemknn", ModelParameters()), ("svd", ModelParameters(["factors": "4"]))]
            .map { try ModelRegistry.fit($0.0, parameters: $0.1, data: train) }
        let memberErrors = alone.map { model in Fixtures.rmse(test) { model.predictRating(user: $0, item: $1) } }
        let blendError = Fixtures.rmse(test) { blend.predictRating(user: $0, item: $1) }
        #expect(blendError < memberErrors.min()!, "blend \(blendError) vs members \(memberErrors)")
    }
}

@Suite struct ContentModelTests {
    /// Scoring a profile term by term (over the transposed vectors) gives `multiplied(by:)`'s
    /// values bit for bit, for profiles of a few terms (the term-by-term sums) and of many
    /// (the row-by-row ones), with negative weights among them.
    @Test func termByTermScoresAreTheRowSums() {
        var rng = SeededGenerator(seed: 4)
        let rows: [(columns: [Int32], values: [Float])] = (0..<400).map { _ in
            let columns = Set((0..<12).map { _ in Int32(rng.nextUnit() * 300) }).sorted()
            return (columns, columns.map { _ in Float(rng.nextUnit()) + 0.01 })
        }
        let m = SparseMatrix(stackingRows: rows, columnCount: 300), byColumn = m.transposed()
        for used in [3, 10, 250] {
            var profile = [Float](repeating: 0, count: 300)
            for _ in 0..<used { profile[Int(rng.nextUnit() * 300)] = Float(rng.nextUnit() - 0.3) }
            let touched = profile.indices.filter { profile[$0] != 0 }.reduce(0) { $0 + byColumn.count(ofRow: $1) }
            #expect((touched < m.nonzeroCount / 4) == (used < 250), "\(used) terms touch \(touched) of \(m.nonzeroCount)")
            #expect(m.multiplied(by: profile, byColumn: byColumn).map(\.bitPattern) == m.multiplied(by: profile).map(\.bitPattern))
        }
    }

    /// Items: two "space" films and two "romance" films; the user saw one of each, the romance
    /// one long ago and the space one yesterday.
    func data() -> InteractionMatrix {
        let day: Int64 = 86400
        var matrix = InteractionMatrix(InteractionTable([
            Interaction(user: "u", item: "space1", value: 1, timestamp: 100 * day),
            Interaction(user: "u", item: "romance1", value: 1, timestamp: 10 * day),
            Interaction(user: "v", item: "space2", value: 1, timestamp: 99 * day),
            Interaction(user: "v", item: "romance2", value: 1, timestamp: 98 * day),
        ]))
        matrix.catalog = ItemCatalog([
            ItemRecord(id: "space1", title: "Star voyage", categories: ["SciFi"]), ItemRecord(id: "space2", title: "Star return", categories: ["SciFi"]),
            ItemRecord(id: "romance1", title: "Paris love", categories: ["Romance"]), ItemRecord(id: "romance2", title: "Rome love", categories: ["Romance"]),
        ])
        return matrix
    }

    @Test func recencyHalfLifeFavoursRecentTaste() throws {
        let data = data()
        #expect(data.ageInDays?.values(ofRow: 0).map { $0 } == [0, 90], "ages in days before the latest interaction")
        let plain = try ModelRegistry.fit("content-attributes", data: data)
        let recent = try ModelRegistry.fit("content-attributes", parameters: ModelParameters(["half-life-days": "30"]), data: data)
        let space2 = Int(data.items.index(of: "space2")!), romance2 = Int(data.items.index(of: "romance2")!)
        let p = plain.scores(forUser: 0), r = recent.scores(forUser: 0)
        #expect(abs(p[space2] - p[romance2]) < 1e-6, "without recency both tastes weigh the same")
        #expect(r[space2] > r[romance2])
        // Two half-lives of weight ratio 2^-3 = 1/8: cosines (1, 1/8)/|(1, 1/8)| against one-hot vectors.
        #expect(abs(r[space2] - 1 / (1 + 1.0 / 64).squareRoot()) < 1e-5)
    }

    @Test func tfidfByHand() throws {
        // Documents: space1 "star voyage scifi", space2 "star return scifi", romance1 "paris love
        // romance", romance2 "rome love romance". idf = ln((1+4)/(1+df)) + 1: df 2 → ln(5/3)+1.
        let model = try ModelRegistry.fit("content-tfidf", data: data()) as! TFIDFContent
        guard case .sparse(let m) = model.vectors else { Issue.record("expected sparse vectors"); return }
        let rare = log(5.0 / 2) + 1, common = log(5.0 / 3) + 1
        let norm = (rare * rare + 2 * common * common).squareRoot()
        let row = Int(model.data.items.index(of: "space1")!)
        #expect(Set(m.values(ofRow: row).map { (Double($0) * 1e5).rounded() }) == Set([rare / norm, common / norm].map { ($0 * 1e5).rounded() }))
        #expect(try model.similarItems(to: "space1", count: 1).first?.item == "space2")
    }

    /// BM25 by hand: d0 "Red red fox" → red red fox, d1 "Blue fox." → blue fox, d2
    /// "RED sky\r\nat night" → red sky night ("at" a stop word), and d3 "Ça va" (not ASCII) →
    /// ça va. N = 4, average length 10/4; idf = ln(1 + (N − df + 0.5)/(df + 0.5)) with df 2 for
    /// red and fox and 1 for the rest; k1 = 1.2, b = 0.75. The columns are the terms in the
    /// order the documents first use them; min-df 2 keeps red and fox alone.
    @Test func bm25ByHand() throws {
        var matrix = InteractionMatrix(InteractionTable(["d0", "d1", "d2", "d3"].map { Interaction(user: "u", item: $0, value: 1) }))
        matrix.catalog = ItemCatalog([ItemRecord(id: "d0", title: "Red red fox"), ItemRecord(id: "d1", title: "Blue fox."),
                                      ItemRecord(id: "d2", title: "RED sky\r\nat night"), ItemRecord(id: "d3", title: "Ça va")])
        let model = try ModelRegistry.fit("content-bm25", data: matrix) as! BM25Content
        guard case .sparse(let m) = model.vectors else { Issue.record("expected sparse vectors"); return }
        #expect(m.columnCount == 7, "red fox blue sky night ça va")
        let common = log(1 + 2.5 / 2.5), rare = log(1 + 3.5 / 1.5), average = 10.0 / 4
        func bm25(_ tf: Double, _ idf: Double, length: Double) -> Double { idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / average)) }
        func expectRow(_ item: String, _ columns: [Int32], _ raw: [Double]) {
            let row = Int(matrix.items.index(of: item)!)
            let norm = raw.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(m.columns(ofRow: row).map { $0 } == columns, "\(item)")
            let values = m.values(ofRow: row).map(Double.init)
            #expect(values.count == raw.count && zip(values, raw).allSatisfy { abs($0 - $1 / norm) < 1e-6 }, "\(item): \(values)")
        }
        expectRow("d0", [0, 1], [bm25(2, common, length: 3), bm25(1, common, length: 3)])
        expectRow("d1", [1, 2], [bm25(1, common, length: 2), bm25(1, rare, length: 2)])
        expectRow("d2", [0, 3, 4], [bm25(1, common, length: 3), bm25(1, rare, length: 3), bm25(1, rare, length: 3)])
        expectRow("d3", [5, 6], [bm25(1, rare, length: 2), bm25(1, rare, length: 2)])
        let kept = try ModelRegistry.fit("content-bm25", parameters: ModelParameters(["min-df": "2"]), data: matrix) as! BM25Content
        guard case .sparse(let k) = kept.vectors else { Issue.record("expected sparse vectors"); return }
        #expect(k.columns(ofRow: Int(matrix.items.index(of: "d2")!)).map { $0 } == [0])
        #expect(k.values(ofRow: Int(matrix.items.index(of: "d3")!)).isEmpty)
    }
}
