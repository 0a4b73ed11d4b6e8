public import BraidCore
public import Foundation

/// Reads item embeddings from any modality: JSON Lines of `{"item": "id", "vector": [..]}`, or
/// a NumPy `.npy` matrix (float32 or float64, C order, one row per item) whose item ids are in
/// a text file beside it, one per line (`vectors.npy` → `vectors.ids`). Every vector must have
/// the same dimension and finite values; errors name the file, line (or row) and item.
public struct ItemVectorsImporter: Sendable {
    public init() {}

    public func importFile(_ path: String) throws(DataError) -> [String: [Float]] {
        let data = try DataFile.contents(of: path)
        return path.lowercased().hasSuffix(".npy") ? try numpy(data, path: path) : try jsonLines(data, path: path)
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
        guard !out.isEmpty else { throw DataError(.noDataRows, "\(DataError.quote(path)) holds no item vectors") }
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
            DataError(.invalidValue, "\(DataError.quote(path)) is not a usable .npy matrix: \(why)",
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
        let (rows, dimension) = (dims[0], dims[1])
        let payload = start + headerLength
        guard bytes.count - payload == rows * dimension * size else { throw bad("it holds \(bytes.count - payload) data bytes, not \(rows)×\(dimension)×\(size)") }
        let idsPath = (path as NSString).deletingPathExtension + ".ids"
        let ids = String(decoding: try DataFile.contents(of: idsPath), as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
        guard ids.count == rows else {
            throw DataError(.wrongColumnCount, "\(DataError.quote(idsPath)) lists \(ids.count) item ids for \(rows) rows of \(DataError.quote(path))",
                            hint: "one item id per line, in the matrix's row order")
        }
        var out: [String: [Float]] = [:]
        for (row, id) in ids.enumerated() {
            var vector = [Float](repeating: 0, count: dimension)
            for d in 0..<dimension {
                let offset = payload + (row * dimension + d) * size
                var bits: UInt64 = 0
                for b in 0..<size { bits |= UInt64(bytes[offset + b]) << (8 * b) }
                vector[d] = size == 4 ? Float(bitPattern: UInt32(bits)) : Float(Double(bitPattern: bits))
                guard vector[d].isFinite else {
                    throw DataError(.invalidValue, "item \(DataError.quote(id)) (row \(row + 1) of \(DataError.quote(path))): value \(d) is not finite")
                }
            }
            guard out.updateValue(vector, forKey: id) == nil else {
                throw DataError(.invalidValue, "item \(DataError.quote(id)) appears twice in \(DataError.quote(idsPath))")
            }
        }
        return out
    }
}
