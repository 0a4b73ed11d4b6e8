import ArgumentParser
import Braid
import Foundation

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "From data to one model file: inspect the data, tune each model family within a time budget, pick the best on a validation split, fit it on everything.",
        discussion: """
            The data decides the protocol: ratings are turned into positives at 80% of the top of \
            the scale (4 of 5 stars); with timestamps each user's latest 20% is the validation set, \
            otherwise a seeded random 20%, scored on at most --validation-users users. Each family (popularity, item and user kNN, EASE, \
            RP3beta, GF-CF, adjacency, ALS, BPR; the content models and the hybrid with --items or --item-vectors) gets its \
            defaults and then random configurations in turn until 60% of the budget is spent, the \
            cheapest family first: a trial's cost is estimated from the data's size before a \
            family's first and measured after, and a trial that would run past the 60% is not \
            started (such families are named). The fusion over the three best is tried when its \
            trial, its final fit (and its refit for --report) fit in the budget (with fewer random \
            inner folds, down to 3, when the default's would not), and kept only if it beats them \
            on validation; when it cannot fit, tuning goes on in its time. The best model whose fit \
            on all the data ends within the budget is refitted on it and saved.
              braid create --data ratings.csv --items movies.csv --out m.braid --budget 2m
            """)

    @OptionGroup var dataOptions: DataOptions

    @Option(help: "Interactions file.")
    var data: String

    @Option(help: "Where to write the model file.")
    var out: String

    @Option(help: ArgumentHelp("Time budget for tuning and the final fit: seconds, or with a unit (120s, 2m).", valueName: "duration"),
            transform: Seconds.parse)
    var budget: Double = 120

    @Option(help: "Metric to optimize: ndcg@K, recall@K, precision@K, map@K, mrr@K, hit@K, auc.")
    var metric: String = "ndcg@10"

    @Option(help: "Random seed for the split, the search and the models.")
    var seed: UInt64 = 42

    @Option(help: ArgumentHelp("Score at most this many validation users, a seeded sample (0: all).",
                               discussion: "On a large user base each trial's evaluation, not its fit, would take most of the budget; a mean NDCG@10 over 20,000 users has a standard error near 0.0014."))
    var validationUsers: Int = 20_000

    @Option(help: "Also write a self-contained HTML report (statistics, long tail, leaderboard, NDCG/recall curves, explained examples).")
    var report: String?

    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.run {
            let started = System.monotonicSeconds()
            guard budget >= 1 else { throw CLIError("--budget must be at least 1 second, not \(budget)") }
            try Tuner.checkMetric(metric, ranking: true)
            guard validationUsers >= 0 else { throw CLIError("--validation-users must be 0 (all) or more, not \(validationUsers)") }
            try OutputFiles.check(writes: [("--out", out), ("--report", report)], reads: [("--data", data)] + dataOptions.inputFiles)
            let table = dataOptions.filtered(try dataOptions.load([data])[0]).deduplicated(try dataOptions.duplicatePolicy()).0
            let catalog = try dataOptions.catalog(knownItems: table.items)
            var creator = ModelCreator(budget: budget, metric: metric, seed: seed)
            creator.reservesReportTime = report != nil
            creator.validationUsers = validationUsers > 0 ? validationUsers : nil
            creator.preparation = try dataOptions.preparation()
            let result = try creator.create(table, catalog: catalog, progress: Console.progress)
            let (model, board, defaults, full, prepared) = (result.model, result.leaderboard, result.defaults, result.data, result.validation)
            let winner = result.winner
            try ModelRegistry.save(model, to: out)
            if let report {
                Console.progress("writing the report…")
                let curves = board.prefix(ModelCreator.reportedLeaders).compactMap { entry -> (model: String, ndcg: [Double], recall: [Double])? in
                    guard let fitted = try? ModelRegistry.fit(entry.family, parameters: ModelParameters(entry.trial.parameters), data: prepared.train) else { return nil }
                    let c = CreateReport.curves(of: fitted, on: prepared)
                    return (entry.family, c.ndcg, c.recall)
                }
                let names = { (id: String) in catalog?.displayName(of: id) ?? id }
                let users = (0..<full.userCount).filter { full.byUser.count(ofRow: $0) > 0 }.prefix(3)
                let samples = users.map { user in
                    let list = model.recommend(userIndex: user, count: 5)
                    let reasons = model.explanations(user: user, items: list.map { Int($0.index) })
                    return (user: full.users[user], history: full.items(ofUser: user).prefix(8).map { names(full.items[$0]) },
                            recommendations: zip(list, reasons).map { entry, why in
                                (item: names(full.items[entry.index]), score: entry.score,
                                 because: (why?.sorted().items.prefix(3).map { names(full.items[$0.index]) }) ?? [])
                            })
                }
                let page = CreateReport(dataName: (data as NSString).lastPathComponent, statistics: DatasetStatistics(table),
                                        itemCounts: table.userItemMatrix().columnCounts, metric: metric,
                                        leaderboard: board.map { .init(model: $0.family, parameters: $0.trial.parameters, value: $0.trial.value, fitSeconds: $0.trial.fitSeconds) },
                                        defaults: defaults, curves: curves, samples: samples, ranker: (model as? Fusion)?.featureWeights).html()
                try DataFile.write(Data(page.utf8), to: report)
            }
            let seconds = System.monotonicSeconds() - started
            Console.progress("saved \(out) in \(Console.format(seconds, digits: 1)) s of a \(Console.format(budget, digits: 0)) s budget")
            if common.json {
                Console.printJSON([
                    "model": winner.family, "parameters": winner.trial.parameters, "metric": metric, "out": out, "seconds": seconds,
                    "defaults": defaults, "value_kind": result.valueKind.rawValue, "threshold": result.threshold.map { Double($0) } as Any,
                    "temporal_validation": result.temporalValidation, "not_started": result.notStarted,
                    "validation_users": prepared.relevant.count, "validation_users_total": prepared.usersBeforeSampling ?? prepared.relevant.count,
                    "leaderboard": board.map { ["model": $0.family, "parameters": $0.trial.parameters, metric: $0.trial.value,
                                                "fit_seconds": $0.trial.fitSeconds] as [String: Any] },
                ])
            } else {
                Console.printTable(["model", metric, "fit s", "parameters"], board.map { entry in
                    [entry.family, Console.format(entry.trial.value), Console.format(entry.trial.fitSeconds, digits: 2), ModelCreator.describe(entry.trial.parameters)]
                }, rightAligned: [1, 2])
                if !result.notStarted.isEmpty {
                    print("\nnot started, a trial estimated to run past the time for tuning: "
                          + result.notStarted.sorted { $0.value < $1.value }.map { "\($0.key) (about \(Console.format($0.value, digits: 1)) s)" }.joined(separator: ", "))
                }
                if let sample = prepared.sampleDescription { print("\nvalidation scored \(sample) (--validation-users)") }
                print("\nsaved \(winner.family) to \(out); on validation it beats \(result.defaultsBeaten) of the \(result.defaultsCompared) "
                      + "\(winner.family == "fusion" ? "" : "other ")families at their default parameters")
            }
        }
    }
}
