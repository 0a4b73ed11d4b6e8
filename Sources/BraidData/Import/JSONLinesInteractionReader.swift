internal import BraidCore
import Foundation

/// Reads interactions from JSON Lines: one object per line with a user and an item field
/// (names as `ColumnRole` recognises them, or as `--columns role=name` maps them) and
/// optional value, timestamp and event fields.
struct JSONLinesInteractionReader {
    var fileName: String
    var options: ImportOptions

    func read(_ data: Data, into table: inout InteractionTable) throws(DataError) -> ImportReport {
        var report = ImportReport(file: fileName)
        var sawLine = false
        try DelimitedTextReader.forEachLine(in: data, fileName: fileName, maximumLength: 1 << 20) { (number, bytes) throws(DataError) in
            guard bytes.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { return }
            sawLine = true
            report.linesRead += 1
            do throws(DataError) {
                try appendLine(bytes, number: number, to: &table)
                report.rowsImported += 1
            } catch {
                guard options.skipInvalid else { throw error }
                report.skip(error)
            }
        }
        guard sawLine else {
            throw DataError(data.isEmpty ? .emptyInput : .noDataRows, data.isEmpty ? "the file is empty" : "the file has only blank lines",
                            location: .init(file: fileName), hint: "give one JSON object per line")
        }
        return report
    }

    private func appendLine(_ bytes: UnsafeBufferPointer<UInt8>, number: Int, to table: inout InteractionTable) throws(DataError) {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw DataError(.invalidEncoding, "the line is not valid UTF-8", location: .init(file: fileName, line: number),
                            hint: "JSON Lines files must be UTF-8")
        }
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw DataError(.invalidValue, "the line is JSON but not an object", location: .init(file: fileName, line: number))
            }
            object = parsed
        } catch let error as DataError {
            throw error
        } catch {
            throw DataError(.invalidValue, "the line is not valid JSON: \(DataError.quote(String(decoding: bytes.prefix(80), as: UTF8.self)))",
                            location: .init(file: fileName, line: number), hint: "each line must be one JSON object")
        }
        func key(for role: ColumnRole) -> String? {
            if case .headerNames(let names)? = options.columns, let name = names[role] { return object[name] != nil ? name : nil }
            return object.keys.sorted().first { ColumnRole.forHeader($0) == role }
        }
        func location(_ field: String?) -> DataError.Location { .init(file: fileName, line: number, column: field) }
        func identifier(_ role: ColumnRole) throws(DataError) -> String {
            guard let name = key(for: role) else {
                throw DataError(.missingColumn, "the object has no \(role.rawValue) field (keys: \(object.keys.sorted().joined(separator: ", ")))",
                                location: location(nil), hint: "name it \(role.rawValue), or map it with --columns \(role.rawValue)=FIELD")
            }
            switch object[name] {
            case let text as String where !text.isEmpty: return text
            case let number as NSNumber:
                let double = number.doubleValue
                return double == double.rounded() && abs(double) < 1e15 ? String(Int64(double)) : number.stringValue
            default:
                throw DataError(.invalidValue, "\(role.rawValue) id \(DataError.quote(String(describing: object[name]!))) is not a string or number",
                                location: location(name))
            }
        }
        func text(_ any: Any) -> String {
            if let number = any as? NSNumber { return number.stringValue }
            return any as? String ?? String(describing: any)
        }
        let userID = try identifier(.user)
        let itemID = try identifier(.item)
        var value = options.defaultValue
        if let name = key(for: .value), let raw = object[name], !(raw is NSNull) {
            switch FieldParsing.value(text(raw)) {
            case .success(let parsed): value = parsed
            case .failure(let why):
                throw DataError(.invalidValue, "value \(DataError.quote(text(raw))) \(why)", location: location(name),
                                hint: "fix the row or pass --skip-invalid")
            }
        }
        var timestamp = InteractionTable.noTimestamp
        if let name = key(for: .timestamp), let raw = object[name], !(raw is NSNull) {
            switch FieldParsing.timestamp(text(raw)) {
            case .success(let parsed): timestamp = parsed
            case .failure(let why):
                throw DataError(.invalidTimestamp, "timestamp \(DataError.quote(text(raw))) \(why)", location: location(name),
                                hint: "use seconds since 1970 or an ISO 8601 date")
            }
        }
        var event: Int16 = -1
        if let name = key(for: .event), let raw = object[name] as? String, !raw.isEmpty { event = table.eventIndex(raw.lowercased()) }
        table.append(user: table.users.insert(userID), item: table.items.insert(itemID), value: value, timestamp: timestamp, event: event)
    }
}
