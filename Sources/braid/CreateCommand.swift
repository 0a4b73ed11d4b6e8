import ArgumentParser
import Braid
import Foundation

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "From data to one model file: inspect the data, tune each model family within a time budget, pick the best on a validation split, fit it on everything.",
        discussion: """
            The data decides the protocol: ratings are turned into positives at 80% of the top of \
            the scale (4 of 5 stars); with timestamps each user's latest 20% is the validation set, \
            otherwise a seeded random 20%. Each family (popularity, item and user kNN, EASE, \
            RP3beta, GF-CF, adjacency, ALS, BPR; the content models and the hybrid with --items or --item-vectors) gets random \
            configurations in turn until 60% of the budget is spent; the fusion over the three best \
            is tried when its trial, its final fit (and its refit for --report) fit in the budget \
            (with fewer random inner folds, down to 3, when the default's would not), and kept only \
            if it beats them on validation. The winner is refitted on all the data and saved.
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

    @Option(help: "Also write a self-contained HTML report (statistics, long tail, leaderboard, NDCG/recall curves, explained examples).")
    var report: String?

    @OptionGroup var common: CommonOptions

    /// The families and their search spaces.
    static let families: [(name: String, space: [String], needsMetadata: Bool)] = [
        ("pop", [], false),
        ("itemknn", ["neighbors=20:500:int:log"], false),
        ("userknn", ["neighbors=20:300:int:log"], false),
        ("ease", ["lambda=5:3000:log"], false),
        ("rp3beta", ["alpha=0.3:1.5", "beta=0:1", "neighbors=50:500:int:log"], false),
        ("gfcf", ["factors=8:256:int:log", "alpha=0.03:3:log"], false),
        ("adjacency", ["window=1:20:int:log", "alpha=0.2:1", "half-life=0:30"], false),
        ("als", ["factors=16:128:int:log", "regularization=0.001:1:log", "alpha=0.3:30:log"], false),
        ("bpr", ["factors=16:128:int:log", "learning-rate=0.003:0.05:log", "regularization=0.0005:0.05:log"], false),
        ("content-bm25", [], true),
        ("hybrid", ["regularization=0.5:50:log"], true),
    ]

    func run() throws {
        try common.run {
            let started = System.monotonicSeconds()
            let elapsed = { System.monotonicSeconds() - started }
            guard budget >= 1 else { throw CLIError("--budget must be at least 1 second, not \(budget)") }
            let table = dataOptions.filtered(try dataOptions.load([data])[0]).deduplicated(try dataOptions.duplicatePolicy()).0
            let kind = ValueKind.detect(table.values)
            let threshold: Float? = kind == .ratings ? ((table.values.max() ?? 5) * 0.8).rounded() : nil
            let temporal = table.hasTimestamps
            Console.progress("data: \(table.count) interactions, values are \(kind.rawValue)"
                             + (threshold.map { ", positives are ≥ \(Console.format(Double($0)))" } ?? "")
                             + (temporal ? ", validation = each user's latest 20%" : ", validation = a random 20% per user"))
            let split = try Splitter(temporal ? .userTimeRatio(ratio: 0.8) : .userRatio(ratio: 0.8), seed: seed, unit: .rows).split(table)[0]
            let evaluation = EvaluationProtocol(cutoff: 10, threshold: threshold, seed: seed)
            var prepared = try PreparedSplit(split, protocol: evaluation)
            let catalog = try dataOptions.catalog(knownItems: table.items)
            prepared.attach(catalog)
            let tuner = Tuner(evaluator: Evaluator(protocol: evaluation), metric: metric)
            let families = Self.families.filter { !$0.needsMetadata || catalog != nil }
            var samples = try families.map { family -> [[String: String]] in
                family.space.isEmpty ? [[:]] : try ParameterSpace(arguments: family.space).sample(64, seed: seed)
            }
            // Every family's defaults first, then random configurations in turn.
            for k in samples.indices where !families[k].space.isEmpty { samples[k].insert([:], at: 0) }
            var best: [(trial: TuningTrial, family: String)?] = Array(repeating: nil, count: families.count)
            var next = Array(repeating: 0, count: families.count)
            var slowest = Array(repeating: 0.0, count: families.count)
            var defaults: [String: Double] = [:]
            let tuningBudget = budget * 0.6
            var round = 0
            searching: while true {
                var tried = false
                for k in families.indices where next[k] < samples[k].count {
                    if elapsed() + 2 * slowest[k] > tuningBudget { continue }
                    let candidate = samples[k][next[k]]
                    next[k] += 1
                    let t0 = System.monotonicSeconds()
                    let trial: TuningTrial
                    do { trial = try tuner.run(model: families[k].name, base: [:], candidates: [candidate], split: prepared)[0] } catch {
                        Console.progress("  \(families[k].name) \(Tune.describe(candidate)): \(error)")
                        continue
                    }
                    slowest[k] = max(slowest[k], System.monotonicSeconds() - t0)
                    if candidate.isEmpty { defaults[families[k].name] = trial.value }
                    tried = true
                    if best[k].map({ tuner.better(trial.value, than: $0.trial.value) }) ?? trial.value.isFinite { best[k] = (trial, families[k].name) }
                    Console.progress("  \(families[k].name) \(Tune.describe(candidate).isEmpty ? "defaults" : Tune.describe(candidate)): \(metric) \(Console.format(trial.value))")
                }
                round += 1
                if !tried { break searching }
            }
            var board = best.compactMap { $0 }.sorted { tuner.better($0.trial.value, than: $1.trial.value) }
            guard !board.isEmpty else {
                if prepared.relevant.isEmpty {
                    throw CLIError(code: "noValidationData", "the validation split holds no relevant interactions"
                                   + (threshold.map { " (values ≥ \(Console.format(Double($0))))" } ?? "") + ", so no model can be compared; more data is needed")
                }
                throw CLIError("no model could be fitted and measured within the budget; raise --budget")
            }
            var full = threshold.map { InteractionMatrix(positivesOf: table, threshold: $0) } ?? InteractionMatrix(table)
            full.catalog = catalog
            // The fusion over the three best families, when its plan fits in the budget. The
            // members its final fit adds beyond the trial's (as the fusion resolves them on each
            // matrix: EASE on every rated item under a threshold and a random inner split) cost
            // their family's fit seconds.
            var planned = Fusion.Configuration()
            planned.members = board.prefix(3).map { MemberSpec(model: $0.family, parameters: $0.trial.parameters) }
            planned.validation = temporal ? .temporal : .random
            let trialMembers = planned.resolved(for: prepared.train).members
            let addedSeconds = planned.resolved(for: full).members.filter { !trialMembers.contains($0) }.reduce(0) { total, member in
                total + (board.first { $0.family == member.model }?.trial.fitSeconds ?? 0)
            }
            let membersFitSeconds = board.prefix(3).reduce(0) { $0 + $1.trial.fitSeconds }
            let defaultFolds = planned.innerFolds(temporal: temporal)
            let cost = FusionCost(membersFitSeconds: membersFitSeconds, addedSeconds: addedSeconds, report: report != nil)
            if board.count >= 2, let folds = cost.folds(within: budget * 0.9 - elapsed(), default: defaultFolds, adjustable: !temporal) {
                let members = planned.members.map(\.description).joined(separator: "+")
                var parameters = ["members": members, "validation": temporal ? "temporal" : "random"]
                if folds != defaultFolds { parameters["folds"] = String(folds) }
                if let trial = try? tuner.run(model: "fusion", base: [:], candidates: [parameters], split: prepared)[0] {
                    let rest = cost.afterTrial(trial.fitSeconds)
                    if elapsed() + rest <= budget {
                        Console.progress("  fusion of \(members)\(parameters["folds"].map { " (\($0) folds)" } ?? ""): \(metric) \(Console.format(trial.value))")
                        board.append((trial, "fusion"))
                        board.sort { tuner.better($0.trial.value, than: $1.trial.value) }
                    } else {
                        Console.progress("  fusion of \(members): \(metric) \(Console.format(trial.value)), left out: what is left of its fitting (about "
                                         + "\(Console.format(rest, digits: 0)) s) would overrun the budget")
                    }
                }
            } else if board.count >= 2 {
                Console.progress("  no fusion: its fitting (about \(Console.format(cost.total(folds: temporal ? defaultFolds : min(FusionCost.fewestFolds, defaultFolds)), digits: 0)) s) would overrun the budget")
            }
            let winner = board[0]
            Console.progress("fitting \(winner.family) \(Tune.describe(winner.trial.parameters)) on all \(table.count) interactions…")
            let model = try ModelRegistry.fit(winner.family, parameters: ModelParameters(winner.trial.parameters), data: full)
            try ModelRegistry.save(model, to: out)
            if let report {
                Console.progress("writing the report…")
                let curves = board.prefix(6).compactMap { entry -> (model: String, ndcg: [Double], recall: [Double])? in
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
            let seconds = elapsed()
            Console.progress("saved \(out) in \(Console.format(seconds, digits: 1)) s of a \(Console.format(budget, digits: 0)) s budget")
            if common.json {
                Console.printJSON([
                    "model": winner.family, "parameters": winner.trial.parameters, "metric": metric, "out": out, "seconds": seconds,
                    "defaults": defaults, "value_kind": kind.rawValue, "threshold": threshold.map { Double($0) } as Any, "temporal_validation": temporal,
                    "leaderboard": board.map { ["model": $0.family, "parameters": $0.trial.parameters, metric: $0.trial.value,
                                                "fit_seconds": $0.trial.fitSeconds] as [String: Any] },
                ])
            } else {
                Console.printTable(["model", metric, "fit s", "parameters"], board.map { entry in
                    [entry.family, Console.format(entry.trial.value), Console.format(entry.trial.fitSeconds, digits: 2), Tune.describe(entry.trial.parameters)]
                }, rightAligned: [1, 2])
                let beaten = defaults.filter { tuner.better(winner.trial.value, than: $0.value) }.count
                print("\nsaved \(winner.family) to \(out); on validation it beats \(beaten) of the \(defaults.count) families at their default parameters")
            }
        }
    }
}
