public import BraidCore
public import Foundation

/// One parsed line of a delimited text file.
public struct TextRecord: Sendable {
    /// 1-based line number in the file.
    public var line: Int
    public var fields: [String]
}

/// Reads delimited text (tab, comma, `::`, …) line by line with precise errors.
///
/// It strips a UTF-8 byte-order mark, accepts LF and CRLF line ends, skips blank lines,
/// validates the encoding of every line, honours RFC 4180 quotes for single-character
/// delimiters, and refuses lines longer than `maximumLineLength` bytes.
public struct DelimitedTextReader: Sendable {
    /// The name used in error messages (normally the path as the user gave it).
    public var fileName: String
    /// Nil detects the delimiter from the first non-blank line.
    public var delimiter: Delimiter?
    public var encoding: TextEncoding
    public var maximumLineLength: Int

    public init(fileName: String, delimiter: Delimiter? = nil, encoding: TextEncoding = .utf8,
                maximumLineLength: Int = 1 << 20) {
        self.fileName = fileName
        self.delimiter = delimiter
        self.encoding = encoding
        self.maximumLineLength = maximumLineLength
    }

    /// Reads the whole file at `path` (memory-mapped when safe).
    public static func contents(ofFile path: String) throws(DataError) -> Data { try DataFile.contents(of: path) }

    /// Calls `body` for every non-blank line, in order, with its fields.
    ///
    /// - Returns: the delimiter used.
    /// - Throws: `DataError` for an empty file, an encoding error, an over-long line, an
    ///   unterminated quote, or an undetectable delimiter; or whatever `body` throws.
    @discardableResult
    public func forEachRecord(in data: Data, _ body: (TextRecord) throws(DataError) -> Void) throws(DataError) -> Delimiter {
        var chosen = delimiter
        var sawLine = false
        try Self.forEachLine(in: data, fileName: fileName, maximumLength: maximumLineLength) { (number, bytes) throws(DataError) in
            let text = try decode(bytes, line: number)
            // Blank lines are skipped; a visible first byte settles it without a character scan.
            if !(text.utf8.first.map { $0 > 0x20 && $0 < 0x80 } ?? false), text.allSatisfy(\.isWhitespace) { return }
            sawLine = true
            if chosen == nil {
                guard let detected = Delimiter.detect(in: text) else {
                    throw DataError(.unknownDelimiter,
                                    "cannot tell the field delimiter from \(DataError.quote(text)): no tab, comma, semicolon, pipe or '::'",
                                    location: .init(file: fileName, line: number),
                                    hint: "pass --delimiter (tab, comma, semicolon, pipe, '::' or any literal text)")
                }
                chosen = detected
            }
            let fields = try split(text, by: chosen!, line: number)
            try body(TextRecord(line: number, fields: fields))
        }
        guard sawLine else {
            throw DataError(data.isEmpty ? .emptyInput : .noDataRows,
                            data.isEmpty ? "the file is empty" : "the file has only blank lines",
                            location: .init(file: fileName), hint: "give a file with one interaction per line")
        }
        return chosen!
    }

    /// Splits `data` into lines (without their `\n` or `\r\n`) and calls `body` with the
    /// 1-based line number and the line's bytes. A leading UTF-8 byte-order mark is dropped.
    static func forEachLine(in data: Data, fileName: String, maximumLength: Int,
                            _ body: (Int, UnsafeBufferPointer<UInt8>) throws(DataError) -> Void) throws(DataError) {
        let result: Result<Void, DataError> = data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0
            if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { start = 3 }
            var number = 0
            while start < bytes.count {
                number += 1
                var end = start
                while end < bytes.count && bytes[end] != 0x0A { end += 1 }
                var lineEnd = end
                if lineEnd > start && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                if lineEnd - start > maximumLength {
                    return .failure(DataError(.lineTooLong,
                                              "the line is \(lineEnd - start) bytes long, more than the limit of \(maximumLength)",
                                              location: .init(file: fileName, line: number),
                                              hint: "check that this is a delimited text file with one record per line"))
                }
                do throws(DataError) {
                    try body(number, UnsafeBufferPointer(rebasing: bytes[start..<lineEnd]))
                } catch {
                    return .failure(error)
                }
                start = end + 1
            }
            return .success(())
        }
        try result.get()
    }

    private func decode(_ bytes: UnsafeBufferPointer<UInt8>, line: Int) throws(DataError) -> String {
        switch encoding {
        case .latin1:
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        case .utf8:
            if let text = String(validating: bytes, as: UTF8.self) { return text }
            var offset = 0
            var iterator = bytes.makeIterator()
            var decoder = UTF8()
            loop: while true {
                switch decoder.decode(&iterator) {
                case .scalarValue(let scalar): offset += UTF8.width(scalar)
                case .emptyInput: break loop
                case .error: break loop
                }
            }
            let shown = bytes[offset..<min(bytes.count, offset + 4)].map { "0x" + String($0, radix: 16, uppercase: true) }
            throw DataError(.invalidEncoding,
                            "invalid UTF-8 at byte \(offset + 1) of the line (\(shown.joined(separator: " ")))",
                            location: .init(file: fileName, line: line),
                            hint: "convert the file to UTF-8, or pass --encoding latin1 if it is ISO-8859-1")
        }
    }

    /// Splits one line into fields.
    func split(_ line: String, by delimiter: Delimiter, line number: Int) throws(DataError) -> [String] {
        let separator = delimiter.text
        guard delimiter.allowsQuoting, line.utf8.contains(UInt8(ascii: "\"")) else {
            let bytes = Array(separator.utf8)
            if bytes.count == 1 {
                // The common case: split the UTF-8 view on one byte (fast, no Foundation search).
                return line.utf8.split(separator: bytes[0], omittingEmptySubsequences: false).map { String(Substring($0)) }
            }
            return line.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
        }
        let separatorCharacter = separator.first!
        var fields: [String] = []
        var field = ""
        var index = line.startIndex
        var atFieldStart = true
        while index < line.endIndex {
            let character = line[index]
            if atFieldStart && character == "\"" {
                // A quoted field runs to the next lone quote.
                index = line.index(after: index)
                var closed = false
                while index < line.endIndex {
                    if line[index] == "\"" {
                        let next = line.index(after: index)
                        if next < line.endIndex && line[next] == "\"" {
                            field.append("\"")
                            index = line.index(after: next)
                            continue
                        }
                        index = next
                        closed = true
                        break
                    }
                    field.append(line[index])
                    index = line.index(after: index)
                }
                guard closed else {
                    throw DataError(.invalidValue, "a quoted field is not closed before the end of the line",
                                    location: .init(file: fileName, line: number, column: "\(fields.count + 1)"),
                                    hint: "close the quote; quoted fields may not span lines")
                }
                atFieldStart = false
                continue
            }
            if character == separatorCharacter {
                fields.append(field)
                field = ""
                atFieldStart = true
            } else {
                field.append(character)
                atFieldStart = false
            }
            index = line.index(after: index)
        }
        fields.append(field)
        return fields
    }
}
