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
        TextEmbeddingModel(name: encoder.name, digest: encoder.weightDigest, dimension: encoder.dimension, settings: encoder.settings)
    }

    public func embeddings(of texts: [String]) -> [[Float]] {
        encoder.embed(texts, cache: cache)
    }
}
