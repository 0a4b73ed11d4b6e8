import ArgumentParser
import Braid
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Fit a model and save it to a model file.")

    @OptionGroup var dataOptions: DataOptions

    @Option(help: "Training interactions file.")
    var train: String

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Keep only interactions with value ≥ T, as implicit positives.")
    var threshold: Float?

    @Option(help: "Where to write the model file.")
    var out: String


    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.run {
            try OutputFiles.check(writes: [("--out", out)], reads: [("--train", train)] + dataOptions.inputFiles)
            let (model, fitSeconds) = try fitModel(modelOptions: modelOptions, dataOptions: dataOptions, train: train, threshold: threshold)
            Console.keepUntilExit(model)
            let started = System.monotonicSeconds()
            try ModelRegistry.save(model, to: out)
            let bytes = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
            let summary: [String: Any] = [
                "model": type(of: model).name, "out": out, "fit_seconds": fitSeconds,
                "save_seconds": System.monotonicSeconds() - started, "bytes": bytes,
                "users": model.data.userCount, "items": model.data.itemCount, "interactions": model.data.interactionCount,
            ]
            if common.json { Console.printJSON(summary) } else {
                Console.printTable(["model", "users", "items", "interactions", "fit s", "file", "bytes"],
                                   [[type(of: model).name, "\(model.data.userCount)", "\(model.data.itemCount)",
                                     "\(model.data.interactionCount)", Console.format(fitSeconds, digits: 2), out, "\(bytes)"]])
            }
        }
    }
}

/// Loads training data and fits the one model the options name.
func fitModel(modelOptions: ModelOptions, dataOptions: DataOptions, train: String, threshold: Float?) throws -> (any RecommendationModel, Double) {
    let names = modelOptions.modelNames(withItemMetadata: dataOptions.hasItemMetadata)
    guard names.count == 1, let entry = names.first else {
        throw CLIError("give exactly one --model (one of \(ModelRegistry.names.joined(separator: ", ")))")
    }
    let (name, parameters) = try modelOptions.resolve(entry)
    let all = dataOptions.filtered(try dataOptions.load([train])[0]).deduplicated(try dataOptions.duplicatePolicy()).0
    if let threshold, let problem = all.thresholdProblem(threshold, file: train) { throw problem }
    var table = threshold.map { all.positives(threshold: $0).compacted() } ?? all
    let below = threshold.map { all.below(threshold: $0) }
    // A user whose every row fell below the threshold stays known (with no training row), so
    // that their list leaves those items out.
    for user in below?.userIndices ?? [] { _ = table.users.insert(all.users[user]) }
    let catalog = try dataOptions.catalog(knownItems: table.items)
    // Catalogue items nobody interacted with join the vocabulary, so the models that score
    // such items (content, hybrid) can recommend them after loading.
    if let catalog {
        for id in catalog.records.keys.sorted() { _ = table.items.insert(id) }
    }
    var matrix = InteractionMatrix(table)
    // The rows below the threshold are not trained on, but the user has seen those items.
    if let below { matrix = matrix.settingAside(below) }
    matrix.catalog = catalog
    matrix.threshold = threshold
    matrix.preparation = try dataOptions.preparation()
    Console.progress("fitting \(name) on \(matrix.interactionCount) interactions…")
    let started = System.monotonicSeconds()
    let model = try ModelRegistry.fit(name, parameters: parameters, data: matrix)
    let seconds = System.monotonicSeconds() - started
    Console.progress("  fitted in \(Console.format(seconds, digits: 2)) s")
    return (model, seconds)
}
