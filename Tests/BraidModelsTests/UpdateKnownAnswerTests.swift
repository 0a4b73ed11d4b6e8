import BraidCore
@testable import BraidModels
import BraidTestSupport
import Foundation
import Testing

/// One update of each SGD model, and the centred similarities, against values worked by hand.
@Suite struct UpdateKnownAnswerTests {
    /// p_u = (0.1, 0.2), q_i = (0.3, −0.1), q_j = (0, 0.2), b_i = 0.1, b_j = 0, η = 0.1, λ = 0.01:
    /// x = 0.1 + (0.03 − 0.02) − 0.04 = 0.07, σ(−x) = 1 / (1 + e^0.07) = 0.4825071.
    /// p_u += η(σ(q_i − q_j) − λp_u) = (0.1 + 0.1·(0.1447521 − 0.001), 0.2 + 0.1·(−0.1447521 − 0.002)).
    @Test func bprStepByHand() {
        var p: [Float] = [0.1, 0.2], qi: [Float] = [0.3, -0.1], qj: [Float] = [0, 0.2]
        var bi: Float = 0.1, bj: Float = 0, g: [Float] = [0, 0]
        let sigma = BayesianPersonalizedRanking.step(user: &p, positive: &qi, negative: &qj, positiveBias: &bi, negativeBias: &bj,
                                                     gradient: &g, count: 2, learningRate: 0.1, regularization: 0.01)
        #expect(abs(sigma - 0.4825071) < 1e-6)
        let expected: [(Float, Float)] = [(p[0], 0.1143752), (p[1], 0.1853248), (qi[0], 0.3045251), (qi[1], -0.0902499),
                                          (qj[0], -0.0048251), (qj[1], 0.1901499), (bi, 0.1481507), (bj, -0.0482507)]
        for (k, (got, want)) in expected.enumerated() { #expect(abs(got - want) < 1e-6, "value \(k): \(got) vs \(want)") }
    }

    /// One user, one rating r = 4, one factor: μ = 3.5, b_u = 0.05, b_i = −0.1, p = 0.1, q = 0.2,
    /// y = 0.3, η = 0.1, λ = 0.02. |N(u)| = 1, so z = y = 0.3;
    /// r̂ = 3.5 + 0.05 − 0.1 + 0.1·0.2 + 0.3·0.2 = 3.53, e = 0.47.
    /// b_u = 0.05 + 0.1(0.47 − 0.001) = 0.0969; b_i = −0.1 + 0.1(0.47 + 0.002) = −0.0528;
    /// p = 0.1 + 0.1(0.47·0.2 − 0.002) = 0.1092; q = 0.2 + 0.1(0.47·(0.1 + 0.3) − 0.004) = 0.2184;
    /// y = 0.3 + 0.1(0.47·0.2 − 0.02·0.3) = 0.3088 (Koren 2008's update).
    @Test func svdPlusPlusStepByHand() {
        let data = InteractionMatrix(InteractionTable([Interaction(user: "u", item: "i", value: 4)]))
        var model = LatentFactors(userFactors: DenseMatrix(rows: 1, columns: 1, storage: [0.1]),
                                  itemFactors: DenseMatrix(rows: 1, columns: 1, storage: [0.2]),
                                  userBiases: [0.05], itemBiases: [-0.1], globalBias: 3.5)
        var y = DenseMatrix(rows: 1, columns: 1, storage: [0.3])
        var settings = ExplicitFactorizationSettings()
        settings.factors = 1
        settings.learningRate = 0.1
        settings.regularization = 0.02
        SVDPlusPlus.epoch(&model, implicit: &y, data: data, users: [0], configuration: settings)
        let expected: [(Float, Float)] = [(model.userBiases![0], 0.0969), (model.itemBiases![0], -0.0528),
                                          (model.userFactors.storage[0], 0.1092), (model.itemFactors.storage[0], 0.2184),
                                          (y.storage[0], 0.3088)]
        for (k, (got, want)) in expected.enumerated() { #expect(abs(got - want) < 1e-6, "value \(k): \(got) vs \(want)") }
    }

    /// Fixtures.handWorked, items compared over users centred by the user's mean (u0: 4,
    /// u1: 11/3, u2: 1.5). Residuals: u0 (i0 1, i1 −1); u1 (i0 1/3, i1 −5/3, i2 4/3); u2 (i1 −½, i2 ½).
    /// s(i0, i2) over u1 = (4/9)/(4/9) = 1; s(i0, i1) = −14/√340 < 0, not a neighbour.
    @Test func adjustedCosineByHand() throws {
        let model = try ModelRegistry.fit("itemknn", parameters: ModelParameters(["similarity": "adjusted-cosine"]),
                                          data: Fixtures.handWorked()) as! ItemKNN
        let s = try #require(model.itemSimilarities(to: 0))
        #expect(abs(s[2] - 1) < 1e-5)
        #expect(s[1] == 0)
        // Plain Pearson centres by the item's own mean and finds s(i0, i2) = −1 instead.
        let pearson = try ModelRegistry.fit("itemknn", parameters: ModelParameters(["similarity": "pearson"]),
                                            data: Fixtures.handWorked()) as! ItemKNN
        #expect(try #require(pearson.itemSimilarities(to: 0))[2] == 0)
    }

    /// One unregularized baseline pass on Fixtures.handWorked: μ = 22/7, b_i = (9.5/7, −8/7, 2.5/7),
    /// b_u = (0.75, 1/3, −1.25). Residuals: u0 (i0 −¼, i1 ¼); u1 (i0 −5/6, i1 −1/3, i2 7/6);
    /// u2 (i1 ¼, i2 −¼). s(i0, i1) over u0, u1 = (31/144) / √(109/144 · 25/144) = 31/(5√109)
    /// = 0.5938530; shrunk by 2/(2 + 100) with the default shrinkage.
    @Test func pearsonBaselineByHand() throws {
        func similarity(_ shrinkage: String) throws -> [Float] {
            let parameters = ModelParameters(["similarity": "pearson-baseline", "shrinkage": shrinkage, "baseline-iterations": "1",
                                              "user-regularization": "0", "item-regularization": "0"])
            let model = try ModelRegistry.fit("itemknn", parameters: parameters, data: Fixtures.handWorked()) as! ItemKNN
            return try #require(model.itemSimilarities(to: 0))
        }
        let plain = try similarity("0")
        #expect(abs(plain[1] - 0.5938530) < 1e-5)
        #expect(plain[2] == 0)  // s(i0, i2) = −1
        #expect(abs(try similarity("100")[1] - 0.5938530 * 2 / 102) < 1e-6)
    }

    /// The negative sampler's membership test, as bits and as the row search it falls back to
    /// on large data, against interactions listed by hand: items on both sides of a 64-bit
    /// word's edge, the last item, and a user with none.
    @Test func bprKnowsWhichItemsEachUserHas() {
        let had: [Int: Set<Int>] = [0: [0, 63, 64, 129], 2: [1, 127]]
        let pairs = had.flatMap { user, items in items.sorted().map { (Int32(user), Int32($0)) } }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        let matrix = SparseMatrix(rowCount: 3, columnCount: 130, rows: pairs.map(\.0), columns: pairs.map(\.1),
                                  values: [Float](repeating: 1, count: pairs.count))
        let bits = BayesianPersonalizedRanking.Interacted(matrix)
        let search = BayesianPersonalizedRanking.Interacted(matrix, maximumBytes: 0)
        #expect(bits.words != nil && search.words == nil)
        for user in 0..<3 {
            for item in 0..<130 {
                let expected = had[user]?.contains(item) ?? false
                #expect(bits.contains(user: user, item: item) == expected, "bits: user \(user), item \(item)")
                #expect(search.contains(user: user, item: item) == expected, "search: user \(user), item \(item)")
            }
        }
    }

    /// With one thread a seed gives identical factors; the triples an epoch draws do not depend
    /// on the thread count, so two threads reach the same quality.
    @Test func bprIsReproducibleOnOneThread() throws {
        let data = Fixtures.randomRatings(users: 200, items: 120, perUser: 15)
        let parameters = ModelParameters(["factors": "8", "iterations": "20"])
        func fit(_ threads: Int) throws -> BayesianPersonalizedRanking {
            try Parallelism.withThreadCount(threads) { try ModelRegistry.fit("bpr", parameters: parameters, data: data) as! BayesianPersonalizedRanking }
        }
        let a = try fit(1), b = try fit(1)
        #expect(a.factors == b.factors)
        let c = try fit(2)
        let difference = zip(a.factors.itemFactors.storage, c.factors.itemFactors.storage).map { abs($0 - $1) }.max() ?? 0
        #expect(difference < 0.05, "two threads moved factors by \(difference)")
    }
}
