public import BraidCore
public import Foundation

/// Learning-to-rank data as text in the SVMlight / LETOR format that RankLib, XGBoost and the
/// MSLR and Yahoo datasets use (LightGBM reads the same rows with the queries in a file beside
/// them): one row per line, `label qid:Q index:value …`, feature indices counted from 1 and
/// increasing along the line, a feature left out being 0, and `#` starting a comment that runs
/// to the end of the line. A query's rows are consecutive.
extension LambdaMART.Dataset {
    /// The rows of one file, before the feature count is known.
    public struct SVMLightRows: Sendable {
        public var labels: [Float] = []
        /// Each query's id as the file wrote it, in the file's order.
        public var queryIDs: [String] = []
        public var queryStarts: [Int] = [0]
        /// Row r's features are `entries[entryStarts[r]..<entryStarts[r + 1]]`, 0-based indices.
        public var entries: [(index: Int32, value: Float)] = []
        public var entryStarts: [Int] = [0]
        /// One more than the largest feature index (0-based) on any row.
        public var width = 0

        /// Parses `data`, the text of `fileName` (named in errors with the line and field).
        public init(_ data: Data, fileName: String) throws(DataError) {
            // A copy ending in a 0 byte, so that strtof stops inside it.
            var bytes = [UInt8](data)
            bytes.append(0)
            let result: Result<Void, DataError> = bytes.withUnsafeBufferPointer { buffer in
                do throws(DataError) {
                    try parse(buffer.baseAddress!, count: buffer.count - 1, fileName: fileName)
                    return .success(())
                } catch { return .failure(error) }
            }
            try result.get()
            guard !labels.isEmpty else {
                throw DataError(.noDataRows, "no rows", location: .init(file: fileName), hint: "each line is label qid:Q index:value …")
            }
            queryStarts.append(labels.count)
        }

        private mutating func parse(_ text: UnsafePointer<UInt8>, count: Int, fileName: String) throws(DataError) {
            func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") }
            func string(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(start: text + range.lowerBound, count: range.count), as: UTF8.self) }
            /// The number that fills `range` exactly, or nil.
            func number(_ range: Range<Int>) -> Float? {
                guard !range.isEmpty else { return nil }
                // strtof would skip leading spaces and accept hexadecimal, inf and nan: only
                // a decimal number is taken.
                let lead = text[range.lowerBound]
                guard lead == UInt8(ascii: "-") || lead == UInt8(ascii: "+") || lead == UInt8(ascii: ".") || (lead >= 48 && lead <= 57) else { return nil }
                for b in range {
                    let c = text[b]
                    guard (c >= 48 && c <= 57) || c == UInt8(ascii: ".") || c == UInt8(ascii: "-") || c == UInt8(ascii: "+")
                            || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") else { return nil }
                }
                var stop: UnsafeMutablePointer<CChar>?
                let begin = UnsafeRawPointer(text + range.lowerBound).assumingMemoryBound(to: CChar.self)
                let value = strtof(begin, &stop)
                let consumed = stop.map { UnsafeRawPointer($0) - UnsafeRawPointer(begin) } ?? 0
                guard consumed == range.count, value.isFinite else { return nil }
                return value
            }
            let qidPrefix: [UInt8] = Array("qid:".utf8)
            var seen: [String: Int] = [:]
            var lineNumber = 0, position = 0
            // Where the current query's id stands in the text.
            var lastQuery = 0..<0
            // The current line's tokens, as byte ranges (one buffer for every line).
            var tokens: [Range<Int>] = []
            while position < count {
                lineNumber += 1
                var end = position
                while end < count, text[end] != UInt8(ascii: "\n") { end += 1 }
                var lineEnd = position
                while lineEnd < end, text[lineEnd] != UInt8(ascii: "#") { lineEnd += 1 }
                defer { position = end + 1 }
                tokens.removeAll(keepingCapacity: true)
                var k = position
                while k < lineEnd {
                    while k < lineEnd, isSpace(text[k]) { k += 1 }
                    let start = k
                    while k < lineEnd, !isSpace(text[k]) { k += 1 }
                    if k > start { tokens.append(start..<k) }
                }
                guard let first = tokens.first else { continue }
                let line = lineNumber
                func fail(_ field: String, _ message: String, _ hint: String? = nil) -> DataError {
                    DataError(.invalidValue, message, location: .init(file: fileName, line: line, column: field),
                              hint: hint ?? "each line is label qid:Q index:value …, e.g. 2 qid:7 1:0.5 3:1.25")
                }
                guard let label = number(first), label >= 0, label <= 30 else {
                    throw fail("label", "the label \(DataError.quote(string(first))) is not a number in 0…30",
                               "labels are relevance grades (0 = not relevant); NDCG's gain is 2^label − 1")
                }
                guard tokens.count > 1, tokens[1].count > 4, (0..<4).allSatisfy({ text[tokens[1].lowerBound + $0] == qidPrefix[$0] }) else {
                    throw fail("qid", "the second field is \(tokens.count > 1 ? DataError.quote(string(tokens[1])) : "missing"), not qid:Q",
                               "give every row its query, e.g. 2 qid:7 1:0.5; a query's rows are ranked against each other")
                }
                let queryRange = (tokens[1].lowerBound + 4)..<tokens[1].upperBound
                let sameQuery = !labels.isEmpty && queryRange.count == lastQuery.count && zip(queryRange, lastQuery).allSatisfy { text[$0] == text[$1] }
                if !sameQuery {
                    let query = string(queryRange)
                    if let earlier = seen[query] {
                        throw fail("qid", "query \(DataError.quote(query)) continues here after other queries (it began on line \(earlier))",
                                   "put each query's rows on consecutive lines, e.g. sort the file by qid")
                    }
                    seen[query] = line
                    if !labels.isEmpty { queryStarts.append(labels.count) }
                    queryIDs.append(query)
                    lastQuery = queryRange
                }
                var previous: Int32 = -1
                for token in tokens.dropFirst(2) {
                    var colon = token.lowerBound
                    var index: Int32 = 0
                    while colon < token.upperBound, text[colon] >= 48, text[colon] <= 57, index <= 1_000_000 {
                        index = index * 10 + Int32(text[colon] - 48)
                        colon += 1
                    }
                    guard colon > token.lowerBound, colon < token.upperBound, text[colon] == UInt8(ascii: ":"), index >= 1, index <= 1_000_000 else {
                        throw fail("feature", "\(DataError.quote(string(token))) is not index:value with an index in 1…1000000")
                    }
                    guard let value = number((colon + 1)..<token.upperBound) else {
                        throw fail("feature \(index)", "the value \(DataError.quote(string((colon + 1)..<token.upperBound))) is not a finite number")
                    }
                    guard index - 1 > previous else {
                        throw fail("feature \(index)", "feature \(index) comes after feature \(previous + 1) on the line",
                                   "write each line's features once each, in increasing index order")
                    }
                    previous = index - 1
                    if value != 0 { entries.append((index - 1, value)) }
                }
                width = max(width, Int(previous) + 1)
                labels.append(label)
                entryStarts.append(entries.count)
            }
        }
    }

    /// The rows with `featureCount` features each (at least `rows.width`).
    public init(_ rows: SVMLightRows, featureCount: Int) {
        var features = [Float](repeating: 0, count: rows.labels.count * featureCount)
        for r in rows.labels.indices {
            for e in rows.entryStarts[r]..<rows.entryStarts[r + 1] {
                features[r * featureCount + Int(rows.entries[e].index)] = rows.entries[e].value
            }
        }
        self.init(featureCount: featureCount, features: features, labels: rows.labels, queryStarts: rows.queryStarts)
    }

    /// The rows as SVMlight text, each query numbered from `firstQuery` on; features equal
    /// to 0 are left out, each value written in the fewest digits that read back the same.
    public func svmLightText(firstQuery: Int = 1) -> String {
        var out = ""
        for q in 0..<queryCount {
            for r in queryStarts[q]..<queryStarts[q + 1] {
                let label = labels[r]
                out += label == label.rounded() ? String(Int(label)) : "\(label)"
                out += " qid:\(firstQuery + q)"
                for f in 0..<featureCount where features[r * featureCount + f] != 0 {
                    out += " \(f + 1):\(features[r * featureCount + f])"
                }
                out += "\n"
            }
        }
        return out
    }
}

extension LambdaMART.Settings {
    /// The parameter names `read(_:)` takes.
    public static let parameterNames = ["trees", "leaves", "learning-rate", "min-leaf", "bins", "l2", "sigma", "patience", "truncation", "cutoff"]

    /// Reads the parameters `parameters` gives (of `parameterNames`) over these settings.
    public mutating func read(_ parameters: ModelParameters) throws(ModelError) {
        trees = try parameters.int("trees", default: trees, range: 1...100_000)
        leaves = try parameters.int("leaves", default: leaves, range: 2...4096)
        learningRate = try parameters.float("learning-rate", default: learningRate, range: 1e-6...1)
        minimumLeafSamples = try parameters.int("min-leaf", default: minimumLeafSamples, range: 1...1_000_000)
        bins = try parameters.int("bins", default: bins, range: 2...255)
        l2 = try parameters.float("l2", default: l2, range: 0...1e9)
        sigma = try parameters.float("sigma", default: sigma, range: 1e-3...100)
        patience = try parameters.int("patience", default: patience, range: 1...100_000)
        truncation = try parameters.int("truncation", default: truncation, range: 0...100_000)
        cutoff = try parameters.int("cutoff", default: cutoff, range: 1...100_000)
    }
}
