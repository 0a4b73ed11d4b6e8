import ArgumentParser
import Braid
import Foundation

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print statistics of an interactions file.")

    @Argument(help: "Interactions file(s).")
    var paths: [String] = []

    @Option(help: "An interactions file, as the other commands take it (the same as naming it; repeatable).")
    var data: [String] = []

    /// The files named either way, in order: the arguments, then `--data`.
    var files: [String] { paths + data }

    @OptionGroup var dataOptions: DataOptions

    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.run {
            let files = files
            guard !files.isEmpty else { throw CLIError("give at least one interactions file: braid info FILE… or braid info --data FILE") }
            var output: [String: Any] = [:]
            var rows: [[String]] = []
            for (path, table) in zip(files, try dataOptions.load(files)) {
                let table = dataOptions.filtered(table)
                let stats = DatasetStatistics(table)
                let encoded = try Console.jsonValue(encoding: stats)
                output[path] = encoded
                rows.append(contentsOf: [
                    [path, "interactions", "\(stats.interactions)"],
                    ["", "users", "\(stats.users)"],
                    ["", "items", "\(stats.items)"],
                    ["", "density", Console.format(stats.density, digits: 5)],
                    ["", "duplicate pairs", "\(stats.duplicatePairs)"],
                    ["", "value kind", stats.valueKind.rawValue + (stats.events.isEmpty ? "" : ", typed events")],
                    ["", "value min/mean/max", [stats.valueMin, stats.valueMean, stats.valueMax].map { $0.map { Console.format($0, digits: 3) } ?? "-" }.joined(separator: " / ")],
                    ["", "per user min/median/mean/max", summary(stats.interactionsPerUser)],
                    ["", "per item min/median/mean/max", summary(stats.interactionsPerItem)],
                    ["", "top 1% items' share", Console.format(stats.topOnePercentItemShare, digits: 3)],
                    ["", "Gini of item popularity", Console.format(stats.giniOfItemPopularity, digits: 3)],
                    ["", "time span", timeSpan(stats)],
                ])
                if let histogram = stats.valueHistogram {
                    let text = histogram.sorted { (Double($0.key) ?? 0) < (Double($1.key) ?? 0) }.map { "\($0.key):\($0.value)" }.joined(separator: " ")
                    rows.append(["", "values", text])
                }
                if !stats.events.isEmpty {
                    rows.append(["", "events", stats.events.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " ")])
                }
            }
            if common.json {
                Console.printJSON(files.count == 1 ? output[files[0]]! : output)
            } else {
                Console.printTable(["file", "statistic", "value"], rows)
            }
        }
    }

    private func summary(_ s: DatasetStatistics.Summary) -> String {
        "\(s.min) / \(Console.format(s.median, digits: 1)) / \(Console.format(s.mean, digits: 1)) / \(s.max)"
    }

    private func timeSpan(_ stats: DatasetStatistics) -> String {
        guard let first = stats.firstTimestamp, let last = stats.lastTimestamp else { return "-" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(first))) + " … "
            + formatter.string(from: Date(timeIntervalSince1970: TimeInterval(last)))
    }
}

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the models Braid has.")

    @OptionGroup var common: CommonOptions

    func run() throws {
        if common.json {
            Console.printJSON(["models": ModelRegistry.models.map { ["name": $0.name, "summary": $0.summary] }])
        } else {
            Console.printTable(["model", "what it is"], ModelRegistry.models.map { [$0.name, $0.summary] })
        }
    }
}
