public import BraidCore
public import BraidModels
import Synchronization

/// A text embedder whose vectors can be worked out by hand: for each of `words`, how many
/// times the text holds it (lowercased, split at anything but letters), then 1. It counts the
/// texts it embeds, so that tests can say which were embedded again.
public final class WordCountEmbedder: TextEmbedder {
    public let words: [String]
    public let model: TextEmbeddingModel
    private let embedded = Mutex(0)

    public init(words: [String] = ["space", "paris", "love", "pirates"], digest: String = "word-counts", settings: String? = "lowercased, split at non-letters") {
        self.words = words
        model = TextEmbeddingModel(name: "word counts", digest: digest, dimension: words.count + 1, settings: settings)
    }

    /// How many texts it has embedded.
    public var embeddedTexts: Int { embedded.withLock { $0 } }

    public func embeddings(of texts: [String]) -> [[Float]] {
        embedded.withLock { $0 += texts.count }
        return texts.map(vector)
    }

    /// The vector of `text`.
    public func vector(_ text: String) -> [Float] {
        let terms = text.lowercased().split { !$0.isLetter }.map(String.init)
        return words.map { word in Float(terms.filter { $0 == word }.count) } + [1]
    }
}
