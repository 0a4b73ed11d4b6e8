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
        withUnsafeBytes(of: XXHash64.hash(out).littleEndian) { out += $0 }
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

    /// Item titles travel in the header, one per item; a file without them (as every file
    /// written before them) reads as none, and a count that differs from the items' is refused.
    @Test func itemTitlesRoundTripAndTheirCountIsChecked() throws {
        var archive = try ModelArchive.decode(Self.sample(), fileName: "m.braid")
        #expect(archive.itemTitles == nil)
        archive.itemTitles = ["Alpha (1999)", ""]
        #expect(try ModelArchive.decode(archive.encoded(), fileName: "m.braid").itemTitles == ["Alpha (1999)", ""])
        do {
            _ = try ModelArchive.decode(Self.crafted { $0["titles"] = ["only one"] }, fileName: "m.braid")
            Issue.record("one title for two items was accepted")
        } catch {
            #expect(error.code == .corruptFile && error.description.contains("1 item titles for 2 items"), "\(error.description)")
        }
    }

    @Test func unknownDtypeIsRefused() {
        #expect(throws: DataError.self) { try ModelArchive.decode(Self.editArray("y", "dtype", "f16"), fileName: "m.braid") }
    }

    /// The file streamed to disk is the same bytes as `encoded()`, whose checksum is XXH64 of
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
        #expect(written.suffix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } == XXHash64.hash(body).littleEndian)
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
        // A missing directory is named, for the model file and for any other file, whole
        // (this one is over 60 characters, where values are shortened).
        let missing = directory + "/no/such/dir"
        #expect(throws: DataError.self) { try archive.write(to: missing + "/m.braid") }
        do { try archive.write(to: missing + "/m.braid") } catch {
            #expect(error.description.contains("cannot write model file \"\(missing)/m.braid\": the directory \"\(missing)\" does not exist"), "\(error.description)")
        }
        do { try DataFile.write(Data([1]), to: missing + "/a.tsv") } catch {
            #expect(error.description.contains("cannot write \"\(missing)/a.tsv\": the directory \"\(missing)\" does not exist"), "\(error.description)")
        }
    }

    /// Published values: FNV-1a 64's test vector for "a", and XXH64 (seed 0) as the reference C
    /// implementation computes it (python-xxhash 3), for every path: no stripe, one or more
    /// stripes, and tails of 8-, 4- and 1-byte steps.
    @Test func checksumsMatchTheirReferences() {
        #expect(FNV1a.hash([UInt8]("a".utf8)) == 0xaf63dc4c8601ec8c)
        let long = [UInt8]((0..<768).map { UInt8($0 % 256) }) + [UInt8]("tail".utf8)
        let cases: [([UInt8], UInt64)] = [
            ([], 0xef46db3751d8e999),
            ([UInt8]("a".utf8), 0xd24ec4f1a98c6e5b),
            ([UInt8]("abc".utf8), 0x44bc2cf5ad770999),
            (long, 0x2a74de530bdf2a9f),
            ([UInt8]("Braid model files are checksummed with XXH64 in stripes of 32 bytes.".utf8), 0x2ca62910ce951e81),
        ]
        for (bytes, expected) in cases {
            #expect(XXHash64.hash(bytes) == expected, "\(bytes.count) bytes")
            // Fed in pieces that cut stripes and tails anywhere, the hash is the whole's.
            for cut in [1, 5, 31, 33, 100] where cut < bytes.count {
                var hasher = XXHash64()
                var rest = bytes[...]
                while !rest.isEmpty {
                    Array(rest.prefix(cut)).withUnsafeBytes { hasher.combine($0) }
                    rest = rest.dropFirst(cut)
                }
                #expect(hasher.value == expected, "\(bytes.count) bytes in pieces of \(cut)")
            }
        }
    }

    /// Files of format version 1, checksummed with FNV-1a, are still read; a version-2 file
    /// carrying a version-1 checksum is refused.
    @Test func versionOneFilesAreStillRead() throws {
        var bytes = [UInt8](Self.sample())
        bytes[8] = 1
        let body = Array(bytes[..<(bytes.count - 8)])
        let old = body + withUnsafeBytes(of: FNV1a.hash(body).littleEndian) { Array($0) }
        #expect(try ModelArchive.decode(Data(old), fileName: "old.braid").floats("x") == [1, 2, 3])
        var newer = body
        newer[8] = 2
        let mixed = newer + withUnsafeBytes(of: FNV1a.hash(newer).littleEndian) { Array($0) }
        #expect(throws: DataError.self) { try ModelArchive.decode(Data(mixed), fileName: "mixed.braid") }
    }
}
