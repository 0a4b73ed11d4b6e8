import BraidCore
import BraidModels
import BraidTestSupport
import Testing

/// Item vectors that are the items' texts embedded (`--item-vectors text`): the catalogue says
/// so, keeps saying so in a model file, and the items that join it later are embedded alike.
@Suite struct TextEmbeddingTests {
    static let records = [
        ItemRecord(id: "a", title: "Space Pirates", categories: ["space"]),
        ItemRecord(id: "b", title: "Love in Paris"),
        ItemRecord(id: "bare"),
    ]

    @Test func eachItemsTextIsEmbeddedAndTheCatalogueSaysBy() {
        let embedder = WordCountEmbedder()
        let catalog = ItemCatalog(Self.records).embeddingTexts(with: embedder)
        // Worked by hand: "Space Pirates. space" holds space twice and pirates once;
        // "Love in Paris" paris and love once; counts of space, paris, love, pirates, then 1.
        #expect(catalog["a"]?.vector == [2, 0, 0, 1, 1])
        #expect(catalog["b"]?.vector == [0, 1, 1, 0, 1])
        #expect(catalog["bare"]?.vector == nil)
        #expect(catalog.textEmbedding == embedder.model)
        #expect(ItemCatalog(Self.records).textEmbedding == nil)
    }

    @Test func onlyNewTextsWithoutAVectorAreEmbedded() throws {
        let embedder = WordCountEmbedder()
        let catalog = ItemCatalog(Self.records).embeddingTexts(with: embedder)
        let before = embedder.embeddedTexts
        let joining = [ItemRecord(id: "new", title: "paris pirates"), ItemRecord(id: "given", title: "space", vector: [9, 9, 9, 9, 9]),
                       ItemRecord(id: "empty")]
        let taken = try catalog.embeddingNewTexts(of: joining, with: embedder)
        #expect(taken.map(\.vector) == [[0, 1, 0, 1, 1], [9, 9, 9, 9, 9], nil])
        #expect(embedder.embeddedTexts == before + 1)
        // A catalogue of supplied vectors (or none) takes records as they come, with no embedder.
        #expect(try ItemCatalog(Self.records).embeddingNewTexts(of: joining, with: nil) == joining)
    }

    @Test func aMissingOrAnotherTextModelIsAClearError() throws {
        let catalog = ItemCatalog(Self.records).embeddingTexts(with: WordCountEmbedder())
        let joining = [ItemRecord(id: "new", title: "paris pirates")]
        #expect {
            try catalog.embeddingNewTexts(of: joining, with: nil)
        } throws: { error in
            "\(error)".contains("the item vectors are word counts embeddings of the items' texts, and no text model is loaded to embed item new's text")
        }
        #expect {
            try catalog.embeddingNewTexts(of: joining, with: WordCountEmbedder(digest: "other weights"))
        } throws: { error in
            "\(error)".contains("but the text model loaded is word counts (5 dimensions, weights SHA-256 other weight…; lowercased, split at non-letters)")
        }
        // The same weights with other settings (another pooling, vocabulary or casing) embed
        // into another space; a catalogue from before settings were kept matches on the weights.
        #expect {
            try catalog.embeddingNewTexts(of: joining, with: WordCountEmbedder(settings: "cased"))
        } throws: { error in
            "\(error)".contains("but the text model loaded is word counts (5 dimensions, weights SHA-256 word-counts…; cased)")
        }
        var legacy = catalog
        legacy.textEmbedding?.settings = nil
        #expect(try legacy.embeddingNewTexts(of: joining, with: WordCountEmbedder(settings: "cased")).first?.vector == [0, 1, 0, 1, 1])
        // Records that need no embedding need no text model.
        #expect(throws: Never.self) { try catalog.embeddingNewTexts(of: [ItemRecord(id: "v", vector: [1, 0, 0, 0, 1])], with: nil) }
    }

    /// A model file keeps which text model its catalogue's vectors came from; one written
    /// without it reads as supplied vectors.
    @Test func aModelFileKeepsTheTextModel() throws {
        var data = Fixtures.randomRatings(users: 12, items: 3, perUser: 2)
        data.catalog = ItemCatalog(zip(data.items.identifiers, ["space pirates", "love in paris", "space love"]).map { ItemRecord(id: $0, title: $1) })
            .embeddingTexts(with: WordCountEmbedder())
        let model = try ModelRegistry.fit("content-tfidf", data: data)
        let path = Fixtures.temporaryDirectory() + "/model.braid"
        try ModelRegistry.save(model, to: path)
        let loaded = try ModelRegistry.load(from: path)
        #expect(loaded.data.catalog == data.catalog)
        #expect(loaded.data.catalog?.textEmbedding == WordCountEmbedder().model)
        var supplied = data
        supplied.catalog?.textEmbedding = nil
        try ModelRegistry.save(try ModelRegistry.fit("content-tfidf", data: supplied), to: path)
        #expect(try ModelRegistry.load(from: path).data.catalog?.textEmbedding == nil)
    }
}
