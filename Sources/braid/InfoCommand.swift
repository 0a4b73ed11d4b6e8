import ArgumentParser
import Braid
import BraidServer
import Foundation

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print statistics of an interactions file, or what a model file holds.",
        discussion: "A model file (as train, create or the server write it) is recognised by its first bytes: its model, the parameters it was fitted with, the training data's users, items and interactions, and for the fusion its members and what its ranker puts on each feature.")

    @Argument(help: "Interactions file(s) or model file(s).")
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
            guard !files.isEmpty else { throw CLIError("give at least one interactions or model file: braid info FILE… or braid info --data FILE") }
            var output: [String: Any] = [:]
            // Each file's rows, printed in the order the files were named.
            var rowsOf: [String: [[String]]] = [:]
            let models = files.filter(ModelFileInfo.isModelFile)
            for path in models {
                let info = try ModelFileInfo(path: path)
                output[path] = info.json
                rowsOf[path] = info.rows(path)
            }
            let tables = files.filter { !models.contains($0) }
            for (path, table) in zip(tables, try dataOptions.load(tables)) {
                var rows: [[String]] = []
                defer { rowsOf[path] = rows }
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
                Console.printTable(["file", "statistic", "value"], files.flatMap { rowsOf[$0] ?? [] })
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

/// What a model file holds, as `braid info` reports it.
struct ModelFileInfo {
    let model: any RecommendationModel
    /// The model's name in the file.
    let name: String
    let bytes: Int
    /// The parameters the model was fitted with, by name (its configuration as saved).
    let configuration: [String: JSONValue]
    let summary: String
    /// How many items carry a title.
    let titles: Int
    /// How many records the catalogue the model was fitted with holds (0: none kept).
    let catalogue: Int

    /// Whether the file starts with the model file's magic bytes.
    static func isModelFile(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: ModelArchive.magic.count)).map(Array.init) == ModelArchive.magic
    }

    init(path: String) throws {
        let archive = try ModelArchive.read(from: path)
        name = archive.model
        bytes = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
        if case .object(let fields)? = try? JSONDecoder().decode(JSONValue.self, from: archive.configuration) { configuration = fields } else { configuration = [:] }
        titles = archive.itemTitles?.filter { !$0.isEmpty }.count ?? 0
        catalogue = archive.catalog?.count ?? 0
        // The archive's last use: its catalogue's records move into the model's, not copied.
        model = try ModelRegistry.load(archive, file: path)
        summary = type(of: model).summary
    }

    var json: [String: Any] {
        let data = model.data
        var out: [String: Any] = [
            "model": name, "summary": summary, "bytes": bytes, "configuration": configuration,
            "users": data.userCount, "items": data.itemCount, "interactions": data.interactionCount,
            "value_kind": data.valueKind.rawValue, "timestamps": data.sequence != nil, "titles": titles, "catalogue": catalogue,
            "item_vectors": Self.itemVectors(data.catalog).map { v -> [String: Any] in
                var vectors: [String: Any] = ["items": v.items, "dimension": v.dimension]
                if let model = v.textModel { vectors["text_model"] = "\(model)" }
                return vectors
            } as Any,
            "threshold": data.threshold.map { Double($0) } as Any,
            "event_weights": data.preparation.map { $0.eventWeights.mapValues(Double.init) } as Any,
            "default_event_weight": data.preparation.map { Double($0.defaultEventWeight) } as Any,
            "duplicates": data.preparation?.duplicates.rawValue as Any,
        ]
        if let fusion = model as? Fusion {
            let (kind, weights) = fusion.featureWeights
            out["members"] = fusion.configuration.members.map(\.description)
            out["ranker"] = ["kind": kind, "features": weights.map { ["feature": $0.feature, "weight": $0.weight] as [String: Any] }]
        }
        return out
    }

    /// The catalogue's item vectors: how many, their dimension and, when they are the items'
    /// texts embedded (`--item-vectors text`), the text model; nil when it has none.
    static func itemVectors(_ catalog: ItemCatalog?) -> (items: Int, dimension: Int, textModel: TextEmbeddingModel?)? {
        guard let catalog, let dimension = catalog.vectorDimension else { return nil }
        return (catalog.vectorCount, dimension, catalog.textEmbedding)
    }

    func rows(_ path: String) -> [[String]] {
        let data = model.data
        var rows = [
            [path, "model", name + (summary.isEmpty ? "" : ": " + summary)],
            ["", "file", "\(bytes) bytes, checksum verified"],
            ["", "users", "\(data.userCount)"],
            ["", "items", "\(data.itemCount)" + (titles > 0 ? " (\(titles) with titles)" : "")],
            ["", "catalogue", catalogue > 0 ? "\(catalogue) items' metadata, for refitting and new items" : "none"],
            ["", "item vectors", Self.itemVectors(data.catalog).map { v in
                "\(v.items) items, \(v.dimension) values" + (v.textModel.map { ", their texts embedded by \($0) (new items' texts are embedded alike)" } ?? ", supplied")
            } ?? "none"],
            ["", "interactions", "\(data.interactionCount)"],
            ["", "value kind", data.valueKind.rawValue + (data.sequence != nil ? ", with timestamps" : "")],
            ["", "threshold", data.threshold.map { "values ≥ \(System.fixed(Double($0))) were positives (serve applies it to new feedback)" } ?? "none"],
            ["", "preparation", data.preparation.map { p in
                "event weights \(Console.eventWeights(p.eventWeights)) (others \(System.fixed(Double(p.defaultEventWeight)))), duplicates \(p.duplicates.rawValue)"
            } ?? "not recorded"],
        ]
        let fusion = model as? Fusion
        // The fusion's members on one line each, by the names its features use, not as JSON.
        for (key, value) in configuration.sorted(by: { $0.key < $1.key }) where !(fusion != nil && key == "members") {
            rows.append(["", key, Self.compact(value)])
        }
        if let fusion {
            let (kind, weights) = fusion.featureWeights
            rows += fusion.configuration.members.enumerated().map { ["", $0 == 0 ? "members" : "", $1.description] }
            let largest = weights.sorted { abs($0.weight) > abs($1.weight) }.prefix(10)
            rows += largest.enumerated().map { ["", $0 == 0 ? "ranker's \(kind), largest" : "", "\($1.feature) \(Self.compact(.number($1.weight)))"] }
        }
        return rows
    }

    /// A configuration value on one line: strings as they are, numbers without trailing
    /// zeros, the rest as compact JSON.
    static func compact(_ value: JSONValue) -> String {
        switch value {
        case .string(let string): string
        case .number(let number): number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(format: "%.6g", number)
        default: value.text
        }
    }
}
