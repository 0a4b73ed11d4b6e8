import BraidCore
import BraidData
import BraidTestSupport
import Foundation
import Testing

@Suite struct ItemVectorsTests {
    @Test func jsonLinesVectorsLoad() throws {
        let path = Fixtures.temporaryFile("{\"item\": \"a\", \"vector\": [1, 0.5]}\n\n{\"item\": 7, \"vector\": [0, 2]}\n", name: "v.jsonl")
        let vectors = try ItemVectorsImporter().importFile(path)
        #expect(vectors == ["a": [1, 0.5], "7": [0, 2]])
    }

    /// Plain lines are read straight from their bytes, others by `JSONSerialization`: the same
    /// lines with their "item" key written with an escape (which only the latter reads) give
    /// the same vectors, bit for bit, over numbers of every JSON form (17 significant digits,
    /// exponents, integers of 30 digits, subnormal and underflowing values, −0). A byte-order
    /// mark, CRLF line ends, blank lines of spaces and tabs, members in another order and other
    /// members are read alike.
    @Test func plainAndSerializedLinesReadAlike() throws {
        var rng = SeededGenerator(seed: 9)
        func number() -> String {
            let x = (rng.nextUnit() - 0.5) * pow(10, Double(Int(rng.nextUnit() * 12) - 6))
            switch Int(rng.nextUnit() * 6) {
            case 0: return String(format: "%.17g", x)
            case 1: return String(format: "%.3e", x)
            case 2: return String(format: "%.8E", x)
            case 3: return String(Int(x * 1000))
            case 4: return ["-0.0", "0", "1e-50", "4e-45", "123456789012345678901234567890", "1E+2", "-2.5e+00", "0.1"][Int(rng.nextUnit() * 8)]
            default: return String(x)
            }
        }
        var plain = "\u{FEFF}", escaped = "\u{FEFF}"
        for n in 0..<300 {
            let values = (0..<16).map { _ in number() }.joined(separator: n % 3 == 0 ? "," : ", ")
            let rest = n % 4 == 1 ? ", \"meta\": {\"source\": [1, 2.5, null, true]}" : ""
            if n % 5 == 2 {
                plain += "{\"vector\": [\(values)], \"item\": \"i\(n)\"\(rest)}\r\n"
                escaped += "{\"vector\": [\(values)], \"\\u0069tem\": \"i\(n)\"\(rest)}\r\n"
            } else {
                plain += "{\"item\": \"i\(n)\", \"vector\": [\(values)]\(rest)}\n"
                escaped += "{\"\\u0069tem\": \"i\(n)\", \"vector\": [\(values)]\(rest)}\n"
            }
            if n % 50 == 0 { plain += " \t \n"; escaped += "\t\n" }
        }
        let a = try ItemVectorsImporter().importFile(Fixtures.temporaryFile(plain, name: "plain.jsonl"))
        let b = try ItemVectorsImporter().importFile(Fixtures.temporaryFile(escaped, name: "escaped.jsonl"))
        #expect(a.count == 300 && a.keys.sorted() == b.keys.sorted())
        for (item, vector) in a { #expect(vector.map(\.bitPattern) == b[item]?.map(\.bitPattern), "\(item)") }
        // Values by hand: 1E+2 is 100; 4e-45 rounds to three times the least float32 subnormal,
        // 2⁻¹⁴⁹ ≈ 1.401e-45 (bits 3); 1e-50 underflows to 0; −0 keeps its sign.
        let known = try ItemVectorsImporter().importFile(Fixtures.temporaryFile("{\"item\": \"k\", \"vector\": [1E+2, 4e-45, 1e-50, -0.0, 0.1]}\n", name: "k.jsonl"))
        #expect(known["k"]?.map(\.bitPattern) == [Float(100).bitPattern, 3, 0, Float(-0.0).bitPattern, Float(0.1).bitPattern])
    }

    @Test(arguments: [
        ("{\"item\": \"a\", \"vector\": [1, 2]}\n{\"item\": \"b\", \"vector\": [1, 2, 3]}\n", "3-dimensional vector where the first had 2", 2),
        ("{\"item\": \"a\", \"vector\": [1, 2]}\n{\"item\": \"b\", \"vector\": [1e39, 2]}\n", "value 0 of its vector", 2),
        ("{\"item\": \"a\", \"vector\": [1, \"x\"]}\n", "value 1 of its vector", 1),
        ("{\"item\": \"a\", \"vector\": [1, 2]}\nnot json\n", "not a JSON object", 2),
        ("{\"vector\": [1, 2]}\n", "no \"item\" id", 1),
        ("{\"item\": \"a\", \"vector\": [1]}\n{\"item\": \"a\", \"vector\": [2]}\n", "second vector", 2),
    ] as [(String, String, Int)])
    func badVectorsNameTheLine(text: String, message: String, line: Int) {
        let path = Fixtures.temporaryFile(text, name: "bad.jsonl")
        do {
            _ = try ItemVectorsImporter().importFile(path)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
            #expect(error.location?.line == line)
            #expect(error.description.contains("bad.jsonl"))
        }
    }

    /// A float32 .npy written by hand (NumPy's format 1.0) with its ids beside it.
    @Test func numpyMatrixWithIds() throws {
        let directory = Fixtures.temporaryDirectory()
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)] + Array(header.utf8)
        for value: Float in [1, 2, 3, 4, 5, 6] { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/v.npy"))
        try "x\ny\n".write(toFile: directory + "/v.ids", atomically: true, encoding: .utf8)
        #expect(try ItemVectorsImporter().importFile(directory + "/v.npy") == ["x": [1, 2, 3], "y": [4, 5, 6]])
        try "x\r\ny\r\n".write(toFile: directory + "/v.ids", atomically: true, encoding: .utf8)
        #expect(try ItemVectorsImporter().importFile(directory + "/v.npy") == ["x": [1, 2, 3], "y": [4, 5, 6]], "Windows line ends")
        try "x\n".write(toFile: directory + "/v.ids", atomically: true, encoding: .utf8)
        #expect(throws: DataError.self) { try ItemVectorsImporter().importFile(directory + "/v.npy") }
    }

    /// A .npy file as NumPy's format 1.0 lays it out: magic, version, header length, the dict
    /// padded to 64 bytes, then the raw elements.
    static func npy(descr: String, fortran: Bool, shape: (Int, Int), payload: [UInt8]) -> Data {
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': (\(shape.0), \(shape.1)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)] + Array(header.utf8) + payload)
    }

    /// Half-precision values from their bits, worked out by hand: 0x3C00 is 1 (exponent 15,
    /// no fraction), 0xC000 −2, 0x3555 0.333251953125 (2⁻² × (1 + 341/1024)), 0x7BFF 65504 (the
    /// largest), 0x0001 2⁻²⁴ (the least subnormal), 0x8000 −0, 0x7C00 infinity; bfloat16 0x3F80
    /// is 1 and 0xC0A0 −5 (a float32's upper half).
    @Test func storedFloatsDecodeByHand() {
        func half(_ bits: UInt16) -> Float { StoredFloat.half(bits) }
        #expect(half(0x3C00) == 1 && half(0xC000) == -2 && half(0x3555) == 0.333251953125 && half(0x7BFF) == 65504)
        #expect(half(0x0001) == 0x1p-24 && half(0x03FF) == 1023 * 0x1p-24)
        #expect(half(0x8000) == 0 && half(0x8000).sign == .minus && half(0x7C00) == .infinity && half(0x7E00).isNaN)
        let bf16 = StoredFloat(.bfloat16), big = StoredFloat(.half, bigEndian: true)
        ([0x80, 0x3F, 0xA0, 0xC0] as [UInt8]).withUnsafeBytes { raw in
            #expect(bf16.value(raw, at: 0) == 1 && bf16.value(raw, at: 2) == -5)
        }
        ([0x3C, 0x00] as [UInt8]).withUnsafeBytes { raw in #expect(big.value(raw, at: 0) == 1) }
        #expect(StoredFloat(numpyType: ">f8") == StoredFloat(.double, bigEndian: true) && StoredFloat(numpyType: "<f2") == StoredFloat(.half))
        #expect(StoredFloat(numpyType: "<i4") == nil && StoredFloat(safetensorsType: "I64") == nil && StoredFloat(safetensorsType: "BF16")?.size == 2)
    }

    /// The matrix [[1, 2, 3], [4, 5, 6]] stored four ways NumPy writes it: float16 in Fortran
    /// order (`np.asfortranarray`, or a transposed array: the columns one after another),
    /// big-endian float32, float64 in C order; each loads as the same rows.
    @Test func numpyMatricesInEveryFloatWidthAndOrder() throws {
        let directory = Fixtures.temporaryDirectory()
        try "x\ny\n".write(toFile: directory + "/v.ids", atomically: true, encoding: .utf8)
        let halves: [UInt16] = [0x3C00, 0x4000, 0x4200, 0x4400, 0x4500, 0x4600]   // 1…6
        func bytes<T: FixedWidthInteger>(_ values: [T], bigEndian: Bool = false) -> [UInt8] {
            values.flatMap { value in withUnsafeBytes(of: bigEndian ? value.bigEndian : value.littleEndian) { Array($0) } }
        }
        let fortranOrder = [0, 3, 1, 4, 2, 5].map { halves[$0] }
        let files: [(String, Data)] = [
            ("<f2 C", Self.npy(descr: "<f2", fortran: false, shape: (2, 3), payload: bytes(halves))),
            ("<f2 Fortran", Self.npy(descr: "<f2", fortran: true, shape: (2, 3), payload: bytes(fortranOrder))),
            (">f4 C", Self.npy(descr: ">f4", fortran: false, shape: (2, 3), payload: bytes((1...6).map { Float($0).bitPattern }, bigEndian: true))),
            ("<f8 Fortran", Self.npy(descr: "<f8", fortran: true, shape: (2, 3), payload: bytes([1, 4, 2, 5, 3, 6].map { Double($0).bitPattern }))),
        ]
        for (name, data) in files {
            try data.write(to: URL(fileURLWithPath: directory + "/v.npy"))
            #expect(try ItemVectorsImporter().importFile(directory + "/v.npy") == ["x": [1, 2, 3], "y": [4, 5, 6]], "\(name)")
        }
        // A dtype that is not a float, and a float64 past a float32's range, are named.
        let refused: [(Data, String)] = [
            (Self.npy(descr: "<i8", fortran: false, shape: (2, 3), payload: bytes([Int64](repeating: 1, count: 6))), "dtype '<i8' is not a float16"),
            (Self.npy(descr: "<f8", fortran: false, shape: (2, 3), payload: bytes([1, 2, 3, 4, 1e300, 6].map { Double($0).bitPattern })),
             "item \"y\" (row 2 of"),
        ]
        for (data, message) in refused {
            try data.write(to: URL(fileURLWithPath: directory + "/v.npy"))
            let error = try #require(throws: DataError.self) { try ItemVectorsImporter().importFile(directory + "/v.npy") }
            #expect(error.description.contains(message), "\(error.description)")
        }
    }

    /// A safetensors file laid out by hand: 8-byte header length, JSON header, raw F32 data.
    @Test func safetensorsWithIdsInTheMetadata() throws {
        func file(_ header: String, _ values: [Float]) -> Data {
            var bytes: [UInt8] = []
            withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes += $0 }
            bytes += Array(header.utf8)
            for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
            return Data(bytes)
        }
        let directory = Fixtures.temporaryDirectory()
        let good = #"{"__metadata__": {"items": "[\"a\", \"b\"]"}, "vectors": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}"#
        try file(good, [1, 2, 3, 4]).write(to: URL(fileURLWithPath: directory + "/v.safetensors"))
        #expect(try ItemVectorsImporter().importFile(directory + "/v.safetensors") == ["a": [1, 2], "b": [3, 4]])
        let wrongOffsets = #"{"__metadata__": {"items": "[\"a\", \"b\"]"}, "vectors": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 12]}}"#
        try file(wrongOffsets, [1, 2, 3, 4]).write(to: URL(fileURLWithPath: directory + "/w.safetensors"))
        #expect(throws: DataError.self) { try ItemVectorsImporter().importFile(directory + "/w.safetensors") }
        // Half and bfloat16 tensors: 1, 2, 3, 4 by their bits (0x3C00… and 0x3F80…).
        for (dtype, bits) in [("F16", [0x3C00, 0x4000, 0x4200, 0x4400]), ("BF16", [0x3F80, 0x4000, 0x4040, 0x4080])] as [(String, [UInt16])] {
            let header = #"{"__metadata__": {"items": "[\"a\", \"b\"]"}, "vectors": {"dtype": "\#(dtype)", "shape": [2, 2], "data_offsets": [0, 8]}}"#
            var bytes: [UInt8] = []
            withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes += $0 }
            bytes += Array(header.utf8)
            for value in bits { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
            try Data(bytes).write(to: URL(fileURLWithPath: directory + "/h.safetensors"))
            #expect(try ItemVectorsImporter().importFile(directory + "/h.safetensors") == ["a": [1, 2], "b": [3, 4]], "\(dtype)")
        }
        let infinite = #"{"__metadata__": {"items": "[\"a\", \"b\"]"}, "vectors": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}"#
        try file(infinite, [1, .infinity, 3, 4]).write(to: URL(fileURLWithPath: directory + "/i.safetensors"))
        #expect(throws: DataError.self) { try ItemVectorsImporter().importFile(directory + "/i.safetensors") }
        // Crafted headers whose shape or offsets overflow a 64-bit product or sum are refused,
        // not a crash: 2³² × 2³² values, and an end offset of Int.max or below the start.
        for (shape, offsets) in [("[4294967296, 4294967296]", "[0, 16]"), ("[2, 2]", "[0, \(Int.max)]"), ("[2, 2]", "[16, \(Int.min)]"),
                                 ("[3037000500, 3037000500]", "[0, 16]")] {
            let crafted = #"{"__metadata__": {"items": "[\"a\", \"b\"]"}, "vectors": {"dtype": "F32", "shape": \#(shape), "data_offsets": \#(offsets)}}"#
            try file(crafted, [1, 2, 3, 4]).write(to: URL(fileURLWithPath: directory + "/c.safetensors"))
            let error = try #require(throws: DataError.self) { try ItemVectorsImporter().importFile(directory + "/c.safetensors") }
            #expect(error.description.contains("offsets do not match"), "\(shape) \(offsets): \(error.description)")
        }
        try "x\ny\n".write(toFile: directory + "/n.ids", atomically: true, encoding: .utf8)
        try numpy(shape: (4611686018427387904, 4)).write(to: URL(fileURLWithPath: directory + "/n.npy"))
        let error = try #require(throws: DataError.self) { try ItemVectorsImporter().importFile(directory + "/n.npy") }
        #expect(error.description.contains("data bytes, not 4611686018427387904×4×4"), "\(error.description)")
    }

    func numpy(shape: (Int, Int)) -> Data {
        Self.npy(descr: "<f4", fortran: false, shape: shape, payload: [UInt8](repeating: 0, count: 32))
    }

    /// A catalogue's vector dimension is the length most of its vectors have, the shorter of two
    /// as common, whatever order its records come in.
    @Test func aCatalogsVectorDimensionIsTheCommonestLength() {
        func catalog(_ lengths: [Int]) -> ItemCatalog {
            ItemCatalog(lengths.enumerated().map { n, length in ItemRecord(id: "i\(n)", vector: [Float](repeating: 1, count: length)) }
                        + [ItemRecord(id: "without", title: "no vector")])
        }
        #expect(catalog([3, 2, 3, 3]).vectorDimension == 3)
        #expect(catalog([2, 3, 3, 2, 5]).vectorDimension == 2)
        #expect(catalog([7]).vectorDimension == 7)
        #expect(catalog([]).vectorDimension == nil)
    }
}
