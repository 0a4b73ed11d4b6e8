import ArgumentParser
import Braid
import Foundation

struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search a model's parameters (grid or random search) on a validation split.",
        discussion: """
            The validation data is --test (with --train), or a split of --data. Lists give a grid:
              braid tune --data r.csv --model itemknn --space neighbors=20,50,100 --space similarity=cosine,jaccard
            Ranges and --samples give random search; --early-stopping P stops iterative models \
            (als, bpr, svd, biasedmf, svdpp) after P iterations without improvement:
              braid tune --train a.tsv --test b.tsv --model als --space factors=32:256:int:log --space regularization=0.001:1:log --samples 20 --early-stopping 3
            """)

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var splitOptions: SplitOptions
    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "A parameter's search domain: name=v1,v2 (list) or name=low:high[:log][:int] (range). Repeat for each parameter.")
    var space: [String] = []

    @Option(help: "Random search with this many samples (default: the full grid of the lists).")
    var samples: Int?

    @Option(help: "Metric to optimize: ndcg@K, recall@K, precision@K, map@K, mrr@K, hit@K, auc, rmse, mae.")
    var metric: String = "ndcg@10"

    @Option(name: .customLong("k"), help: "Cut-off of the @k metrics.")
    var cutoff: Int = 10

    @Option(help: "Relevant items have value ≥ T; training keeps only its positives.")
    var threshold: Float?

    @Option(help: "Early stopping patience (iterations without improvement) for iterative models.")
    var earlyStopping: Int?

    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.run {
            try CommonOptions.requirePositive(cutoff, "--k")
            let names = modelOptions.modelNames(withItemMetadata: dataOptions.hasItemMetadata)
            guard names.count == 1, let entry = names.first else {
                throw CLIError("tune takes exactly one --model")
            }
            let (name, resolved) = try modelOptions.resolve(entry)
            let searchSpace = try ParameterSpace(arguments: space)
            guard !searchSpace.dimensions.isEmpty else { throw CLIError("give at least one --space name=values") }
            let candidates = try samples.map { searchSpace.sample($0, seed: splitOptions.seed) } ?? searchSpace.grid()
            let base = resolved.values
            let evaluation = EvaluationProtocol(cutoff: cutoff, threshold: threshold, duplicates: try dataOptions.duplicatePolicy())
            let split = try splitOptions.splits(dataOptions)
            guard split.count == 1 else { throw CLIError("tune needs one validation split, not k-fold") }
            var prepared = try PreparedSplit(split[0], protocol: evaluation)
            prepared.attach(try dataOptions.catalog())
            let tuner = Tuner(evaluator: Evaluator(protocol: evaluation), metric: metric, patience: earlyStopping)
            Console.progress("tuning \(name): \(candidates.count) configurations, optimizing \(metric) (\(tuner.lowerIsBetter ? "lower" : "higher") is better)")
            let trials = try tuner.run(model: name, base: base, candidates: candidates, split: prepared) { trial, n in
                Console.progress("  [\(n + 1)/\(candidates.count)] \(ModelCreator.describe(trial.parameters)): \(metric) \(Console.format(trial.value)) (\(Console.format(trial.fitSeconds, digits: 2)) s)")
            }
            guard let best = tuner.best(trials), best.value.isFinite else {
                throw CLIError("no configuration produced a finite \(metric); check --metric and --threshold (rating metrics need no threshold and a rating model)")
            }
            if common.json {
                // A trial's value may be NaN (a metric the configuration left undefined): null.
                func json(_ trial: TuningTrial) -> [String: Any] {
                    var out: [String: Any] = ["parameters": trial.parameters, "value": trial.value, "fit_seconds": trial.fitSeconds]
                    if let iteration = trial.bestIteration { out["best_iteration"] = iteration }
                    return out
                }
                Console.printJSON(["model": name, "metric": metric, "trials": trials.map(json), "best": json(best)])
            } else {
                let names = searchSpace.dimensions.map(\.name) + (earlyStopping != nil ? ["iterations"] : [])
                let ordered = trials.sorted { tuner.better($0.value, than: $1.value) }
                Console.printTable(names + [metric, "fit s"], ordered.map { trial in
                    names.map { trial.parameters[ModelParametersKey.normalized($0)] ?? trial.parameters[$0] ?? "-" }
                        + [Console.format(trial.value), Console.format(trial.fitSeconds, digits: 2)]
                }, rightAligned: Set(0..<(names.count + 2)))
                print("\nbest: \(metric) \(Console.format(best.value)) with " + best.parameters.sorted { $0.key < $1.key }.map { "--param \($0.key)=\($0.value)" }.joined(separator: " "))
            }
        }
    }
}

/// Parameter keys as `ModelParameters` stores them.
enum ModelParametersKey {
    static func normalized(_ key: String) -> String { String(key.lowercased().map { $0 == "_" ? "-" : $0 }) }
}
