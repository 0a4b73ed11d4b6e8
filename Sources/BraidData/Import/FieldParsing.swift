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

    /// Whether a field is words rather than a malformed number or date: what only a header
    /// holds where values or timestamps go. `nan`, `inf`, `1e400`, `-5` and empty fields are
    /// numbers (or blanks) that fail their checks, so a first line holding them is reported
    /// as a bad row instead of being taken for a header and dropped.
    static func isWords(_ text: String) -> Bool {
        let trimmed = text.trimmingCharacters(in: " ")
        return !trimmed.isEmpty && Double(trimmed) == nil && ISO8601.seconds(trimmed) == nil
    }

    /// Seconds since the epoch from an integer or decimal number of seconds or an ISO 8601
    /// date (`2024-03-01`, `2024-03-01T12:30:00Z`, `2024-03-01 12:30:00+02:00`: `ISO8601`),
    /// whole seconds.
    static func timestamp(_ text: String) -> Result<Int64, ParseFailure> {
        let trimmed = text.trimmingCharacters(in: " ")
        guard !trimmed.isEmpty else { return .failure(ParseFailure("is empty")) }
        if let number = Double(trimmed) {
            guard number.isFinite else { return .failure(ParseFailure("is not a finite number")) }
            guard number >= 0 else { return .failure(ParseFailure("is negative; timestamps are seconds since 1970-01-01")) }
            guard number < 1e17 else { return .failure(ParseFailure("is too large to be seconds since 1970")) }
            return .success(Int64(number))
        }
        if let seconds = ISO8601.seconds(trimmed) {
            guard seconds >= 0 else { return .failure(ParseFailure("is before 1970-01-01")) }
            return .success(Int64(seconds))
        }
        return .failure(ParseFailure("is neither seconds since 1970 nor an ISO 8601 date"))
    }
}
