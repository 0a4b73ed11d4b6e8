import BraidCore
import BraidModels
import BraidTestSupport
import Foundation
import Testing

/// Model outputs checked against values worked out by hand.
@Suite struct KnownAnswerTests {
    @Test func baselineOneUnregularizedPass() throws {
        // Ratings u0:i0=4, u0:i1=2, u1:i0=5; μ = 11/3. One pass with λ = 0:
        // b_i0 = ((4−μ)+(5−μ))/2 = 5/6, b_i1 = 2−μ = −5/3,
        // b_u0 = ((4−μ−5/6)+(2−μ+5/3))/2 = −1/4, b_u1 = 5−μ−5/6 = 1/2.
        // Prediction u1,i1 = 11/3 + 1/2 − 5/3 = 2.5.
        let data = InteractionMatrix(InteractionTable([
            Interaction(user: "u0", item: "i0", value: 4), Interaction(user: "u0", item: "i1", value: 2),
            Interaction(user: "u1", item: "i0", value: 5),
        ]))
        let model = try ModelRegistry.fit("baseline", parameters: ModelParameters(["iterations": "1", "user-regularization": "0", "item-regularization": "0"]), data: data) as! BaselinePredictor
        #expect(abs(model.estimates.globalMean - 11 / 3) < 1e-6)
        #expect(abs(model.estimates.itemBiases[0] - 5 / 6) < 1e-6)
        #expect(abs(model.estimates.itemBiases[1] + 5 / 3) < 1e-6)
        #expect(abs(model.estimates.userBiases[0] + 0.25) < 1e-6)
        #expect(abs(model.estimates.userBiases[1] - 0.5) < 1e-6)
        #expect(abs(try #require(try model.predictRating(user: "u1", item: "i1")) - 2.5) < 1e-6)
    }

    /// RP³β by hand. u0 = {a, b}, u1 = {a, c}, u2 = {b}; P(u|i) = 1/|U_i| (a: ½, b: ½, c: 1),
    /// P(j|u) = 1/|I_u| (u0: ½, u1: ½, u2: 1); popularity a 2, b 2, c 1.
    /// α = 1, β = ½: W_ab = ½·½ / √2, W_ac = ½·½ / 1, W_ba = ½·½ / √2, W_bc = 0, W_ca = 1·½ / √2.
    /// α = 2, β = 0: W_ab = W_ac = W_ba = (½·½)² = 1/16, W_ca = (1·½)² = ¼.
    @Test func rp3betaWalkByHand() throws {
        let data = InteractionMatrix(InteractionTable([
            Interaction(user: "u0", item: "a"), Interaction(user: "u0", item: "b"), Interaction(user: "u1", item: "a"),
            Interaction(user: "u1", item: "c"), Interaction(user: "u2", item: "b"),
        ]))
        let (a, b, c) = (0, 1, 2)
        let half = try ModelRegistry.fit("rp3beta", parameters: ModelParameters(["alpha": "1", "beta": "0.5"]), data: data)
        let w = try #require(half.itemSimilarities(to: a)), wb = try #require(half.itemSimilarities(to: b)), wc = try #require(half.itemSimilarities(to: c))
        #expect(abs(w[b] - 0.25 / Float(2).squareRoot()) < 1e-6 && abs(w[c] - 0.25) < 1e-6 && w[a] == 0)
        #expect(abs(wb[a] - 0.25 / Float(2).squareRoot()) < 1e-6 && wb[c] == 0)
        #expect(abs(wc[a] - 0.5 / Float(2).squareRoot()) < 1e-6 && wc[b] == 0)
        // u1's score for b sums the walks from a and c; u2's for a is W_ba.
        #expect(abs(half.scores(forUser: 1)[b] - 0.25 / Float(2).squareRoot()) < 1e-6)
        #expect(abs(half.scores(forUser: 2)[a] - 0.25 / Float(2).squareRoot()) < 1e-6)
        let squared = try ModelRegistry.fit("rp3beta", parameters: ModelParameters(["alpha": "2", "beta": "0"]), data: data)
        let s = try #require(squared.itemSimilarities(to: a)), sc = try #require(squared.itemSimilarities(to: c))
        #expect(abs(s[b] - 1.0 / 16) < 1e-7 && abs(s[c] - 1.0 / 16) < 1e-7 && abs(sc[a] - 0.25) < 1e-7)
        #expect(RP3Beta.Configuration().beta == 0.3 && RP3Beta.Configuration().alpha == 1)
    }

    /// GF-CF by hand. u0 = {a, b}, u1 = {b, c}: degrees u 2, 2 and a 1, b 2, c 1, so
    /// R̃ = [[1/√2, ½, 0], [0, ½, 1/√2]]. R̃R̃ᵀ = [[¾, ¼], [¼, ¾]] has eigenvalues 1 and ½:
    /// σ = 1 and 1/√2, with right singular vectors v₁ = (½, 1/√2, ½) and v₂ = (1/√2, 0, −1/√2).
    /// The ideal filter with one vector scores item i by d_i^{½} v₁ᵢ · Σ_{j ∈ I_u} d_j^{-½} v₁ⱼ:
    /// for u0 the sum is ½ + ½ = 1, so a, b, c score ½, 1, ½. With both vectors it is the
    /// projection onto R̃'s row space: u0's c gets ½ − ½ = 0 and a ½ + ½ = 1. The linear filter
    /// gives u0's c R̃ᵀR̃[a, c] + R̃ᵀR̃[b, c] = 0 + ½·1/√2, and a ½ + 1/(2√2); with α = 0.3 and
    /// one vector, c scores 1/(2√2) + 0.3·½.
    @Test func gfcfFiltersByHand() throws {
        let data = InteractionMatrix(InteractionTable([
            Interaction(user: "u0", item: "a"), Interaction(user: "u0", item: "b"),
            Interaction(user: "u1", item: "b"), Interaction(user: "u1", item: "c"),
        ]))
        let (a, b, c) = (0, 1, 2)
        let one = try ModelRegistry.fit("gfcf", parameters: ModelParameters(["factors": "1", "linear": "false", "alpha": "1"]), data: data)
        let s = one.scores(forUser: 0)
        #expect(abs(s[a] - 0.5) < 1e-5 && abs(s[b] - 1) < 1e-5 && abs(s[c] - 0.5) < 1e-5)
        let two = try #require(try ModelRegistry.fit("gfcf", parameters: ModelParameters(["factors": "2", "linear": "false", "alpha": "1"]), data: data) as? GFCF)
        #expect(abs(two.singularValues[0] - 1) < 1e-5 && abs(two.singularValues[1] - 1 / Float(2).squareRoot()) < 1e-5)
        let t = two.scores(forUser: 0)
        #expect(abs(t[a] - 1) < 1e-5 && abs(t[c]) < 1e-5)
        let full = try ModelRegistry.fit("gfcf", parameters: ModelParameters(["factors": "1"]), data: data)
        let f = full.scores(forUser: 0)
        #expect(abs(f[c] - (1 / (2 * Float(2).squareRoot()) + 0.15)) < 1e-5)
        #expect(abs(f[a] - (0.5 + 1 / (2 * Float(2).squareRoot()) + 0.15)) < 1e-5)
        #expect(GFCF.Configuration().alpha == 0.3)
        #expect(throws: ModelError.self) { try ModelRegistry.fit("gfcf", parameters: ModelParameters(["linear": "false", "alpha": "0"]), data: data) }
    }

    /// Adjacency by hand. u0 rated x, y, z in that order, u1 rated y then z; counts x 1, y 2, z 2.
    /// Window 1: A_xy = 1 (u0), A_yz = 2 (u0 and u1), x and z two places apart do not count.
    /// Window 2 adds A_xz = ½. α = ½ divides by √(n_i n_j): W_xy = 1/√2, W_yz = 2/2 = 1,
    /// W_xz = ½/√2. α = 0 leaves A. Half-life 1 on the history [x, y] weighs x ½ and y 1:
    /// z scores ½·W_xz + W_yz. Without timestamps every pair of a user's items is adjacent:
    /// A_xz = 1 as well.
    @Test func adjacencyByHand() throws {
        let day: Int64 = 86_400
        let rows = [
            Interaction(user: "u0", item: "x", value: 1, timestamp: 3 * day), Interaction(user: "u0", item: "y", value: 1, timestamp: 5 * day),
            Interaction(user: "u0", item: "z", value: 1, timestamp: 9 * day), Interaction(user: "u1", item: "z", value: 1, timestamp: 2 * day),
            Interaction(user: "u1", item: "y", value: 1, timestamp: 1 * day),
        ]
        let data = InteractionMatrix(InteractionTable(rows))
        let (x, y, z) = (0, 1, 2)
        let one = try ModelRegistry.fit("adjacency", parameters: ModelParameters(["window": "1", "alpha": "0"]), data: data)
        let ox = try #require(one.itemSimilarities(to: x)), oy = try #require(one.itemSimilarities(to: y))
        #expect(ox == [0, 1, 0] && oy == [1, 0, 2])
        let two = try ModelRegistry.fit("adjacency", parameters: ModelParameters(["window": "2"]), data: data)
        let r2 = Float(2).squareRoot()
        let tx = try #require(two.itemSimilarities(to: x)), tz = try #require(two.itemSimilarities(to: z))
        #expect(abs(tx[y] - 1 / r2) < 1e-6 && abs(tx[z] - 0.5 / r2) < 1e-6 && abs(tz[y] - 1) < 1e-6 && abs(tz[x] - 0.5 / r2) < 1e-6)
        // u1 (y, z) scores x by W_yx + W_zx; a new history [x] scores y by W_xy.
        #expect(abs(two.scores(forUser: 1)[x] - (1 / r2 + 0.5 / r2)) < 1e-6)
        #expect(abs(try two.scores(forHistory: [Int32(x)], values: [1])[y] - 1 / r2) < 1e-6)
        let recent = try ModelRegistry.fit("adjacency", parameters: ModelParameters(["window": "2", "half-life": "1"]), data: data)
        let s = try recent.scores(forHistory: [Int32(x), Int32(y)], values: [1, 1])
        #expect(abs(s[z] - (0.5 * 0.5 / r2 + 1)) < 1e-6)
        // u1's explanation of x: its history in time order, y weighing ½ and z 1.
        let explained = try #require(recent.explanation(user: 1, item: x))
        #expect(explained.sumsToScore && abs(explained.items.reduce(0) { $0 + $1.weight } - recent.scores(forUser: 1)[x]) < 1e-6)
        #expect(abs(explained.items.first { $0.index == Int32(y) }!.weight - 0.5 / r2) < 1e-6)
        let unordered = try ModelRegistry.fit("adjacency", parameters: ModelParameters(["window": "1", "alpha": "0"]),
                                              data: InteractionMatrix(InteractionTable(rows.map { Interaction(user: $0.user, item: $0.item, value: 1) })))
        #expect(try #require(unordered.itemSimilarities(to: x)) == [0, 1, 1])
        let unorderedRecent = try ModelRegistry.fit("adjacency", parameters: ModelParameters(["window": "1", "alpha": "0", "half-life": "1"]), data: unordered.data)
        #expect(unorderedRecent.scores(forUser: 0) == unordered.scores(forUser: 0), "without timestamps there is no order to weigh by")
        #expect(throws: ModelError.self) { try ModelRegistry.fit("adjacency", parameters: ModelParameters(["window": "0"]), data: data) }
    }

    @Test func itemKNNWeightedSum() throws {
        // Items over users: i0 = (5,4,0), i1 = (3,2,1), i2 = (0,5,2). For u0 (i0=5, i1=3) and i2:
        // s(i2,i0) = 20/√1189, s(i2,i1) = 12/√406; r̂ = (5·s0 + 3·s1)/(s0 + s1) ≈ 3.98678.
        let model = try ModelRegistry.fit("itemknn", parameters: ModelParameters(["prediction": "weighted-sum"]), data: Fixtures.handWorked())
        #expect(abs(try #require(try model.predictRating(user: "u0", item: "i2")) - 3.98678) < 1e-4)
    }

    @Test func itemKNNWeightedSumUsesOnlyTheKNearest() throws {
        // With k = 1 only i1 (the more similar) counts: r̂ = 3.
        let model = try ModelRegistry.fit("itemknn", parameters: ModelParameters(["prediction": "weighted-sum", "neighbors": "1"]), data: Fixtures.handWorked())
        #expect(abs(try #require(try model.predictRating(user: "u0", item: "i2")) - 3) < 1e-5)
    }

    @Test func itemKNNMeanCentred() throws {
        // Item means: i0 = 4.5, i1 = 2, i2 = 3.5. r̂ = 3.5 + (s0·(5−4.5) + s1·(3−2))/(s0 + s1)
        //   = 3.5 + (0.290007 + 0.595550)/1.175565 ≈ 4.25330.
        let model = try ModelRegistry.fit("itemknn", data: Fixtures.handWorked())
        #expect(abs(try #require(try model.predictRating(user: "u0", item: "i2")) - 4.25330) < 1e-4)
    }

    @Test func userKNNWeightedSum() throws {
        // Users: u0 = (5,3,0), u1 = (4,2,5), u2 = (0,1,2). For u0 and i2, raters u1 (5) and u2 (2):
        // s(u0,u1) = 26/√1530, s(u0,u2) = 3/√170; r̂ = (5·s1 + 2·s2)/(s1 + s2) ≈ 4.22857.
        let model = try ModelRegistry.fit("userknn", parameters: ModelParameters(["prediction": "weighted-sum"]), data: Fixtures.handWorked())
        #expect(abs(try #require(try model.predictRating(user: "u0", item: "i2")) - 4.22857) < 1e-4)
    }

    @Test func itemKNNTopNScoresSumSimilarities() throws {
        // Top-N score of i2 for u0 is s(i0,i2) + s(i1,i2) = 20/√1189 + 12/√406 ≈ 1.175565.
        let model = try ModelRegistry.fit("itemknn", data: Fixtures.handWorked())
        #expect(abs(model.scores(forUser: 0)[2] - 1.175565) < 1e-5)
    }

    @Test func popularityCountsUsers() throws {
        let model = try ModelRegistry.fit("pop", data: Fixtures.handWorked())
        #expect(model.scores(forUser: 0) == [2, 3, 2])
    }

    @Test func unknownParametersAreRejectedWithTheKnownOnes() {
        do {
            _ = try ModelRegistry.fit("itemknn", parameters: ModelParameters(["nieghbors": "5"]), data: Fixtures.handWorked())
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .unknownParameter)
            #expect(error.description.contains("neighbors"))
        }
        #expect(throws: ModelError.self) { try ModelRegistry.validate("itemknn", parameters: ModelParameters(["similarity": "euclid"])) }
        #expect(throws: ModelError.self) { try ModelRegistry.validate("nosuchmodel", parameters: ModelParameters()) }
    }

    @Test func corruptModelFilesAreRefused() throws {
        let model = try ModelRegistry.fit("itemknn", data: Fixtures.handWorked())
        let bytes = ModelRegistry.archive(model as! ItemKNN).encoded()
        let truncated = Fixtures.temporaryFile(bytes.prefix(bytes.count - 20), name: "t.braid")
        #expect(throws: ModelError.self) { _ = try ModelRegistry.load(from: truncated) }
        var flipped = bytes
        flipped[flipped.count / 2] ^= 0xFF
        #expect(throws: ModelError.self) { _ = try ModelRegistry.load(from: Fixtures.temporaryFile(flipped, name: "f.braid")) }
        #expect(throws: ModelError.self) { _ = try ModelRegistry.load(from: Fixtures.temporaryFile("not a model", name: "x.braid")) }
    }
}
