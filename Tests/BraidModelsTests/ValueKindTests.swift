import BraidCore
import BraidModels
import BraidTestSupport
import Foundation
import Testing

@Suite struct ValueKindTests {
    @Test func kindsByHand() {
        #expect(ValueKind.detect([Float]([1, 1, 1])) == .binary)
        #expect(ValueKind.detect([Float]([1, 2, 3, 4, 5, 3])) == .ratings)
        #expect(ValueKind.detect([Float]([0.5, 1.5, 4, 5])) == .ratings)
        #expect(ValueKind.detect([Float]([1, 2, 3, 250])) == .counts)
        #expect(ValueKind.detect([Float]([0.3, 1.7])) == .continuous)
        #expect(ValueKind.detect([Float]([-1, 1])) == .continuous)
    }

    /// Play counts: each user mostly plays items of their own taste group a few times, and binges
    /// one unrelated item hundreds of times; three in-taste items per user are held out.
    static func playCounts() -> (InteractionMatrix, [Int: Set<Int32>]) {
        var rng = SeededGenerator(seed: 5)
        var table = InteractionTable()
        var heldOut: [Int: Set<Int32>] = [:]
        for u in 0..<150 {
            let group = u % 6
            var chosen = Set<Int>()
            while chosen.count < 16 { chosen.insert(group * 30 + Int(rng.next() % 30)) }
            for (n, i) in chosen.sorted().enumerated() {
                if n < 3 { heldOut[u, default: []].insert(Int32(i)); continue }
                table.append(Interaction(user: "u\(u)", item: "i\(i)", value: Float(1 + rng.next() % 4)))
            }
            table.append(Interaction(user: "u\(u)", item: "i\(Int(rng.next() % 180))", value: Float(300 + rng.next() % 700)))
        }
        for i in 0..<180 { _ = table.items.insert("i\(i)") }
        return (InteractionMatrix(table), heldOut)
    }

    /// `confidence=auto` resolves by the data's kind when fitting and is saved resolved.
    @Test func automaticConfidenceResolvesByValueKind() throws {
        let (counts, _) = Self.playCounts()
        #expect(counts.valueKind == .counts)
        let onCounts = try ModelRegistry.fit("als", parameters: ModelParameters(["factors": "4", "iterations": "3", "confidence": "auto"]), data: counts) as! AlternatingLeastSquares
        #expect(onCounts.configuration.confidence == .log)
        let ratings = Fixtures.randomRatings(users: 20, items: 15, perUser: 5)
        #expect(ratings.valueKind == .ratings)
        let onRatings = try ModelRegistry.fit("als", parameters: ModelParameters(["factors": "4", "iterations": "3", "confidence": "auto"]), data: ratings) as! AlternatingLeastSquares
        #expect(onRatings.configuration.confidence == .linear)
        let path = Fixtures.temporaryDirectory() + "/als.braid"
        try ModelRegistry.save(onCounts, to: path)
        #expect((try ModelRegistry.load(from: path) as! AlternatingLeastSquares).configuration.confidence == .log)
        #expect((try ModelRegistry.fit("itemknn", parameters: ModelParameters(["value-transform": "auto"]), data: counts)).scores(forUser: 0).allSatisfy(\.isFinite))
    }

    /// kNN's default `value-transform=auto` takes log(1 + x) of counts and leaves ratings alone.
    @Test func neighbourhoodsLogCountsByDefault() throws {
        let (counts, _) = Self.playCounts()
        let ratings = Fixtures.randomRatings(users: 20, items: 15, perUser: 5)
        for model in ["itemknn", "userknn"] {
            let byDefault = try ModelRegistry.fit(model, data: counts).scores(forUser: 3)
            #expect(byDefault == (try ModelRegistry.fit(model, parameters: ModelParameters(["value-transform": "log"]), data: counts)).scores(forUser: 3))
            #expect(byDefault != (try ModelRegistry.fit(model, parameters: ModelParameters(["value-transform": "none"]), data: counts)).scores(forUser: 3))
            #expect((try ModelRegistry.fit(model, data: ratings)).scores(forUser: 3)
                    == (try ModelRegistry.fit(model, parameters: ModelParameters(["value-transform": "none"]), data: ratings)).scores(forUser: 3))
        }
    }

    /// BPR's default epochs: 3·10⁷ triples, within 100…3,000 epochs; fitted and saved resolved.
    @Test func bprEpochsFollowTheDataSize() throws {
        func data(_ interactions: Int) -> InteractionMatrix {
            var table = InteractionTable()
            for k in 0..<interactions { table.append(Interaction(user: "u\(k % 1000)", item: "i\(k / 1000)", value: 1)) }
            return InteractionMatrix(table)
        }
        #expect(BayesianPersonalizedRanking.epochs(for: data(50_000)) == 600)
        #expect(BayesianPersonalizedRanking.epochs(for: data(70_000)) == 429)  // ⌈3·10⁷ / 70,000⌉
        #expect(BayesianPersonalizedRanking.epochs(for: data(400_000)) == 100)
        #expect(BayesianPersonalizedRanking.epochs(for: data(3_000)) == 3000)
        let small = Fixtures.randomRatings(users: 20, items: 15, perUser: 5)
        let model = try ModelRegistry.fit("bpr", parameters: ModelParameters(["factors": "4"]), data: small) as! BayesianPersonalizedRanking
        #expect(model.configuration.iterations == 3000)
        let given = try ModelRegistry.fit("bpr", parameters: ModelParameters(["factors": "4", "iterations": "7"]), data: small) as! BayesianPersonalizedRanking
        #expect(given.configuration.iterations == 7)
        let path = Fixtures.temporaryDirectory() + "/bpr.braid"
        try ModelRegistry.save(model, to: path)
        #expect((try ModelRegistry.load(from: path) as! BayesianPersonalizedRanking).configuration.iterations == 3000)
    }

    /// EASE's default λ: 3 × Σ Gᵢᵢ² / Σ Gᵢᵢ, by hand; resolved at fit and saved.
    @Test func easeLambdaFollowsTheGramDiagonal() throws {
        var table = InteractionTable()
        // Item a: one user (value 2); item b: two users (1, 1); item c: three users (1, 1, 3).
        for (user, item, value) in [("u1", "a", 2), ("u1", "b", 1), ("u2", "b", 1), ("u1", "c", 1), ("u2", "c", 1), ("u3", "c", 3)] {
            table.append(Interaction(user: user, item: item, value: Float(value)))
        }
        let data = InteractionMatrix(table)
        // Binarized: diagonal 1, 2, 3 → 3 · 14 / 6 = 7. Values: 4, 2, 11 → 3 · 141 / 17.
        #expect(EASE.automaticLambda(for: data, binarize: true) == 7)
        #expect(abs(EASE.automaticLambda(for: data, binarize: false) - 3 * 141 / 17) < 1e-4)
        let model = try ModelRegistry.fit("ease", data: data) as! EASE
        #expect(model.configuration.lambda == 7)
        #expect((try ModelRegistry.fit("ease", parameters: ModelParameters(["lambda": "auto"]), data: data) as! EASE).configuration.lambda == 7)
        #expect((try ModelRegistry.fit("ease", parameters: ModelParameters(["lambda": "500"]), data: data) as! EASE).configuration.lambda == 500)
        let path = Fixtures.temporaryDirectory() + "/ease.braid"
        try ModelRegistry.save(model, to: path)
        #expect((try ModelRegistry.load(from: path) as! EASE).configuration.lambda == 7)
    }
}

