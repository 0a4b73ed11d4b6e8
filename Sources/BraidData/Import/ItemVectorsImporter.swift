public import BraidCore
internal import Foundation

/// Reads item embeddings from any modality: JSON Lines of `{"item": "id", "vector": [..]}`; a
/// NumPy `.npy` matrix (float32 or float64, C order, one row per item) whose item ids are in a
/// text file beside it, one per line (`vectors.npy` → `vectors.ids`); or a `.safetensors` file
/// whose one 2-D F32/F64 tensor (or the one named `vectors`) holds the rows, with the ids as a
/// JSON array in the header's `__metadata__.items` or in the `.ids` file. Every vector must
/// have the same dimension and finite values; errors name the file, line (or row) and item.
public struct ItemVectorsImporter: Sendable {
    public init() {}

    public func importFile(_ path: String) throws(DataError) -> [String: [Float]] {
        let data = try DataFile.contents(of: path)
        let lower = path.lowercased()
        if lower.hasSuffix(".npy") { return try numpy(data, path: path) }
        if lower.hasSuffix(".safetensors") { return try safetensors(data, path: path) }
        return try jsonLines(data, path: path)
    }

    func jsonLines(_ data: Data, path: String) throws(DataError) -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        var dimension: Int?
        var line = 0
        for raw in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            line += 1
            guard raw.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\t") }) else { continue }
            let location = DataError.Location(file: path, line: line)
            guard let object = (try? JSONSerialization.jsonObject(with: Data(raw))) as? [String: Any] else {
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
            try check(&dimension, vector.count, item: item, location: location)
            guard out.updateValue(vector, forKey: item) == nil else {
                throw DataError(.invalidValue, "item \(DataError.quote(item)) has a second vector", location: location)
            }
        }
        guard !out.isEmpty else { throw DataError(.noDataRows, "\(DataError.quotePath(path)) holds no item vectors") }
        return out
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
                      hint: "save a 2-D float32 or float64 array with numpy.save")
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
        let size: Int
        if header.contains("'<f4'") { size = 4 } else if header.contains("'<f8'") { size = 8 } else { throw bad("dtype is not little-endian float32 or float64 (\(header))") }
        guard header.contains("'fortran_order': False") else { throw bad("Fortran order is not supported") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else { throw bad("no shape") }
        let dims = header[open.upperBound..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard dims.count == 2, dims[0] > 0, dims[1] > 0 else { throw bad("shape \(dims) is not rows × dimension") }
        let (count, dimension) = (dims[0], dims[1])
        let payload = start + headerLength
        guard bytes.count - payload == count * dimension * size else { throw bad("it holds \(bytes.count - payload) data bytes, not \(count)×\(dimension)×\(size)") }
        return try rows(bytes, at: payload, count: count, dimension: dimension, size: size, ids: try ids(beside: path, count: count), path: path)
    }

    /// The item ids in the `.ids` file beside `path`, one per line, exactly `count` of them.
    func ids(beside path: String, count: Int) throws(DataError) -> [String] {
        let idsPath = (path as NSString).deletingPathExtension + ".ids"
        let ids = String(decoding: try DataFile.contents(of: idsPath), as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
        guard ids.count == count else {
            throw DataError(.wrongColumnCount, "\(DataError.quotePath(idsPath)) lists \(ids.count) item ids for \(count) rows of \(DataError.quotePath(path))",
                            hint: "one item id per line, in the matrix's row order")
        }
        return ids
    }

    /// `count` little-endian rows of `dimension` floats of `size` bytes at `payload`, by id.
    func rows(_ bytes: [UInt8], at payload: Int, count: Int, dimension: Int, size: Int, ids: [String], path: String) throws(DataError) -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        for (row, id) in ids.enumerated() {
            var vector = [Float](repeating: 0, count: dimension)
            for d in 0..<dimension {
                let offset = payload + (row * dimension + d) * size
                var bits: UInt64 = 0
                for b in 0..<size { bits |= UInt64(bytes[offset + b]) << (8 * b) }
                vector[d] = size == 4 ? Float(bitPattern: UInt32(bits)) : Float(Double(bitPattern: bits))
                guard vector[d].isFinite else {
                    throw DataError(.invalidValue, "item \(DataError.quote(id)) (row \(row + 1) of \(DataError.quotePath(path))): value \(d) is not finite")
                }
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
                      hint: "save one 2-D F32 or F64 tensor (named \"vectors\" if there are several) and the ids in __metadata__[\"items\"]")
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
        let size: Int
        switch entry["dtype"] as? String {
        case "F32": size = 4
        case "F64": size = 8
        default: throw bad("tensor \(name) has dtype \(entry["dtype"] ?? "none"), not F32 or F64")
        }
        guard let offsets = entry["data_offsets"] as? [Int], offsets.count == 2, shape[0] > 0, shape[1] > 0,
              offsets[0] >= 0, offsets[1] - offsets[0] == shape[0] * shape[1] * size, 8 + length + offsets[1] <= bytes.count else {
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
        return try rows(bytes, at: 8 + length + offsets[0], count: shape[0], dimension: shape[1], size: size, ids: ids, path: path)
    }
}
