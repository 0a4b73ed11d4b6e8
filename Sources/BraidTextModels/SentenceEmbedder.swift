public import BraidCore
public import BraidModels
public import BraidText

/// Braid's sentence encoder as a `TextEmbedder`, through the embedding cache every part of
/// Braid shares (`SentenceEncoder.defaultCache()`): `--item-vectors text` embeds the catalogue
/// with it, and the server and `recommend` embed the items that join such a catalogue later.
public struct SentenceEmbedder: TextEmbedder {
    public let encoder: SentenceEncoder
    private let cache: EmbeddingCache

    public init(_ encoder: SentenceEncoder) {
        self.encoder = encoder
        cache = encoder.defaultCache()
    }

    public var model: TextEmbeddingModel {
        TextEmbeddingModel(name: encoder.name, digest: encoder.weightDigest, dimension: encoder.dimension)
    }

    public func embeddings(of texts: [String]) -> [[Float]] {
        encoder.embed(texts, cache: cache)
    }
}

extension TextModels {
    /// The installed text model (`SentenceEncoder.defaultDirectory()`: `BRAID_TEXT_MODEL`, else
    /// the pip package) as a `TextEmbedder`, when `records` joining `catalog` need one
    /// (`ItemCatalog.embedsText(of:)`) and it loads; nil otherwise, and then
    /// `ItemCatalog.embeddingNewTexts(of:with:)` says what is missing.
    public static func embedder(for records: [ItemRecord], joining catalog: ItemCatalog) -> SentenceEmbedder? {
        guard records.contains(where: catalog.embedsText), let directory = SentenceEncoder.defaultDirectory() else { return nil }
        return (try? SentenceEncoder(directory: directory)).map(SentenceEmbedder.init)
    }
}
