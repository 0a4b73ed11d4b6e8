@testable import BraidText
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
