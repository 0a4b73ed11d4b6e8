import ArgumentParser
import Braid
import Foundation

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit models on training data and score them on test data under Braid's evaluation protocol.")

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var splitOptions: SplitOptions
    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .customLong("k"), help: "Cut-off of the @k metrics.")
    var cutoff: Int = 10

    @Option(help: "Relevant test items have value ≥ T; training keeps only its positives (value ≥ T).")
    var threshold: Float?

    @Option(help: "standard; cold-items (rank only items that occur in the test set and never in training); cold-users (only users with at most --cold-user-history training interactions).")
    var `protocol`: String = "standard"

    @Option(help: "The largest training history of a cold user (with --protocol cold-users).")
    var coldUserHistory: Int = 5


    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.run {
            let names = modelOptions.modelNames(withItemMetadata: dataOptions.items != nil)
            guard !names.isEmpty else { throw CLIError("give --model (one of \(ModelRegistry.names.joined(separator: ", ")), or all)") }
            guard cutoff > 0 else { throw CLIError("--k must be positive") }
            let parameters = try names.map { try modelOptions.parameters(for: $0) }
            guard let mode = EvaluationProtocol.Mode(rawValue: `protocol`) else {
                throw CLIError("--protocol must be standard, cold-items or cold-users, not \"\(`protocol`)\"")
            }
            let evaluation = EvaluationProtocol(cutoff: cutoff, threshold: threshold, duplicates: try dataOptions.duplicatePolicy(),
                                                mode: mode, coldUserHistory: coldUserHistory)
            let catalog = try dataOptions.catalog()
            let splits = try splitOptions.splits(dataOptions).map { split in
                var prepared = PreparedSplit(split, protocol: evaluation)
                prepared.train.catalog = catalog
                return prepared
            }
            let evaluator = Evaluator(protocol: evaluation, catalog: catalog, progress: { Console.progress($0) })
            var results: [EvaluationResult] = []
            for (name, params) in zip(names, parameters) {
                Console.progress("fitting and evaluating \(name)…")
                let result = try evaluator.run(model: name, parameters: params, splits: splits)
                Console.progress("  \(name): fit \(Console.format(result.fitSeconds, digits: 2)) s, evaluated \(result.usersEvaluated) users in \(Console.format(result.evaluateSeconds, digits: 2)) s")
                results.append(result)
            }
            Leaderboard(results: results, cutoff: cutoff).print(json: common.json, single: names.count == 1)
        }
    }
}

/// The comparison table of several evaluation results.
struct Leaderboard {
    var results: [EvaluationResult]
    var cutoff: Int

    /// The result as a JSON object; metrics that are undefined for the data (NaN: e.g. AUC
    /// when no user has an irrelevant candidate) are left out.
    static func jsonObject(_ result: EvaluationResult) -> [String: Any] {
        var finite = result
        finite.metrics = result.metrics.filter { $0.value.isFinite }
        let data = try! JSONEncoder().encode(finite)
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    func print(json: Bool, single: Bool, columns: [String]? = nil) {
        if json {
            if single, let only = results.first { Console.printJSON(Self.jsonObject(only)) } else {
                Console.printJSON(["cutoff": cutoff, "results": results.map(Self.jsonObject)])
            }
            return
        }
        let order = columns ?? EvaluationResult.metricOrder(cutoff: cutoff)
        let shown = order.filter { key in results.contains { $0.metrics[key] != nil } }
        let rows = results.map { result in
            [result.model] + shown.map { result.metrics[$0].map { Console.format($0) } ?? "-" }
                + [Console.format(result.fitSeconds, digits: 2)]
        }
        Console.printTable(["model"] + shown + ["fit s"], rows, rightAligned: Set(1...(shown.count + 1)))
        let unscored = results.filter { $0.metrics.isEmpty }.map(\.model)
        if !unscored.isEmpty {
            Swift.print("no metrics for \(unscored.joined(separator: ", ")): they cannot score items without interactions (cold items)")
        }
        if let first = results.first(where: { !$0.metrics.isEmpty }) {
            Swift.print("\(first.usersEvaluated) users evaluated" + (first.folds > 1 ? " over \(first.folds) folds" : "")
                        + (first.usersSkippedWithoutTraining > 0 ? "; \(first.usersSkippedWithoutTraining) test users skipped (no training data)" : "")
                        + (first.ratingsEvaluated > 0 ? "; \(first.ratingsEvaluated) ratings scored" : ""))
        }
    }
}
