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
}
