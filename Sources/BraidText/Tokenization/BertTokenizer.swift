internal import Foundation

/// BERT's tokenizer, as Google's reference and Hugging Face's `BertTokenizer` define it: text
/// cleaning, CJK characters as their own words, optional lowercasing with accent stripping,
/// punctuation splitting, then greedy longest-match-first WordPiece with `##` continuations.
public struct BertTokenizer: Sendable {
    public let tokens: [String]
    let ids: [String: Int32]
    public let lowercase: Bool
    /// Strip accents (nil: when lowercasing, as BERT's uncased models do).
    public let stripAccents: Bool
    public let maximumLength: Int
    public let unknown: Int32, classification: Int32, separator: Int32, padding: Int32
    static let maximumCharactersPerWord = 100

    /// Loads `vocab.txt` (one token per line, id = line number − 1).
    public init(vocabularyFile path: String, lowercase: Bool, stripAccents: Bool? = nil, maximumLength: Int) throws(TextModelError) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TextModelError(.unreadable, "cannot read the vocabulary \(path)")
        }
        var tokens = text.components(separatedBy: "\n")
        if tokens.last == "" { tokens.removeLast() }
        try self.init(tokens: tokens.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }, lowercase: lowercase,
                      stripAccents: stripAccents, maximumLength: maximumLength)
    }

    public init(tokens: [String], lowercase: Bool, stripAccents: Bool? = nil, maximumLength: Int) throws(TextModelError) {
        var ids: [String: Int32] = [:]
        for (n, token) in tokens.enumerated() where ids[token] == nil { ids[token] = Int32(n) }
        func id(_ token: String) throws(TextModelError) -> Int32 {
            guard let id = ids[token] else { throw TextModelError(.invalidConfiguration, "the vocabulary has no \(token) token") }
            return id
        }
        self.tokens = tokens
        self.ids = ids
        self.lowercase = lowercase
        self.stripAccents = stripAccents ?? lowercase
        self.maximumLength = max(2, maximumLength)
        unknown = try id("[UNK]")
        classification = try id("[CLS]")
        separator = try id("[SEP]")
        padding = try id("[PAD]")
    }

    /// The word pieces of `text`, without special tokens or truncation.
    public func tokenize(_ text: String) -> [String] {
        basicTokens(text).flatMap(wordPieces)
    }

    /// Token ids `[CLS] … [SEP]`, truncated to `maximumLength`.
    public func encode(_ text: String) -> [Int32] {
        let pieces = tokenize(text).prefix(maximumLength - 2)
        return [classification] + pieces.map { ids[$0] ?? unknown } + [separator]
    }

    // MARK: Basic tokenization

    public func basicTokens(_ text: String) -> [String] {
        var cleaned = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value == 0 || value == 0xFFFD || isControl(scalar) { continue }
            if isWhitespace(scalar) {
                cleaned.append(" ")
            } else if isCJK(value) {
                cleaned.append(" ")
                cleaned.append(scalar)
                cleaned.append(" ")
            } else {
                cleaned.append(scalar)
            }
        }
        var out: [String] = []
        for word in String(cleaned).split(separator: " ", omittingEmptySubsequences: true) {
            var token = String(word)
            if lowercase { token = token.lowercased() }
            if stripAccents {
                token = String(String.UnicodeScalarView(token.decomposedStringWithCanonicalMapping.unicodeScalars.filter {
                    $0.properties.generalCategory != .nonspacingMark
                }))
            }
            out.append(contentsOf: splitPunctuation(token))
        }
        return out
    }

    func splitPunctuation(_ token: String) -> [String] {
        var pieces: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in token.unicodeScalars {
            if isPunctuation(scalar) {
                if !current.isEmpty { pieces.append(String(current)); current = String.UnicodeScalarView() }
                pieces.append(String(scalar))
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { pieces.append(String(current)) }
        return pieces
    }

    // MARK: WordPiece

    func wordPieces(_ word: String) -> [String] {
        let scalars = Array(word.unicodeScalars)
        guard scalars.count <= Self.maximumCharactersPerWord else { return ["[UNK]"] }
        var pieces: [String] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var match: String?
            while start < end {
                var candidate = String(String.UnicodeScalarView(scalars[start..<end]))
                if start > 0 { candidate = "##" + candidate }
                if ids[candidate] != nil { match = candidate; break }
                end -= 1
            }
            guard let match else { return ["[UNK]"] }
            pieces.append(match)
            start = end
        }
        return pieces
    }

    // MARK: Character classes, as BERT defines them

    func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == " " || s == "\t" || s == "\n" || s == "\r" || s.properties.generalCategory == .spaceSeparator
    }

    func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        let category = s.properties.generalCategory
        return category == .control || category == .format
    }

    func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    func isCJK(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
            || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B820...0x2CEAF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }
}
