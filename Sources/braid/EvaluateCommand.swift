import ArgumentParser
import Braid
import BraidServer
import Foundation

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit models on training data and score them on test data under Braid's evaluation protocol.")

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var splitOptions: SplitOptions
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var protocolOptions: ProtocolOptions
    @OptionGroup var priorOptions: HistoryPriorOptions
    @OptionGroup var diversifyOptions: DiversifyOptions

    @Option(help: "Write every evaluated user's metrics here (JSON Lines: model, fold, user, metrics) for `braid compare`.")
    var perUser: String?

    @Option(help: ArgumentHelp("Score at most this many test users (in each fold), a seeded sample (default: all).",
                               discussion: "For a large user base: the models are fitted on all the training data, and the metrics are means over the sampled users (NDCG@10 over 20,000 users has a standard error near 0.0014). The same seed samples the same users for every model, so their per-user results pair up in `braid compare`."))
    var testUsers: Int?

    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.run {
            if let testUsers { try CommonOptions.requirePositive(testUsers, "--test-users") }
            try OutputFiles.check(writes: [("--per-user", perUser)],
                                  reads: splitOptions.inputFiles + dataOptions.inputFiles + [("--user-attributes", protocolOptions.userOptions.userAttributes)])
            let names = modelOptions.modelNames(withItemMetadata: dataOptions.hasItemMetadata)
            guard !names.isEmpty else { throw CLIError("give --model (one of \(ModelRegistry.names.joined(separator: ", ")), or all)") }
            let entries = try names.map { try modelOptions.resolve($0) }
            var (evaluation, _) = try protocolOptions.evaluation(duplicates: try dataOptions.duplicatePolicy(), seed: splitOptions.seed,
                                                                 historyList: false)
            let mode = evaluation.mode
            evaluation.historyPrior = try priorOptions.prior()
            let rawSplits = try splitOptions.splits(dataOptions, repeatProtocol: mode == .repeat)
            let catalog = try dataOptions.catalog(knownItems: rawSplits.first?.train.items)
            let splits = try rawSplits.map { split throws(DataError) in try PreparedSplit(split, protocol: evaluation, catalog: catalog, users: testUsers) }
            if let sample = splits.first?.sampleDescription {
                Console.progress("scoring \(sample)" + (splits.count > 1 ? " in each fold" : "") + " (--test-users)")
            }
            if let catalog, catalog.userTextCount > 0, let first = splits.first, let kept = first.train.catalog?.userTextCount {
                Console.progress("item text: kept \(kept) of \(catalog.userTextCount) user-written texts (none on held-out items, on test pairs or after the training period)")
            }
            let overlap = splits.reduce(0) { $0 + $1.testPairsInTraining }
            if overlap > 0 {
                Console.progress(mode == .repeat
                    ? "\(overlap) test pairs repeat training pairs: relevant under --protocol repeat"
                    : "\(overlap) test pairs also occur in training: they cannot be recommended, so they are not counted as relevant (use --protocol repeat to score re-consumption)")
            }
            var evaluator = Evaluator(protocol: evaluation, catalog: catalog, progress: { Console.progress($0) })
            evaluator.userAttributes = try protocolOptions.userOptions.load()
            evaluator.diversification = try diversifyOptions.diversification(categories: catalog)
            // Each result is named as its entry was written, so `ease,ease(lambda=50)` are two rows.
            let results = evaluator.run(models: zip(names, entries).map { ($0, $1.model, $1.parameters) }, splits: splits) { result in
                if let failure = result.failure {
                    Console.progress("  \(result.model): failed: \(failure.message)")
                } else {
                    Console.progress("  \(result.model): fit \(Console.format(result.fitSeconds, digits: 2)) s, evaluated \(result.usersEvaluated) users in \(Console.format(result.evaluateSeconds, digits: 2)) s")
                }
            }
            if names.count == 1, let failure = results[0].failure {
                throw CLIError(code: failure.code, failure.message)
            }
            if let perUser {
                var lines = ""
                for result in results where result.failure == nil {
                    for outcome in result.perUser { lines += PerUserMetricsFile.line(model: result.model, outcome) + "\n" }
                }
                try DataFile.write(Data(lines.utf8), to: perUser)
                Console.progress("wrote per-user metrics to \(perUser)")
            }
            try Leaderboard(results: results, cutoff: evaluation.cutoff, coldItems: evaluation.mode == .coldItems)
                .print(json: common.json, single: names.count == 1)
            if results.allSatisfy({ $0.failure != nil }) { throw CLIError(code: "allModelsFailed", "every model failed (see the table)") }
        }
    }
}

/// The comparison table of several evaluation results.
struct Leaderboard {
    var results: [EvaluationResult]
    var cutoff: Int
    /// Under the cold-items protocol a model without metrics is one that cannot score such items.
    var coldItems = false

    /// The result as a JSON object; metrics that are undefined for the data (NaN: e.g. AUC
    /// when no user has an irrelevant candidate) are left out.
    static func jsonObject(_ result: EvaluationResult) throws -> JSONValue {
        var finite = result
        finite.metrics = result.metrics.filter { $0.value.isFinite }
        return try Console.jsonValue(encoding: finite)
    }

    func print(json: Bool, single: Bool, columns: [String]? = nil) throws {
        if json {
            if single, let only = results.first { Console.printJSON(try Self.jsonObject(only)) } else {
                Console.printJSON(["cutoff": cutoff, "results": try results.map(Self.jsonObject)])
            }
            return
        }
        let order = columns ?? EvaluationResult.metricOrder(cutoff: cutoff)
        let shown = order.filter { key in results.contains { $0.metrics[key] != nil } }
        let rows = results.map { result in
            [result.model] + shown.enumerated().map { column, key in
                result.metrics[key].map { Console.format($0) } ?? (result.failure == nil ? "-" : column == 0 ? "error" : "")
            }
                + [result.failure != nil ? "-" : Console.format(result.fitSeconds, digits: 2)]
        }
        Console.printTable(["model"] + shown + ["fit s"], rows, rightAligned: Set(1...(shown.count + 1)))
        for result in results { if let failure = result.failure { Swift.print("\(result.model) failed (\(failure.code)): \(failure.message)") } }
        let unscored = results.filter { $0.metrics.values.allSatisfy { !$0.isFinite } && $0.failure == nil }
        if let first = unscored.first {
            // Why, in the protocol's terms: before, every case read as the cold-items one.
            let why = coldItems ? "they cannot score items without interactions (cold items)"
                : first.testPairsInTraining > 0 ? "no test user has a relevant item outside their training rows (\(first.testPairsInTraining) test pairs are also in training); give test rows the training file lacks, as braid split writes them"
                : "no test user has a relevant item (check --threshold against the test file's values)"
            Swift.print("no metrics for \(unscored.map(\.model).joined(separator: ", ")): \(why)")
        }
        if let first = results.first(where: { !$0.metrics.isEmpty }) {
            Swift.print("\(first.usersEvaluated) users evaluated" + (first.folds > 1 ? " over \(first.folds) folds" : "")
                        + (first.usersBeforeSampling.map { " (sampled from \($0) test users)" } ?? "")
                        + (first.usersSkippedWithoutTraining > 0 ? "; \(first.usersSkippedWithoutTraining) test users skipped (no training data)" : "")
                        + (first.ratingsEvaluated > 0 ? "; \(first.ratingsEvaluated) ratings scored" : "")
                        + (first.testPairsInTraining > 0 ? "; \(first.testPairsInTraining) test pairs also in training" : ""))
        }
    }
}
