internal import BraidCore
import Foundation

/// Reads interactions from JSON Lines: one object per line with a user and an item field
/// (names as `ColumnRole` recognises them, or as `--columns role=name` maps them) and
/// optional value, timestamp and event fields.
struct JSONLinesInteractionReader: Sendable {
    var fileName: String
    var options: ImportOptions

    func read(_ data: Data, into table: inout InteractionTable) throws(DataError) -> ImportReport {
        var report = ImportReport(file: fileName)
        var sawLine = false
        let reader = self
        // Lines are parsed on several threads and added to the table in file order.
        try DelimitedTextReader.withText(of: data) { (text) throws(DataError) in
            try DelimitedTextReader.forEachLine(in: text, fileName: fileName, maximumLength: 1 << 20,
                                                transform: { (number, bytes) -> Result<ParsedRow, DataError>? in
                                                    guard !PlainJSONObject.isBlank(bytes) else { return nil }
                                                    do throws(DataError) { return .success(try reader.row(bytes, number: number)) } catch { return .failure(error) }
                                                }) { (parsed) throws(DataError) in
                sawLine = true
                try report.take(parsed, into: &table, skippingInvalid: options.skipInvalid)
            }
        }
        guard sawLine else {
            throw DataError(data.isEmpty ? .emptyInput : .noDataRows, data.isEmpty ? "the file is empty" : "the file has only blank lines",
                            location: .init(file: fileName), hint: "give one JSON object per line")
        }
        return report
    }

    /// One line's interaction, or why it is not one.
    private func row(_ bytes: UnsafeBufferPointer<UInt8>, number: Int) throws(DataError) -> ParsedRow {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw DataError(.invalidEncoding, "the line is not valid UTF-8", location: .init(file: fileName, line: number),
                            hint: "JSON Lines files must be UTF-8")
        }
        if let plain = PlainJSONObject(bytes), let row = plainRow(plain, bytes) { return row }
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
        let sortedKeys = object.keys.sorted()
        let named = roleKeys(sortedKeys)
        func key(for role: ColumnRole) -> String? { named[role] }
        func location(_ field: String?) -> DataError.Location { .init(file: fileName, line: number, column: field) }
        func identifier(_ role: ColumnRole) throws(DataError) -> String {
            guard let name = key(for: role) else {
                throw DataError(.missingColumn, "the object has no \(role.rawValue) field (keys: \(sortedKeys.joined(separator: ", ")))",
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
        var event: String?
        if let name = key(for: .event), let raw = object[name] as? String, !raw.isEmpty { event = raw.lowercased() }
        return ParsedRow(user: userID, item: itemID, value: value, timestamp: timestamp, event: event)
    }

    /// Each role's field among `keys` (sorted): as --columns names it, else the first key that
    /// names the role.
    func roleKeys(_ keys: [String]) -> [ColumnRole: String] {
        var named: [ColumnRole: String] = [:]
        for key in keys { if let role = ColumnRole.forHeader(key), named[role] == nil { named[role] = key } }
        if case .headerNames(let names)? = options.columns {
            for (role, name) in names { named[role] = keys.contains(name) ? name : nil }
        }
        return named
    }

    /// The row of a plain line (`PlainJSONObject`) when its fields need no more than its bytes:
    /// string ids without escapes or whole-number ids, values and times as plain numbers or
    /// unescaped text, an unescaped event. Anything else (including every line that is an
    /// error) gives nil, and the line is read as before; for the rest this gives what that gives.
    func plainRow(_ object: PlainJSONObject, _ bytes: UnsafeBufferPointer<UInt8>) -> ParsedRow? {
        let named = roleKeys(object.members.keys.sorted())
        func member(_ role: ColumnRole) -> PlainJSONObject.Value? { named[role].flatMap { object.members[$0] } }
        func text(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }
        func identifier(_ role: ColumnRole) -> String? {
            switch member(role) {
            case .string(let range, escaped: false)? where !range.isEmpty: return text(range)
            case .number(let range, integer: true)?:
                // At most 15 digits: exact, and below 10¹⁵ as the other reading requires.
                return RowLayout.plainInteger(UnsafeBufferPointer(rebasing: bytes[range])).map { String($0) }
            default: return nil
            }
        }
        guard let user = identifier(.user), let item = identifier(.item) else { return nil }
        var row = ParsedRow(user: user, item: item, value: options.defaultValue, timestamp: InteractionTable.noTimestamp, event: nil)
        switch member(.value) {
        case nil, .null?: break
        case .number(let range, _)?:
            // A negative zero reads as 0 one way and -0 the other: left to the other reading.
            guard let value = RowLayout.plainDecimal(UnsafeBufferPointer(rebasing: bytes[range])), value != 0 || value.sign == .plus else { return nil }
            row.value = Float(value)
        case .string(let range, escaped: false)?:
            guard case .success(let value) = FieldParsing.value(text(range)) else { return nil }
            row.value = value
        default: return nil
        }
        switch member(.timestamp) {
        case nil, .null?: break
        case .number(let range, integer: true)?:
            guard let time = RowLayout.plainInteger(UnsafeBufferPointer(rebasing: bytes[range])), time >= 0 else { return nil }
            row.timestamp = time
        case .string(let range, escaped: false)?:
            guard case .success(let time) = FieldParsing.timestamp(text(range)) else { return nil }
            row.timestamp = time
        default: return nil
        }
        switch member(.event) {
        case .string(let range, escaped: false)? where !range.isEmpty: row.event = text(range).lowercased()
        case .string(_, escaped: true)?: return nil
        default: break
        }
        return row
    }
}
