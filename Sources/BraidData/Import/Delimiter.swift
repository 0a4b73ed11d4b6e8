internal import BraidCore
/// The separator between fields of a delimited text file.
public enum Delimiter: Sendable, Equatable, Hashable, CustomStringConvertible {
    case tab, comma, semicolon, pipe
    /// MovieLens 1M/10M's `::`.
    case doubleColon
    case custom(String)

    public var text: String {
        switch self {
        case .tab: "\t"
        case .comma: ","
        case .semicolon: ";"
        case .pipe: "|"
        case .doubleColon: "::"
        case .custom(let text): text
        }
    }

    public var description: String {
        switch self {
        case .tab: "tab"
        case .comma: "comma"
        case .semicolon: "semicolon"
        case .pipe: "pipe"
        case .doubleColon: "'::'"
        case .custom(let text): "'\(text)'"
        }
    }

    /// Parses a command-line spelling: `tab`, `comma`, `semicolon`, `pipe`, `::`, `\t`, or any
    /// literal string.
    public init?(argument: String) {
        switch argument.lowercased() {
        case "tab", "\\t", "\t", "tsv": self = .tab
        case "comma", ",", "csv": self = .comma
        case "semicolon", ";": self = .semicolon
        case "pipe", "|": self = .pipe
        case "::", "doublecolon", "double-colon": self = .doubleColon
        case "auto", "": return nil
        default: self = .custom(argument)
        }
    }

    /// Guesses the delimiter of a line: `::` first, then tab, then whichever of comma,
    /// semicolon and pipe occurs most often outside quotes. Nil when none occurs.
    public static func detect(in line: String) -> Delimiter? {
        if line.contains("::") { return .doubleColon }
        if line.contains("\t") { return .tab }
        var counts: [Character: Int] = [",": 0, ";": 0, "|": 0]
        var quoted = false
        for character in line {
            if character == "\"" { quoted.toggle() } else if !quoted, counts[character] != nil { counts[character]! += 1 }
        }
        let best = counts.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }!
        guard best.value > 0 else { return nil }
        switch best.key {
        case ",": return .comma
        case ";": return .semicolon
        default: return .pipe
        }
    }

    /// Whether fields may be quoted with `"` (RFC 4180). Multi-character delimiters are never
    /// quoted in practice (MovieLens `.dat` titles contain bare quotes).
    var allowsQuoting: Bool {
        switch self {
        case .comma, .semicolon, .tab: true
        case .pipe, .doubleColon, .custom: false
        }
    }
}

/// How a text file's bytes map to characters.
public enum TextEncoding: String, Sendable, Codable, CaseIterable {
    case utf8
    /// ISO-8859-1, as MovieLens 100k's `u.item` and 1M's `movies.dat` are written.
    case latin1
}
