public import BraidCore
internal import Foundation

/// Reads what is known about users beyond their interactions (`--user-attributes FILE`):
/// MovieLens 100k `u.user`, MovieLens 1M `users.dat`, or a generic CSV/TSV file with a header.
///
/// A column whose every non-empty value is a finite number becomes a numeric attribute (age,
/// tenure, …); any other column gives categories `column=value`, several values separated by
/// `|` (`country=FR`, `plan=pro`). Each user's id appears once.
public struct UserAttributesImporter: Sendable {
    public init() {}

    /// Imports the file at `path`, choosing the layout by its name.
    public func importFile(_ path: String) throws(DataError) -> [String: UserRecord] {
        let name = (path as NSString).lastPathComponent.lowercased()
        let data = try DelimitedTextReader.contents(ofFile: path)
        let records: [String: UserRecord]
        switch name {
        case "u.user":
            // id|age|gender|occupation|zip code
            records = try fixed(data, fileName: path, delimiter: .pipe, columns: ["age", "gender", "occupation", "zip"], numeric: ["age"])
        case "users.dat":
            // UserID::Gender::Age::Occupation::Zip-code; the age is a band's code, the occupation a code.
            records = try fixed(data, fileName: path, delimiter: .doubleColon, columns: ["gender", "age", "occupation", "zip"], numeric: [])
        default:
            records = try delimited(data, fileName: path)
        }
        guard !records.isEmpty else {
            throw DataError(.noDataRows, "the user file has no users", location: .init(file: path),
                            hint: "give one line per user: an id, then its attributes")
        }
        return records
    }

    /// A header-less file of `id` and then `columns`, in that order.
    func fixed(_ data: Data, fileName: String, delimiter: Delimiter, columns: [String], numeric: Set<String>) throws(DataError) -> [String: UserRecord] {
        let names = ["user"] + columns
        let (_, rows) = try Self.rows(data, reader: DelimitedTextReader(fileName: fileName, delimiter: delimiter, encoding: .latin1), names: names,
                                      hint: "is this MovieLens' \((fileName as NSString).lastPathComponent)?")
        return try Self.records(rows, names: names, idColumn: 0, numeric: numeric, fileName: fileName)
    }

    /// A file with a header: the column named like a user id (`user`, `user_id`, `userId`, `id`),
    /// else the first, is the id.
    func delimited(_ data: Data, fileName: String) throws(DataError) -> [String: UserRecord] {
        let (read, rows) = try Self.rows(data, reader: DelimitedTextReader(fileName: fileName), names: nil, hint: "quote fields that contain the delimiter")
        guard let header = read else {
            throw DataError(.emptyInput, "the user file is empty", location: .init(file: fileName),
                            hint: "give a header (user,age,country,…) and one line per user")
        }
        let idColumn = header.firstIndex { ColumnRole.forHeader($0) == .user || $0.lowercased() == "id" } ?? 0
        // Numeric columns: every non-empty value a finite number (the id column aside).
        var numeric = Set<String>()
        for (column, name) in header.enumerated() where column != idColumn {
            let values = rows.map { $0.fields[column] }.filter { !$0.isEmpty }
            if !values.isEmpty, values.allSatisfy({ Double($0)?.isFinite == true }) { numeric.insert(name) }
        }
        return try Self.records(rows, names: header, idColumn: idColumn, numeric: numeric, fileName: fileName)
    }

    /// The rows `reader` reads from `data`, each as wide as `names` (nil: the first row is a
    /// header naming the columns, returned as the names); a row of another width is an error.
    /// Rows are split on every thread and kept in file order (the first bad line is the one named).
    static func rows(_ data: Data, reader: DelimitedTextReader, names given: [String]?,
                     hint: String) throws(DataError) -> (names: [String]?, rows: [(line: Int, fields: [String])]) {
        var names = given
        var rows: [(line: Int, fields: [String])] = []
        let fileName = reader.fileName
        _ = try reader.forEachRecord(in: data, first: { (first, _) throws(DataError) in
            let expected = given ?? first.fields
            names = expected
            let transform: @Sendable (TextRecord) -> Result<(line: Int, fields: [String]), DataError> = { record in
                guard record.fields.count == expected.count else {
                    return .failure(DataError(.wrongColumnCount, "expected \(expected.count) fields (\(expected.joined(separator: ", "))), found \(record.fields.count)",
                                              location: .init(file: fileName, line: record.line), hint: hint))
                }
                return .success((record.line, record.fields))
            }
            return (transform, given != nil, nil)
        }) { (row: Result<(line: Int, fields: [String]), DataError>) throws(DataError) in
            rows.append(try row.get())
        }
        return (names, rows)
    }

    /// One record per row: the numeric columns `numeric` as attributes, every other column's
    /// non-empty values as categories `name=value`; an id given twice is an error naming both lines.
    static func records(_ rows: [(line: Int, fields: [String])], names: [String], idColumn: Int, numeric: Set<String>,
                        fileName: String) throws(DataError) -> [String: UserRecord] {
        var records: [String: UserRecord] = [:]
        var lines: [String: Int] = [:]
        for row in rows {
            let id = row.fields[idColumn]
            guard !id.isEmpty else {
                throw DataError(.invalidValue, "the user id is empty", location: .init(file: fileName, line: row.line, column: names[idColumn]),
                                hint: "give every line a user id")
            }
            if let first = lines[id] {
                throw DataError(.invalidValue, "user \(DataError.quote(id)) is described twice, on lines \(first) and \(row.line)",
                                location: .init(file: fileName, line: row.line, column: names[idColumn]), hint: "keep one line per user")
            }
            lines[id] = row.line
            var record = UserRecord(id: id)
            for (column, name) in names.enumerated() where column != idColumn {
                let value = row.fields[column].trimmingCharacters(in: .whitespaces)
                guard !value.isEmpty else { continue }
                if numeric.contains(name) {
                    guard let number = Double(value), number.isFinite else {
                        throw DataError(.invalidValue, "value \(DataError.quote(value)) is not a finite number",
                                        location: .init(file: fileName, line: row.line, column: name), hint: "give the \(name) as a number, or leave it empty")
                    }
                    record.attributes[name] = number
                } else {
                    record.categories += value.split(separator: "|").map { "\(name)=\($0.trimmingCharacters(in: .whitespaces))" }
                }
            }
            records[id] = record
        }
        return records
    }
}
