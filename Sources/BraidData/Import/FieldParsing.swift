internal import BraidCore
/// Parsing of the numeric and time fields of interaction files, shared by every importer.
/// Why a field did not parse, phrased to follow the quoted value.
struct ParseFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum FieldParsing {
    /// A finite number, or a description of why not.
    static func value(_ text: String) -> Result<Float, ParseFailure> {
        let trimmed = text.trimmingCharacters(in: " ")
        guard !trimmed.isEmpty else { return .failure(ParseFailure("is empty")) }
        guard let value = Double(trimmed) else { return .failure(ParseFailure("is not a number")) }
        guard value.isFinite, abs(value) <= Double(Float.greatestFiniteMagnitude) else {
            return .failure(ParseFailure("is not a finite number"))
        }
        return .success(Float(value))
    }

    /// Seconds since the epoch from an integer or decimal number of seconds or an ISO 8601
    /// date (`2024-03-01`, `2024-03-01T12:30:00Z`, `2024-03-01 12:30:00+02:00`).
    static func timestamp(_ text: String) -> Result<Int64, ParseFailure> {
        let trimmed = text.trimmingCharacters(in: " ")
        guard !trimmed.isEmpty else { return .failure(ParseFailure("is empty")) }
        if let number = Double(trimmed) {
            guard number.isFinite else { return .failure(ParseFailure("is not a finite number")) }
            guard number >= 0 else { return .failure(ParseFailure("is negative; timestamps are seconds since 1970-01-01")) }
            guard number < 1e17 else { return .failure(ParseFailure("is too large to be seconds since 1970")) }
            return .success(Int64(number))
        }
        if let seconds = iso8601(trimmed) {
            guard seconds >= 0 else { return .failure(ParseFailure("is before 1970-01-01")) }
            return .success(seconds)
        }
        return .failure(ParseFailure("is neither seconds since 1970 nor an ISO 8601 date"))
    }

    /// Parses `YYYY-MM-DD[(T| )hh:mm[:ss[.fff]]][Z|±hh:mm]`.
    static func iso8601(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        var position = 0
        func number(_ digits: Int) -> Int? {
            guard position + digits <= bytes.count else { return nil }
            var value = 0
            for k in 0..<digits {
                let b = bytes[position + k]
                guard b >= 48 && b <= 57 else { return nil }
                value = value * 10 + Int(b - 48)
            }
            position += digits
            return value
        }
        func expect(_ byte: UInt8) -> Bool {
            guard position < bytes.count && bytes[position] == byte else { return false }
            position += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        var hour = 0, minute = 0, second = 0, offset = 0
        if position < bytes.count && (bytes[position] == 84 || bytes[position] == 32) {
            position += 1
            guard let h = number(2), expect(58), let m = number(2), h < 24, m < 60 else { return nil }
            hour = h; minute = m
            if expect(58) {
                guard let s = number(2), s < 61 else { return nil }
                second = s
                if expect(46) { while position < bytes.count && bytes[position] >= 48 && bytes[position] <= 57 { position += 1 } }
            }
            if expect(90) {
            } else if position < bytes.count && (bytes[position] == 43 || bytes[position] == 45) {
                let sign = bytes[position] == 45 ? -1 : 1
                position += 1
                guard let oh = number(2) else { return nil }
                _ = expect(58)
                guard let om = number(2) else { return nil }
                offset = sign * (oh * 3600 + om * 60)
            }
        }
        guard position == bytes.count else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146097 + dayOfEra - 719468
        return Int64(days * 86400 + hour * 3600 + minute * 60 + second - offset)
    }
}
