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

    static func terms(_ text: String) -> [String] {
        text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init).filter { !stopWords.contains($0) }
    }
}
