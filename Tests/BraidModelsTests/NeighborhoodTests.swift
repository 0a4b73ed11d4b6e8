import BraidCore
import BraidModels
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
