public import BraidCore
internal import Foundation

/// Reads item embeddings from any modality: JSON Lines of `{"item": "id", "vector": [..]}`; a
/// NumPy `.npy` matrix (float16, float32 or float64 of either byte order, in C or Fortran
/// order, one row per item) whose item ids are in a text file beside it, one per line
/// (`vectors.npy` → `vectors.ids`); or a `.safetensors` file whose one 2-D F16/BF16/F32/F64
/// tensor (or the one named `vectors`) holds the rows, with the ids as a JSON array in the
/// header's `__metadata__.items` or in the `.ids` file. Every vector must have the same
/// dimension and finite values; errors name the file, line (or row) and item.
public struct ItemVectorsImporter: Sendable {
    public init() {}

    public func importFile(_ path: String) throws(DataError) -> [String: [Float]] {
        let data = try DataFile.contents(of: path)
        let lower = Gzip.uncompressedName(path).lowercased()
        if lower.hasSuffix(".npy") { return try numpy(data, path: path) }
        if lower.hasSuffix(".safetensors") { return try safetensors(data, path: path) }
        return try jsonLines(data, path: path)
    }

    /// JSON Lines, read on every thread and taken in file order: each line through
    /// `plainLine` when it is plain, else through `JSONSerialization`.
    func jsonLines(_ data: Data, path: String) throws(DataError) -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        var dimension: Int?
        try DelimitedTextReader.withText(of: data) { (bytes) throws(DataError) in
            try DelimitedTextReader.forEachLine(in: bytes, fileName: path, maximumLength: 1 << 28, transform: {
                (number, bytes) throws(DataError) -> (line: Int, item: String, vector: [Float])? in
                guard !PlainJSONObject.isBlank(bytes) else { return nil }
                if let plain = Self.plainLine(bytes) { return (number, plain.item, plain.vector) }
                let read = try Self.serializedLine(bytes, location: .init(file: path, line: number))
                return (number, read.item, read.vector)
            }) { (parsed) throws(DataError) in
                let location = DataError.Location(file: path, line: parsed.line)
                try check(&dimension, parsed.vector.count, item: parsed.item, location: location)
                guard out.updateValue(parsed.vector, forKey: parsed.item) == nil else {
                    throw DataError(.invalidValue, "item \(DataError.quote(parsed.item)) has a second vector", location: location)
                }
            }
        }
        guard !out.isEmpty else { throw DataError(.noDataRows, "\(DataError.quotePath(path)) holds no item vectors") }
        return out
    }

    /// A line `{"item": "id", "vector": [0.1, …]}` read straight from its bytes (the members in
    /// any order, besides them only members `PlainJSONObject` reads), or nil for any other
    /// line, and for a line with a number that is not finite as a `Float`: `serializedLine`
    /// reads (or refuses) those. Each number is its decimal rounded to the nearest `Double`,
    /// then to a `Float`, as `JSONSerialization`'s `NSNumber` gives it.
    static func plainLine(_ bytes: UnsafeBufferPointer<UInt8>) -> (item: String, vector: [Float])? {
        var scanner = PlainJSONObject.Scanner(bytes: bytes)
        var item: String?, vector: [Float]?
        scanner.skipSpace()
        guard scanner.take(UInt8(ascii: "{")) else { return nil }
        repeat {
            scanner.skipSpace()
            guard case .string(let range, escaped: false)? = scanner.string() else { return nil }
            let key = UnsafeBufferPointer(rebasing: bytes[range])
            scanner.skipSpace()
            guard scanner.take(UInt8(ascii: ":")) else { return nil }
            scanner.skipSpace()
            if key.elementsEqual("vector".utf8) {
                guard vector == nil, scanner.take(UInt8(ascii: "[")) else { return nil }
                var values: [Float] = []
                scanner.skipSpace()
                if !scanner.take(UInt8(ascii: "]")) {
                    repeat {
                        scanner.skipSpace()
                        guard let number = scanner.anyNumber(),
                              let value = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[number]), as: UTF8.self)).map(Float.init),
                              value.isFinite else { return nil }
                        values.append(value)
                        scanner.skipSpace()
                    } while scanner.take(UInt8(ascii: ","))
                    guard scanner.take(UInt8(ascii: "]")) else { return nil }
                }
                vector = values
            } else if key.elementsEqual("item".utf8) {
                guard item == nil, case .string(let id, escaped: false)? = scanner.string() else { return nil }
                item = String(decoding: UnsafeBufferPointer(rebasing: bytes[id]), as: UTF8.self)
            } else {
                guard scanner.value(depth: 1) != nil else { return nil }
            }
            scanner.skipSpace()
        } while scanner.take(UInt8(ascii: ","))
        guard scanner.take(UInt8(ascii: "}")) else { return nil }
        scanner.skipSpace()
        guard scanner.atEnd, let item, let vector else { return nil }
        return (item, vector)
    }

    /// A line read by `JSONSerialization`: an object with an `item` (a string or a number) and a
    /// `vector` of finite numbers, or an error naming what is wrong.
    static func serializedLine(_ bytes: UnsafeBufferPointer<UInt8>, location: DataError.Location) throws(DataError) -> (item: String, vector: [Float]) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(buffer: bytes))) as? [String: Any] else {
            throw DataError(.invalidValue, "the line is not a JSON object", location: location,
                            hint: "each line is {\"item\": \"id\", \"vector\": [0.1, 0.2, …]}")
        }
        guard let item = (object["item"] as? String) ?? (object["item"] as? NSNumber).map({ $0.stringValue }) else {
            throw DataError(.missingColumn, "the line has no \"item\" id", location: location)
        }
        guard let numbers = object["vector"] as? [Any] else {
            throw DataError(.missingColumn, "item \(DataError.quote(item)) has no \"vector\" array", location: location)
        }
        var vector: [Float] = []
        vector.reserveCapacity(numbers.count)
        for (k, number) in numbers.enumerated() {
            guard let value = (number as? NSNumber)?.floatValue, value.isFinite else {
                throw DataError(.invalidValue, "item \(DataError.quote(item)): value \(k) of its vector (\(number)) is not a finite number",
                                location: location)
            }
            vector.append(value)
        }
        return (item, vector)
    }

    func check(_ dimension: inout Int?, _ count: Int, item: String, location: DataError.Location) throws(DataError) {
        guard count > 0 else { throw DataError(.invalidValue, "item \(DataError.quote(item)) has an empty vector", location: location) }
        if let dimension, dimension != count {
            throw DataError(.invalidValue, "item \(DataError.quote(item)) has a \(count)-dimensional vector where the first had \(dimension)",
                            location: location, hint: "every item vector must have the same dimension")
        }
        dimension = count
    }

    func numpy(_ data: Data, path: String) throws(DataError) -> [String: [Float]] {
        let bytes = [UInt8](data)
        func bad(_ why: String) -> DataError {
            DataError(.invalidValue, "\(DataError.quotePath(path)) is not a usable .npy matrix: \(why)",
                      hint: "save a 2-D float16, float32 or float64 array with numpy.save")
        }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else { throw bad("no NUMPY magic") }
        let major = bytes[6]
        let headerLength: Int, start: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; start = 10
        } else {
            guard bytes.count >= 12 else { throw bad("truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24; start = 12
        }
        guard start + headerLength <= bytes.count else { throw bad("the header runs past the end") }
        let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        // The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
        func entry(_ key: String) -> String? {
            guard let found = header.range(of: "'\(key)':") else { return nil }
            return header[found.upperBound...].prefix { $0 != "," && $0 != "}" }.trimmingCharacters(in: .whitespaces)
        }
        guard let descr = entry("descr") else { throw bad("its header names no dtype (\(header))") }
        let type = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        guard let element = StoredFloat(numpyType: type) else {
            throw bad("its dtype \(descr) is not a float16, float32 or float64 ('<f2', '<f4', '<f8' or big-endian '>f…')")
        }
        let columnMajor: Bool
        switch entry("fortran_order") {
        case "False": columnMajor = false
        case "True": columnMajor = true
        default: throw bad("its header's fortran_order is neither True nor False (\(header))")
        }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else { throw bad("no shape") }
        let dims = header[open.upperBound..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard dims.count == 2, dims[0] > 0, dims[1] > 0 else { throw bad("shape \(dims) is not rows × dimension") }
        let (count, dimension) = (dims[0], dims[1])
        let payload = start + headerLength
        guard Int.checkedProduct([count, dimension, element.size]) == bytes.count - payload else {
            throw bad("it holds \(bytes.count - payload) data bytes, not \(count)×\(dimension)×\(element.size)")
        }
        return try rows(bytes, at: payload, count: count, dimension: dimension, element: element, columnMajor: columnMajor,
                        ids: try ids(beside: path, count: count), path: path)
    }

    /// The item ids in the `.ids` file beside `path`, one per line, exactly `count` of them.
    func ids(beside path: String, count: Int) throws(DataError) -> [String] {
        let idsPath = (Gzip.uncompressedName(path) as NSString).deletingPathExtension + ".ids"
        let ids = DataFile.lines(String(decoding: try DataFile.contents(of: idsPath), as: UTF8.self))
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
        guard ids.count == count else {
            throw DataError(.wrongColumnCount, "\(DataError.quotePath(idsPath)) lists \(ids.count) item ids for \(count) rows of \(DataError.quotePath(path))",
                            hint: "one item id per line, in the matrix's row order")
        }
        return ids
    }

    /// `count` rows of `dimension` elements at `payload`, by id: row after row, or with
    /// `columnMajor` (NumPy's Fortran order) column after column.
    func rows(_ bytes: [UInt8], at payload: Int, count: Int, dimension: Int, element: StoredFloat, columnMajor: Bool = false,
              ids: [String], path: String) throws(DataError) -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        let (rowStride, columnStride) = columnMajor ? (1, count) : (dimension, 1)
        for (row, id) in ids.enumerated() {
            let vector = bytes.withUnsafeBytes { raw in
                (0..<dimension).map { d in element.value(raw, at: payload + (row * rowStride + d * columnStride) * element.size) }
            }
            if let d = vector.firstIndex(where: { !$0.isFinite }) {
                throw DataError(.invalidValue, "item \(DataError.quote(id)) (row \(row + 1) of \(DataError.quotePath(path))): value \(d) is not finite"
                                + (vector[d].isNaN ? "" : " as a 32-bit float"))
            }
            guard out.updateValue(vector, forKey: id) == nil else {
                throw DataError(.invalidValue, "item \(DataError.quote(id)) appears twice in the ids of \(DataError.quotePath(path))")
            }
        }
        return out
    }

    func safetensors(_ data: Data, path: String) throws(DataError) -> [String: [Float]] {
        let bytes = [UInt8](data)
        func bad(_ why: String) -> DataError {
            DataError(.invalidValue, "\(DataError.quotePath(path)) is not a usable safetensors file of item vectors: \(why)",
                      hint: "save one 2-D F16, BF16, F32 or F64 tensor (named \"vectors\" if there are several) and the ids in __metadata__[\"items\"]")
        }
        guard bytes.count >= 8 else { throw bad("it is shorter than its header length") }
        var length = 0
        for b in 0..<8 { length |= Int(bytes[b]) << (8 * b) }
        guard length > 0, length <= bytes.count - 8,
              let header = (try? JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)]))) as? [String: Any] else {
            throw bad("the header is not a JSON object")
        }
        let tensors = header.filter { $0.key != "__metadata__" }.compactMap { name, value -> (String, [String: Any])? in
            guard let entry = value as? [String: Any], (entry["shape"] as? [Int])?.count == 2 else { return nil }
            return (name, entry)
        }
        guard let (name, entry) = tensors.count == 1 ? tensors.first : tensors.first(where: { $0.0 == "vectors" }) else {
            throw bad("it has \(tensors.count) 2-D tensors and none is named \"vectors\"")
        }
        let shape = entry["shape"] as! [Int]
        guard let element = (entry["dtype"] as? String).flatMap(StoredFloat.init(safetensorsType:)) else {
            throw bad("tensor \(name) has dtype \(entry["dtype"] ?? "none"), not F16, BF16, F32 or F64")
        }
        guard let offsets = entry["data_offsets"] as? [Int], offsets.count == 2, shape[0] > 0, shape[1] > 0,
              offsets[0] >= 0, offsets[1] >= offsets[0], offsets[1] <= bytes.count - 8 - length,
              Int.checkedProduct(shape + [element.size]) == offsets[1] - offsets[0] else {
            throw bad("tensor \(name)'s offsets do not match its \(shape) shape")
        }
        let ids: [String]
        if let metadata = header["__metadata__"] as? [String: Any], let text = metadata["items"] as? String {
            guard let list = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [Any], list.count == shape[0] else {
                throw bad("__metadata__.items is not a JSON array of \(shape[0]) ids")
            }
            ids = list.map { ($0 as? String) ?? "\($0)" }
        } else {
            ids = try self.ids(beside: path, count: shape[0])
        }
        return try rows(bytes, at: 8 + length + offsets[0], count: shape[0], dimension: shape[1], element: element, ids: ids, path: path)
    }
}
