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
            guard let record = try record(bytes, line: number, delimiter: &chosen) else { return }
            sawLine = true
            try body(record)
        }
        guard sawLine else { throw noLines(data) }
        return chosen!
    }

    /// Reads every non-blank line as `forEachRecord` does, with the work on each record after
    /// the first spread over threads: `first` gets the first record (a header, or the row that
    /// decides the layout) and the delimiter, and returns the transform for the records after
    /// it, and whether the first is to be transformed too; the transforms run concurrently over
    /// runs of lines (a window of a few megabytes at a time, so memory stays bounded), and
    /// `body` receives each result in file order. An error in reading a line (encoding, length,
    /// quotes) is thrown once `body` has had every record before it, as `forEachRecord` would.
    ///
    /// `first` may also return a `plain` reading of a line's bytes (UTF-8 files only), tried on
    /// each line before it is decoded and split: it returns nil for any line it does not take,
    /// which then goes through `transform` as usual, and for the lines it takes it must give
    /// what `transform` would.
    @discardableResult
    public func forEachRecord<T: Sendable>(in data: Data,
                                           first: (TextRecord, Delimiter) throws(DataError) -> (transform: @Sendable (TextRecord) -> T, includesFirst: Bool,
                                                                                     plain: (@Sendable (UnsafeBufferPointer<UInt8>) -> T?)?),
                                           _ body: (T) throws(DataError) -> Void) throws(DataError) -> Delimiter {
        let found = try Self.withText(of: data) { (bytes) throws(DataError) -> Delimiter? in
            var chosen = delimiter
            // The first non-blank line, read in order.
            var start = 0, number = 0
            var firstRecord: TextRecord?
            while firstRecord == nil && start < bytes.count {
                let end = Self.lineEnd(bytes, from: start)
                number += 1
                firstRecord = try record(try Self.line(bytes, start..<end, number: number, fileName: fileName, maximumLength: maximumLineLength),
                                         line: number, delimiter: &chosen)
                start = end + 1
            }
            guard let firstRecord, let delimiter = chosen else { return nil }
            let (transform, includesFirst, plain) = try first(firstRecord, delimiter)
            if includesFirst { try body(transform(firstRecord)) }
            let reader = self
            let plainUTF8 = encoding == .utf8 ? plain : nil
            try Self.forEachLine(in: bytes, from: start, after: number, fileName: fileName, maximumLength: maximumLineLength,
                                 transform: { (line, lineBytes) throws(DataError) -> T? in
                                     if let plainUTF8, let result = plainUTF8(lineBytes) { return result }
                                     var chosen: Delimiter? = delimiter
                                     return try reader.record(lineBytes, line: line, delimiter: &chosen).map(transform)
                                 }, body)
            return delimiter
        }
        guard let found else { throw noLines(data) }
        return found
    }

    /// The lines of `bytes` from byte `start` (line `number` + 1 onwards) transformed on
    /// several threads, their results (nil for none) handed to `body` in file order: in windows
    /// of whole lines (up to 4 MB a thread, so memory stays bounded), each window cut into a
    /// run per thread. An error `transform` throws ends its run and is thrown once `body` has
    /// had every result before it, as reading line by line would.
    static func forEachLine<T: Sendable>(in bytes: UnsafeBufferPointer<UInt8>, from start: Int = 0, after number: Int = 0,
                                         fileName: String, maximumLength: Int,
                                         transform: @Sendable (Int, UnsafeBufferPointer<UInt8>) throws(DataError) -> T?,
                                         _ body: (T) throws(DataError) -> Void) throws(DataError) {
        let threads = Parallelism.threadCount
        // Fewer than 4 MB a run on a small file, so that every thread has one.
        let runLength = max(1 << 16, min(4 << 20, (bytes.count - start) / threads + 1))
        guard let base = bytes.baseAddress else { return }
        let shared = UnsafeSendablePointer(base)
        var start = start, number = number
        while start < bytes.count {
            var runs: [(range: Range<Int>, firstLine: Int)] = []
            for _ in 0..<threads where start < bytes.count {
                let end = min(bytes.count, lineEnd(bytes, from: min(bytes.count - 1, start + runLength)) + 1)
                runs.append((start..<end, number + 1))
                number += newlines(in: UnsafeBufferPointer(rebasing: bytes[start..<end]))
                if end == bytes.count && bytes.last != 0x0A { number += 1 }
                start = end
            }
            let frozen = runs
            let parsed = parallelMap(frozen.count) { k -> (results: [T], error: DataError?) in
                let run = UnsafeBufferPointer(start: shared.pointer + frozen[k].range.lowerBound, count: frozen[k].range.count)
                var results: [T] = []
                do throws(DataError) {
                    try forEachLine(in: run, firstLine: frozen[k].firstLine, fileName: fileName, maximumLength: maximumLength) { (line, lineBytes) throws(DataError) in
                        if let result = try transform(line, lineBytes) { results.append(result) }
                    }
                    return (results, nil)
                } catch {
                    return (results, error)
                }
            }
            for (results, error) in parsed {
                for result in results { try body(result) }
                if let error { throw error }
            }
        }
    }

    /// The error for a file without a non-blank line.
    func noLines(_ data: Data) -> DataError {
        DataError(data.isEmpty ? .emptyInput : .noDataRows, data.isEmpty ? "the file is empty" : "the file has only blank lines",
                  location: .init(file: fileName), hint: "give a file with one record (an interaction, an item) per line")
    }

    /// The record a line holds, or nil for a blank line; the first non-blank line sets
    /// `delimiter` when it is nil (detected).
    func record(_ bytes: UnsafeBufferPointer<UInt8>, line number: Int, delimiter chosen: inout Delimiter?) throws(DataError) -> TextRecord? {
        let text = try decode(bytes, line: number)
        // Blank lines are skipped; a visible first byte settles it without a character scan.
        if !(text.utf8.first.map { $0 > 0x20 && $0 < 0x80 } ?? false), text.allSatisfy(\.isWhitespace) { return nil }
        if chosen == nil {
            guard let detected = Delimiter.detect(in: text) else {
                throw DataError(.unknownDelimiter,
                                "cannot tell the field delimiter from \(DataError.quote(text)): no tab, comma, semicolon, pipe or '::'",
                                location: .init(file: fileName, line: number),
                                hint: "pass --delimiter (tab, comma, semicolon, pipe, '::' or any literal text)")
            }
            chosen = detected
        }
        return TextRecord(line: number, fields: try split(text, by: chosen!, line: number))
    }

    /// `body` of `data`'s bytes after a leading UTF-8 byte-order mark, if any.
    static func withText<R>(of data: Data, _ body: (UnsafeBufferPointer<UInt8>) throws(DataError) -> R) throws(DataError) -> R {
        let result: Result<R, DataError> = data.withUnsafeBytes { raw in
            var bytes = raw.bindMemory(to: UInt8.self)
            if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { bytes = UnsafeBufferPointer(rebasing: bytes[3...]) }
            do throws(DataError) { return .success(try body(bytes)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// The index of the `\n` ending the line that starts at `start`, or the end of `bytes`.
    static func lineEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var end = start
        while end < bytes.count && bytes[end] != 0x0A { end += 1 }
        return end
    }

    static func newlines(in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }

    /// The line at `range` without its `\r`, refused when longer than `maximumLength`.
    static func line(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, number: Int, fileName: String,
                     maximumLength: Int) throws(DataError) -> UnsafeBufferPointer<UInt8> {
        var lineEnd = range.upperBound
        if lineEnd > range.lowerBound && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
        if lineEnd - range.lowerBound > maximumLength {
            throw DataError(.lineTooLong, "the line is \(lineEnd - range.lowerBound) bytes long, more than the limit of \(maximumLength)",
                            location: .init(file: fileName, line: number),
                            hint: "check that the file holds one record per line (delimited text, or one JSON object per line)")
        }
        return UnsafeBufferPointer(rebasing: bytes[range.lowerBound..<lineEnd])
    }

    /// Splits `data` into lines (without their `\n` or `\r\n`) and calls `body` with the
    /// 1-based line number and the line's bytes. A leading UTF-8 byte-order mark is dropped.
    static func forEachLine(in data: Data, fileName: String, maximumLength: Int,
                            _ body: (Int, UnsafeBufferPointer<UInt8>) throws(DataError) -> Void) throws(DataError) {
        try withText(of: data) { (bytes) throws(DataError) in try forEachLine(in: bytes, fileName: fileName, maximumLength: maximumLength, body) }
    }

    /// Splits `bytes` into lines (without their `\n` or `\r\n`) and calls `body` with each
    /// line's number (the first is `firstLine`) and bytes.
    static func forEachLine(in bytes: UnsafeBufferPointer<UInt8>, firstLine: Int = 1, fileName: String, maximumLength: Int,
                            _ body: (Int, UnsafeBufferPointer<UInt8>) throws(DataError) -> Void) throws(DataError) {
        var start = 0
        var number = firstLine - 1
        while start < bytes.count {
            number += 1
            let end = lineEnd(bytes, from: start)
            try body(number, try line(bytes, start..<end, number: number, fileName: fileName, maximumLength: maximumLength))
            start = end + 1
        }
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
