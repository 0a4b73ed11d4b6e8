internal import BraidCore
public import BraidNeural
internal import Foundation

/// How a sentence-transformers model turns the transformer's token states into one vector: the
/// modules `modules.json` lists after the transformer, run in its order. Pooling comes first (one
/// or more modes, concatenated in sentence-transformers' order), then any Dense layers and
/// L2 normalization.
public struct SentenceHead: Sendable {
    /// A pooling mode, in the order sentence-transformers concatenates them.
    public enum Pooling: String, Sendable, CaseIterable {
        /// The first token's state ([CLS]).
        case cls
        /// The elementwise maximum over the tokens.
        case max
        /// The mean over the tokens.
        case mean
        /// The sum over the tokens divided by the square root of their count.
        case meanSquareRootLength = "mean_sqrt_len_tokens"
        /// The mean weighted by position: the t-th token (from 1) weighs t.
        case weightedMean = "weightedmean"
        /// The last token's state.
        case lastToken = "lasttoken"

        /// The key in a Pooling module's `config.json` that turns the mode on.
        public var configurationKey: String {
            switch self {
            case .cls: "pooling_mode_cls_token"
            case .max: "pooling_mode_max_tokens"
            case .mean: "pooling_mode_mean_tokens"
            case .meanSquareRootLength: "pooling_mode_mean_sqrt_len_tokens"
            case .weightedMean: "pooling_mode_weightedmean_tokens"
            case .lastToken: "pooling_mode_lasttoken"
            }
        }
    }

    /// A sentence-transformers Dense module: `activation(W·x + b)`.
    public struct Dense: Sendable {
        /// Row-major [outputs, inputs], as PyTorch stores it.
        let weight: [Float]
        let bias: [Float]?
        public let inputs: Int, outputs: Int
        public let activation: Activation
        /// SHA-256 of the module's weight file.
        public let digest: String

        func apply(_ x: [Float]) -> [Float] {
            // W·x is one dot product per row of W: Braid's row-scoring kernel.
            var y = [Float](repeating: 0, count: outputs)
            weight.withUnsafeBufferPointer { w in
                x.withUnsafeBufferPointer { VectorKernels.scoreRows(w.baseAddress!, outputs, inputs, $0.baseAddress!, &y) }
            }
            if let bias { for o in 0..<outputs { y[o] += bias[o] } }
            return activation.forward(y)
        }
    }

    public enum Step: Sendable {
        case dense(Dense)
        case normalize
    }

    public let pooling: [Pooling]
    public let steps: [Step]
    /// The transformer's hidden size.
    public let hiddenSize: Int

    /// The length of the vectors it gives.
    public var dimension: Int {
        steps.reduce(pooling.count * hiddenSize) { if case .dense(let d) = $1 { d.outputs } else { $0 } }
    }

    public var normalizes: Bool { steps.contains { if case .normalize = $0 { true } else { false } } }

    /// The vector of one sequence whose `tokens` real tokens' states start at `states[start]`
    /// (`hiddenSize` values per token).
    func vector(_ states: UnsafeBufferPointer<Float>, start: Int, tokens: Int) -> [Float] {
        let h = hiddenSize, n = Swift.max(1, tokens)
        func state(_ t: Int, _ d: Int) -> Float { states[start + t * h + d] }
        var v: [Float] = []
        v.reserveCapacity(pooling.count * h)
        for mode in pooling {
            switch mode {
            case .cls: for d in 0..<h { v.append(state(0, d)) }
            case .lastToken: for d in 0..<h { v.append(state(n - 1, d)) }
            case .max:
                for d in 0..<h { var m = -Float.infinity; for t in 0..<n { m = Swift.max(m, state(t, d)) }; v.append(m) }
            case .mean, .meanSquareRootLength, .weightedMean:
                let divisor: Float = mode == .mean ? Float(n) : mode == .meanSquareRootLength ? Float(n).squareRoot() : Float(n * (n + 1) / 2)
                for d in 0..<h {
                    var sum: Float = 0
                    for t in 0..<n { sum += (mode == .weightedMean ? Float(t + 1) : 1) * state(t, d) }
                    v.append(sum / divisor)
                }
            }
        }
        for step in steps {
            switch step {
            case .dense(let dense): v = dense.apply(v)
            case .normalize:
                let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                if norm > 0 { for d in v.indices { v[d] /= norm } }
            }
        }
        return v
    }

    /// A short description of the head, for `SentenceEncoder.settings`.
    var summary: [String] {
        [pooling.map(\.rawValue).joined(separator: "+") + " pooling"] + steps.map {
            switch $0 {
            case .dense(let d): "dense \(d.inputs)→\(d.outputs) \(d.activation.rawValue) (SHA-256 \(d.digest.prefix(12)))"
            case .normalize: "normalized"
            }
        }
    }
}

/// Reading a sentence-transformers model directory's JSON files strictly: a file that is there
/// must say what it means, or the model is refused naming the file and the key.
enum ModelDirectory {
    /// The file `name` of `directory` decoded as `T`; nil when the file is absent.
    static func decode<T: Decodable>(_ type: T.Type, _ name: String, in directory: String) throws(TextModelError) -> T? {
        let path = (directory as NSString).appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TextModelError(.unreadable, "cannot read \(path): \(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw TextModelError(.invalidConfiguration, "\(path) \(describe(error))",
                                 hint: "the model directory is damaged: reinstall the model (scripts/setup) or fix the file")
        }
    }

    /// What a decoding error says, in a sentence about the file.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "cannot be read: \(error)" }
        func key(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(let type, let context) where context.codingPath.isEmpty:
            return "is not a JSON \("\(type)".hasPrefix("Array") ? "array" : "object")"
        case .typeMismatch(let type, let context): return "gives \(key(context)) of the wrong kind (\(type) expected)"
        case .valueNotFound(let type, let context): return "gives \(key(context)) as null (\(type) expected)"
        case .keyNotFound(let missing, let context):
            return "lacks \(context.codingPath.isEmpty ? missing.stringValue : key(context) + "." + missing.stringValue)"
        case .dataCorrupted(let context) where context.codingPath.isEmpty: return "is not valid JSON"
        case .dataCorrupted(let context): return "gives \(key(context)) that cannot be read: \(context.debugDescription)"
        @unknown default: return "cannot be read: \(error)"
        }
    }

    /// `modules.json`'s entries.
    struct Module: Decodable {
        var path: String
        var type: String
    }

    /// A Pooling module's `config.json`.
    struct PoolingConfiguration: Decodable {
        var dimension: Int?
        var modes: [SentenceHead.Pooling]

        struct Key: CodingKey {
            var stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }

        init(dimension: Int?, modes: [SentenceHead.Pooling]) {
            self.dimension = dimension
            self.modes = modes
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            dimension = try c.decodeIfPresent(Int.self, forKey: Key(stringValue: "word_embedding_dimension"))
            modes = try SentenceHead.Pooling.allCases.filter { try c.decodeIfPresent(Bool.self, forKey: Key(stringValue: $0.configurationKey)) == true }
        }
    }

    /// A Dense module's `config.json`.
    struct DenseConfiguration: Decodable {
        var inputs: Int
        var outputs: Int
        var bias: Bool?
        var activation: String?

        enum CodingKeys: String, CodingKey {
            case inputs = "in_features", outputs = "out_features", bias, activation = "activation_function"
        }
    }

    /// `tokenizer_config.json`'s settings the tokenizer follows.
    struct TokenizerConfiguration: Decodable {
        var lowercase: Bool?
        var stripAccents: Bool?
        var splitsCJK: Bool?
        var unknown: TokenName?, classification: TokenName?, separator: TokenName?, padding: TokenName?, mask: TokenName?
        var additional: [TokenName]?
        /// transformers' record of the added tokens by id.
        var addedTokens: [String: AddedTokenEntry]?
        enum CodingKeys: String, CodingKey {
            case lowercase = "do_lower_case", stripAccents = "strip_accents", splitsCJK = "tokenize_chinese_chars", unknown = "unk_token", classification = "cls_token",
                 separator = "sep_token", padding = "pad_token", mask = "mask_token", additional = "additional_special_tokens",
                 addedTokens = "added_tokens_decoder"
        }

        func specialTokens(from path: String) -> BertTokenizer.SpecialTokenNames {
            var names = BertTokenizer.SpecialTokenNames()
            names.source = path
            if let unknown { names.unknown = unknown.content }
            if let classification { names.classification = classification.content }
            if let separator { names.separator = separator.content }
            if let padding { names.padding = padding.content }
            names.mask = mask?.content
            names.additional = (additional ?? []).map(\.content)
            return names
        }
    }

    /// A special token as `tokenizer_config.json` names it: the token itself, or transformers'
    /// `AddedToken` object with the token as its `content`.
    struct TokenName: Decodable {
        var content: String
        enum CodingKeys: String, CodingKey { case content }
        init(from decoder: any Decoder) throws {
            if let single = try? decoder.singleValueContainer(), let text = try? single.decode(String.self) {
                content = text
            } else {
                content = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .content)
            }
        }
    }

    /// An added token as `tokenizer.json` (`added_tokens`, with its id) and `tokenizer_config.json`
    /// (`added_tokens_decoder`, keyed by its id) record it.
    struct AddedTokenEntry: Decodable {
        var id: Int?
        var content: String
        var special: Bool?
        var normalized: Bool?
        var singleWord: Bool?
        enum CodingKeys: String, CodingKey { case id, content, special, normalized, singleWord = "single_word" }

        /// The token with `id`; unmarked, it is normalized unless special (Hugging Face's default).
        /// Its `lstrip` and `rstrip` are not read: the whitespace they take into the match makes no
        /// piece of a BERT tokenizer's output either way.
        func token(id: Int) -> BertTokenizer.AddedToken {
            BertTokenizer.AddedToken(content, id: Int32(clamping: id), normalized: normalized ?? !(special ?? false), singleWord: singleWord ?? false)
        }
    }

    /// `tokenizer.json`, Hugging Face's tokenizer file, as transformers reads it for a BERT
    /// tokenizer: the WordPiece vocabulary and the added tokens. Its normalizer, pre-tokenizer and
    /// post-processor are not read, as transformers does not read them either (it builds BERT's
    /// from `tokenizer_config.json`, whatever the file says).
    struct TokenizerFile: Decodable {
        struct Model: Decodable {
            var type: String?
            var vocabulary: [String: Int]?
            enum CodingKeys: String, CodingKey { case type, vocabulary = "vocab" }
        }
        var model: Model
        var addedTokens: [AddedTokenEntry]?
        enum CodingKeys: String, CodingKey { case model, addedTokens = "added_tokens" }
    }

    /// The tokenizer of the model in `directory`, as transformers builds it: the vocabulary and the
    /// added tokens of `tokenizer.json` when it is there (`vocab.txt` is then not read), else
    /// `vocab.txt`; the rules, the special tokens' names and transformers' own record of the added
    /// tokens from `tokenizer_config.json`.
    static func tokenizer(in directory: String, configuration: TokenizerConfiguration?, maximumLength: Int) throws(TextModelError) -> BertTokenizer {
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        func invalid(_ file: String, _ message: String) -> TextModelError {
            TextModelError(.invalidConfiguration, "\(path(file)) \(message)", hint: "the model directory is damaged: reinstall the model (scripts/setup) or fix the file")
        }
        var added: [BertTokenizer.AddedToken] = []
        for (key, entry) in (configuration?.addedTokens ?? [:]).sorted(by: { (Int($0.key) ?? -1) < (Int($1.key) ?? -1) }) {
            guard let id = Int(key), id >= 0 else { throw invalid("tokenizer_config.json", "gives added_tokens_decoder the key \"\(key)\", which is not a token id") }
            added.append(entry.token(id: id))
        }
        let names = configuration?.specialTokens(from: path("tokenizer_config.json")) ?? BertTokenizer.SpecialTokenNames()
        let lowercase = configuration?.lowercase ?? true
        guard let file = try decode(TokenizerFile.self, "tokenizer.json", in: directory) else {
            return try BertTokenizer(vocabularyFile: path("vocab.txt"), lowercase: lowercase, stripAccents: configuration?.stripAccents,
                                     splitsCJK: configuration?.splitsCJK ?? true, maximumLength: maximumLength, specialTokens: names, addedTokens: added)
        }
        guard file.model.type == nil || file.model.type == "WordPiece" else {
            throw TextModelError(.invalidConfiguration, "\(path("tokenizer.json")) gives model.type \"\(file.model.type!)\": Braid's tokenizer is BERT's WordPiece",
                                 hint: "use a BERT-family sentence-transformers model (its tokenizer.json says \"WordPiece\")")
        }
        guard let vocabulary = file.model.vocabulary else { throw invalid("tokenizer.json", "lacks model.vocab") }
        var tokens = [String?](repeating: nil, count: vocabulary.count)
        for (token, id) in vocabulary.sorted(by: { $0.value < $1.value }) {
            guard id >= 0, id < tokens.count, tokens[id] == nil else {
                throw invalid("tokenizer.json", "gives model.vocab's \"\(token)\" the id \(id), but the \(vocabulary.count) tokens' ids must be 0 to \(vocabulary.count - 1), each once")
            }
            tokens[id] = token
        }
        var fromFile: [BertTokenizer.AddedToken] = []
        for (n, entry) in (file.addedTokens ?? []).enumerated() {
            guard let id = entry.id, id >= 0 else { throw invalid("tokenizer.json", "gives added_tokens[\(n)] (\"\(entry.content)\") no token id") }
            fromFile.append(entry.token(id: id))
        }
        // The file's added tokens before transformers' record of them (the first of one content is kept).
        return try BertTokenizer(tokens: tokens.map { $0! }, lowercase: lowercase, stripAccents: configuration?.stripAccents,
                                 splitsCJK: configuration?.splitsCJK ?? true, maximumLength: maximumLength, specialTokens: names,
                                 addedTokens: fromFile + added, vocabularyFile: path("tokenizer.json"))
    }

    /// `sentence_bert_config.json`: the transformer module's own settings.
    struct SentenceConfiguration: Decodable {
        var maximumLength: Int?
        /// Lowercase the text before tokenizing (whatever the tokenizer does).
        var lowercase: Bool?
        enum CodingKeys: String, CodingKey { case maximumLength = "max_seq_length", lowercase = "do_lower_case" }
    }

    static let transformer = "sentence_transformers.models.Transformer"

    /// The head `modules.json` describes, its files read from `directory`. Without modules.json,
    /// pooling as `1_Pooling/config.json` says (the mean without it), then normalization.
    static func head(in directory: String, hiddenSize h: Int) throws(TextModelError) -> SentenceHead {
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        func invalid(_ message: String, hint: String? = nil) -> TextModelError {
            TextModelError(.invalidConfiguration, message, hint: hint ?? "the model directory is damaged: reinstall the model (scripts/setup) or fix the file")
        }
        let listed = try decode([Module].self, "modules.json", in: directory)
        let modules = listed ?? [Module(path: "", type: transformer), Module(path: "1_Pooling", type: "sentence_transformers.models.Pooling"),
                                 Module(path: "", type: "sentence_transformers.models.Normalize")]
        guard let first = modules.first, first.type == transformer else {
            throw invalid("\(path("modules.json")) does not start with \(transformer) (it starts with \(modules.first?.type ?? "nothing"))")
        }
        guard first.path.isEmpty else {
            throw invalid("\(path("modules.json")) puts the transformer in \(first.path), not in the model directory itself",
                          hint: "pass that directory as the text model (--text-model \(path(first.path))) with its pooling files")
        }
        var pooling: [SentenceHead.Pooling]?
        var steps: [SentenceHead.Step] = []
        var width = h
        for module in modules.dropFirst() {
            let kind = module.type.split(separator: ".").last.map(String.init) ?? module.type
            switch kind {
            case "Pooling" where pooling == nil && steps.isEmpty:
                let file = (module.path as NSString).appendingPathComponent("config.json")
                // Without modules.json, a model may have no pooling file (the mean then);
                // a Pooling module modules.json lists must have its config.json.
                guard let configuration = try decode(PoolingConfiguration.self, file, in: directory)
                        ?? (listed == nil ? PoolingConfiguration(dimension: nil, modes: [.mean]) : nil) else {
                    throw TextModelError(.modelNotFound, "the Pooling module \(path(module.path)) that modules.json lists has no config.json",
                                         hint: "the model directory is incomplete: reinstall the model (scripts/setup)")
                }
                if let dimension = configuration.dimension, dimension != h {
                    throw invalid("\(path(file)) gives word_embedding_dimension = \(dimension), but the transformer's hidden_size is \(h)")
                }
                guard !configuration.modes.isEmpty else {
                    throw invalid("\(path(file)) turns on no pooling mode (\(SentenceHead.Pooling.allCases.map(\.configurationKey).joined(separator: ", ")))")
                }
                pooling = configuration.modes
                width = h * configuration.modes.count
            case "Dense" where pooling != nil:
                let dense = try self.dense(in: directory, module.path, inputs: width)
                steps.append(.dense(dense))
                width = dense.outputs
            case "Normalize" where pooling != nil:
                steps.append(.normalize)
            case "Pooling", "Dense", "Normalize":
                throw invalid("\(path("modules.json")) lists \(module.type) out of order: pooling comes once, right after the transformer, then Dense and Normalize")
            default:
                throw invalid("\(path("modules.json")) lists \(module.type)\(module.path.isEmpty ? "" : " (\(module.path))"), which Braid does not run",
                              hint: "Braid runs sentence-transformers models made of Transformer, Pooling, Dense and Normalize modules")
            }
        }
        guard let pooling else { throw invalid("\(path("modules.json")) lists no Pooling module after the transformer") }
        return SentenceHead(pooling: pooling, steps: steps, hiddenSize: h)
    }

    /// The Dense module in `directory/module`, taking vectors of `inputs` values.
    static func dense(in directory: String, _ module: String, inputs: Int) throws(TextModelError) -> SentenceHead.Dense {
        let folder = (directory as NSString).appendingPathComponent(module)
        let configFile = (module as NSString).appendingPathComponent("config.json")
        guard let configuration = try decode(DenseConfiguration.self, configFile, in: directory) else {
            throw TextModelError(.modelNotFound, "the Dense module \(folder) has no config.json", hint: "reinstall the model")
        }
        func invalid(_ message: String) -> TextModelError {
            TextModelError(.invalidConfiguration, "\(folder)/config.json \(message)", hint: "the model directory is damaged: reinstall the model or fix the file")
        }
        guard configuration.inputs == inputs else {
            throw invalid("gives in_features = \(configuration.inputs), but the vectors before it have \(inputs) values")
        }
        guard configuration.outputs >= 1, configuration.outputs <= 1 << 20 else { throw invalid("gives out_features = \(configuration.outputs), outside 1…\(1 << 20)") }
        let activationName = configuration.activation ?? "torch.nn.modules.activation.Tanh"
        guard let activation = Activation(torchModule: activationName) else {
            throw TextModelError(.invalidConfiguration, "\(folder)/config.json gives activation_function = \(activationName), which Braid does not run",
                                 hint: "Braid runs \(Activation.torchModuleNames.keys.sorted().joined(separator: ", "))")
        }
        let weightsPath = folder + "/model.safetensors"
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            throw TextModelError(.modelNotFound, "the Dense module \(folder) has no model.safetensors"
                                 + (FileManager.default.fileExists(atPath: folder + "/pytorch_model.bin") ? " (only pytorch_model.bin, which Braid does not read)" : ""),
                                 hint: "save the module's weights as safetensors (sentence-transformers does with safe_serialization=True)")
        }
        let weights = try SafetensorsFile(path: weightsPath)
        func tensor(_ name: String, _ shape: [Int]) throws(TextModelError) -> [Float] {
            let (values, actual) = try weights.floats(name)
            guard actual == shape else {
                throw TextModelError(.invalidConfiguration, "tensor \(name) of \(weightsPath) has shape \(actual), its config.json implies \(shape)")
            }
            return values
        }
        let weight = try tensor("linear.weight", [configuration.outputs, inputs])
        var bias: [Float]?
        if configuration.bias ?? true { bias = try tensor("linear.bias", [configuration.outputs]) }
        return SentenceHead.Dense(weight: weight, bias: bias, inputs: inputs, outputs: configuration.outputs, activation: activation,
                                  digest: weights.withBytes { Digests.sha256($0) })
    }
}
