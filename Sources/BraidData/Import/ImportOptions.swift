internal import BraidCore
/// How to read an interactions file.
public struct ImportOptions: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        /// Decide by the file name and contents.
        case auto
        /// Delimited text: CSV, TSV, `::`, MovieLens `u.data` and `ratings.dat`.
        case delimited
        /// One JSON object per line.
        case jsonl
    }

    public enum Header: String, Sendable, CaseIterable {
        /// A first line whose value or timestamp field is not a number, or whose fields are
        /// all known column names, is a header.
        case auto
        case present
        case absent
    }

    public var format: Format = .auto
    public var delimiter: Delimiter?
    public var header: Header = .auto
    /// Nil: from the header names when they are recognised, else `ColumnMapping.standard`.
    public var columns: ColumnMapping?
    public var encoding: TextEncoding = .utf8
    /// Skip malformed rows (counted in the report) instead of failing on the first.
    public var skipInvalid = false
    /// The value of rows without a value column.
    public var defaultValue: Float = 1

    public init(format: Format = .auto, delimiter: Delimiter? = nil, header: Header = .auto,
                columns: ColumnMapping? = nil, encoding: TextEncoding = .utf8, skipInvalid: Bool = false) {
        self.format = format
        self.delimiter = delimiter
        self.header = header
        self.columns = columns
        self.encoding = encoding
        self.skipInvalid = skipInvalid
    }
}

/// What an import read, kept and skipped.
public struct ImportReport: Sendable, Equatable, Codable {
    public var file: String
    public var linesRead = 0
    public var rowsImported = 0
    public var rowsSkipped = 0
    public var headerLine: [String]?
    /// Whether `headerLine` was taken for a header only because words stood where a value or
    /// timestamp goes (`--header auto`, its names not a user's and an item's): a data row read
    /// that way would be lost, so the CLI says so.
    public var headerGuessed = false
    public var delimiter: String?
    /// Skipped rows per reason.
    public var skipReasons: [String: Int] = [:]
    /// The first few skipped rows' errors, rendered.
    public var skippedExamples: [String] = []

    public init(file: String) { self.file = file }

    mutating func skip(_ error: DataError) {
        rowsSkipped += 1
        skipReasons[error.code.name, default: 0] += 1
        if skippedExamples.count < 5 { skippedExamples.append(error.description) }
    }
}
