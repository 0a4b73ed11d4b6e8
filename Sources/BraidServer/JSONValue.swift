internal import BraidCore
internal import Foundation

/// Any JSON value, decoded strictly (a number is never a string, a Boolean never a number),
/// so that a request's fields can be checked one by one and an error can name the field.
public enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value.isFinite ? value : 0)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a Boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// Compact JSON text.
    ///
    /// The same text as `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]` writes
    /// (keys in the order of their UTF-8 bytes, a whole number without ".0", control characters
    /// escaped, a value that is not finite as 0), written directly: through the encoder, a
    /// list's reply took a twentieth of the server's CPU.
    public var text: String {
        var out = ""
        out.reserveCapacity(256)
        write(to: &out)
        return out
    }

    /// The value laid out as `JSONSerialization` pretty-prints it: one member or element per
    /// line, two spaces of indent per level, `"key" : value`, keys in the order of their UTF-8
    /// bytes: the CLI's `--json` output. The same numbers and strings as `text`.
    public var prettyText: String {
        var out = ""
        write(to: &out, indent: 0)
        return out
    }

    /// Writes the value compactly (`indent` nil: `text`) or laid out from depth `indent`
    /// (`prettyText`): the same values, keys in the same order.
    func write(to out: inout String, indent: Int? = nil) {
        // Pretty only: a new line, indented to `level`, before each member or element and
        // before the bracket that closes a non-empty container.
        func breakLine(_ level: Int?) {
            guard let level else { return }
            out += "\n"
            for _ in 0..<level { out += "  " }
        }
        let inner = indent.map { $0 + 1 }
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .number(let value):
            let text = (value.isFinite ? value : 0).description
            out += text.hasSuffix(".0") ? text.dropLast(2) : Substring(text)
        case .string(let value): Self.write(value, to: &out)
        case .array(let values):
            out += "["
            for (n, value) in values.enumerated() {
                if n > 0 { out += "," }
                breakLine(inner)
                value.write(to: &out, indent: inner)
            }
            if !values.isEmpty { breakLine(indent) }
            out += "]"
        case .object(let fields):
            out += "{"
            for (n, field) in fields.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
                if n > 0 { out += "," }
                breakLine(inner)
                Self.write(field.key, to: &out)
                out += indent == nil ? ":" : " : "
                field.value.write(to: &out, indent: inner)
            }
            if !fields.isEmpty { breakLine(indent) }
            out += "}"
        }
    }

    /// A JSON string: quotes, backslashes and control characters escaped, the rest as is.
    static func write(_ string: String, to out: inout String) {
        out += "\""
        guard string.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            out += string
            out += "\""
            return
        }
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{8}": out += "\\b"
            case "\u{C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    static func parse(_ data: Data) throws(APIError) -> JSONValue {
        guard String(validating: data, as: UTF8.self) != nil else {
            throw APIError(.badRequest, "invalidJSON", "the request body is not valid UTF-8")
        }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw APIError(.badRequest, "invalidJSON", "the request body is not valid JSON: \(Self.describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            return (context.underlyingError.map { "\($0.localizedDescription)" }) ?? context.debugDescription
        }
        return "\(error)"
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
                     ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(Dictionary(elements) { a, _ in a }) }
}

/// A JSON object from a request, read field by field: every error names the field's path
/// (`feedback[3].value`) and the value that was wrong.
struct Fields {
    let object: [String: JSONValue]
    let path: String
    let limits: Limits

    init(_ value: JSONValue, path: String, limits: Limits) throws(APIError) {
        guard case .object(let object) = value else {
            throw APIError(.badRequest, "invalidField", "\(path.isEmpty ? "the body" : path) must be an object, not \(value.typeName)")
        }
        self.object = object
        self.path = path
        self.limits = limits
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Refuses fields the endpoint does not know (a typo would otherwise be silently ignored).
    func onlyKnown(_ keys: Set<String>) throws(APIError) {
        if let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
            throw APIError(.badRequest, "unknownField", "unknown field \(name(unknown))\(Spelling.suggestion(for: unknown, among: keys.sorted())); known fields: \(keys.sorted().joined(separator: ", "))")
        }
    }

    /// The field's value; nil when it is left out. An explicit `null` is returned as `.null`,
    /// which every typed reader below refuses by name (a client that meant "clear" or "default"
    /// is told so instead of being silently ignored); the fields that take null say so
    /// through `isNull`.
    func value(_ key: String) -> JSONValue? { object[key] }

    /// Whether the field is present as `null` (a PATCH clears the field with it).
    func isNull(_ key: String) -> Bool {
        if case .null = object[key] { return true }
        return false
    }

    func id(_ key: String) throws(APIError) -> String {
        guard let text = try string(key) else { throw APIError(.badRequest, "missingField", "\(name(key)) is required") }
        try limits.checkID(text, field: name(key))
        return text
    }

    func string(_ key: String, maxLength: Int? = nil) throws(APIError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else {
            throw APIError(.badRequest, "invalidField", "\(name(key)) must be a string, not \(value.typeName) (\(value.text.prefix(80)))")
        }
        // Characters as JSON Schema's maxLength counts them: Unicode code points.
        if let maxLength, text.unicodeScalars.count > maxLength {
            throw APIError(.badRequest, "invalidField", "\(name(key)) has \(text.unicodeScalars.count) characters; the limit is \(maxLength)")
        }
        return text
    }

    func number(_ key: String) throws(APIError) -> Double? {
        guard let value = value(key) else { return nil }
        guard case .number(let number) = value else {
            throw APIError(.badRequest, "invalidField", "\(name(key)) must be a number, not \(value.typeName) (\(value.text.prefix(80)))")
        }
        guard number.isFinite else { throw APIError(.badRequest, "invalidField", "\(name(key)) must be a finite number") }
        return number
    }

    /// Whether a finite double stays finite as the 32-bit float the models' data holds: a
    /// larger one would round to the largest float or to ∞.
    static func fitsFloat(_ number: Double) -> Bool { abs(number) <= Double(Float.greatestFiniteMagnitude) }

    /// A number that is stored as a 32-bit float (an interaction's value): within ±3.4·10³⁸.
    func floatNumber(_ key: String) throws(APIError) -> Double? {
        guard let number = try number(key) else { return nil }
        guard Self.fitsFloat(number) else {
            throw APIError(.badRequest, "invalidField", "\(name(key)) must be within ±3.4028234663852886e38 (a 32-bit float), not \(number)")
        }
        return number
    }

    func bool(_ key: String) throws(APIError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else {
            throw APIError(.badRequest, "invalidField", "\(name(key)) must be true or false, not \(value.typeName)")
        }
        return flag
    }

    /// Seconds since 1970, from a number or an ISO 8601 text.
    func timestamp(_ key: String) throws(APIError) -> Double? {
        guard let value = value(key) else { return nil }
        switch value {
        case .number(let seconds) where seconds.isFinite && abs(seconds) < 1e11:
            return seconds
        case .string(let text):
            if let seconds = ISO8601.seconds(text) { return seconds }
            throw APIError(.badRequest, "invalidField", "\(name(key)) \"\(text.prefix(60))\" is not an ISO 8601 time (e.g. 2026-11-29T10:00:00Z or 2026-11-29)")
        default:
            throw APIError(.badRequest, "invalidField", "\(name(key)) must be epoch seconds or an ISO 8601 time, not \(value.text.prefix(60))")
        }
    }

    func strings(_ key: String) throws(APIError) -> [String]? {
        guard let value = value(key) else { return nil }
        guard case .array(let elements) = value else {
            throw APIError(.badRequest, "invalidField", "\(name(key)) must be an array of strings, not \(value.typeName)")
        }
        var result: [String] = []
        for (n, element) in elements.enumerated() {
            guard case .string(let text) = element else {
                throw APIError(.badRequest, "invalidField", "\(name(key))[\(n)] must be a string, not \(element.typeName)")
            }
            try limits.checkID(text, field: "\(name(key))[\(n)]")
            result.append(text)
        }
        return result
    }

    func floats(_ key: String) throws(APIError) -> [Float]? {
        guard let value = value(key) else { return nil }
        guard case .array(let elements) = value else {
            throw APIError(.badRequest, "invalidField", "\(name(key)) must be an array of numbers, not \(value.typeName)")
        }
        var result: [Float] = []
        for (n, element) in elements.enumerated() {
            guard case .number(let number) = element, Self.fitsFloat(number) else {
                throw APIError(.badRequest, "invalidField", "\(name(key))[\(n)] must be a finite number, not \(element.text.prefix(40))")
            }
            result.append(Float(number))
        }
        return result
    }

    /// A nested object, returned as JSON text.
    func objectText(_ key: String) throws(APIError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .object = value else { throw APIError(.badRequest, "invalidField", "\(name(key)) must be an object, not \(value.typeName)") }
        return value.text
    }

    /// An array of objects (a batch), each read with `Fields`.
    func batch(_ key: String) throws(APIError) -> [Fields] {
        guard let value = value(key) else { throw APIError(.badRequest, "missingField", "\(name(key)) is required") }
        guard case .array(let elements) = value else {
            throw APIError(.badRequest, "invalidField", "\(name(key)) must be an array, not \(value.typeName)")
        }
        guard elements.count <= limits.batch else {
            throw APIError(.contentTooLarge, "batchTooLarge", "\(name(key)) has \(elements.count) elements; the limit is \(limits.batch) per request")
        }
        var result: [Fields] = []
        for (n, element) in elements.enumerated() { result.append(try Fields(element, path: "\(name(key))[\(n)]", limits: limits)) }
        return result
    }
}

/// The request limits a server enforces.
public struct Limits: Sendable {
    /// Largest request body, in bytes.
    public var body = 8 << 20
    /// Longest user or item id, in characters.
    public var idLength = 256
    /// Most elements in one batch.
    public var batch = 100_000
    /// Most items in one list.
    public var listLength = 1_000
    /// Longest item title and text, in code points (as the OpenAPI document says). A text
    /// that long, written with JSON's 12-byte escapes, still fits in the default body limit.
    static let titleLength = 10_000, textLength = 100_000

    public init() {}

    func checkID(_ id: String, field: String) throws(APIError) {
        guard !id.isEmpty else { throw APIError(.badRequest, "invalidField", "\(field) must not be empty") }
        // Code points, as the OpenAPI document's maxLength counts them.
        guard id.unicodeScalars.count <= idLength else {
            throw APIError(.badRequest, "invalidField", "\(field) has \(id.unicodeScalars.count) characters; ids are limited to \(idLength)")
        }
        guard !id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw APIError(.badRequest, "invalidField", "\(field) contains control characters")
        }
    }
}

extension JSONValue {
    /// A list's `"prior"`: the weight its short history's fold-in leaned on the list without it
    /// (`HistoryPrior`), and that list: the attributes' (named) or, without them, the popular.
    public static func prior(weight: Double, attributes tokens: [String]?) -> JSONValue {
        var about: [String: JSONValue] = ["weight": .number(weight), "from": .string(tokens == nil ? "popular" : "attributes")]
        if let tokens { about["attributes"] = .array(tokens.map(JSONValue.string)) }
        return .object(about)
    }
}
