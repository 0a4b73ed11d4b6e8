import ArgumentParser
import Braid
import Foundation

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two models user by user: mean difference with a bootstrap 95% interval, Wilcoxon signed-rank and paired t-test.",
        discussion: """
            A and B are per-user files from `braid evaluate --per-user FILE` (JSON Lines). Users are paired by \
            fold and user id; only users present in both count. When a file holds several models, choose one \
            with --model-a / --model-b (the same file may be given twice).
            """)

    @Argument(help: "Per-user metrics of model A.")
    var fileA: String

    @Argument(help: "Per-user metrics of model B.")
    var fileB: String

    @Option(help: "The model to take from A (needed when A holds several).")
    var modelA: String?

    @Option(help: "The model to take from B (needed when B holds several).")
    var modelB: String?

    @Option(help: "Metrics to compare (comma-separated; default: every metric both files have).")
    var metric: String?

    @Option(help: "Bootstrap resamples.")
    var resamples: Int = 10_000

    @Option(help: "Seed of the bootstrap.")
    var seed: UInt64 = 42

    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.run {
            try CommonOptions.requirePositive(resamples, "--resamples")
            let (nameA, a) = try Self.select(try PerUserMetricsFile.read(fileA), model: modelA, file: fileA, option: "--model-a")
            let (nameB, b) = try Self.select(try PerUserMetricsFile.read(fileB), model: modelB, file: fileB, option: "--model-b")
            struct Key: Hashable { var fold: Int; var user: String }
            let byKeyB = Dictionary(b.map { (Key(fold: $0.fold, user: $0.user), $0) }, uniquingKeysWith: { first, _ in first })
            let paired = a.compactMap { record in byKeyB[Key(fold: record.fold, user: record.user)].map { (record, $0) } }
            guard paired.count >= 2 else {
                throw CLIError(code: "noPairs", "\(fileA) and \(fileB) share \(paired.count) (fold, user) pairs; a comparison needs at least 2 (were both evaluated on the same split?)")
            }
            let differing = paired.filter { pa, pb in pa.test != nil && pb.test != nil && pa.test != pb.test }
            if let (pa, _) = differing.first {
                throw CLIError(code: "differentTests", "\(differing.count) of the \(paired.count) paired users (fold \(pa.fold) user \(DataError.quote(pa.user)) among them) "
                               + "were scored against other test items or candidates in \(fileA) than in \(fileB): the files come from different splits "
                               + "or protocols (--threshold, --below-threshold, the catalogue). evaluate both models on the same split, in one run or with the same options")
            }
            let shared = Set(paired[0].0.metrics.keys).intersection(paired[0].1.metrics.keys)
            let metrics: [String]
            if let metric {
                metrics = metric.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
                for name in metrics where !shared.contains(name) {
                    throw CLIError("metric \(name) is not in both files\(Spelling.suggestion(for: name, among: shared.sorted())); they share \(shared.sorted().joined(separator: ", "))")
                }
            } else {
                metrics = shared.sorted()
            }
            var rows: [(String, PairedComparison)] = []
            for name in metrics {
                let values = paired.compactMap { pa, pb -> (Double, Double)? in
                    guard let x = pa.metrics[name], let y = pb.metrics[name] else { return nil }
                    return (x, y)
                }
                rows.append((name, try PairedComparison(a: values.map(\.0), b: values.map(\.1), resamples: resamples, seed: seed)))
            }
            let unpaired = a.count + b.count - 2 * paired.count
            if common.json {
                Console.printJSON([
                    "a": ["file": fileA, "model": nameA], "b": ["file": fileB, "model": nameB],
                    "pairs": paired.count, "unpaired": unpaired, "resamples": resamples,
                    "metrics": Dictionary(uniqueKeysWithValues: rows.map { name, c in
                        (name, [
                            "pairs": c.pairs, "mean_a": c.meanA, "mean_b": c.meanB, "difference": c.meanDifference,
                            "ci95": [c.lower, c.upper],
                            "wilcoxon": ["w_plus": c.wilcoxon.statistic, "z": c.wilcoxon.auxiliary, "p": c.wilcoxon.p],
                            "t_test": ["t": c.tTest.statistic, "df": c.tTest.auxiliary, "p": c.tTest.p],
                            "verdict": Self.verdict(c, nameA, nameB),
                        ] as [String: Any])
                    }),
                ])
                return
            }
            print("A = \(nameA) (\(fileA)), B = \(nameB) (\(fileB)): \(paired.count) paired users" + (unpaired > 0 ? ", \(unpaired) unpaired records left out" : ""))
            Console.printTable(["metric", "A", "B", "A − B", "95% CI", "Wilcoxon p", "t-test p", "verdict"], rows.map { name, c in
                [name, Console.format(c.meanA), Console.format(c.meanB), Console.format(c.meanDifference),
                 "[\(Console.format(c.lower)), \(Console.format(c.upper))]", Self.formatP(c.wilcoxon.p), Self.formatP(c.tTest.p),
                 Self.verdict(c, nameA, nameB)]
            }, rightAligned: [1, 2, 3, 5, 6])
        }
    }

    static func verdict(_ c: PairedComparison, _ a: String, _ b: String) -> String {
        if c.lower > 0 { return "\(a) better" }
        if c.upper < 0 { return "\(b) better" }
        return "no clear difference"
    }

    static func formatP(_ p: Double) -> String { p < 1e-4 ? String(format: "%.1e", p) : String(format: "%.4f", p) }

    /// The records of one model in a file.
    static func select(_ records: [PerUserMetricsFile.Record], model: String?, file: String, option: String) throws -> (String, [PerUserMetricsFile.Record]) {
        let models = Array(Set(records.map(\.model))).sorted()
        if let model {
            guard models.contains(model) else {
                throw CLIError("\(file) has no model \(model)\(Spelling.suggestion(for: model, among: models)); it has \(models.joined(separator: ", "))")
            }
            return (model, records.filter { $0.model == model })
        }
        guard models.count == 1 else { throw CLIError("\(file) holds several models (\(models.joined(separator: ", "))); choose one with \(option)") }
        return (models[0], records)
    }
}
