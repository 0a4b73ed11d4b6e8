internal import BraidCore
internal import Foundation

/// BERT's tokenizer, as Hugging Face's `transformers` runs it for sentence-transformers (its
/// `BertNormalizer`, `BertPreTokenizer` and `WordPiece`): the added tokens (the special tokens and
/// any others the model's files add) matched first, as written or, for those marked normalized,
/// in the normalized text; then text cleaning (controls, formats and private-use code points
/// dropped, every `White_Space` code point a space), CJK characters as their own words,
/// optional accent stripping then lowercasing (one code point at a time, as Rust's
/// `char::to_lowercase`), punctuation splitting, and greedy longest-match-first WordPiece with
/// `##` continuations.
public struct BertTokenizer: Sendable {
    /// Every token by id: the WordPiece vocabulary, then any added tokens past its end.
    public let tokens: [String]
    /// The WordPiece vocabulary's ids (added tokens past its end are matched in the text only).
    let ids: [String: Int32]
    public let lowercase: Bool
    /// Strip accents (nil: when lowercasing, as BERT's uncased models do).
    public let stripAccents: Bool
    /// Make each CJK character a word of its own (`tokenize_chinese_chars`, true by default).
    public let splitsCJK: Bool
    public let maximumLength: Int
    public let unknown: Int32, classification: Int32, separator: Int32, padding: Int32
    /// The tokens matched in the text before WordPiece, longest first.
    public let addedTokens: [AddedToken]
    /// The added tokens' contents, longest first.
    public var specialTokens: [String] { addedTokens.map(\.content) }
    let asWritten: Matcher
    let inNormalized: Matcher?
    /// Where the vocabulary came from, for messages.
    public let vocabularyFile: String
    static let maximumCharactersPerWord = 100

    /// A token matched in the text itself before WordPiece, as Hugging Face's tokenizers match
    /// their added tokens.
    public struct AddedToken: Sendable, Equatable {
        public var content: String
        /// Its id (nil: the vocabulary's id of `content`).
        public var id: Int32?
        /// Matched in the text as normalized (cleaned, CJK spaced, accents stripped and lowercased
        /// as the tokenizer does them), its content normalized alike, rather than as written.
        public var normalized: Bool
        /// Matched only where no word character (Unicode's `\w`: letters, marks, decimal digits,
        /// connector punctuation, joiners) touches it on either side.
        public var singleWord: Bool

        public init(_ content: String, id: Int32? = nil, normalized: Bool = false, singleWord: Bool = false) {
            self.content = content
            self.id = id
            self.normalized = normalized
            self.singleWord = singleWord
        }
    }

    /// The added tokens of one kind as they are searched: longest first, each with its id.
    struct Matcher: Sendable {
        struct Entry: Sendable {
            var scalars: [Unicode.Scalar]
            var id: Int32
            var singleWord: Bool
        }
        var entries: [Entry]
    }

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
    public init(vocabularyFile path: String, lowercase: Bool, stripAccents: Bool? = nil, splitsCJK: Bool = true, maximumLength: Int,
                specialTokens names: SpecialTokenNames = SpecialTokenNames(), addedTokens: [AddedToken] = []) throws(TextModelError) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TextModelError(.unreadable, "cannot read the vocabulary \(path)")
        }
        var tokens = DataFile.lines(text)
        if tokens.last == "" { tokens.removeLast() }
        try self.init(tokens: tokens.map(String.init), lowercase: lowercase,
                      stripAccents: stripAccents, splitsCJK: splitsCJK, maximumLength: maximumLength, specialTokens: names,
                      addedTokens: addedTokens, vocabularyFile: path)
    }

    /// A tokenizer over the WordPiece vocabulary `tokens` (id = place). `addedTokens` are matched
    /// in the text besides the special tokens `names` names (the first of two with one content);
    /// one with an id past the vocabulary's end extends `tokens`, and those ids must follow on
    /// from it.
    public init(tokens vocabulary: [String], lowercase: Bool, stripAccents: Bool? = nil, splitsCJK: Bool = true, maximumLength: Int,
                specialTokens names: SpecialTokenNames = SpecialTokenNames(), addedTokens: [AddedToken] = [],
                vocabularyFile: String = "the vocabulary") throws(TextModelError) {
        var ids: [String: Int32] = [:]
        for (n, token) in vocabulary.enumerated() where ids[token] == nil { ids[token] = Int32(n) }
        var tokens = vocabulary
        var unique: [AddedToken] = []
        for token in addedTokens where !unique.contains(where: { $0.content == token.content }) { unique.append(token) }
        var added: [AddedToken] = []
        // By id, so that those past the vocabulary's end extend it in order, whatever the files' order.
        for var token in unique.enumerated().sorted(by: { ($0.element.id ?? -1, $0.offset) < ($1.element.id ?? -1, $1.offset) }).map(\.element) {
            guard let id = token.id ?? ids[token.content], id >= 0, Int(id) <= tokens.count else {
                throw TextModelError(.invalidConfiguration, token.id.map {
                    "\(vocabularyFile) adds \"\(token.content)\" as id \($0), but ids must follow on from the \(tokens.count) before it"
                } ?? "\(vocabularyFile) adds \"\(token.content)\" without an id, and the vocabulary does not hold it",
                    hint: "the tokenizer's files are damaged: reinstall the model or fix the file")
            }
            if Int(id) == tokens.count { tokens.append(token.content) }
            token.id = id
            added.append(token)
        }
        func id(_ token: String, _ role: String) throws(TextModelError) -> Int32 {
            guard let id = added.first(where: { $0.content == token })?.id ?? ids[token] else {
                let named = names.source.map { "\($0) names \(role) \"\(token)\", which \(vocabularyFile) does not hold" }
                throw TextModelError(.invalidConfiguration, named ?? "\(vocabularyFile) has no \(token) token (the tokenizer's \(role))",
                                     hint: "the vocabulary and the tokenizer's configuration belong to different models: reinstall the model (scripts/setup)")
            }
            return id
        }
        self.tokens = tokens
        self.ids = ids
        self.vocabularyFile = vocabularyFile
        self.lowercase = lowercase
        self.stripAccents = stripAccents ?? lowercase
        self.splitsCJK = splitsCJK
        self.maximumLength = max(2, maximumLength)
        unknown = try id(names.unknown, "unk_token")
        classification = try id(names.classification, "cls_token")
        separator = try id(names.separator, "sep_token")
        padding = try id(names.padding, "pad_token")
        var special = [names.unknown, names.classification, names.separator, names.padding]
        if let mask = names.mask { _ = try id(mask, "mask_token"); special.append(mask) } else if ids["[MASK]"] != nil { special.append("[MASK]") }
        for name in names.additional { _ = try id(name, "additional_special_tokens"); special.append(name) }
        for name in special where !name.isEmpty && !added.contains(where: { $0.content == name }) {
            added.append(AddedToken(name, id: try id(name, "special token")))
        }
        self.addedTokens = added.filter { !$0.content.isEmpty }.sorted { a, b in
            a.content.unicodeScalars.count != b.content.unicodeScalars.count
                ? a.content.unicodeScalars.count > b.content.unicodeScalars.count : a.content < b.content
        }
        let stripping = self.stripAccents
        let searched = self.addedTokens.compactMap { token -> (normalized: Bool, entry: Matcher.Entry)? in
            // A normalized token is searched for as the normalizer leaves it ("北京" as " 北  京 ").
            let scalars = token.normalized ? Array(Self.normalizedText(Array(token.content.unicodeScalars)[...], stripAccents: stripping, lowercase: lowercase, splittingCJK: splitsCJK).unicodeScalars)
                                           : Array(token.content.unicodeScalars)
            return scalars.isEmpty ? nil : (token.normalized, Matcher.Entry(scalars: scalars, id: token.id!, singleWord: token.singleWord))
        }
        asWritten = Matcher(entries: searched.filter { !$0.normalized }.map(\.entry))
        // Longest first once normalized too, so that each place takes the longest match.
        let normalized = searched.filter(\.normalized).map(\.entry).sorted { $0.scalars.count > $1.scalars.count }
        inNormalized = normalized.isEmpty ? nil : Matcher(entries: normalized)
    }

    /// The word pieces of `text`, without `[CLS]`, `[SEP]` or truncation.
    public func tokenize(_ text: String) -> [String] {
        pieces(text).map { tokens[Int($0)] }
    }

    /// Token ids `[CLS] … [SEP]`, truncated to `maximumLength`.
    public func encode(_ text: String) -> [Int32] {
        [classification] + pieces(text).prefix(maximumLength - 2) + [separator]
    }

    /// The ids of `text`'s pieces: added tokens as written, then (in the text between them) those
    /// matched in the normalized text, then WordPiece over the words of the rest.
    func pieces(_ text: String) -> [Int32] {
        var out: [Int32] = []
        for segment in Self.split(Array(text.unicodeScalars)[...], at: asWritten) {
            switch segment {
            case .added(let id): out.append(id)
            case .text(let scalars):
                guard let inNormalized else { out += basicTokens(scalars).flatMap(wordPieces); continue }
                let normalized = Array(Self.normalizedText(scalars, stripAccents: stripAccents, lowercase: lowercase, splittingCJK: splitsCJK).unicodeScalars)
                for part in Self.split(normalized[...], at: inNormalized) {
                    switch part {
                    case .added(let id): out.append(id)
                    case .text(let scalars): out += basicTokens(scalars, normalizing: false).flatMap(wordPieces)
                    }
                }
            }
        }
        return out
    }

    // MARK: Added tokens in the text

    enum Segment: Equatable { case text(ArraySlice<Unicode.Scalar>), added(Int32) }

    /// The text cut at each added token it spells out, leftmost first, the longest where two
    /// start at one place. A single-word token with a word character beside it is passed over,
    /// and the search goes on after it (as Hugging Face's non-overlapping search then filter).
    static func split(_ scalars: ArraySlice<Unicode.Scalar>, at matcher: Matcher) -> [Segment] {
        var out: [Segment] = []
        var start = scalars.startIndex, position = scalars.startIndex
        scan: while position < scalars.endIndex {
            for token in matcher.entries
            where token.scalars.first == scalars[position] && scalars[position...].starts(with: token.scalars) {
                let end = position + token.scalars.count
                if token.singleWord, (position > scalars.startIndex && isWordCharacter(scalars[position - 1]))
                    || (end < scalars.endIndex && isWordCharacter(scalars[end])) {
                    position = end
                    continue scan
                }
                if start < position { out.append(.text(scalars[start..<position])) }
                out.append(.added(token.id))
                position = end
                start = position
                continue scan
            }
            position += 1
        }
        if start < scalars.endIndex { out.append(.text(scalars[start...])) }
        return out
    }

    /// Unicode's `\w` (UTS #18), as Rust's regex crate defines it: alphabetic, a mark, a decimal
    /// digit, connector punctuation or a join control.
    static func isWordCharacter(_ s: Unicode.Scalar) -> Bool {
        if s.properties.isAlphabetic || s.properties.isJoinControl { return true }
        switch s.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    /// The text as BERT's normalizer leaves it: cleaned (see `basicTokens`), each CJK character
    /// between spaces (when `splittingCJK`), then accents stripped and lowercased as `normalized`
    /// does a word.
    static func normalizedText(_ text: ArraySlice<Unicode.Scalar>, stripAccents: Bool, lowercase: Bool, splittingCJK: Bool) -> String {
        var cleaned = String.UnicodeScalarView()
        for scalar in text where !isDropped(scalar) {
            if isWhitespace(scalar) {
                cleaned.append(" ")
            } else if splittingCJK && isCJK(scalar.value) {
                cleaned.append(" "); cleaned.append(scalar); cleaned.append(" ")
            } else {
                cleaned.append(scalar)
            }
        }
        return normalized(String(cleaned), stripAccents: stripAccents, lowercase: lowercase)
    }

    // MARK: Basic tokenization

    public func basicTokens(_ text: String) -> [String] { basicTokens(Array(text.unicodeScalars)[...]) }

    /// Words split at whitespace and around CJK characters, code point by code point (a
    /// combining mark after a space starts a word of its own, as in the reference, rather than
    /// joining the space as a Swift `Character` would), then normalized (unless the text already
    /// is) and split at punctuation.
    func basicTokens(_ text: ArraySlice<Unicode.Scalar>, normalizing: Bool = true) -> [String] {
        var out: [String] = []
        var word = String.UnicodeScalarView()
        func finish() {
            guard !word.isEmpty else { return }
            out += splitPunctuation(normalizing ? normalized(String(word)) : String(word))
            word = String.UnicodeScalarView()
        }
        for scalar in text where !Self.isDropped(scalar) {
            if Self.isWhitespace(scalar) {
                finish()
            } else if splitsCJK && Self.isCJK(scalar.value) {
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

    func normalized(_ word: String) -> String { Self.normalized(word, stripAccents: stripAccents, lowercase: lowercase) }

    /// Accents stripped (canonical decomposition without its nonspacing marks), then lowercased:
    /// the reference's order.
    static func normalized(_ word: String, stripAccents: Bool, lowercase: Bool) -> String {
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
            if Self.isPunctuation(scalar) {
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

    func wordPieces(_ word: String) -> [Int32] {
        let scalars = Array(word.unicodeScalars)
        guard scalars.count <= Self.maximumCharactersPerWord else { return [unknown] }
        var pieces: [Int32] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var match: Int32?
            while start < end {
                var candidate = String(String.UnicodeScalarView(scalars[start..<end]))
                if start > 0 { candidate = "##" + candidate }
                if let id = ids[candidate] { match = id; break }
                end -= 1
            }
            guard let match else { return [unknown] }
            pieces.append(match)
            start = end
        }
        return pieces
    }

    // MARK: Character classes, as BERT defines them

    /// Unicode's `White_Space` (line and paragraph separators too, as Rust's `char::is_whitespace`).
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
    }

    /// NUL, U+FFFD and the controls: what cleaning drops.
    static func isDropped(_ s: Unicode.Scalar) -> Bool { s.value == 0 || s.value == 0xFFFD || isControl(s) }

    /// Controls (but tab and line ends), formats, private-use code points and surrogates:
    /// dropped from the text.
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .privateUse, .surrogate: return true
        default: return false
        }
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    static func isCJK(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
            || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B820...0x2CEAF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }
}
