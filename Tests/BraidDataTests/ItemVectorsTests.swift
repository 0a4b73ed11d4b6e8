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

    @Test(arguments: [
        ("{\"item\": \"a\", \"vector\": [1, 2]}\n{\"item\": \"b\", \"vector\": [1, 2, 3]}\n", "3-dimensional vector where the first had 2", 2),
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
        try "x\n".write(toFile: directory + "/v.ids", atomically: true, encoding: .utf8)
        #expect(throws: DataError.self) { try ItemVectorsImporter().importFile(directory + "/v.npy") }
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
        let infinite = #"{"__metadata__": {"items": "[\"a\", \"b\"]"}, "vectors": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}"#
        try file(infinite, [1, .infinity, 3, 4]).write(to: URL(fileURLWithPath: directory + "/i.safetensors"))
        #expect(throws: DataError.self) { try ItemVectorsImporter().importFile(directory + "/i.safetensors") }
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
