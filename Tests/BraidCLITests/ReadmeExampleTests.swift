import Braid
import BraidTestSupport
import Foundation
import Testing

/// The README's library example, kept compiling and running.
@Suite struct ReadmeExampleTests {
    @Test func libraryExampleRuns() throws {
        var text = "user,item,rating,timestamp\n"
        for u in 0..<30 { for i in 0..<20 where (u + i) % 3 != 0 { text += "\(u),\(i),\(1 + (u * i) % 5),\(u * 100 + i)\n" } }
        let table = try InteractionFile(Fixtures.temporaryFile(text, name: "ratings.csv")).load()
        #expect(table.count == 30 * 20 - 200)
        let synthetic = try InteractionSources.parse("synth:users=50,items=40,interactions=300").load()
        #expect(synthetic.count == 300)
        let split = try Splitter(.userRatio(ratio: 0.8), seed: 1).split(table)[0]
        let evaluation = EvaluationProtocol(cutoff: 10, threshold: 4)
        let prepared = try PreparedSplit(split, protocol: evaluation)

        let model = try ItemKNN(fitting: prepared.train, configuration: try .init(parameters: ModelParameters(["neighbors": "100"])))
        let result = Evaluator(protocol: evaluation).evaluate(model, on: prepared)
        #expect(result.metrics["ndcg@10"] != nil)

        let top = model.recommend(user: "4", count: 10)
        let batch = model.recommend(userIndices: [0, 1, 2], count: 10)
        let similar = try model.similarItems(to: "3", count: 5)
        let path = Fixtures.temporaryDirectory() + "/itemknn.braid"
        try ModelRegistry.save(model, to: path)
        let loaded = try ModelRegistry.load(from: path)
        #expect(!top.isEmpty && batch.count == 3 && !similar.isEmpty && type(of: loaded).name == "itemknn")

        let users = try UserAttributesImporter().importFile(Fixtures.temporaryFile("1|24|M|technician|85711\n2|53|F|other|94043\n944|30|F|writer|10001\n", name: "u.user"))
        let attributes = AttributePopularity(data: model.data, users: users)
        let scores = model.newUserScores(users["944"], attributes: attributes)
        let list = model.select(10, from: scores, user: nil, filter: RecommendationFilter())
        #expect(scores.count == model.data.itemCount && !list.isEmpty && attributes.tokens.contains("gender=F"))
        let first = try model.newUserScores(history: [3], values: [1], record: users["944"], attributes: attributes)
        #expect(first.count == model.data.itemCount && first != scores)

        var given = EvaluationProtocol(threshold: 4, mode: .newUsers)
        let held = try Splitter(.newUsers(ratio: 0.9), seed: 2).split(table)[0]
        let views = try [1, 3].map { k in given.newUserHistory = k; return try PreparedSplit(held, protocol: given) }
        let tuner = Tuner(evaluator: Evaluator(protocol: given), metric: "ndcg@10",
                          historyPriors: [.off, HistoryPrior(weight: 2, length: 10), .default])
        let trials = try tuner.run(model: "ease", base: [:], candidates: [[:]], views: views)
        #expect(trials.count == 3 && tuner.best(trials)?.historyPrior != nil)

        let served = InteractionMatrix(positivesOf: table, threshold: 4)
        #expect(served.interactionCount + (served.belowThreshold?.nonzeroCount ?? 0) == table.count)
        #expect(served.seenItems(ofUser: 0).count == table.userIndices.filter { $0 == 0 }.count)

        var train = prepared.train
        train.catalog = ItemCatalog((0..<20).map { ItemRecord(id: "\($0)", title: "Film \($0)", categories: [$0 % 2 == 0 ? "Drama" : "Comedy"]) })
        let content = try BM25Content(fitting: train)
        let coldScores = try content.scores(forHistory: [12, 4], values: [1, 1])
        #expect(coldScores.count == train.itemCount)
    }
}
