import BraidCore
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
}
