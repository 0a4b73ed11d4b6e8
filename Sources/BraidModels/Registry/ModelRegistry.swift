public import BraidCore
internal import Foundation

/// Every model Braid has, by CLI name, with fitting, saving and loading by name.
///
/// The built-in models are always here; models from other modules (`TextModels.register()`
/// in BraidTextModels) or from an application join with `register(_:)`.
public enum ModelRegistry {
    /// The built-in model types, in the order the leaderboard lists them.
    public static let builtIn: [any RecommendationModel.Type] = [
        RandomScores.self, Popularity.self, BaselinePredictor.self, UserKNN.self, ItemKNN.self, RP3Beta.self, Adjacency.self, EASE.self, GFCF.self, AlternatingLeastSquares.self, BayesianPersonalizedRanking.self, SVD.self, BiasedMatrixFactorization.self, SVDPlusPlus.self, SASRec.self, BERT4Rec.self, TwoTower.self, NeuMF.self, Blend.self, Fusion.self, Hybrid.self,
        TFIDFContent.self, BM25Content.self, AttributeContent.self,
    ]

    private static let registered = RegisteredModels()

    /// Every model type: the built-in ones, then those registered.
    public static var models: [any RecommendationModel.Type] { builtIn + registered.types }

    /// Adds a model type under its `name`; registering the same type again does nothing.
    /// Registration is thread-safe, and a name is never reassigned to a different type.
    public static func register(_ type: any RecommendationModel.Type) {
        guard !builtIn.contains(where: { $0.name == type.name }) else { return }
        registered.add(type)
    }

    public static var names: [String] { models.map { $0.name } }

    /// The model type called `name`.
    public static func model(named name: String) throws(ModelError) -> any RecommendationModel.Type {
        guard let type = models.first(where: { $0.name == name.lowercased() }) else {
            throw ModelError(.unknownModel, "there is no model called \"\(name)\"" + Spelling.suggestion(for: name, among: names), hint: "models: \(names.joined(separator: ", "))")
        }
        return type
    }

    /// Fits the model called `name` with `parameters`.
    public static func fit(_ name: String, parameters: ModelParameters = ModelParameters(),
                           data: InteractionMatrix) throws(ModelError) -> any RecommendationModel {
        try fit(try model(named: name), parameters: parameters, data: data)
    }

    static func fit<M: RecommendationModel>(_ type: M.Type, parameters: ModelParameters, data: InteractionMatrix) throws(ModelError) -> M {
        try M(fitting: data, configuration: try configuration(M.self, parameters: parameters))
    }

    /// Checks the parameters of `name` without fitting.
    public static func validate(_ name: String, parameters: ModelParameters) throws(ModelError) {
        func check<M: RecommendationModel>(_ type: M.Type) throws(ModelError) { _ = try configuration(M.self, parameters: parameters) }
        try check(try model(named: name))
    }

    /// The configuration of `M` from parameters, with the model named in any error.
    static func configuration<M: RecommendationModel>(_ type: M.Type, parameters: ModelParameters) throws(ModelError) -> M.Configuration {
        do {
            return try M.Configuration(parameters: parameters)
        } catch {
            var named = error
            named.message = "model \(M.name): " + error.message
            throw named
        }
    }

    /// The model file contents of a fitted model, including its training matrix.
    public static func archive(_ model: some RecommendationModel) -> ModelArchive {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let configuration = (try? encoder.encode(model.configuration)) ?? Data("{}".utf8)
        var archive = ModelArchive(model: type(of: model).name, configuration: configuration,
                                   users: model.data.users, items: model.data.items)
        archive.store(model.data.byUser, as: "data")
        if let ages = model.data.ageInDays { archive.store(ages, as: "data.ages") }
        if let sequence = model.data.sequence { archive.store(sequence, as: "data.sequence") }
        if let below = model.data.belowThreshold { archive.store(below, as: "data.below") }
        if let threshold = model.data.threshold { archive.scalars["data.threshold"] = Double(threshold) }
        // JSON holds finite numbers only (event weights read from arguments always are).
        archive.preparation = model.data.preparation.flatMap { p in
            p.defaultEventWeight.isFinite && p.eventWeights.values.allSatisfy(\.isFinite) ? p : nil
        }
        if let catalog = model.data.catalog {
            let titles = model.data.items.identifiers.map { catalog[$0]?.title ?? "" }
            if titles.contains(where: { !$0.isEmpty }) { archive.itemTitles = titles }
            storeCatalog(catalog, in: &archive)
        }
        model.archive(into: &archive)
        return archive
    }

    /// The catalogue's records by id in the header, and their vectors as two arrays: the
    /// records' values one after another (`data.catalog.vectors`) and where each record's
    /// begin (`data.catalog.vectorStarts`, one more than the records). Attributes that are not
    /// finite, which JSON cannot hold, are left out.
    static func storeCatalog(_ catalog: ItemCatalog, in archive: inout ModelArchive) {
        let records = catalog.records.values.sorted { $0.id < $1.id }
        var starts: [Int64] = [0], vectors: [Float] = []
        archive.catalog = records.map { record in
            var kept = record
            vectors += record.vector ?? []
            starts.append(Int64(vectors.count))
            kept.vector = nil
            kept.attributes = record.attributes.filter { $0.value.isFinite }
            return kept
        }
        archive.catalogTextEmbedding = catalog.textEmbedding
        if !vectors.isEmpty {
            archive.arrays["data.catalog.vectors"] = .float32(FloatBuffer(vectors))
            archive.arrays["data.catalog.vectorStarts"] = .int64(starts)
        }
    }

    /// The catalogue `storeCatalog` wrote, nil in files without one.
    /// Takes the records out of `archive`: the catalogue is their only copy then, and moves them.
    static func restoreCatalog(_ archive: inout ModelArchive) throws(ModelError) -> ItemCatalog? {
        guard var records = archive.catalog else { return nil }
        archive.catalog = nil
        if archive.arrays["data.catalog.vectorStarts"] != nil {
            let (starts, vectors) = try ModelArchive.mapError { () throws(DataError) in
                (try archive.int64s("data.catalog.vectorStarts"), try archive.floats("data.catalog.vectors"))
            }
            guard starts.count == records.count + 1, starts.first == 0, starts.last == Int64(vectors.count),
                  zip(starts, starts.dropFirst()).allSatisfy({ $0 <= $1 }) else {
                throw ModelError(.corruptModel, "the catalogue's vectors (\(vectors.count) values from \(starts.count) offsets) do not match its \(records.count) items")
            }
            for k in records.indices where starts[k] < starts[k + 1] { records[k].vector = Array(vectors[Int(starts[k])..<Int(starts[k + 1])]) }
        }
        var catalog = ItemCatalog(records)
        catalog.textEmbedding = archive.catalogTextEmbedding
        return catalog
    }

    /// Saves a fitted model to `path` (atomically).
    public static func save(_ model: some RecommendationModel, to path: String) throws(DataError) {
        try archive(model).write(to: path)
    }

    /// Restores a model from its archive.
    public static func load(_ archive: consuming ModelArchive) throws(ModelError) -> any RecommendationModel {
        let type = try model(named: archive.model)
        return try load(type, archive: archive)
    }

    /// Loads the model file at `path`.
    public static func load(from path: String) throws(ModelError) -> any RecommendationModel {
        try loadWithItemTitles(from: path).model
    }

    /// Loads the model file at `path`, with the titles of the items it was fitted with, by
    /// item id (empty when it was fitted without item metadata).
    public static func loadWithTitles(from path: String) throws(ModelError) -> (model: any RecommendationModel, titles: [String: String]) {
        let (model, ordered) = try loadWithItemTitles(from: path)
        var titles: [String: String] = [:]
        for (id, title) in zip(model.data.items.identifiers, ordered ?? []) where !title.isEmpty { titles[id] = title }
        return (model, titles)
    }

    /// Loads the model file at `path`, with the titles of the items it was fitted with in the
    /// order of the model's items (`model.data.items`; "" for an item without one), nil when it
    /// was fitted without item metadata: `loadWithTitles(from:)`'s titles without building a
    /// dictionary of every item, for a caller that shows a few of them.
    public static func loadWithItemTitles(from path: String) throws(ModelError) -> (model: any RecommendationModel, titles: [String]?) {
        let archive: ModelArchive
        do { archive = try ModelArchive.read(from: path) } catch { throw ModelError(.corruptModel, "cannot load the model", cause: error) }
        let titles = archive.itemTitles
        return (try load(archive, file: path), titles)
    }

    /// `load(_:)` for an archive read from the file at `path`, which an error names.
    public static func load(_ archive: consuming ModelArchive, file path: String) throws(ModelError) -> any RecommendationModel {
        do {
            return try load(archive)
        } catch {
            var named = error
            named.message = "\(DataError.quotePath(path)) is not a usable Braid model file: " + error.message
            throw named
        }
    }

    /// Restores a fitted model of type `name` from arrays stored by its `archive(into:)`, with
    /// the training matrix given separately (used for the members of a blend).
    public static func restore(_ name: String, parameters: ModelParameters, archive: ModelArchive,
                               data: InteractionMatrix) throws(ModelError) -> any RecommendationModel {
        func restore<M: RecommendationModel>(_ type: M.Type) throws(ModelError) -> M {
            try M(archive: archive, data: data, configuration: try configuration(M.self, parameters: parameters))
        }
        return try restore(try model(named: name))
    }

    static func load<M: RecommendationModel>(_ type: M.Type, archive: consuming ModelArchive) throws(ModelError) -> M {
        var archive = archive
        let configuration: M.Configuration
        do {
            configuration = try M.Configuration.decodingSaved(archive.configuration)
        } catch {
            throw ModelError(.corruptModel, "the model file's configuration does not decode as \(M.name): \(error)")
        }
        try configuration.checkSaved()
        let matrix = try ModelArchive.mapError { () throws(DataError) in try archive.sparseMatrix("data") }
        guard matrix.rowCount == archive.users.count, matrix.columnCount == archive.items.count else {
            throw ModelError(.corruptModel, "the training matrix does not match the vocabularies")
        }
        guard matrix.values.allSatisfy(\.isFinite) else { throw ModelError(.corruptModel, "the training matrix holds values that are not finite numbers") }
        var data = InteractionMatrix(users: archive.users, items: archive.items, byUser: matrix)
        // The ages and the places in time hold a value per training entry, in the training
        // matrix's pattern.
        func perEntry(_ name: String, _ what: String) throws(ModelError) -> SparseMatrix? {
            guard archive.scalars[name + ".shape"] != nil else { return nil }
            let values = try ModelArchive.mapError { () throws(DataError) in try archive.sparseMatrix(name) }
            guard values.rowCount == matrix.rowCount, values.columnCount == matrix.columnCount, values.rowStarts == matrix.rowStarts,
                  values.columns == matrix.columns, values.values.allSatisfy(\.isFinite) else {
                throw ModelError(.corruptModel, "the training entries' \(what) (\(name)) do not match the training matrix's entries, or are not all finite")
            }
            return values
        }
        data.ageInDays = try perEntry("data.ages", "ages")
        data.sequence = try perEntry("data.sequence", "places in time")
        if archive.scalars["data.below.shape"] != nil {
            let below = try ModelArchive.mapError { () throws(DataError) in try archive.sparseMatrix("data.below") }
            guard below.rowCount == archive.users.count, below.columnCount == archive.items.count else {
                throw ModelError(.corruptModel, "the pairs below the threshold (data.below, \(below.rowCount)×\(below.columnCount)) do not match the vocabularies (\(archive.users.count) users, \(archive.items.count) items)")
            }
            data.belowThreshold = below
        }
        data.catalog = try restoreCatalog(&archive)
        if let threshold = archive.scalars["data.threshold"] {
            guard threshold.isFinite else { throw ModelError(.corruptModel, "the training threshold \(threshold) is not a finite number") }
            data.threshold = Float(threshold)
        }
        if let preparation = archive.preparation {
            guard preparation.defaultEventWeight.isFinite, preparation.eventWeights.values.allSatisfy(\.isFinite) else {
                throw ModelError(.corruptModel, "the training's event weights are not all finite numbers")
            }
            data.preparation = preparation
        }
        return try M(archive: archive, data: data, configuration: configuration)
    }
}

/// The registered model types, behind a lock.
private final class RegisteredModels: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [any RecommendationModel.Type] = []

    var types: [any RecommendationModel.Type] { lock.withLock { list } }

    func add(_ type: any RecommendationModel.Type) {
        lock.withLock {
            if !list.contains(where: { $0.name == type.name }) { list.append(type) }
        }
    }
}
