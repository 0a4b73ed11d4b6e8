/// An error in the data Braid was given: a file it cannot read, a row it cannot parse, an
/// option that does not fit the data.
///
/// The message carries the actual values, and `location` names the file, line and column,
/// so that the person reading it can find the row and fix it.
/// Example: `ratings.csv line 18 column rating: "4,5" is not a number`.
public struct DataError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem this is. New codes can be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        public static let fileNotFound = Code("fileNotFound")
        public static let unreadable = Code("unreadable")
        public static let emptyInput = Code("emptyInput")
        public static let noDataRows = Code("noDataRows")
        public static let invalidEncoding = Code("invalidEncoding")
        public static let lineTooLong = Code("lineTooLong")
        public static let unknownDelimiter = Code("unknownDelimiter")
        public static let wrongColumnCount = Code("wrongColumnCount")
        public static let invalidValue = Code("invalidValue")
        public static let invalidTimestamp = Code("invalidTimestamp")
        public static let missingColumn = Code("missingColumn")
        public static let invalidArgument = Code("invalidArgument")
        public static let unknownIdentifier = Code("unknownIdentifier")
        public static let writeFailed = Code("writeFailed")
        public static let corruptFile = Code("corruptFile")
    }

    /// Where in the input the problem is.
    public struct Location: Sendable, Equatable {
        public var file: String
        public var line: Int?
        public var column: String?
        public init(file: String, line: Int? = nil, column: String? = nil) {
            self.file = file
            self.line = line
            self.column = column
        }
    }

    public var code: Code
    /// What went wrong, with the offending value quoted.
    public var message: String
    public var location: Location?
    /// What the reader can do about it.
    public var hint: String?

    public init(_ code: Code, _ message: String, location: Location? = nil, hint: String? = nil) {
        self.code = code
        self.message = message
        self.location = location
        self.hint = hint
    }

    public var description: String {
        var text = ""
        if let location {
            text += location.file
            if let line = location.line { text += " line \(line)" }
            if let column = location.column { text += " column \(column)" }
            text += ": "
        }
        text += message
        if let hint { text += ". " + hint }
        return text
    }

    /// A file's path, quoted whole: a message that names a file names all of it.
    public static func quotePath<S: StringProtocol>(_ path: S) -> String { quote(path, limit: .max) }

    /// A quoted, shortened rendering of a value for an error message. What would not show is
    /// written out: a tab, carriage return or line feed as `\t`, `\r`, `\n`, any other control or
    /// format code point (a byte order mark, a zero-width space) as `\u{FEFF}`; so that
    /// "964982703\r" does not read as the valid "964982703".
    public static func quote<S: StringProtocol>(_ value: S, limit: Int = 60) -> String {
        var shown = "\""
        for scalar in value.prefix(limit).unicodeScalars {
            switch scalar {
            case "\"": shown += "\\\""
            case "\t": shown += "\\t"
            case "\r": shown += "\\r"
            case "\n": shown += "\\n"
            default:
                switch scalar.properties.generalCategory {
                case .control, .format: shown += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                default: shown.unicodeScalars.append(scalar)
                }
            }
        }
        return shown + (value.count > limit ? "…\"" : "\"")
    }
}
