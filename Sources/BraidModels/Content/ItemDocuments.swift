public import BraidCore

extension ItemRecord {
    /// The item's text for content models: title, categories, the other text fields in name
    /// order, then the users' distinct texts (MovieLens: "Toy Story (1995). Adventure,
    /// Animation, Children. pixar, fun").
    public var document: String {
        var parts: [String] = []
        if let title { parts.append(title) }
        if !categories.isEmpty { parts.append(categories.joined(separator: ", ")) }
        for key in text.keys.sorted() where !(text[key] ?? "").isEmpty { parts.append(text[key]!) }
        let written = distinctUserText
        if !written.isEmpty { parts.append(written.joined(separator: ", ")) }
        return parts.joined(separator: ". ")
    }
}

/// Splits text into lowercase word terms for the sparse content models.
enum TermTokenizer {
    static let stopWords: Set<String> = ["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of", "on",
                                         "or", "that", "the", "to", "was", "with", "la", "le", "les", "des", "de", "der", "die", "das"]

    /// The text lowercased and split at every character that is neither a letter nor a number,
    /// stop words left out. ASCII text is read byte by byte (its letters are A–Z and a–z, its
    /// numbers 0–9, and "\r\n", one character, is neither, as its two bytes are); other text by
    /// its characters' Unicode properties.
    static func terms(_ text: String) -> [String] {
        var text = text
        if let ascii = text.withUTF8({ utf8 in utf8.allSatisfy { $0 < 0x80 } ? asciiTerms(utf8) : nil }) { return ascii }
        return text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init).filter { !stopWords.contains($0) }
    }

    static func asciiTerms(_ utf8: UnsafeBufferPointer<UInt8>) -> [String] {
        var terms: [String] = []
        var term: [UInt8] = []
        func flush() {
            guard !term.isEmpty else { return }
            let word = String(decoding: term, as: UTF8.self)
            if !stopWords.contains(word) { terms.append(word) }
            term.removeAll(keepingCapacity: true)
        }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): term.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): term.append(byte + 32)
            default: flush()
            }
        }
        flush()
        return terms
    }
}

extension ItemRecord {
    /// Whether two records (or none) give the same `document`: the same title, categories,
    /// text fields and users' texts.
    static func sameDocument(_ a: ItemRecord?, _ b: ItemRecord?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return a.title == b.title && a.categories == b.categories && a.text == b.text
            && a.userText.elementsEqual(b.userText) { $0.text == $1.text }
    }
}
