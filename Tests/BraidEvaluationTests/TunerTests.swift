import BraidCore
import BraidEvaluation
import BraidModels
import BraidTestSupport
import Testing

@Suite struct TunerTests {
    @Test func spaceParsesListsAndRanges() throws {
        let space = try ParameterSpace(arguments: ["factors=8,16", "regularization=0.001:0.1:log", "iterations=5:20:int"])
        #expect(space.dimensions.count == 3)
        #expect(space.dimensions[1].domain == .range(low: 0.001, high: 0.1, logarithmic: true, integer: false))
        #expect(throws: ModelError.self) { try space.grid() }
        let samples = space.sample(50, seed: 3)
        #expect(samples == space.sample(50, seed: 3))
        for sample in samples {
            #expect(["8", "16"].contains(sample["factors"]!))
            let r = Double(sample["regularization"]!)!
            #expect(r >= 0.001 && r <= 0.1)
            let i = Int(sample["iterations"]!)!
            #expect(i >= 5 && i <= 20)
        }
        #expect(throws: ModelError.self) { try ParameterSpace(arguments: ["x=0:1:log"]) }
        #expect(throws: ModelError.self) { try ParameterSpace(arguments: ["nonsense"]) }
    }

    @Test func gridIsTheCartesianProduct() throws {
        let grid = try ParameterSpace(arguments: ["a=1,2,3", "b=x,y"]).grid()
        #expect(grid.count == 6)
        #expect(Set(grid.map { $0["a"]! + $0["b"]! }) == ["1x", "1y", "2x", "2y", "3x", "3y"])
    }

    func split() throws -> PreparedSplit {
        let data = Fixtures.randomRatings(users: 60, items: 30, perUser: 10)
        var table = InteractionTable(users: data.users, items: data.items)
        for u in 0..<data.userCount { for k in data.byUser.entries(ofRow: u) { table.append(user: Int32(u), item: data.byUser.columns[k], value: data.byUser.values[k]) } }
        return try PreparedSplit(try Splitter(.userRatio(ratio: 0.8), seed: 4).split(table)[0], protocol: EvaluationProtocol())
    }

    @Test func picksTheBestByTheMetricsDirection() throws {
        let split = try split()
        let tuner = Tuner(evaluator: Evaluator(), metric: "rmse")
        #expect(tuner.lowerIsBetter)
        let trials = try tuner.run(model: "itemknn", base: [:], candidates: [["neighbors": "1"], ["neighbors": "20"]], split: split)
        #expect(trials.count == 2)
        let best = try #require(tuner.best(trials))
        #expect(best.value == trials.map(\.value).min())
        #expect(!Tuner(evaluator: Evaluator(), metric: "ndcg@10").lowerIsBetter)
    }

    @Test func earlyStoppingRecordsTheBestIteration() throws {
        let split = try split()
        let tuner = Tuner(evaluator: Evaluator(), metric: "rmse", patience: 2)
        let trial = try #require(try tuner.run(model: "svd", base: ["factors": "4", "iterations": "300", "learning-rate": "0.05"],
                                               candidates: [[:]], split: split).first)
        let best = try #require(trial.bestIteration)
        #expect(best >= 1 && best < 300, "stopped early")
        #expect(trial.parameters["iterations"] == String(best))
        // Refitting with the chosen iteration count reproduces the value.
        let refit = try ModelRegistry.fit("svd", parameters: ModelParameters(trial.parameters), data: split.train)
        #expect(abs(Evaluator().evaluate(refit, on: split).metrics["rmse"]! - trial.value) < 1e-6)
    }
}
