internal import Foundation

/// BERT's tokenizer, as Hugging Face's `tokenizers` runs it for sentence-transformers (its
/// `BertNormalizer`, `BertPreTokenizer` and `WordPiece`): special tokens written in the text
/// matched first, as they are; then text cleaning (controls, formats and private-use code
/// points dropped, every `White_Space` code point a space), CJK characters as their own words,
/// optional accent stripping then lowercasing (one code point at a time, as Rust's
/// `char::to_lowercase`), punctuation splitting, and greedy longest-match-first WordPiece with
/// `##` continuations.
public struct BertTokenizer: Sendable {
    public let tokens: [String]
    let ids: [String: Int32]
    public let lowercase: Bool
    /// Strip accents (nil: when lowercasing, as BERT's uncased models do).
    public let stripAccents: Bool
    public let maximumLength: Int
    public let unknown: Int32, classification: Int32, separator: Int32, padding: Int32
    /// The special tokens matched in the text itself, before any normalization (as Hugging Face's
    /// tokenizers match their added tokens): each a token of the vocabulary, longest first.
    public let specialTokens: [String]
    let specialScalars: [[Unicode.Scalar]]
    static let maximumCharactersPerWord = 100

    /// The names of a tokenizer's special tokens (`tokenizer_config.json`'s `unk_token`,
    /// `cls_token`, `sep_token`, `pad_token`, `mask_token` and `additional_special_tokens`).
    public struct SpecialTokenNames: Sendable, Equatable {
        public var unknown = "[UNK]", classification = "[CLS]", separator = "[SEP]", padding = "[PAD]"
        /// nil: `[MASK]` when the vocabulary holds it.
        public var mask: String?
        public var additional: [String] = []
        /// The file the names come from, for errors (nil: BERT's defaults).
        public var source: String?
        public init() {}
    }

    /// Loads `vocab.txt` (one token per line, id = line number − 1).
    public init(vocabularyFile path: String, lowercase: Bool, stripAccents: Bool? = nil, maximumLength: Int,
                specialTokens names: SpecialTokenNames = SpecialTokenNames()) throws(TextModelError) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TextModelError(.unreadable, "cannot read the vocabulary \(path)")
        }
        var tokens = text.components(separatedBy: "\n")
        if tokens.last == "" { tokens.removeLast() }
        try self.init(tokens: tokens.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }, lowercase: lowercase,
                      stripAccents: stripAccents, maximumLength: maximumLength, specialTokens: names, vocabularyFile: path)
    }

    public init(tokens: [String], lowercase: Bool, stripAccents: Bool? = nil, maximumLength: Int,
                specialTokens names: SpecialTokenNames = SpecialTokenNames(), vocabularyFile: String = "the vocabulary") throws(TextModelError) {
        var ids: [String: Int32] = [:]
        for (n, token) in tokens.enumerated() where ids[token] == nil { ids[token] = Int32(n) }
        func id(_ token: String, _ role: String) throws(TextModelError) -> Int32 {
            guard let id = ids[token] else {
                let named = names.source.map { "\($0) names \(role) \"\(token)\", which \(vocabularyFile) does not hold" }
                throw TextModelError(.invalidConfiguration, named ?? "\(vocabularyFile) has no \(token) token (the tokenizer's \(role))",
                                     hint: "the vocabulary and the tokenizer's configuration belong to different models: reinstall the model (scripts/setup)")
            }
            return id
        }
        self.tokens = tokens
        self.ids = ids
        self.lowercase = lowercase
        self.stripAccents = stripAccents ?? lowercase
        self.maximumLength = max(2, maximumLength)
        unknown = try id(names.unknown, "unk_token")
        classification = try id(names.classification, "cls_token")
        separator = try id(names.separator, "sep_token")
        padding = try id(names.padding, "pad_token")
        var special = [names.unknown, names.classification, names.separator, names.padding]
        if let mask = names.mask { _ = try id(mask, "mask_token"); special.append(mask) } else if ids["[MASK]"] != nil { special.append("[MASK]") }
        for name in names.additional { _ = try id(name, "additional_special_tokens"); special.append(name) }
        specialTokens = Set(special.filter { !$0.isEmpty }).sorted { a, b in
            a.unicodeScalars.count != b.unicodeScalars.count ? a.unicodeScalars.count > b.unicodeScalars.count : a < b
        }
        specialScalars = specialTokens.map { Array($0.unicodeScalars) }
    }

    /// The word pieces of `text`, without `[CLS]`, `[SEP]` or truncation.
    public func tokenize(_ text: String) -> [String] {
        var out: [String] = []
        for segment in segments(text) {
            switch segment {
            case .special(let token): out.append(token)
            case .text(let scalars): out += basicTokens(scalars).flatMap(wordPieces)
            }
        }
        return out
    }

    /// Token ids `[CLS] … [SEP]`, truncated to `maximumLength`.
    public func encode(_ text: String) -> [Int32] {
        let pieces = tokenize(text).prefix(maximumLength - 2)
        return [classification] + pieces.map { ids[$0] ?? unknown } + [separator]
    }

    // MARK: Special tokens in the text

    enum Segment: Equatable { case text(ArraySlice<Unicode.Scalar>), special(String) }

    /// The text cut at each special token it spells out, leftmost first, the longest where two
    /// start at one place.
    func segments(_ text: String) -> [Segment] {
        let scalars = Array(text.unicodeScalars)
        var out: [Segment] = []
        var start = 0, position = 0
        scan: while position < scalars.count {
            for (n, special) in specialScalars.enumerated()
            where special.first == scalars[position] && scalars[position...].starts(with: special) {
                if start < position { out.append(.text(scalars[start..<position])) }
                out.append(.special(specialTokens[n]))
                position += special.count
                start = position
                continue scan
            }
            position += 1
        }
        if start < scalars.count { out.append(.text(scalars[start...])) }
        return out
    }

    // MARK: Basic tokenization

    public func basicTokens(_ text: String) -> [String] { basicTokens(Array(text.unicodeScalars)[...]) }

    /// Words split at whitespace and around CJK characters, code point by code point (a
    /// combining mark after a space starts a word of its own, as in the reference, rather than
    /// joining the space as a Swift `Character` would), then normalized and split at punctuation.
    func basicTokens(_ text: ArraySlice<Unicode.Scalar>) -> [String] {
        var out: [String] = []
        var word = String.UnicodeScalarView()
        func finish() {
            guard !word.isEmpty else { return }
            out += splitPunctuation(normalized(String(word)))
            word = String.UnicodeScalarView()
        }
        for scalar in text {
            let value = scalar.value
            if value == 0 || value == 0xFFFD || isControl(scalar) { continue }
            if isWhitespace(scalar) {
                finish()
            } else if isCJK(value) {
                finish()
                word.append(scalar)
                finish()
            } else {
                word.append(scalar)
            }
        }
        finish()
        return out
    }

    /// Accents stripped (canonical decomposition without its nonspacing marks), then lowercased:
    /// the reference's order.
    func normalized(_ word: String) -> String {
        var token = word
        if stripAccents {
            token = String(String.UnicodeScalarView(token.decomposedStringWithCanonicalMapping.unicodeScalars.filter {
                $0.properties.generalCategory != .nonspacingMark
            }))
        }
        return lowercase ? token.lowercased() : token
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

    /// Unicode's `White_Space` (line and paragraph separators too, as Rust's `char::is_whitespace`).
    func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
    }

    /// Controls (but tab and line ends), formats, private-use code points and surrogates:
    /// dropped from the text.
    func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .privateUse, .surrogate: return true
        default: return false
        }
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
