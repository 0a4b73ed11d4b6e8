public import BraidCore
public import Foundation

/// Reads interactions from delimited text or JSON Lines into an `InteractionTable`.
///
/// Strict by default: the first malformed row throws an error naming the file, line, column
/// and value, and nothing is returned. With `skipInvalid` malformed rows are counted in the
/// `ImportReport` instead.
public struct InteractionImporter: Sendable {
    public var options: ImportOptions

    public init(options: ImportOptions = ImportOptions()) { self.options = options }

    /// Imports the file at `path`, adding to the vocabularies of `table` (so that a test file
    /// shares the training file's indices).
    public func importFile(_ path: String, into table: inout InteractionTable) throws(DataError) -> ImportReport {
        let data = try DelimitedTextReader.contents(ofFile: path)
        return try importData(data, named: path, into: &table)
    }

    /// Imports the file at `path` into a new table.
    public func importFile(_ path: String) throws(DataError) -> (InteractionTable, ImportReport) {
        var table = InteractionTable()
        let report = try importFile(path, into: &table)
        return (table, report)
    }

    /// Imports bytes as if read from a file called `name`.
    public func importData(_ data: Data, named name: String, into table: inout InteractionTable) throws(DataError) -> ImportReport {
        var staged = table  // a failed import leaves `table` untouched
        let report: ImportReport
        if resolvedFormat(name: name, data: data) == .jsonl {
            report = try JSONLinesInteractionReader(fileName: name, options: options).read(data, into: &staged)
        } else {
            report = try importDelimited(data, named: name, into: &staged)
        }
        guard report.rowsImported > 0 else {
            throw DataError(.noDataRows,
                            report.rowsSkipped > 0 ? "no valid rows: all \(report.rowsSkipped) data rows were skipped (\(report.skippedExamples.first ?? ""))"
                                                   : "the file has a header but no data rows",
                            location: .init(file: name), hint: "give a file with at least one interaction")
        }
        table = staged
        return report
    }

    func resolvedFormat(name: String, data: Data) -> ImportOptions.Format {
        if options.format != .auto { return options.format }
        let lower = Gzip.uncompressedName(name).lowercased()
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") || lower.hasSuffix(".json") { return .jsonl }
        let firstByte = data.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D && $0 != 0xEF && $0 != 0xBB && $0 != 0xBF }
        return firstByte == UInt8(ascii: "{") ? .jsonl : .delimited
    }

    private func importDelimited(_ data: Data, named name: String, into table: inout InteractionTable) throws(DataError) -> ImportReport {
        var report = ImportReport(file: name)
        let reader = DelimitedTextReader(fileName: name, delimiter: options.delimiter, encoding: options.encoding)
        var layout: RowLayout?
        let delimiter = try reader.forEachRecord(in: data) { (record) throws(DataError) in
            report.linesRead += 1
            if layout == nil {
                let (resolved, header) = try RowLayout.resolve(first: record, options: options, fileName: name)
                layout = resolved
                if let header {
                    report.headerLine = record.fields
                    report.headerGuessed = header == .guessed
                    return
                }
            }
            do throws(DataError) {
                try layout!.append(record, to: &table, fileName: name, defaultValue: options.defaultValue)
                report.rowsImported += 1
            } catch {
                guard options.skipInvalid else { throw error }
                report.skip(error)
            }
        }
        report.delimiter = delimiter.description
        return report
    }
}

/// The positions of the fields in each row of one delimited file.
struct RowLayout {
    var columnCount: Int
    var names: [String]
    var user: Int, item: Int
    var value: Int?, timestamp: Int?, event: Int?

    /// Why the first line is a header: `--header present`, names for the user and item
    /// columns, or (guessed) words where a value or timestamp goes.
    enum Header { case stated, named, guessed }

    /// Decides the layout and whether (and why) `first` is a header.
    static func resolve(first: TextRecord, options: ImportOptions, fileName: String) throws(DataError) -> (RowLayout, Header?) {
        let fields = first.fields
        let headerRoles = fields.map { ColumnRole.forHeader($0) }
        let header: Header? = {
            switch options.header {
            case .present: return .stated
            case .absent: return nil
            case .auto:
                let recognised = headerRoles.compactMap { $0 }
                if recognised.contains(.user) && recognised.contains(.item) { return .named }
                // Words where a value or timestamp goes can only be a header; a number that
                // fails its checks (NaN, a negative time) is a bad row, reported as such.
                if case .positions(let roles) = options.columns ?? .standard {
                    for (index, role) in roles.enumerated() where index < fields.count {
                        if role == .value || role == .timestamp, FieldParsing.isWords(fields[index]) { return .guessed }
                    }
                }
                return nil
            }
        }()
        let looksLikeHeader = header != nil
        var roles: [ColumnRole?] = Array(repeating: nil, count: fields.count)
        switch options.columns {
        case .positions(let given)?:
            for (index, role) in given.enumerated() where index < roles.count { roles[index] = role }
        case .headerNames(let names)?:
            guard looksLikeHeader else {
                throw DataError(.missingColumn, "--columns names header columns, but the first line \(DataError.quote(fields.joined(separator: ","))) is not a header",
                                location: .init(file: fileName, line: first.line), hint: "use positional --columns such as user,item,rating")
            }
            for (role, name) in names {
                guard let index = fields.firstIndex(where: { $0 == name }) else {
                    throw DataError(.missingColumn, "no header column is called \(DataError.quote(name)) (the header has \(fields.map { DataError.quote($0) }.joined(separator: ", ")))",
                                    location: .init(file: fileName, line: first.line), hint: "fix --columns \(role.rawValue)=…")
                }
                roles[index] = role
            }
        case nil:
            let recognised = headerRoles.compactMap { $0 }
            if looksLikeHeader && recognised.contains(.user) && recognised.contains(.item) {
                var seen = Set<ColumnRole>()
                for (index, role) in headerRoles.enumerated() {
                    if let role, !seen.contains(role) { roles[index] = role; seen.insert(role) }
                }
            } else {
                if case .positions(let standard) = ColumnMapping.standard {
                    for (index, role) in standard.enumerated() where index < roles.count { roles[index] = role }
                }
            }
        }
        guard let user = roles.firstIndex(of: .user), let item = roles.firstIndex(of: .item) else {
            throw DataError(.missingColumn, "line has \(fields.count) field(s) \(DataError.quote(fields.joined(separator: "|"))); need at least a user and an item column",
                            location: .init(file: fileName, line: first.line),
                            hint: "check --delimiter, or map the columns with --columns user,item,rating,timestamp")
        }
        let layout = RowLayout(columnCount: fields.count,
                               names: looksLikeHeader ? fields : roles.map { $0?.rawValue ?? "_" },
                               user: user, item: item,
                               value: roles.firstIndex(of: .value), timestamp: roles.firstIndex(of: .timestamp),
                               event: roles.firstIndex(of: .event))
        return (layout, header)
    }

    func append(_ record: TextRecord, to table: inout InteractionTable, fileName: String, defaultValue: Float) throws(DataError) {
        let fields = record.fields
        func location(_ index: Int) -> DataError.Location {
            .init(file: fileName, line: record.line, column: names.indices.contains(index) ? names[index] : "\(index + 1)")
        }
        guard fields.count == columnCount else {
            throw DataError(.wrongColumnCount, "expected \(columnCount) fields but found \(fields.count) in \(DataError.quote(fields.joined(separator: "|")))",
                            location: .init(file: fileName, line: record.line),
                            hint: "every line needs the same number of fields as the first; quote fields that contain the delimiter")
        }
        let userID = fields[user].trimmingCharacters(in: " ")
        let itemID = fields[item].trimmingCharacters(in: " ")
        guard !userID.isEmpty else { throw DataError(.invalidValue, "the user id is empty", location: location(user)) }
        guard !itemID.isEmpty else { throw DataError(.invalidValue, "the item id is empty", location: location(item)) }
        var rowValue = defaultValue
        if let value {
            switch FieldParsing.value(fields[value]) {
            case .success(let parsed): rowValue = parsed
            case .failure(let why):
                throw DataError(.invalidValue, "value \(DataError.quote(fields[value])) \(why)", location: location(value),
                                hint: "values must be finite numbers with a '.' decimal point; fix the row or pass --skip-invalid")
            }
        }
        var rowTime = InteractionTable.noTimestamp
        if let timestamp {
            switch FieldParsing.timestamp(fields[timestamp]) {
            case .success(let parsed): rowTime = parsed
            case .failure(let why):
                throw DataError(.invalidTimestamp, "timestamp \(DataError.quote(fields[timestamp])) \(why)", location: location(timestamp),
                                hint: "use seconds since 1970 or an ISO 8601 date; fix the row or pass --skip-invalid")
            }
        }
        var eventIndex: Int16 = -1
        if let event {
            let name = fields[event].trimmingCharacters(in: " ").lowercased()
            if !name.isEmpty { eventIndex = table.eventIndex(name) }
        }
        table.append(user: table.users.insert(userID), item: table.items.insert(itemID), value: rowValue,
                     timestamp: rowTime, event: eventIndex)
    }
}
