import BraidCore
import BraidEvaluation
import BraidModels
import BraidTestSupport
import Testing

@Suite struct EvaluatorTests {
    /// Train: a likes x, y; b likes x, z; c likes y. Test: a → z (5★) and w (2★, and w is
    /// never in training); b → y (4★); d (no training data) → x.
    func split() -> TrainTestSplit {
        var train = InteractionTable([
            Interaction(user: "a", item: "x", value: 5), Interaction(user: "a", item: "y", value: 4),
            Interaction(user: "b", item: "x", value: 5), Interaction(user: "b", item: "z", value: 5),
            Interaction(user: "c", item: "y", value: 5), Interaction(user: "c", item: "q", value: 1),
        ])
        var test = InteractionTable([
            Interaction(user: "a", item: "z", value: 5), Interaction(user: "a", item: "w", value: 2),
            Interaction(user: "b", item: "y", value: 4), Interaction(user: "d", item: "x", value: 5),
        ])
        train.adoptVocabularies(of: &test)  // extends train's vocabularies with the test ids
        return TrainTestSplit(train: train, test: test)
    }

    @Test func protocolCountsUnrankableRelevantItemsAndSkipsUsersWithoutTraining() throws {
        let prepared = PreparedSplit(split(), protocol: EvaluationProtocol(cutoff: 2))
        let model = try ModelRegistry.fit("pop", data: prepared.train)
        let result = Evaluator(protocol: EvaluationProtocol(cutoff: 2)).evaluate(model, on: prepared)
        #expect(result.usersEvaluated == 2)
        #expect(result.usersSkippedWithoutTraining == 1)
        // Popularity: x 2, y 2, z 1, q 1. a's candidates: z, q → top-2 [z, q]; relevant {z, w}:
        // 1 hit at rank 1 → recall 1/2, precision 1/2, ndcg 1/(1 + 1/log2 3).
        // b's candidates: y, q → [y, q]; relevant {y}: hit at rank 1 → recall 1, ndcg 1.
        #expect(abs(result.metrics["recall@2"]! - 0.75) < 1e-9)
        #expect(abs(result.metrics["precision@2"]! - 0.5) < 1e-9)
        let ndcgA = 1 / (1 + 1 / log2(3.0))
        #expect(abs(result.metrics["ndcg@2"]! - (ndcgA + 1) / 2) < 1e-9)
        #expect(result.metrics["coverage@2"] == 0.75)  // {z, q, y} of 4 trained items
        #expect(result.metrics["rmse"] == nil, "popularity predicts no ratings")
    }

    @Test func thresholdKeepsOnlyPositives() throws {
        let evaluation = EvaluationProtocol(cutoff: 2, threshold: 4)
        let prepared = PreparedSplit(split(), protocol: evaluation)
        #expect(prepared.train.interactionCount == 5, "c's 1★ rating of q is not a positive")
        #expect(prepared.train.isBinary)
        #expect(prepared.relevant[Int32(prepared.train.users.index(of: "a")!)] == [Int32(prepared.train.items.index(of: "z")!)])
    }

    @Test func ratingMetricsCoverKnownPairsOnly() throws {
        let prepared = PreparedSplit(split(), protocol: EvaluationProtocol())
        let model = try ModelRegistry.fit("baseline", data: prepared.train)
        let result = Evaluator().evaluate(model, on: prepared)
        // a/z and b/y are known pairs; a/w (w untrained) and d/x (d untrained) are not.
        #expect(result.ratingsEvaluated == 2)
        #expect(result.metrics["rmse"] != nil && result.metrics["mae"] != nil)
    }

    @Test func foldsAverage() throws {
        let table = Fixtures.randomRatings(users: 30, items: 20, perUser: 8)
        var rows = InteractionTable(users: table.users, items: table.items)
        for u in 0..<table.userCount { for k in table.byUser.entries(ofRow: u) { rows.append(user: Int32(u), item: table.byUser.columns[k], value: table.byUser.values[k]) } }
        let splits = try Splitter(.kFold(folds: 3)).split(rows).map { PreparedSplit($0, protocol: EvaluationProtocol()) }
        let result = try Evaluator().run(model: "itemknn", splits: splits)
        #expect(result.folds == 3)
        let single = try (0..<3).map { try Evaluator().run(model: "itemknn", splits: [splits[$0]]).metrics["ndcg@10"]! }
        #expect(abs(result.metrics["ndcg@10"]! - single.reduce(0, +) / 3) < 1e-9)
    }
}

#if canImport(Glibc)
import Glibc
#endif
