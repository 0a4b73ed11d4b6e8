/// The top-level members of a one-line JSON object, read straight from its bytes when the line
/// is plain: valid JSON (RFC 8259) whose numbers have at most 15 digits and no exponent, whose
/// strings have no `\u` escapes, nested at most 64 deep, with no key twice at the top. Any
/// other line gives nil, and `JSONSerialization` reads (or refuses) it as before; for the
/// lines this takes, its numbers are what `JSONSerialization` gives (at most 15 digits over a
/// power of ten is one correctly rounded division).
struct PlainJSONObject {
    enum Value {
        /// A string's bytes between its quotes; `escaped` when it holds a backslash escape.
        case string(Range<Int>, escaped: Bool)
        /// A number's bytes; `integer` when it has no fraction.
        case number(Range<Int>, integer: Bool)
        case bool(Bool)
        case null
        /// An object or an array.
        case composite
    }

    var members: [String: Value] = [:]

    init?(_ bytes: UnsafeBufferPointer<UInt8>) {
        var scanner = Scanner(bytes: bytes)
        scanner.skipSpace()
        guard scanner.take(UInt8(ascii: "{")) else { return nil }
        scanner.skipSpace()
        if !scanner.take(UInt8(ascii: "}")) {
            repeat {
                scanner.skipSpace()
                guard case .string(let range, let escaped)? = scanner.string(), !escaped else { return nil }
                let key = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
                scanner.skipSpace()
                guard scanner.take(UInt8(ascii: ":")) else { return nil }
                scanner.skipSpace()
                guard let value = scanner.value(depth: 1), members.updateValue(value, forKey: key) == nil else { return nil }
                scanner.skipSpace()
            } while scanner.take(UInt8(ascii: ","))
            guard scanner.take(UInt8(ascii: "}")) else { return nil }
        }
        scanner.skipSpace()
        guard scanner.atEnd else { return nil }
    }

    /// Whether a line of JSON Lines is blank: nothing but JSON's white space (spaces, tabs,
    /// carriage returns), which every JSON Lines reader skips.
    static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
    }

    /// A recursive-descent reader of JSON values that gives up (nil) on anything not plain.
    struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0

        var atEnd: Bool { i == bytes.count }

        mutating func take(_ byte: UInt8) -> Bool {
            guard i < bytes.count, bytes[i] == byte else { return false }
            i += 1
            return true
        }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
        }

        mutating func value(depth: Int) -> Value? {
            guard i < bytes.count, depth <= 64 else { return nil }
            switch bytes[i] {
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "{"), UInt8(ascii: "["): return composite(depth: depth)
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            default: return number()
            }
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard i + count <= bytes.count else { return false }
            for k in 0..<count where bytes[i + k] != word.utf8Start[k] { return false }
            i += count
            return true
        }

        /// A string from its opening quote: control characters and `\u` escapes give nil.
        mutating func string() -> Value? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = i
            var escaped = false
            while i < bytes.count {
                let byte = bytes[i]
                if byte == UInt8(ascii: "\"") {
                    i += 1
                    return .string(start..<(i - 1), escaped: escaped)
                }
                if byte < 0x20 { return nil }
                if byte == UInt8(ascii: "\\") {
                    guard i + 1 < bytes.count else { return nil }
                    switch bytes[i + 1] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                         UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"): break
                    default: return nil
                    }
                    escaped = true
                    i += 2
                    continue
                }
                i += 1
            }
            return nil
        }

        /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?` with at most 15 digits (`anyNumber()` without an
        /// exponent); an exponent gives nil.
        mutating func number() -> Value? {
            guard let range = anyNumber() else { return nil }
            var digits = 0, point = false
            for byte in bytes[range] {
                switch byte {
                case 0x30...0x39: digits += 1
                case UInt8(ascii: "."): point = true
                case UInt8(ascii: "-"): break
                default: return nil  // e or E: an exponent
                }
            }
            guard digits <= 15 else { return nil }
            return .number(range, integer: !point)
        }

        /// Any JSON number, `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, however many
        /// digits: its bytes, or nil (and no bytes taken) for anything else.
        mutating func anyNumber() -> Range<Int>? {
            let start = i
            func digits() -> Int {
                let from = i
                while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
                return i - from
            }
            _ = take(UInt8(ascii: "-"))
            let whole = digits()
            var valid = whole > 0 && (whole == 1 || bytes[i - whole] != 0x30)
            if valid, take(UInt8(ascii: ".")) { valid = digits() > 0 }
            if valid, take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
                if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
                valid = digits() > 0
            }
            guard valid else {
                i = start
                return nil
            }
            return start..<i
        }

        mutating func composite(depth: Int) -> Value? {
            let object = bytes[i] == UInt8(ascii: "{")
            let close = object ? UInt8(ascii: "}") : UInt8(ascii: "]")
            i += 1
            skipSpace()
            if take(close) { return .composite }
            repeat {
                skipSpace()
                if object {
                    guard string() != nil else { return nil }
                    skipSpace()
                    guard take(UInt8(ascii: ":")) else { return nil }
                    skipSpace()
                }
                guard value(depth: depth + 1) != nil else { return nil }
                skipSpace()
            } while take(UInt8(ascii: ","))
            return take(close) ? .composite : nil
        }
    }
}
