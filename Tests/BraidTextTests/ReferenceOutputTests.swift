@testable import BraidText
import BraidTestSupport
import Foundation
import Testing

/// Braid's tokenizer and encoder against what sentence-transformers itself (PyTorch, with Hugging
/// Face's `tokenizers`) makes of the same texts with the installed all-MiniLM-L6-v2: the ids and
/// embeddings in `Tests/Fixtures/text-model/sentence-transformers.json`, written by
/// `scripts/make-text-fixtures` from the reference implementation, never from Braid.
@Suite(.enabled(if: SentenceEncoder.defaultDirectory() != nil, "the text model is installed by scripts/setup"))
struct ReferenceOutputTests {
    struct Case: Decodable { let text: String; let ids: [Int32]; let embedding: [Float]? }
    struct Reference: Decodable { let cases: [Case]; let max_seq_length: Int }

    static func reference() throws -> Reference {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/text-model/sentence-transformers.json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: path))
    }

    @Test func tokenIdsEqualTheReferenceTokenizers() throws {
        let reference = try Self.reference()
        let tokenizer = try SentenceEncoder(directory: SentenceEncoder.defaultDirectory()!).tokenizer
        #expect(tokenizer.maximumLength == reference.max_seq_length)
        for item in reference.cases {
            let ids = tokenizer.encode(item.text)
            #expect(ids == item.ids, "\(item.text.debugDescription): \(ids.map { tokenizer.tokens[Int($0)] }) against \(item.ids.map { tokenizer.tokens[Int($0)] })")
        }
    }

    @Test func embeddingsEqualTheReferenceEncoders() throws {
        let reference = try Self.reference()
        let model = try SentenceEncoder(directory: SentenceEncoder.defaultDirectory()!)
        let cases = reference.cases.filter { $0.embedding != nil }
        #expect(cases.count > 20)
        let vectors = model.embed(cases.map(\.text))
        // 2.7·10⁻⁷ at most on the machine that wrote the fixture; 10⁻⁵ leaves room for another
        // CPU's BLAS kernels, while one token read otherwise moves values by 10⁻² and more.
        for (item, vector) in zip(cases, vectors) {
            let expected = item.embedding!
            let largest = zip(vector, expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(vector.count == expected.count && largest < 1e-5, "\(item.text.debugDescription): largest difference \(largest)")
        }
    }
}

/// The reference tokenizer's rules one at a time, on a tiny vocabulary: each expected list
/// worked out from Hugging Face's `BertNormalizer` and `BertPreTokenizer`.
@Suite struct ReferenceTokenizerRuleTests {
    let tiny = try! BertTokenizer(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "want", "##want", "##ed", "un", "runn", "##ing"],
                                  lowercase: true, maximumLength: 16)

    @Test func specialTokensInTheTextAreMatchedAsWritten() {
        #expect(tiny.tokenize("want[SEP]running") == ["want", "[SEP]", "runn", "##ing"])
        #expect(tiny.tokenize("[MASK][MASK] un") == ["[MASK]", "[MASK]", "un"])
        #expect(tiny.tokenize("[mask]") == ["[UNK]", "[UNK]", "[UNK]"], "matched before lowercasing, so only as written")
        #expect(tiny.encode("[CLS]") == [2, 2, 3])
        #expect(tiny.specialTokens == ["[MASK]", "[CLS]", "[PAD]", "[SEP]", "[UNK]"])
    }

    @Test func separatorsPrivateUseAndMarksAfterSpaces() {
        #expect(tiny.tokenize("want\u{2028}want\u{2029}want\u{85}ed") == ["want", "want", "want", "##ed"], "U+0085 is a control: dropped")
        #expect(tiny.tokenize("want\u{E000}ed \u{F0000}un") == ["want", "##ed", "un"], "private use dropped")
        #expect(tiny.tokenize("want \u{301}un") == ["want", "un"], "the mark after the space starts the next word")
        #expect(tiny.tokenize("\u{378}") == ["[UNK]"], "unassigned code points are kept, as the reference keeps them")
    }

    @Test func lowercasingAsPythonMakesAFinalSigma() {
        // Python 3.11's str.lower() of each.
        #expect(SentenceEncoder.lowercasedAsPython("ΟΔΟΣ ΣΑΣ") == "οδος σας")
        #expect(SentenceEncoder.lowercasedAsPython("Σ") == "σ")
        #expect(SentenceEncoder.lowercasedAsPython("ΑΣ.") == "ας.")
        #expect(SentenceEncoder.lowercasedAsPython("ΑΣ'Β") == "ασ'β")
        #expect(SentenceEncoder.lowercasedAsPython("ΑΣ'") == "ας'")
        #expect(SentenceEncoder.lowercasedAsPython("ΑΣ\u{301}") == "ας\u{301}")
        #expect(SentenceEncoder.lowercasedAsPython("Σ\u{301}Α") == "σ\u{301}α")
        #expect(SentenceEncoder.lowercasedAsPython("İSTANBUL ẞ") == "i\u{307}stanbul ß")
    }

    @Test func specialTokenNamesComeFromTheTokenizerConfiguration() throws {
        let model = try HandBuiltModel()
        try model.write(["do_lower_case": true, "unk_token": ["content": "[UNK]", "lstrip": false, "__type": "AddedToken"],
                         "mask_token": "b", "additional_special_tokens": [["content": "a"]]], "tokenizer_config.json")
        #expect(try model.load().tokenizer.specialTokens == ["[CLS]", "[PAD]", "[SEP]", "[UNK]", "a", "b"])
        try model.write(["do_lower_case": true, "mask_token": "[MASK]"], "tokenizer_config.json")
        do {
            _ = try model.load()
            Issue.record("a special token the vocabulary does not hold was accepted")
        } catch let error as TextModelError {
            #expect(error.code == .invalidConfiguration && error.description.contains("tokenizer_config.json names mask_token \"[MASK]\", which"),
                    "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
        try model.write(["do_lower_case": true, "sep_token": 3], "tokenizer_config.json")
        #expect(throws: TextModelError.self) { _ = try model.load() }
    }
}

/// Model directories' tokenizer files read as transformers reads them, against the ids
/// transformers' `AutoTokenizer` gives for the same files and texts: the fixture
/// `Tests/Fixtures/text-model/tokenizers.json`, written by `scripts/make-tokenizer-fixtures`.
@Suite struct TokenizerFileTests {
    static func cases() throws -> [[String: Any]] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/text-model/tokenizers.json")
        let fixture = try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as! [String: Any]
        return fixture["cases"] as! [[String: Any]]
    }

    /// A directory holding `files` (JSON values, or `vocab.txt` as its lines).
    static func directory(_ files: [String: Any]) throws -> String {
        let directory = Fixtures.temporaryDirectory()
        for (name, content) in files {
            let data = name == "vocab.txt" ? Data(((content as! [String]).joined(separator: "\n") + "\n").utf8)
                                           : try JSONSerialization.data(withJSONObject: content)
            try data.write(to: URL(fileURLWithPath: directory + "/" + name))
        }
        return directory
    }

    static func tokenizer(_ directory: String) throws -> BertTokenizer {
        let configuration = try ModelDirectory.decode(ModelDirectory.TokenizerConfiguration.self, "tokenizer_config.json", in: directory)
        return try ModelDirectory.tokenizer(in: directory, configuration: configuration, maximumLength: 512)
    }

    @Test func idsEqualTransformers() throws {
        let cases = try Self.cases()
        #expect(cases.count == 8)
        for item in cases {
            let tokenizer = try Self.tokenizer(Self.directory(item["files"] as! [String: Any]))
            for text in item["texts"] as! [[String: Any]] {
                let ids = tokenizer.encode(text["text"] as! String)
                let expected = (text["ids"] as! [Int]).map(Int32.init)
                #expect(ids == expected, "\(item["name"]!): \((text["text"] as! String).debugDescription): \(ids.map { tokenizer.tokens[Int($0)] }) against \(expected.map { tokenizer.tokens[Int($0)] })")
            }
        }
    }

    @Test func tokenizerFilesThatCannotBeReadAreRefused() throws {
        func refusal(_ files: [String: Any]) throws -> String {
            do {
                _ = try Self.tokenizer(Self.directory(files))
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        var file: [String: Any] = ["model": ["type": "BPE", "vocab": ["a": 0]]]
        #expect(try refusal(["tokenizer.json": file]).contains("tokenizer.json gives model.type \"BPE\": Braid's tokenizer is BERT's WordPiece"))
        file = ["model": ["type": "WordPiece", "vocab": ["[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 4]]]
        #expect(try refusal(["tokenizer.json": file]).contains("gives model.vocab's \"[SEP]\" the id 4, but the 4 tokens' ids must be 0 to 3, each once"))
        file = ["model": ["type": "WordPiece", "vocab": ["[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3]],
                "added_tokens": [["id": 5, "content": "<e>", "special": true]]]
        #expect(try refusal(["tokenizer.json": file]).contains("adds \"<e>\" as id 5, but ids must follow on from the 4 before it"))
        file["added_tokens"] = [["content": "<e>"]]
        #expect(try refusal(["tokenizer.json": file]).contains("gives added_tokens[0] (\"<e>\") no token id"))
        #expect(try refusal(["tokenizer.json": ["model": ["type": "WordPiece"]]]).contains("tokenizer.json lacks model.vocab"))
        #expect(try refusal(["tokenizer.json": ["model": ["vocab": ["a": "0"]]]]).contains("tokenizer.json gives model.vocab.a of the wrong kind"))
        #expect(try refusal(["vocab.txt": ["[PAD]", "[UNK]", "[CLS]", "[SEP]"], "tokenizer_config.json": ["added_tokens_decoder": ["x": ["content": "a"]]]])
            .contains("tokenizer_config.json gives added_tokens_decoder the key \"x\", which is not a token id"))
        file["added_tokens"] = [["id": 5, "content": "<f>", "special": true], ["id": 4, "content": "<e>", "special": true]]
        let outOfOrder = try Self.tokenizer(Self.directory(["tokenizer.json": file]))
        #expect(outOfOrder.encode("a<e><f>") == [2, 1, 4, 5, 3] && outOfOrder.tokens.suffix(2) == ["<e>", "<f>"])
    }
}
