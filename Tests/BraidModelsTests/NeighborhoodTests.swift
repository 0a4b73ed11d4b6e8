import BraidCore
@testable import BraidModels
import BraidTestSupport
import Testing

@Suite struct NeighborhoodTests {
    /// `saved-neighbors` bounds each row's stored similarities to its strongest (never fewer
    /// than `neighbors`): top-N lists read only the k strongest, so they do not change; a cap
    /// as long as the longest row changes nothing at all; a binding cap changes predictions only
    /// where the k nearest raters fall outside it.
    @Test func savedNeighborsBoundTheRowsAndKeepTheLists() throws {
        try check(UserKNN.self)
        try check(ItemKNN.self)
    }

    func check<Side>(_ type: NeighborhoodModel<Side>.Type) throws {
        let data = Fixtures.randomRatings(users: 60, items: 50, perUser: 15)
        func fit(_ parameters: [String: String]) throws -> NeighborhoodModel<Side> {
            try NeighborhoodModel<Side>(fitting: data, configuration: try .init(parameters: ModelParameters(parameters)))
        }
        let all = try fit(["neighbors": "5", "saved-neighbors": "0"])
        let longest = (0..<all.similarities.rowCount).map { all.similarities.entries(ofRow: $0).count }.max()!
        #expect(longest > 12, "rows long enough for the cap to bind (\(Side.name))")
        let capped = try fit(["neighbors": "5", "saved-neighbors": "12"])
        let raised = try fit(["neighbors": "8", "saved-neighbors": "2"])
        let whole = try fit(["neighbors": "5", "saved-neighbors": "\(longest)"])
        #expect(capped.similarities == all.similarities.keepingStrongest(12))
        #expect(raised.similarities == all.similarities.keepingStrongest(8), "never fewer than neighbors")
        #expect(whole.similarities == all.similarities)
        var changed = 0
        for user in 0..<data.userCount {
            #expect(capped.scores(forUser: user) == all.scores(forUser: user))
            for item in stride(from: user % 3, to: data.itemCount, by: 3) {
                #expect(whole.predictRating(user: user, item: item) == all.predictRating(user: user, item: item))
                if capped.predictRating(user: user, item: item) != all.predictRating(user: user, item: item) { changed += 1 }
            }
        }
        #expect(changed > 0, "a cap of 12 binds for some predictions")
    }

    /// A new user's history scored by user kNN, worked by hand. Users u0 {i0, i1}, u1 {i1, i2},
    /// u2 {i2, i3}, binary; the history {i1, i2}. Cosines: with u0 1/(√2·√2) = 0.5, with u1
    /// 2/2 = 1, with u2 0.5. The k = 2 nearest are u1 and u0 (u0 and u2 tie; the lower index
    /// wins). Scores: i0 = 0.5 (u0), i1 = 1 + 0.5, i2 = 1 (u1), i3 = 0.
    @Test func userKNNScoresANewHistoryByHand() throws {
        var table = InteractionTable()
        for (user, items) in [("u0", ["i0", "i1"]), ("u1", ["i1", "i2"]), ("u2", ["i2", "i3"])] {
            for item in items { table.append(Interaction(user: user, item: item)) }
        }
        let data = InteractionMatrix(table)
        let model = try UserKNN(fitting: data, configuration: try .init(parameters: ModelParameters(["neighbors": "2"])))
        #expect(model.scoresAnyHistory)
        let index = { (name: String) in Int32(data.items.index(of: name)!) }
        let scores = try model.scores(forHistory: [index("i2"), index("i1")], values: [1, 1])
        let expected: [String: Float] = ["i0": 0.5, "i1": 1.5, "i2": 1, "i3": 0]
        for (name, value) in expected { #expect(abs(scores[Int(index(name))] - value) < 1e-6, "\(name): \(scores[Int(index(name))])") }
        // As u1's own history, u1 is not its own neighbour: u0 and u2 (0.5 each) are.
        let own = try model.scores(forHistory: [index("i1"), index("i2")], values: [1, 1], trainedUser: Int(data.users.index(of: "u1")!))
        #expect(own == model.scores(forUser: Int(data.users.index(of: "u1")!)))
        #expect(abs(own[Int(index("i0"))] - 0.5) < 1e-6 && abs(own[Int(index("i3"))] - 0.5) < 1e-6 && abs(own[Int(index("i2"))] - 0.5) < 1e-6)
    }

    /// The selection per-item scoring uses gives what sorting gives, at every rank, on keys with
    /// many repeats and on distinct ones.
    @Test func selectionEqualsSorting() {
        var generator = SystemRandomNumberGenerator()
        for trial in 0..<200 {
            let count = 1 + trial % 37
            let keys = (0..<count).map { _ in trial % 2 == 0 ? UInt64.random(in: 0..<4, using: &generator) : UInt64.random(in: 0..<UInt64.max, using: &generator) }
            let sorted = keys.sorted()
            for rank in 0..<count {
                var scratch = keys
                let chosen = scratch.withUnsafeMutableBufferPointer { NeighborhoodIndex.smallest(rank, of: $0) }
                #expect(chosen == sorted[rank], "\(keys) rank \(rank)")
            }
        }
    }

    /// Neighbours chosen per candidate, worked by hand on four users and four items (cosines:
    /// a·b 2/3, a·c = a·d = b·d = 1/√6, b·c = 2/√6, c·d = 1/2; users u3·u0 = 1/√6, u3·u1 = 1/2,
    /// u3·u2 = 1/√6), beside the fixed neighbourhoods, which miss what per-item choice finds.
    @Test func perItemNeighbourhoodsByHand() throws {
        var table = InteractionTable()
        for (user, items) in [("u0", ["a", "b", "c"]), ("u1", ["a", "b"]), ("u2", ["b", "c", "d"]), ("u3", ["a", "d"])] {
            for item in items { table.append(Interaction(user: user, item: item)) }
        }
        let data = InteractionMatrix(table)
        func item(_ name: String) -> Int { Int(data.items.index(of: name)!) }
        func user(_ name: String) -> Int { Int(data.users.index(of: name)!) }
        func fitted<Side>(_ side: Side.Type, _ parameters: [String: String]) throws -> NeighborhoodModel<Side> {
            try NeighborhoodModel<Side>(fitting: data, configuration: try .init(parameters: ModelParameters(parameters)))
        }
        let r6 = Float(1 / 6.0.squareRoot())
        func expectScores(_ scores: [Float], _ expected: [String: Float], _ context: String) {
            for (name, value) in expected { #expect(abs(scores[item(name)] - value) < 1e-6, "\(context) \(name): \(scores[item(name)])") }
        }
        // Item-based, u1 = {a, b}: c's nearest in the history is b (2/√6); d's are a and b (1/√6 each).
        let items1 = try fitted(ItemSide.self, ["neighbors": "1", "neighborhood": "per-item"])
        expectScores(items1.scores(forUser: user("u1")), ["a": 2 / 3, "c": 2 * r6, "d": r6], "item-based k = 1")
        expectScores(try fitted(ItemSide.self, ["neighbors": "2", "neighborhood": "per-item"]).scores(forUser: user("u1")),
                     ["c": 3 * r6, "d": 2 * r6], "item-based k = 2")
        // Fixed: a's one neighbour is b, b's is c, so d scores nothing.
        expectScores(try fitted(ItemSide.self, ["neighbors": "1"]).scores(forUser: user("u1")), ["b": 2 / 3, "c": 2 * r6, "d": 0], "item-based fixed")
        #expect(!items1.scoresHistoryBySum)
        #expect(try items1.scores(forHistory: [Int32(item("b")), Int32(item("a"))], values: [1, 1]) == items1.scores(forUser: user("u1")))
        // User-based, u3 = {a, d}: b's nearest among u0, u1, u2 is u1 (1/2); c's among u0 and u2 a tie, u0 taken.
        let users1 = try fitted(UserSide.self, ["neighbors": "1", "neighborhood": "per-item"])
        expectScores(users1.scores(forUser: user("u3")), ["b": 0.5, "c": r6], "user-based k = 1")
        expectScores(try fitted(UserSide.self, ["neighbors": "2", "neighborhood": "per-item"]).scores(forUser: user("u3")),
                     ["b": 0.5 + r6, "c": 2 * r6], "user-based k = 2")
        expectScores(try fitted(UserSide.self, ["neighbors": "1"]).scores(forUser: user("u3")), ["b": 0.5, "c": 0], "user-based fixed")
        let why = try #require(users1.explanation(user: user("u3"), item: item("c")))
        #expect(why.users.map(\.index) == [Int32(user("u0"))] && abs(why.users[0].weight - r6) < 1e-6, "\(why)")
    }

    /// With every similarity that folds in (all but pearson-baseline), on ratings and on counts
    /// (log-transformed), a training user's own row scored as theirs gives exactly the scores
    /// of the fit; scored as anyone's, the user is their own nearest neighbour and the scores
    /// change. Pearson-baseline says it cannot.
    @Test(arguments: ["cosine", "pearson", "adjusted-cosine", "jaccard", "msd"])
    func userKNNFoldsInATrainingRowExactly(similarity: String) throws {
        let ratings = Fixtures.randomRatings(users: 40, items: 30, perUser: 8)
        let counts = InteractionMatrix(users: ratings.users, items: ratings.items,
                                       byUser: ratings.byUser.mapValues { u, i, r in Float((u * 7 + Int(i) * 3) % 40 + 1) * r })
        for (data, transform) in [(ratings, "none"), (counts, "log")] {
            let model = try UserKNN(fitting: data, configuration: try .init(parameters: ModelParameters([
                "similarity": similarity, "neighbors": "5", "value-transform": transform])))
            #expect(model.scoresAnyHistory)
            var changed = 0
            for user in 0..<data.userCount {
                let items = Array(data.byUser.columns(ofRow: user)), values = Array(data.byUser.values(ofRow: user))
                #expect(try model.scores(forHistory: items.reversed(), values: values.reversed(), trainedUser: user) == model.scores(forUser: user),
                        "user \(user), \(transform)")
                if try model.scores(forHistory: items, values: values) != model.scores(forUser: user) { changed += 1 }
            }
            #expect(changed > data.userCount / 2)
        }
        let baseline = try UserKNN(fitting: ratings, configuration: try .init(parameters: ModelParameters(["similarity": "pearson-baseline"])))
        #expect(!baseline.scoresAnyHistory)
        #expect(throws: ModelError.self) { try baseline.scores(forHistory: [0], values: [4]) }
    }
}
