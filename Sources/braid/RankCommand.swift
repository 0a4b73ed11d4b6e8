import ArgumentParser
import Braid
import Foundation

struct Rank: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Learning to rank: fit Braid's LambdaMART on SVMlight/LETOR files (label qid:Q index:value …) and report NDCG.",
        discussion: """
            The fusion's second stage on any ranking data: gradient-boosted trees on LambdaRank's NDCG gradients, \
            stopped early on --validation when given. `train --model fusion --param ranker-data=PREFIX` writes the \
            fusion's own candidates in this format. Parameters (--param key=value): trees (200), leaves (31), \
            learning-rate (0.05), min-leaf (20), bins (63), l2 (1), sigma (1), patience (30), truncation (0: every pair), \
            cutoff (10: NDCG@cutoff for the gradients, early stopping and the report).
            """)

    @Option(help: "Training rows (SVMlight/LETOR text).")
    var train: String

    @Option(help: "Rows to stop boosting early on (when NDCG@cutoff has not risen for `patience` rounds).")
    var validation: String?

    @Option(help: "Rows to report NDCG on, unseen by the fit.")
    var test: String?

    @Option(name: .customLong("param"), help: "LambdaMART parameter key=value (see the discussion above).")
    var parameters: [String] = []

    @Option(help: "Write the test rows' scores here, one per line in the file's order (needs --test).")
    var scoresOut: String?

    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.run {
            let parameters = try ModelParameters(arguments: parameters)
            try parameters.checkKnown(LambdaMART.Settings.parameterNames)
            var settings = LambdaMART.Settings()
            try settings.read(parameters)
            guard scoresOut == nil || test != nil else { throw CLIError("--scores-out writes the test rows' scores: give --test FILE") }
            try OutputFiles.check(writes: [("--scores-out", scoresOut)], reads: [("--train", train), ("--validation", validation), ("--test", test)])
            // Every file is read and checked before the fit.
            var files: [(role: String, path: String, rows: LambdaMART.Dataset.SVMLightRows)] = []
            for (role, path) in [("training", train), ("validation", validation), ("test", test)] {
                guard let path else { continue }
                Console.progress("reading \(path)…")
                files.append((role, path, try LambdaMART.Dataset.SVMLightRows(try DataFile.contents(of: path), fileName: path)))
            }
            let width = files.map(\.rows.width).max() ?? 0
            guard width > 0 else { throw CLIError("\(train) has no feature on any row: nothing to rank by") }
            let sets = files.map { (role: $0.role, data: LambdaMART.Dataset($0.rows, featureCount: width)) }
            let training = sets[0].data
            let stopping = sets.first { $0.role == "validation" }?.data
            Console.progress("fitting LambdaMART on \(training.rowCount) rows of \(training.queryCount) queries, \(width) features…")
            let started = System.monotonicSeconds()
            let model = LambdaMART(training: training, validation: stopping, settings: settings)
            let fitSeconds = System.monotonicSeconds() - started
            var ndcg: [String: Double] = [:], rows: [String: Int] = [:], queries: [String: Int] = [:]
            var testScores: [Float] = []
            for set in sets {
                let scores = model.scores(set.data.features)
                if set.role == "test" { testScores = scores }
                ndcg[set.role] = LambdaMART.ndcg(set.data, scores: scores, cutoff: settings.cutoff)
                rows[set.role] = set.data.rowCount
                queries[set.role] = set.data.queryCount
            }
            if let scoresOut {
                try DataFile.write(Data(testScores.map { "\($0)\n" }.joined().utf8), to: scoresOut)
            }
            let splits = model.splitsPerFeature
            let order = splits.indices.sorted { splits[$0] != splits[$1] ? splits[$0] > splits[$1] : $0 < $1 }.filter { splits[$0] > 0 }
            let metric = "ndcg@\(settings.cutoff)"
            if common.json {
                Console.printJSON([
                    "trees": model.trees.count, "features": width, "fit_seconds": fitSeconds, "rows": rows, "queries": queries,
                    metric: ndcg, "splits": order.map { ["feature": $0 + 1, "splits": splits[$0]] },
                ] as [String: Any])
            } else {
                Console.printTable(["set", "queries", "rows", metric],
                                   sets.map { [$0.role, "\(queries[$0.role]!)", "\(rows[$0.role]!)", Console.format(ndcg[$0.role]!)] },
                                   rightAligned: [1, 2, 3])
                print("\(model.trees.count) trees in \(Console.format(fitSeconds, digits: 2)) s; splits per feature (index: count): "
                      + (order.isEmpty ? "none" : order.prefix(20).map { "\($0 + 1): \(splits[$0])" }.joined(separator: ", ")))
            }
        }
    }
}
