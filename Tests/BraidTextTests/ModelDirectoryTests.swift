import BraidCore
import BraidNeural
import BraidText
import BraidTestSupport
import Foundation
import Testing

/// A sentence-transformers model directory built by hand: a 2-wide encoder with no layers, so
/// that each token's state is the embedding LayerNorm of its word embedding, worked out below.
///
/// Word embeddings: [PAD] and [UNK] (0, 0), [CLS] and "b" (1, 0), [SEP] and "a" (0, 1); positions
/// and the token type are zeros. LayerNorm of (1, 0) is (1, −1) and of (0, 1) is (−1, 1), then
/// gain (2, 1) and bias (0, 3): [CLS] and "b" have the state (2, 2), [SEP] and "a" (−2, 4).
/// "a b a" is [CLS] a b a [SEP]: (2, 2), (−2, 4), (2, 2), (−2, 4), (−2, 4).
struct HandBuiltModel {
    let directory = Fixtures.temporaryDirectory()

    static var config: [String: Any] { ["hidden_size": 2, "num_hidden_layers": 0, "num_attention_heads": 1, "intermediate_size": 4,
                                        "max_position_embeddings": 8, "type_vocab_size": 1, "hidden_act": "gelu", "layer_norm_eps": 1e-12] }
    static var modules: [[String: Any]] { [["idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"],
                                           ["idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"],
                                           ["idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"]] }

    init() throws {
        try write(Self.config, "config.json")
        try "[PAD]\n[UNK]\n[CLS]\n[SEP]\na\nb\n".write(toFile: directory + "/vocab.txt", atomically: true, encoding: .utf8)
        try Self.safetensors([("embeddings.word_embeddings.weight", [6, 2], [0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 1, 0]),
                              ("embeddings.position_embeddings.weight", [8, 2], [Float](repeating: 0, count: 16)),
                              ("embeddings.token_type_embeddings.weight", [1, 2], [0, 0]),
                              ("embeddings.LayerNorm.weight", [2], [2, 1]), ("embeddings.LayerNorm.bias", [2], [0, 3])])
            .write(to: URL(fileURLWithPath: directory + "/model.safetensors"))
        try write(["do_lower_case": true, "strip_accents": NSNull()], "tokenizer_config.json")
        try write(["max_seq_length": 8, "do_lower_case": false], "sentence_bert_config.json")
        try write(Self.modules, "modules.json")
        try pooling([.mean])
    }

    /// `value` as JSON in `name` (folders made as needed).
    func write(_ value: Any, _ name: String) throws {
        let path = (directory as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]).write(to: URL(fileURLWithPath: path))
    }

    func pooling(_ modes: [SentenceHead.Pooling], dimension: Int = 2) throws {
        var config: [String: Any] = ["word_embedding_dimension": dimension]
        for mode in SentenceHead.Pooling.allCases { config[mode.configurationKey] = modes.contains(mode) }
        try write(config, "1_Pooling/config.json")
    }

    /// A Dense module at `2_Dense` between pooling and normalization.
    func dense(weight: [Float], bias: [Float]?, inputs: Int, activation: String) throws {
        let outputs = weight.count / inputs
        try write(["in_features": inputs, "out_features": outputs, "bias": bias != nil, "activation_function": activation], "2_Dense/config.json")
        try Self.safetensors([("linear.weight", [outputs, inputs], weight)] + (bias.map { [("linear.bias", [outputs], $0)] } ?? []))
            .write(to: URL(fileURLWithPath: directory + "/2_Dense/model.safetensors"))
        var modules = Self.modules
        modules.insert(["idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"], at: 2)
        try write(modules, "modules.json")
    }

    static func safetensors(_ tensors: [(String, [Int], [Float])]) -> Data {
        var entries: [String] = [], payload = Data()
        for (name, shape, values) in tensors {
            entries.append("\"\(name)\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[\(payload.count),\(payload.count + 4 * values.count)]}")
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { payload.append(contentsOf: $0) } }
        }
        let header = Data("{\(entries.joined(separator: ","))}".utf8)
        return Data(withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) }) + header + payload
    }

    func load() throws -> SentenceEncoder { try SentenceEncoder(directory: directory) }
}

@Suite struct ModelDirectoryTests {
    func close(_ a: [Float], _ b: [Float], _ tolerance: Float = 1e-5) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
    }

    func normalized(_ v: [Float]) -> [Float] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / norm }
    }

    /// Each pooling mode on the worked example: states (2, 2), (−2, 4), (2, 2), (−2, 4), (−2, 4).
    @Test func everyPoolingModeGivesItsKnownAnswer() throws {
        let model = try HandBuiltModel()
        try model.write(["max_seq_length": 8], "sentence_bert_config.json")
        try model.write(Array(HandBuiltModel.modules.prefix(2)), "modules.json")  // no normalization: the pooled values themselves
        let expected: [(SentenceHead.Pooling, [Float])] = [
            (.cls, [2, 2]), (.lastToken, [-2, 4]), (.max, [2, 4]),
            (.mean, [-2.0 / 5, 16.0 / 5]),                                  // sums (−2, 16) over 5 tokens
            (.meanSquareRootLength, [-2 / Float(5).squareRoot(), 16 / Float(5).squareRoot()]),
            (.weightedMean, [-14.0 / 15, 52.0 / 15]),                       // weights 1…5: (2−4+6−8−10, 2+8+6+16+20) / 15
        ]
        for (mode, vector) in expected {
            try model.pooling([mode])
            let encoder = try model.load()
            #expect(encoder.dimension == 2 && !encoder.normalize)
            let v = encoder.embed(["a b a"])[0]
            #expect(close(v, vector), "\(mode): \(v)")
        }
        // Several modes concatenate in sentence-transformers' order (cls, max, mean, …), whatever
        // order the file lists them in; then normalization divides by √(4 + 4 + 0.16 + 10.24).
        try model.pooling([.mean, .cls])
        try model.write(HandBuiltModel.modules, "modules.json")
        let both = try model.load()
        #expect(both.dimension == 4 && both.pooling == [.cls, .mean] && both.normalize)
        #expect(close(both.embed(["a b a"])[0], [2, 2, -0.4, 3.2].map { $0 / Float(18.4).squareRoot() }))
    }

    /// A Dense module after pooling: tanh(W·x + b) on the concatenated (2, 2, −0.4, 3.2), then
    /// normalization: (tanh(0.2 + 0.32 − 0.5), tanh(−0.4)) = (tanh 0.02, tanh −0.4).
    @Test func aDenseModuleRunsBetweenPoolingAndNormalization() throws {
        let model = try HandBuiltModel()
        try model.pooling([.cls, .mean])
        try model.dense(weight: [0.1, 0, 0, 0.1, 0, 0, 1, 0], bias: [-0.5, 0], inputs: 4, activation: "torch.nn.modules.activation.Tanh")
        let encoder = try model.load()
        #expect(encoder.dimension == 2)
        let raw: [Float] = [0.019997334, -0.379948962]
        #expect(close(encoder.embed(["a b a"])[0], normalized(raw)))
        // Without a bias, with the identity: (0.2 + 0.32, −0.4).
        try model.dense(weight: [0.1, 0, 0, 0.1, 0, 0, 1, 0], bias: nil, inputs: 4, activation: "torch.nn.modules.linear.Identity")
        #expect(close(try model.load().embed(["a b a"])[0], normalized([0.52, -0.4])))
    }

    /// Published values of each nonlinearity (GELU's erf form and tanh approximation as in
    /// Hendrycks & Gimpel 2016).
    @Test func activationsKnownAnswers() {
        let cases: [(Activation, Float, Float)] = [
            (.gelu, 1, 0.8413447), (.gelu, -1, -0.1586553), (.geluTanh, 1, 0.8411920), (.relu, -1, 0), (.relu, 2, 2),
            (.silu, 1, 0.7310586), (.tanh, 0.5, 0.4621172), (.sigmoid, 0, 0.5), (.identity, -3, -3),
        ]
        for (activation, x, y) in cases {
            let v = activation.forward([x])
            #expect(abs(v[0] - y) < 1e-6, "\(activation)(\(x)) = \(v[0]), expected \(y)")
        }
        #expect(Activation.huggingFaceNames["gelu_new"] == .geluTanh && Activation(torchModule: "torch.nn.modules.activation.Tanh") == .tanh)
    }

    /// What a model directory may not say: each is refused naming the file and what is wrong.
    @Test func filesThatDoNotSayWhatTheyMeanAreRefused() throws {
        let cases: [(String, (HandBuiltModel) throws -> Void)] = [
            ("tokenizer_config.json is not valid JSON", { try Data("{".utf8).write(to: URL(fileURLWithPath: $0.directory + "/tokenizer_config.json")) }),
            ("tokenizer_config.json gives do_lower_case of the wrong kind", { try $0.write(["do_lower_case": "yes"], "tokenizer_config.json") }),
            ("sentence_bert_config.json gives max_seq_length = 1", { try $0.write(["max_seq_length": 1], "sentence_bert_config.json") }),
            ("sentence_bert_config.json is not a JSON object", { try $0.write([256], "sentence_bert_config.json") }),
            ("config.json gives hidden_act = \"softsign\"", { var c = HandBuiltModel.config; c["hidden_act"] = "softsign"; try $0.write(c, "config.json") }),
            ("config.json gives layer_norm_eps = -1.0", { var c = HandBuiltModel.config; c["layer_norm_eps"] = -1; try $0.write(c, "config.json") }),
            ("config.json lacks num_attention_heads", { var c = HandBuiltModel.config; c["num_attention_heads"] = nil; try $0.write(c, "config.json") }),
            ("1_Pooling/config.json turns on no pooling mode", { try $0.pooling([]) }),
            ("1_Pooling/config.json gives word_embedding_dimension = 3", { try $0.pooling([.mean], dimension: 3) }),
            ("lists sentence_transformers.models.WordWeights", { m in
                var modules = HandBuiltModel.modules
                modules.insert(["path": "", "type": "sentence_transformers.models.WordWeights"], at: 1)
                try m.write(modules, "modules.json") }),
            ("lists no Pooling module", { try $0.write(Array(HandBuiltModel.modules.prefix(1)), "modules.json") }),
            ("out of order", { try $0.write([HandBuiltModel.modules[0], HandBuiltModel.modules[2], HandBuiltModel.modules[1]], "modules.json") }),
            ("does not start with sentence_transformers.models.Transformer", { try $0.write(Array(HandBuiltModel.modules.dropFirst()), "modules.json") }),
            ("modules.json lacks [0].type", { try $0.write([["path": ""]], "modules.json") }),
            ("gives in_features = 3, but the vectors before it have 2 values", { try $0.dense(weight: [1, 0, 0], bias: nil, inputs: 3, activation: "Identity") }),
            ("gives activation_function = torch.nn.Softplus", { try $0.dense(weight: [1, 0], bias: nil, inputs: 2, activation: "torch.nn.Softplus") }),
            ("tensor linear.bias", { m in
                try m.dense(weight: [1, 0], bias: nil, inputs: 2, activation: "Tanh")
                try m.write(["in_features": 2, "out_features": 1, "bias": true], "2_Dense/config.json") }),
            ("only pytorch_model.bin", { m in
                try m.dense(weight: [1, 0], bias: nil, inputs: 2, activation: "Tanh")
                try FileManager.default.moveItem(atPath: m.directory + "/2_Dense/model.safetensors", toPath: m.directory + "/2_Dense/pytorch_model.bin") }),
        ]
        for (message, damage) in cases {
            let model = try HandBuiltModel()
            _ = try model.load()
            try damage(model)
            let error = try #require(throws: TextModelError.self, "\(message)") { _ = try model.load() }
            #expect(error.description.contains(message), "expected “\(message)”, got: \(error.description)")
        }
    }

    /// Every JSON file of the directory, and every key in it, damaged one way at a time: the
    /// model is refused with a `TextModelError` or loads and embeds vectors of its dimension
    /// with finite values. Never a crash.
    @Test func damagedDirectoriesAreRefusedOrEmbed() throws {
        let base = try HandBuiltModel()
        try base.pooling([.cls, .mean])
        try base.dense(weight: [0.1, 0, 0, 0.1, 0, 0, 1, 0], bias: [-0.5, 0], inputs: 4, activation: "torch.nn.modules.activation.Tanh")
        let files = ["config.json", "tokenizer_config.json", "sentence_bert_config.json", "modules.json", "1_Pooling/config.json", "2_Dense/config.json"]
        let values: [Any] = [-1, 0, 1e300, 4_300_000_000_000_000, -0.5, "", "bogus", true, NSNull(), [Any](), [String: Any]()]
        var refused = 0, loaded = 0
        for file in files {
            let original = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: base.directory + "/" + file)))
            var damages: [Any?] = [nil] + ["", "{", "[]", "null", "42"].map { Data($0.utf8) }  // nil: the file removed
            if let object = original as? [String: Any] {
                for key in object.keys.sorted() {
                    var without = object
                    without[key] = nil
                    damages.append(without)
                    for value in values { var damaged = object; damaged[key] = value; damages.append(damaged) }
                }
            } else if let array = original as? [[String: Any]] {
                for index in array.indices {
                    damages.append(array.enumerated().filter { $0.offset != index }.map(\.element))
                    for key in array[index].keys.sorted() {
                        for value in values { var damaged = array; damaged[index][key] = value; damages.append(damaged) }
                    }
                }
            }
            let path = base.directory + "/" + file
            let originalBytes = try Data(contentsOf: URL(fileURLWithPath: path))
            for damage in damages {
                switch damage {
                case nil: try FileManager.default.removeItem(atPath: path)
                case let bytes as Data: try bytes.write(to: URL(fileURLWithPath: path))
                case let value?: try base.write(value, file)
                }
                defer { try? originalBytes.write(to: URL(fileURLWithPath: path)) }
                do {
                    let encoder = try base.load()
                    let vectors = encoder.embed(["a b a", "", "b"])
                    #expect(vectors.allSatisfy { $0.count == encoder.dimension && $0.allSatisfy(\.isFinite) }, "\(file) \(String(describing: damage)): \(vectors)")
                    loaded += 1
                } catch {
                    refused += 1
                }
            }
        }
        #expect(refused > 100 && loaded > 10, "refused \(refused), loaded \(loaded)")
    }

    /// The settings that decide the vectors besides the weights are part of the model's identity:
    /// another pooling gives another identity (and embedding cache) over the same weights, and a
    /// model file's text model matches only the same settings (or none, from older files).
    @Test func settingsAreRecordedAndCompared() throws {
        let model = try HandBuiltModel()
        let mean = try model.load()
        // The vocabulary holds no [MASK], so its special tokens are not BERT's five and are listed.
        #expect(mean.settings.hasSuffix("uncased, accents stripped, special tokens [CLS] [PAD] [SEP] [UNK], at most 8 tokens, 1 heads, gelu, "
                                        + "layer-norm ε 1e-12, mean pooling, normalized"), "\(mean.settings)")
        try model.pooling([.cls])
        let cls = try model.load()
        #expect(cls.weightDigest == mean.weightDigest && cls.identity != mean.identity && cls.settings.hasSuffix("cls pooling, normalized"))
        let a = TextEmbeddingModel(name: "m", digest: mean.weightDigest, dimension: 2, settings: mean.settings)
        let b = TextEmbeddingModel(name: "m", digest: cls.weightDigest, dimension: 2, settings: cls.settings)
        let legacy = TextEmbeddingModel(name: "m", digest: mean.weightDigest, dimension: 2)
        #expect(a.embedsLike(a) && !a.embedsLike(b) && legacy.embedsLike(a) && a.embedsLike(legacy) && legacy.embedsLike(b))
        #expect(a.description.contains("mean pooling") && !b.embedsLike(TextEmbeddingModel(name: "m", digest: "other", dimension: 2, settings: cls.settings)))
    }

    /// A directory with `tokenizer.json` in place of `vocab.txt` (as some exports ship) embeds as
    /// the same model with `vocab.txt`; an added token it declares is matched in the text and
    /// recorded in the settings, so that it keys another embedding cache.
    @Test func aTokenizerFileStandsInForTheVocabulary() throws {
        let model = try HandBuiltModel()
        let before = try model.load()
        try FileManager.default.removeItem(atPath: model.directory + "/vocab.txt")
        let tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "b"]
        var file: [String: Any] = ["model": ["type": "WordPiece", "vocab": Dictionary(uniqueKeysWithValues: tokens.enumerated().map { ($1, $0) })],
                                   "added_tokens": [["id": 1, "content": "[UNK]", "special": true, "normalized": false]]]
        try model.write(file, "tokenizer.json")
        let after = try model.load()
        #expect(after.settings == before.settings && after.identity == before.identity)
        #expect(after.embed(["a b a", "B"]) == before.embed(["a b a", "B"]))
        #expect(after.tokenizer.vocabularyFile.hasSuffix("/tokenizer.json"))
        // "Ab" added, matched in the lowercased text: one piece, embedded as "b" (id 5).
        file["added_tokens"] = [["id": 5, "content": "Ab", "special": false]]
        try model.write(file, "tokenizer.json")
        let added = try model.load()
        #expect(added.tokenizer.encode("x AB ab") == [2, 1, 5, 5, 3])
        #expect(added.settings.contains("special tokens Ab (normalized) [CLS] [PAD] [SEP] [UNK],") && added.identity != before.identity, "\(added.settings)")
        try FileManager.default.removeItem(atPath: model.directory + "/tokenizer.json")
        #expect(throws: TextModelError.self) { _ = try model.load() }
        do { _ = try model.load() } catch { #expect("\(error)".contains("vocab.txt or tokenizer.json are needed")) }
    }

    /// `tokenize_chinese_chars: false` keeps CJK characters inside words, and says so in the settings.
    @Test func chineseCharactersAreSplitUnlessTheConfigurationSaysNot() throws {
        let model = try HandBuiltModel()
        let split = try model.load()
        try model.write(["do_lower_case": true, "tokenize_chinese_chars": false], "tokenizer_config.json")
        let whole = try model.load()
        #expect(split.tokenizer.basicTokens("a北京b") == ["a", "北", "京", "b"] && whole.tokenizer.basicTokens("a北京b") == ["a北京b"])
        #expect(whole.settings.contains("accents stripped, CJK characters not split,") && whole.identity != split.identity, "\(whole.settings)")
        #expect(!split.settings.contains("CJK"))
    }
}
