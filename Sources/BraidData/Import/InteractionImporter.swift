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
        let defaultValue = options.defaultValue
        // The first record decides the layout (and may be a header); the rows after it are
        // parsed on several threads and added to the table in file order.
        let delimiter = try reader.forEachRecord(in: data, first: { (record, delimiter) throws(DataError) in
            let (layout, header) = try RowLayout.resolve(first: record, options: options, fileName: name)
            if let header {
                report.linesRead += 1
                report.headerLine = record.fields
                report.headerGuessed = header == .guessed
            }
            let separator = Array(delimiter.text.utf8)
            return ({ layout.parse($0, fileName: name, defaultValue: defaultValue) }, header == nil,
                    { bytes in layout.parsePlain(bytes, separator: separator, defaultValue: defaultValue).map { .success($0) } })
        }) { (parsed: Result<ParsedRow, DataError>) throws(DataError) in
            try report.take(parsed, into: &table, skippingInvalid: options.skipInvalid)
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

    /// The row of a plain line read straight from its bytes: ASCII without quotes, the
    /// layout's number of fields, ids that are not empty, values that are decimal numbers of at
    /// most 15 digits and times that are whole seconds of at most 15 digits, not negative. Any other line
    /// (or an empty `separator`) gives nil and is read, or explained, by `parse`, which gives
    /// the same row for every line this takes: a value of at most 15 digits over a power of ten
    /// up to 10²² is one correctly rounded division, as the parser of `Double(String)` rounds
    /// it, and such a time is exact as a `Double`.
    func parsePlain(_ bytes: UnsafeBufferPointer<UInt8>, separator: [UInt8], defaultValue: Float) -> ParsedRow? {
        guard let lead = separator.first, let firstByte = bytes.first, firstByte > 0x20 else { return nil }
        return withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: columnCount) { fields -> ParsedRow? in
            var count = 0, start = 0, i = 0
            while i < bytes.count {
                let byte = bytes[i]
                if byte >= 0x80 || byte == UInt8(ascii: "\"") { return nil }
                if byte == lead, i + separator.count <= bytes.count, separator.indices.allSatisfy({ bytes[i + $0] == separator[$0] }) {
                    guard count + 1 < columnCount else { return nil }
                    fields[count] = start..<i
                    count += 1
                    i += separator.count
                    start = i
                    continue
                }
                i += 1
            }
            guard count + 1 == columnCount else { return nil }
            fields[count] = start..<bytes.count
            func trimmed(_ column: Int) -> UnsafeBufferPointer<UInt8> {
                var range = fields[column]
                while !range.isEmpty && bytes[range.lowerBound] == 0x20 { range = (range.lowerBound + 1)..<range.upperBound }
                while !range.isEmpty && bytes[range.upperBound - 1] == 0x20 { range = range.lowerBound..<(range.upperBound - 1) }
                return UnsafeBufferPointer(rebasing: bytes[range])
            }
            let userBytes = trimmed(user), itemBytes = trimmed(item)
            guard !userBytes.isEmpty, !itemBytes.isEmpty else { return nil }
            var row = ParsedRow(user: String(decoding: userBytes, as: UTF8.self), item: String(decoding: itemBytes, as: UTF8.self),
                                value: defaultValue, timestamp: InteractionTable.noTimestamp, event: nil)
            if let value {
                guard let parsed = Self.plainDecimal(trimmed(value)) else { return nil }
                row.value = Float(parsed)
            }
            if let timestamp {
                // −0 is 0 either way; a time before 1970 is left to `parse` to refuse.
                guard let time = Self.plainInteger(trimmed(timestamp)), time >= 0 else { return nil }
                row.timestamp = time
            }
            if let event {
                let name = String(decoding: trimmed(event), as: UTF8.self).lowercased()
                if !name.isEmpty { row.event = name }
            }
            return row
        }
    }

    /// Powers of ten exact as `Double`s: 10⁰ … 10²².
    static let exactPowersOfTen: [Double] = (0...22).map { (0..<$0).reduce(1.0) { value, _ in value * 10 } }

    /// `-?digits` with 1 to 15 digits, exactly; nil for any other text.
    static func plainInteger(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        let negative = text.first == UInt8(ascii: "-")
        let digits = UnsafeBufferPointer(rebasing: text[(negative ? 1 : 0)...])
        guard (1...15).contains(digits.count), digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let magnitude = digits.reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) }
        return negative ? -magnitude : magnitude
    }

    /// `-?digits(.digits)?` with at most 15 digits in all, as the nearest `Double`; nil for any
    /// other text.
    static func plainDecimal(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
        var i = 0
        let negative = text.first == UInt8(ascii: "-")
        if negative { i = 1 }
        var mantissa: Int64 = 0, digits = 0, fraction = 0, sawPoint = false
        while i < text.count {
            let byte = text[i]
            if byte >= 0x30 && byte <= 0x39 {
                mantissa = mantissa * 10 + Int64(byte - 0x30)
                digits += 1
                if sawPoint { fraction += 1 }
            } else if byte == UInt8(ascii: "."), !sawPoint {
                sawPoint = true
            } else {
                return nil
            }
            i += 1
        }
        guard digits > 0, digits <= 15, !(sawPoint && fraction == 0), text.last != UInt8(ascii: ".") else { return nil }
        let magnitude = Double(mantissa) / exactPowersOfTen[fraction]
        return negative ? -magnitude : magnitude
    }

    /// One row's fields checked and parsed (any thread), or why they cannot be.
    func parse(_ record: TextRecord, fileName: String, defaultValue: Float) -> Result<ParsedRow, DataError> {
        let fields = record.fields
        func location(_ index: Int) -> DataError.Location {
            .init(file: fileName, line: record.line, column: names.indices.contains(index) ? names[index] : "\(index + 1)")
        }
        guard fields.count == columnCount else {
            return .failure(DataError(.wrongColumnCount, "expected \(columnCount) fields but found \(fields.count) in \(DataError.quote(fields.joined(separator: "|")))",
                                      location: .init(file: fileName, line: record.line),
                                      hint: "every line needs the same number of fields as the first; quote fields that contain the delimiter"))
        }
        let userID = fields[user].trimmingCharacters(in: " ")
        let itemID = fields[item].trimmingCharacters(in: " ")
        guard !userID.isEmpty else { return .failure(DataError(.invalidValue, "the user id is empty", location: location(user))) }
        guard !itemID.isEmpty else { return .failure(DataError(.invalidValue, "the item id is empty", location: location(item))) }
        var row = ParsedRow(user: userID, item: itemID, value: defaultValue, timestamp: InteractionTable.noTimestamp, event: nil)
        if let value {
            switch FieldParsing.value(fields[value]) {
            case .success(let parsed): row.value = parsed
            case .failure(let why):
                return .failure(DataError(.invalidValue, "value \(DataError.quote(fields[value])) \(why)", location: location(value),
                                          hint: "values must be finite numbers with a '.' decimal point; fix the row or pass --skip-invalid"))
            }
        }
        if let timestamp {
            switch FieldParsing.timestamp(fields[timestamp]) {
            case .success(let parsed): row.timestamp = parsed
            case .failure(let why):
                return .failure(DataError(.invalidTimestamp, "timestamp \(DataError.quote(fields[timestamp])) \(why)", location: location(timestamp),
                                          hint: "use seconds since 1970 or an ISO 8601 date; fix the row or pass --skip-invalid"))
            }
        }
        if let event {
            let name = fields[event].trimmingCharacters(in: " ").lowercased()
            if !name.isEmpty { row.event = name }
        }
        return .success(row)
    }
}

/// One interaction as read from a row, before its ids are numbered.
struct ParsedRow: Sendable {
    var user: String, item: String
    var value: Float
    var timestamp: Int64
    var event: String?

    /// Numbers its ids (and event type) in `table`'s vocabularies and appends it.
    func add(to table: inout InteractionTable) {
        table.append(user: table.users.insert(user), item: table.items.insert(item), value: value,
                     timestamp: timestamp, event: event.map { table.eventIndex($0) } ?? -1)
    }
}

extension ImportReport {
    /// Counts a data line and adds its row to `table`; a row that did not parse is skipped
    /// and counted when `skippingInvalid`, else thrown.
    mutating func take(_ parsed: Result<ParsedRow, DataError>, into table: inout InteractionTable, skippingInvalid: Bool) throws(DataError) {
        linesRead += 1
        switch parsed {
        case .success(let row):
            row.add(to: &table)
            rowsImported += 1
        case .failure(let error):
            guard skippingInvalid else { throw error }
            skip(error)
        }
    }
}
