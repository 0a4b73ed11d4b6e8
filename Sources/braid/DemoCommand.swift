import ArgumentParser
import Braid
import BraidDemoData
import Foundation

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train every model on the built-in MovieLens demo data, print a leaderboard and sample recommendations.",
        discussion: "Data: MovieLens ml-latest-small (GroupLens), per-user temporal split: each user's latest 20% of ratings are the test set.")

    @Option(name: .customLong("k"), help: "Cut-off of the @k metrics and list length.")
    var cutoff: Int = 10


    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.run {
            try CommonOptions.requirePositive(cutoff, "--k")
            let started = System.monotonicSeconds()
            Console.progress("Braid demo: MovieLens ml-latest-small from \(DemoDataset.directory)")
            let (table, _) = try InteractionImporter().importFile(DemoDataset.ratings)
            let catalog = try ItemCatalogImporter().importFile(DemoDataset.movies)
            let stats = DatasetStatistics(table)
            Console.progress("\(stats.interactions) ratings by \(stats.users) users on \(stats.items) movies; split: each user's latest 20% by time is the test set")
            let evaluation = EvaluationProtocol(cutoff: cutoff)
            let split = try PreparedSplit(try Splitter(.userTimeRatio(ratio: 0.8)).split(table)[0], protocol: evaluation, catalog: catalog)
            let evaluator = Evaluator(protocol: evaluation, catalog: catalog)
            var results: [EvaluationResult] = []
            var models: [String: any RecommendationModel] = [:]
            let neural = ModelRegistry.models.filter { $0.trainsByEpochs }.map { $0.name }
            Console.progress("The neural models (\(neural.joined(separator: ", "))) train for minutes and are left out; try `braid evaluate --model sasrec`.")
            for name in ModelRegistry.names where !neural.contains(name) {
                let fitStart = System.monotonicSeconds()
                let model: any RecommendationModel
                do throws(ModelError) { model = try ModelRegistry.fit(name, data: split.train) } catch {
                    Console.progress("  \(name): failed: \(error)")
                    results.append(EvaluationResult(model: name, failure: .init(code: error.code.name, message: error.description)))
                    continue
                }
                let fitSeconds = System.monotonicSeconds() - fitStart
                var result = evaluator.evaluate(model, on: split)
                result.fitSeconds = fitSeconds
                Console.progress("  \(name): NDCG@\(cutoff) \(Console.format(result.metrics["ndcg@\(cutoff)"] ?? .nan)) (fit and evaluate \(Console.format(System.monotonicSeconds() - fitStart, digits: 2)) s)")
                results.append(result)
                models[name] = model
            }
            let best = results.max { ($0.metrics["ndcg@\(cutoff)"] ?? 0) < ($1.metrics["ndcg@\(cutoff)"] ?? 0) }!
            let model = models[best.model]!
            let data = split.train
            let sampleUsers = ["1", "2", "3"].compactMap { data.users.index(of: $0) }.map(Int.init)
            let lists = model.recommend(userIndices: sampleUsers, count: cutoff)
            let elapsed = System.monotonicSeconds() - started
            if common.json {
                Console.printJSON([
                    "dataset": "ml-latest-small", "split": "per-user temporal 80/20", "cutoff": cutoff,
                    "results": try results.map(Leaderboard.jsonObject), "best_model": best.model,
                    "recommendations": zip(sampleUsers, lists).map { user, list in
                        ["user": data.users[user], "items": list.map {
                            ["item": data.items[$0.index], "title": catalog.displayName(of: data.items[$0.index]), "score": Double($0.score)] as [String: Any]
                        }] as [String: Any]
                    },
                    "seconds": elapsed,
                ])
                return
            }
            print("Leaderboard (MovieLens ml-latest-small, per-user temporal 80/20 split, all ratings as interactions)\n")
            let k = cutoff
            try Leaderboard(results: results, cutoff: k).print(json: false, single: false,
                                                           columns: ["precision@\(k)", "recall@\(k)", "f1@\(k)", "ndcg@\(k)", "map@\(k)", "coverage@\(k)", "rmse"])
            print("\nTop \(k) for three users by \(best.model), the best model by NDCG@\(k):\n")
            var rows: [[String]] = []
            for (user, list) in zip(sampleUsers, lists) {
                for (rank, entry) in list.enumerated() {
                    let item = data.items[entry.index]
                    rows.append([rank == 0 ? data.users[user] : "", "\(rank + 1)", catalog.displayName(of: item),
                                 catalog[item]?.categories.joined(separator: "|") ?? ""])
                }
            }
            Console.printTable(["user", "rank", "movie", "genres"], rows, rightAligned: [1])
            print("\nDone in \(Console.format(elapsed, digits: 1)) s.")
        }
    }
}
