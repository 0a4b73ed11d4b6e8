import ArgumentParser
import Braid
import Foundation

struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search a model's parameters (grid or random search) on a validation split.",
        discussion: """
            The validation data is --test (with --train), or a split of --data (--split kfold: each \
            configuration is fitted on every fold and scored by the folds' mean). Lists give a grid:
              braid tune --data r.csv --model itemknn --space neighbors=20,50,100 --space similarity=cosine,jaccard
            Ranges and --samples give random search; --early-stopping P stops iterative models \
            (als, bpr, svd, biasedmf, svdpp) after P iterations without improvement:
              braid tune --train a.tsv --test b.tsv --model als --space factors=32:256:int:log --space regularization=0.001:1:log --samples 20 --early-stopping 3
            It scores under evaluate's protocols (--protocol cold-items, mixed, cold-users, new-users, repeat). \
            Under new-users with a history given, each --history-prior is tried with every configuration:
              braid tune --data r.csv --split new-users --ratio 0.9 --threshold 4 --model ease --protocol new-users --new-user-history 3 --history-prior off --history-prior 2,10 --history-prior 4,10
            """)

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var splitOptions: SplitOptions
    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "A parameter's search domain: name=v1,v2 (list) or name=low:high[:log][:int] (range). Repeat for each parameter.")
    var space: [String] = []

    @Option(help: "Random search with this many samples (default: the full grid of the lists).")
    var samples: Int?

    @Option(help: "Metric to optimize: ndcg@K, recall@K, precision@K, map@K, mrr@K, hit@K, auc, rmse, mae (or any metric the protocol reports, such as cold-recall@K under mixed).")
    var metric: String = "ndcg@10"

    @OptionGroup var protocolOptions: ProtocolOptions

    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp("A history prior to try (W,L, W or off; repeat the option for each), with --protocol new-users --new-user-history K: every configuration is scored under each.",
                               discussion: "The prior is how Braid serves a short history (recommend --history, braid serve); the best one is printed as the --history-prior to serve with."))
    var historyPrior: [String] = []

    @Option(help: "Early stopping patience (iterations without improvement) for iterative models.")
    var earlyStopping: Int?

    @Option(help: "Score at most this many validation users per fold, a seeded sample (default: all).")
    var validationUsers: Int?

    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.run {
            if let validationUsers, validationUsers < 1 {
                throw CLIError("--validation-users must be 1 or more, not \(validationUsers) (leave it out to score every user)")
            }
            let names = modelOptions.modelNames(withItemMetadata: dataOptions.hasItemMetadata)
            guard names.count == 1, let entry = names.first else {
                throw CLIError("tune takes exactly one --model")
            }
            let (name, resolved) = try modelOptions.resolve(entry)
            let searchSpace = try ParameterSpace(arguments: space)
            let priors = try historyPrior.map(HistoryPriorOptions.parse)
            guard !searchSpace.dimensions.isEmpty || priors.count > 1 else {
                throw CLIError("give at least one --space name=values (or two --history-prior values to choose between)")
            }
            let candidates = searchSpace.dimensions.isEmpty ? [[:]]
                : try samples.map { searchSpace.sample($0, seed: splitOptions.seed) } ?? searchSpace.grid()
            let (evaluation, histories) = try protocolOptions.evaluation(duplicates: try dataOptions.duplicatePolicy(), seed: splitOptions.seed,
                                                                         historyList: true)
            var evaluator = Evaluator(protocol: evaluation)
            evaluator.userAttributes = try protocolOptions.userOptions.load()
            var tuner = Tuner(evaluator: evaluator, metric: metric, patience: earlyStopping, historyPriors: priors)
            try tuner.check()
            let split = try splitOptions.splits(dataOptions, repeatProtocol: evaluation.mode == .repeat)
            // Per fold (k-fold: each its own), one view of the split per new-user history length.
            let catalog = try dataOptions.catalog(knownItems: split[0].train.items)
            let folds = try split.map { fold in
                try histories.map { k in
                    var given = evaluation
                    given.newUserHistory = k
                    return try PreparedSplit(fold, protocol: given, catalog: catalog, users: validationUsers)
                }
            }
            tuner.evaluator.catalog = catalog
            let count = tuner.trialCount(candidates: candidates.count)
            let means = [split.count > 1 ? "\(split.count) folds" : nil, histories.count > 1 ? "\(histories.count) new-user histories" : nil].compactMap { $0 }
            if let sample = folds[0][0].sampleDescription {
                Console.progress("validation scores \(sample)" + (folds.count > 1 ? " in each fold" : ""))
            }
            Console.progress("tuning \(name): \(count) configurations\(evaluation.mode == .standard ? "" : " under the \(evaluation.mode.rawValue) protocol"), optimizing \(metric)\(means.isEmpty ? "" : " (mean over " + means.joined(separator: " and ") + ")") (\(tuner.lowerIsBetter ? "lower" : "higher") is better)")
            let trials = try tuner.run(model: name, base: resolved.values, candidates: candidates, folds: folds) { trial, n in
                let prior = trial.historyPrior.map { " --history-prior \($0)" } ?? ""
                Console.progress("  [\(n + 1)/\(count)] \(ModelCreator.describe(trial.parameters))\(prior): \(metric) \(Console.format(trial.value)) (\(Console.format(trial.fitSeconds, digits: 2)) s)")
            }
            guard let best = tuner.best(trials), best.value.isFinite else {
                let splitHint: String? = switch evaluation.mode {
                case .newUsers: "; --protocol new-users scores users without training interactions: split with --split new-users"
                case .coldItems, .mixed: "; --protocol \(evaluation.mode.rawValue) scores items without training interactions: split with --split cold-items"
                case .coldUsers: "; --protocol cold-users scores users with at most --cold-user-history training interactions"
                case .standard, .repeat: nil
                }
                throw CLIError("no configuration produced a finite \(metric); check --metric and --threshold (rating metrics need no threshold and a rating model)" + (splitHint ?? ""))
            }
            if common.json {
                // A trial's value may be NaN (a metric the configuration left undefined): null.
                func json(_ trial: TuningTrial) -> [String: Any] {
                    var out: [String: Any] = ["parameters": trial.parameters, "value": trial.value, "fit_seconds": trial.fitSeconds]
                    if let iteration = trial.bestIteration { out["best_iteration"] = iteration }
                    if let prior = trial.historyPrior { out["history_prior"] = prior.description }
                    return out
                }
                Console.printJSON(["model": name, "metric": metric, "trials": trials.map(json), "best": json(best)])
            } else {
                let names = searchSpace.dimensions.map(\.name) + (earlyStopping != nil ? ["iterations"] : [])
                let priorColumn = priors.isEmpty ? [] : ["history-prior"]
                let ordered = trials.sorted { tuner.better($0.value, than: $1.value) }
                Console.printTable(names + priorColumn + [metric, "fit s"], ordered.map { trial in
                    names.map { trial.parameters[ModelParametersKey.normalized($0)] ?? trial.parameters[$0] ?? "-" }
                        + (trial.historyPrior.map { [$0.description] } ?? [])
                        + [Console.format(trial.value), Console.format(trial.fitSeconds, digits: 2)]
                }, rightAligned: Set(0..<(names.count + priorColumn.count + 2)))
                let options = best.parameters.sorted { $0.key < $1.key }.map { "--param \($0.key)=\($0.value)" }
                    + (best.historyPrior.map { ["--history-prior \($0)"] } ?? [])
                print("\nbest: \(metric) \(Console.format(best.value))" + (options.isEmpty ? "" : " with " + options.joined(separator: " ")))
            }
        }
    }
}

/// Parameter keys as `ModelParameters` stores them.
enum ModelParametersKey {
    static func normalized(_ key: String) -> String { String(key.lowercased().map { $0 == "_" ? "-" : $0 }) }
}
