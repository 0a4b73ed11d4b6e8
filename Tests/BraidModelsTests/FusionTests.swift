import BraidCore
@testable import BraidModels
import BraidTestSupport
import Foundation
import Testing

@Suite struct FusionTests {
    static func fit(_ members: String, _ data: InteractionMatrix) throws -> any RecommendationModel {
        try ModelRegistry.fit("fusion", parameters: ModelParameters(["members": members, "candidates": "8", "trees": "10", "min-leaf": "2",
                                                                     "holdout": "0.3"]), data: data)
    }

    /// Without timestamps the features of a history and of the same training row are the same,
    /// so the fusion's fold-in gives a training user exactly their scores.
    @Test func historyScoresEqualTrainingScoresWithoutTimestamps() throws {
        var data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        data.ageInDays = nil
        let model = try Self.fit("itemknn+pop", data)
        #expect(model.scoresAnyHistory)
        for user in [0, 7, 19] {
            let own = try model.scores(forHistory: Array(data.items(ofUser: user)), values: Array(data.byUser.values(ofRow: user)))
            #expect(own == model.scores(forUser: user))
        }
    }

    /// With a member that cannot fold in (user kNN), neither can the fusion, and it says which.
    @Test func foldsInOnlyWhenEveryMemberDoes() throws {
        let model = try Self.fit("itemknn+userknn", Fixtures.randomRatings(users: 30, items: 25, perUser: 6))
        #expect(!model.scoresAnyHistory)
        #expect(throws: ModelError.self) { try model.scores(forHistory: [0], values: [1]) }
    }

    /// The integer-key order equals sorting by descending score with ties by index.
    @Test func descendingOrderMatchesTheComparator() {
        var rng = SeededGenerator(seed: 3)
        let scores: [Float] = (0..<500).map { k in
            switch k % 5 {
            case 0: 0
            case 1: -0.0
            case 2: Float(Int(rng.next() % 7)) - 3  // many ties
            default: Float(Double(rng.next() % 1_000_000) / 1000 - 500)
            }
        }
        let items = Array((0..<500).filter { $0 % 7 != 0 })
        let expected = items.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        #expect(FusionFeatures.descendingOrder(items, scores) == expected)
    }
}
