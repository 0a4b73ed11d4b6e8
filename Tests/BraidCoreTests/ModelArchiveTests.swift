import BraidCore
import BraidTestSupport
import Foundation
import Testing

/// Model files whose header was edited and whose checksum was then recomputed, as an attacker
/// (or a buggy writer) would: every array must still be checked before it is read.
@Suite struct ModelArchiveTests {
    static func sample() -> Data {
        var archive = ModelArchive(model: "test", configuration: Data("{}".utf8), users: Vocabulary(["u"]), items: Vocabulary(["a", "b"]))
        archive.arrays["x"] = .float32([1, 2, 3])
        archive.arrays["y"] = .int64([7, 8])
        return archive.encoded()
    }

    /// Rewrites the header with `edit`, keeps the payload, and appends a valid checksum.
    static func crafted(_ edit: (inout [String: Any]) -> Void) -> Data {
        let bytes = [UInt8](sample())
        let headerLength = Int(bytes[12]) | Int(bytes[13]) << 8 | Int(bytes[14]) << 16 | Int(bytes[15]) << 24
        var header = try! JSONSerialization.jsonObject(with: Data(bytes[16..<(16 + headerLength)])) as! [String: Any]
        edit(&header)
        let payload = bytes[((16 + headerLength + 63) / 64 * 64)..<(bytes.count - 8)]
        let newHeader = [UInt8](try! JSONSerialization.data(withJSONObject: header))
        var out = Array(bytes[0..<12])
        withUnsafeBytes(of: UInt32(newHeader.count).littleEndian) { out += $0 }
        out += newHeader
        out += [UInt8](repeating: 0, count: (out.count + 63) / 64 * 64 - out.count)
        out += payload
        withUnsafeBytes(of: FNV1a.hash(out).littleEndian) { out += $0 }
        return Data(out)
    }

    static func editArray(_ name: String, _ key: String, _ value: Any) -> Data {
        crafted { header in
            var arrays = header["arrays"] as! [[String: Any]]
            let k = arrays.firstIndex { $0["name"] as? String == name }!
            arrays[k][key] = value
            header["arrays"] = arrays
        }
    }

    @Test func untouchedCraftingRoundTrips() throws {
        let archive = try ModelArchive.decode(Self.crafted { _ in }, fileName: "m.braid")
        #expect(try archive.floats("x") == [1, 2, 3])
        #expect(try archive.int64s("y") == [7, 8])
    }

    @Test(arguments: [
        ("offset", -64, "negative offset"),
        ("offset", 2, "not a multiple"),
        ("offset", 1 << 40, "runs past the end"),
        ("offset", Int.max - 7, "runs past the end"),
        ("count", Int.max / 2, "runs past the end"),
        ("count", 1_000, "runs past the end"),
        ("count", -1, "negative"),
    ] as [(String, Int, String)])
    func craftedArrayBoundsAreRefused(field: String, value: Int, message: String) {
        do {
            _ = try ModelArchive.decode(Self.editArray("x", field, value), fileName: "m.braid")
            Issue.record("\(field) = \(value) was accepted")
        } catch {
            #expect(error.code == .corruptFile)
            #expect(error.description.contains(message), "\(error.description)")
            #expect(error.description.contains("m.braid"))
        }
    }

    @Test func unknownDtypeIsRefused() {
        #expect(throws: DataError.self) { try ModelArchive.decode(Self.editArray("y", "dtype", "f16"), fileName: "m.braid") }
    }

    /// The file streamed to disk is the same bytes as `encoded()`, whose checksum is FNV-1a of
    /// everything before it; it replaces an earlier file whole, and a write that fails at the
    /// rename (the target is a directory) leaves nothing behind.
    @Test func writingStreamsTheEncodedBytesAtomically() throws {
        let directory = Fixtures.temporaryDirectory()
        let path = directory + "/m.braid"
        try Data("an older model".utf8).write(to: URL(fileURLWithPath: path))
        var archive = ModelArchive(model: "test", configuration: Data("{}".utf8), users: Vocabulary(["u"]), items: Vocabulary(["a", "b"]))
        archive.arrays["x"] = .float32(FloatBuffer((0..<1_000).map(Float.init)))
        archive.arrays["y"] = .int32([5])
        archive.arrays["z"] = .float64([0.5, 0.25])
        try archive.write(to: path)
        let written = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(written == archive.encoded())
        let body = written.prefix(written.count - 8)
        #expect(written.suffix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } == FNV1a.hash(body).littleEndian)
        #expect(try ModelArchive.read(from: path) == ModelArchive.decode(written, fileName: path))
        try FileManager.default.createDirectory(atPath: directory + "/taken", withIntermediateDirectories: false)
        do {
            try archive.write(to: directory + "/taken")
            Issue.record("writing over a directory succeeded")
        } catch {
            #expect(error.code == .writeFailed)
            #expect(error.description.contains("cannot write model file"), "\(error.description)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["m.braid", "taken"])
    }

    @Test func hashingInPiecesEqualsHashingWhole() {
        let bytes = [UInt8]("model files are hashed as they stream".utf8)
        var hasher = FNV1a()
        hasher.combine(bytes[..<7])
        hasher.combine(bytes[7...])
        #expect(hasher.value == FNV1a.hash(bytes))
        #expect(FNV1a.hash([UInt8]("a".utf8)) == 0xaf63dc4c8601ec8c)  // the published FNV-1a 64 test vector
    }
}
