public import BraidCore

/// Where interactions come from. Every way Braid obtains interactions (a delimited or JSON
/// Lines file, generated data) is a source, so the commands and the library load them one way:
/// `try source.load(into: &table)`.
public protocol InteractionSource: Sendable, CustomStringConvertible {
    /// Appends this source's interactions to `table`, extending its vocabularies, and reports
    /// what was read and skipped.
    func load(into table: inout InteractionTable) throws(DataError) -> ImportReport
}

extension InteractionSource {
    /// The interactions in a new table.
    public func load() throws(DataError) -> InteractionTable {
        var table = InteractionTable()
        _ = try load(into: &table)
        return table
    }
}

/// Interactions in a file, read by `InteractionImporter` with the given options.
public struct InteractionFile: InteractionSource {
    public var path: String
    public var options: ImportOptions

    public init(_ path: String, options: ImportOptions = ImportOptions()) {
        self.path = path
        self.options = options
    }

    public var description: String { path }

    public func load(into table: inout InteractionTable) throws(DataError) -> ImportReport {
        try InteractionImporter(options: options).importFile(path, into: &table)
    }
}

extension SyntheticInteractions: InteractionSource {
    public var description: String { "synth:users=\(users),items=\(items),interactions=\(interactions),clusters=\(clusters),seed=\(seed)" }

    public func load(into table: inout InteractionTable) throws(DataError) -> ImportReport {
        var generated = generate()
        table.adoptVocabularies(of: &generated)
        table.append(contentsOf: generated)
        var report = ImportReport(file: description)
        report.rowsImported = generated.count
        return report
    }
}

/// Sources named on a command line.
public enum InteractionSources {
    /// The prefix of generated data: `synth:users=…,items=…,interactions=…[,clusters=…,seed=…]`.
    public static let syntheticPrefix = "synth:"

    /// The source a command-line location names: synthetic data for `synth:…`, else a file.
    public static func parse(_ location: String, options: ImportOptions = ImportOptions()) throws(DataError) -> any InteractionSource {
        if location.hasPrefix(syntheticPrefix) {
            return try SyntheticInteractions(specification: String(location.dropFirst(syntheticPrefix.count)))
        }
        return InteractionFile(location, options: options)
    }
}
