import BraidText
import BraidTestSupport
import Foundation
import Testing

@Suite struct SentenceEncoderTests {
    static let directory = SentenceEncoder.defaultDirectory()

    func cosine(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } / (a.reduce(0) { $0 + $1 * $1 }.squareRoot() * b.reduce(0) { $0 + $1 * $1 }.squareRoot())
    }

    @Test(.enabled(if: directory != nil, "the text model is installed by scripts/setup"))
    func reproducesThePublishedExample() throws {
        // sentence-transformers' model card example for all-MiniLM-L6-v2.
        let model = try SentenceEncoder(directory: Self.directory!)
        #expect(model.name == "all-MiniLM-L6-v2" && model.dimension == 384 && model.pooling == [.mean] && model.normalize)
        let e = model.embed(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
        #expect(abs(cosine(e[0], e[1]) - 0.6660) < 5e-5)
        #expect(abs(cosine(e[0], e[2]) - 0.1046) < 5e-5)
        #expect(abs(cosine(e[1], e[2]) - 0.1411) < 5e-5)
        #expect(abs(e[0].reduce(0) { $0 + $1 * $1 } - 1) < 1e-4, "normalized")
    }

    @Test(.enabled(if: directory != nil, "the text model is installed by scripts/setup"))
    func batchingDoesNotChangeEmbeddings() throws {
        let model = try SentenceEncoder(directory: Self.directory!)
        let texts = ["short", "a somewhat longer sentence about movies and music", "Toy Story (1995) Adventure|Animation|Children"]
        let together = model.embed(texts)
        for (n, text) in texts.enumerated() {
            let alone = model.embed([text])[0]
            #expect(zip(alone, together[n]).allSatisfy { abs($0 - $1) < 1e-4 })
        }
    }

    @Test func sha256KnownAnswers() {
        // FIPS 180-4 examples.
        #expect(Digests.sha256(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digests.sha256([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digests.sha256(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func missingModelDirectorySaysWhatToDo() {
        do {
            _ = try SentenceEncoder(directory: Fixtures.temporaryDirectory())
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .modelNotFound && error.description.contains("scripts/setup"))
        }
    }

    @Test func truncatedWeightsAreRefused() throws {
        var bytes = Data([16, 0, 0, 0, 0, 0, 0, 0]) + Data("{\"a\":{\"dtype\":\"F32\",".utf8)
        bytes.append(Data(count: 2))
        #expect(throws: TextModelError.self) { _ = try SafetensorsFile(path: Fixtures.temporaryFile(bytes, name: "t.safetensors")) }
        let header = Data("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}".utf8)
        var good = Data(withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) }) + header
        good.append(Data([0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64]))  // 1, 2, 3, 4
        let file = try SafetensorsFile(path: Fixtures.temporaryFile(good, name: "g.safetensors"))
        #expect(try file.floats("w").values == [1, 2, 3, 4])
        #expect(throws: TextModelError.self) { _ = try SafetensorsFile(path: Fixtures.temporaryFile(good.prefix(good.count - 4), name: "s.safetensors")) }
        // Crafted shapes: a product past Int.max, and negative dimensions whose product is
        // the 4 values stored, are refused, not a crash or a read past the tensor.
        for shape in ["[4294967296,4294967296]", "[-2,-2]", "[3037000500,3037000500,2]"] {
            let header = Data("{\"w\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[0,16]}}".utf8)
            let crafted = Data(withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) }) + header + Data(count: 16)
            let error = try #require(throws: TextModelError.self) { _ = try SafetensorsFile(path: Fixtures.temporaryFile(crafted, name: "c.safetensors")) }
            #expect(error.description.contains("has shape"), "\(shape): \(error.description)")
        }
    }

    /// A safetensors file of the embedding tensors alone, zeros, for a 2-wide encoder with no
    /// layers: `rows` word embeddings, 2 positions, 1 token type, and their norm.
    static func embeddingWeights(rows: Int) -> Data {
        HandBuiltModel.safetensors([("embeddings.word_embeddings.weight", [rows, 2], [Float](repeating: 0, count: rows * 2)),
                                    ("embeddings.position_embeddings.weight", [2, 2], [0, 0, 0, 0]),
                                    ("embeddings.token_type_embeddings.weight", [1, 2], [0, 0]),
                                    ("embeddings.LayerNorm.weight", [2], [0, 0]), ("embeddings.LayerNorm.bias", [2], [0, 0])])
    }

    /// A config.json whose sizes no encoder can have is refused before the layers are built,
    /// though the embedding tensors match it: `num_hidden_layers` −1 once stopped the process.
    @Test func impossibleConfigurationSizesAreRefused() throws {
        let weights = try SafetensorsFile(path: Fixtures.temporaryFile(Self.embeddingWeights(rows: 3), name: "embeddings.safetensors"))
        _ = try BertEncoder(weights: weights, configuration: BertConfiguration(hiddenSize: 2, layers: 0, heads: 1, intermediateSize: 4,
                                                                               maximumPositions: 2, typeVocabularySize: 1))
        for (configuration, key) in [(BertConfiguration(hiddenSize: 2, layers: -1, heads: 1, intermediateSize: 4, maximumPositions: 2, typeVocabularySize: 1), "num_hidden_layers = -1"),
                                     (BertConfiguration(hiddenSize: 2, layers: 0, heads: 1, intermediateSize: 0, maximumPositions: 2, typeVocabularySize: 1), "intermediate_size = 0")] {
            let error = try #require(throws: TextModelError.self) { _ = try BertEncoder(weights: weights, configuration: configuration) }
            #expect(error.description.contains(key), "\(error.description)")
        }
    }

    /// A vocabulary with more tokens than the word embeddings have rows (another model's) is
    /// refused at load: its last tokens' ids would index past the embeddings.
    @Test func aVocabularyLongerThanTheEmbeddingsIsRefused() throws {
        let directory = Fixtures.temporaryDirectory()
        try #"{"hidden_size": 2, "num_hidden_layers": 0, "num_attention_heads": 1, "intermediate_size": 4, "max_position_embeddings": 2, "type_vocab_size": 1}"#
            .write(toFile: directory + "/config.json", atomically: true, encoding: .utf8)
        try Self.embeddingWeights(rows: 4).write(to: URL(fileURLWithPath: directory + "/model.safetensors"))
        try "[PAD]\n[UNK]\n[CLS]\n[SEP]\n".write(toFile: directory + "/vocab.txt", atomically: true, encoding: .utf8)
        #expect(try SentenceEncoder(directory: directory).embed(["hello"]).first?.count == 2)
        try "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n".write(toFile: directory + "/vocab.txt", atomically: true, encoding: .utf8)
        let error = try #require(throws: TextModelError.self) { _ = try SentenceEncoder(directory: directory) }
        #expect(error.description.contains("has 5 tokens but the word embeddings have 4 rows"), "\(error.description)")
    }

    @Test func halfPrecisionTensorsConvert() throws {
        let header = Data("{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[4,6]}}".utf8)
        var bytes = Data(withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) }) + header
        bytes.append(Data([0x00, 0x3C, 0x00, 0xC0, 0x40, 0x40]))  // F16 1.0, −2.0; BF16 3.0
        let file = try SafetensorsFile(path: Fixtures.temporaryFile(bytes, name: "h.safetensors"))
        #expect(try file.floats("h").values == [1, -2])
        #expect(try file.floats("b").values == [3])
    }
}

@Suite struct BertTokenizerTests {
    // The classic WordPiece example of BERT's reference tests, on a tiny vocabulary.
    let tiny = try! BertTokenizer(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "want", "##want", "##ed", "wa", "un", "runn", "##ing", ","],
                                  lowercase: true, maximumLength: 8)

    @Test func wordPieceGreedyLongestMatch() {
        #expect(tiny.tokenize("UNwant\u{E9}d,running") == ["un", "##want", "##ed", ",", "runn", "##ing"])
        #expect(tiny.tokenize("unwantedX running") == ["[UNK]", "runn", "##ing"])
        #expect(tiny.tokenize("") == [])
    }

    @Test func specialTokensAndTruncation() {
        #expect(tiny.encode("running") == [2, 9, 10, 3])
        let long = tiny.encode(String(repeating: "want ", count: 20))
        #expect(long.count == 8 && long.first == 2 && long.last == 3)
    }

    @Test func basicTokenizationRules() {
        // Control characters dropped, whitespace normalized, punctuation split, accents
        // stripped when lowercasing, CJK characters as words, emoji kept whole.
        #expect(tiny.basicTokens(" Héllo,\u{0007}wörld!\t\u{4E2D}\u{6587}😀 ") == ["hello", ",", "world", "!", "\u{4E2D}", "\u{6587}", "😀"])
        let cased = try! BertTokenizer(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]"], lowercase: false, maximumLength: 8)
        #expect(cased.basicTokens("Héllo") == ["Héllo"])
    }

    @Test(.enabled(if: SentenceEncoderTests.directory != nil, "the text model is installed by scripts/setup"))
    func realVocabulary() throws {
        let t = try SentenceEncoder(directory: SentenceEncoderTests.directory!).tokenizer
        #expect(t.tokenize("It's so sunny outside!") == ["it", "'", "s", "so", "sunny", "outside", "!"])
        #expect(t.tokenize("Café Zürich") == ["cafe", "zurich"])
        #expect(t.tokenize("😀") == ["[UNK]"])
        #expect(t.encode(String(repeating: "movie ", count: 400)).count == 256)
    }
}

@Suite struct EmbeddingCacheTests {
    @Test func storesAndReloadsByText() {
        let directory = Fixtures.temporaryDirectory()
        let cache = EmbeddingCache(directory: directory, digest: "abc123", dimension: 3)
        cache.store("hello", [1, 2, 3])
        cache.store("world", [4, 5, 6])
        cache.store("hello", [9, 9, 9])  // first value wins: same text, same model
        cache.flush()
        let reopened = EmbeddingCache(directory: directory, digest: "abc123", dimension: 3)
        #expect(reopened.count == 2)
        #expect(reopened.lookup("hello") == [1, 2, 3] && reopened.lookup("world") == [4, 5, 6])
        #expect(reopened.lookup("other") == nil)
        #expect(EmbeddingCache(directory: directory, digest: "different", dimension: 3).count == 0, "keyed by model digest")
    }

    @Test(.enabled(if: SentenceEncoderTests.directory != nil, "the text model is installed by scripts/setup"))
    func cachedEmbeddingsEqualFreshOnes() throws {
        let model = try SentenceEncoder(directory: SentenceEncoderTests.directory!)
        let cache = EmbeddingCache(directory: Fixtures.temporaryDirectory(), digest: model.weightDigest, dimension: model.dimension)
        let texts = ["Heat (1995) Action Crime", "Toy Story (1995)", "Heat (1995) Action Crime"]
        let first = model.embed(texts, cache: cache)
        #expect(cache.count == 2)
        #expect(first == model.embed(texts, cache: cache))
        #expect(first[0] == first[2])
    }
}
