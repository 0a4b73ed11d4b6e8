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

    /// Every neural model is a member and candidate generator like any other; with only
    /// members that fold in (SASRec reads the history in order), the fusion folds in too, and
    /// it survives a save and load.
    @Test func neuralModelsAreMembers() throws {
        let data = SequentialModelTests.ring(items: 20, users: 40, length: 8)
        let small = "factors=8,layers=1,inner=16,max-length=8,epochs=3,patience=0"
        let fusion = try Self.fit("pop+sasrec(\(small))+bert4rec(\(small))+twotower(content=none,factors=8,hidden=8,epochs=3,patience=0)", data)
        #expect(fusion.scoresAnyHistory)
        let scores = fusion.scores(forUser: 3)
        #expect(scores.count == data.itemCount && scores.allSatisfy(\.isFinite))
        let path = Fixtures.temporaryDirectory() + "/fusion.braid"
        try ModelRegistry.save(fusion, to: path)
        #expect(try ModelRegistry.load(from: path).scores(forUser: 3) == scores)
        #expect(throws: ModelError.self) { try Self.fit("pop+neumf(factors=4,epochs=1,patience=0)", data).scores(forHistory: [0], values: [1]) }
    }

    /// Members that read content (a content model, the two-tower model over BM25) get the
    /// item catalogue in the inner split as in the refit.
    @Test func contentMembersReadTheCatalogue() throws {
        var data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        data.catalog = ModelContract.catalog(for: data.items)
        let fusion = try Self.fit("pop+content-bm25+twotower(factors=8,hidden=8,epochs=2,patience=0)", data)
        let scores = fusion.scores(forUser: 3)
        #expect(scores.count == data.itemCount && scores.allSatisfy(\.isFinite))
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
