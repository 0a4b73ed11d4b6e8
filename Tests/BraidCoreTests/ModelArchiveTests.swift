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

    /// The JSON header of encoded archive bytes, and where its payload starts.
    static func header(of bytes: [UInt8]) -> (header: [String: Any], payloadStart: Int) {
        let headerLength = Int(bytes[12]) | Int(bytes[13]) << 8 | Int(bytes[14]) << 16 | Int(bytes[15]) << 24
        let header = try! JSONSerialization.jsonObject(with: Data(bytes[16..<(16 + headerLength)])) as! [String: Any]
        return (header, (16 + headerLength + 63) / 64 * 64)
    }

    /// Rewrites the header of `archive` (the sample unless given) with `edit`, keeps the
    /// payload, sets the format version to `version` when given, and appends a valid checksum.
    static func crafted(_ archive: Data = sample(), version: UInt8? = nil, _ edit: (inout [String: Any]) -> Void) -> Data {
        let bytes = [UInt8](archive)
        var (header, payloadStart) = Self.header(of: bytes)
        edit(&header)
        let payload = bytes[payloadStart..<(bytes.count - 8)]
        let newHeader = [UInt8](try! JSONSerialization.data(withJSONObject: header))
        var out = Array(bytes[0..<12])
        if let version { out[8] = version }
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

    /// Known answers: the empty product is 1; 3037000499² = 9223372030926249001 is the largest
    /// square below Int.max (2⁶³ − 1), and 3037000500² passes it.
    @Test func checkedProductsStopAtOverflowAndNegatives() {
        #expect(Int.checkedProduct([]) == 1 && Int.checkedProduct([2, 3, 4]) == 24 && Int.checkedProduct([5, 0, Int.max]) == 0)
        #expect(Int.checkedProduct([3037000499, 3037000499]) == 9223372030926249001)
        #expect(Int.checkedProduct([3037000500, 3037000500]) == nil && Int.checkedProduct([Int.max, 2]) == nil)
        #expect(Int.checkedProduct([-1, 2]) == nil && Int.checkedProduct([-2, -2]) == nil)
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

    /// Item titles travel with the file, one per item; a file without them (as every file
    /// written before them) reads as none, and a count that differs from the items' is refused,
    /// in the tables of version 3 and in the JSON header of version 2.
    @Test func itemTitlesRoundTripAndTheirCountIsChecked() throws {
        var archive = try ModelArchive.decode(Self.sample(), fileName: "m.braid")
        #expect(archive.itemTitles == nil)
        archive.itemTitles = ["Alpha (1999)", ""]
        #expect(try ModelArchive.decode(archive.encoded(), fileName: "m.braid").itemTitles == ["Alpha (1999)", ""])
        archive.itemTitles = ["only one"]
        let versionTwo = Self.crafted(version: 2) { header in
            header["users"] = ["u"]
            header["items"] = ["a", "b"]
            header["titles"] = ["only one"]
            header["tables"] = nil
        }
        for (name, bytes) in [("version 3", archive.encoded()), ("version 2", versionTwo)] {
            do {
                _ = try ModelArchive.decode(bytes, fileName: "m.braid")
                Issue.record("\(name): one title for two items was accepted")
            } catch {
                #expect(error.code == .corruptFile && error.description.contains("1 item titles for 2 items"), "\(name): \(error.description)")
            }
        }
    }

    /// A version-2 file keeps its vocabularies, titles and catalogue in the JSON header, and
    /// reads as it did; one without a vocabulary is refused.
    @Test func versionTwoHeadersAreStillRead() throws {
        let old = Self.crafted(version: 2) { header in
            header["users"] = ["u"]
            header["items"] = ["a", "b"]
            header["titles"] = ["Alpha", "Beta"]
            let record: [String: Any] = ["id": "a", "title": "Alpha", "categories": ["x"], "text": [String: String](), "attributes": ["year": 1999],
                                         "userText": [["user": "u", "text": "fun", "timestamp": 7] as [String: Any]]]
            header["catalog"] = [record]
            header["tables"] = nil
        }
        let archive = try ModelArchive.decode(old, fileName: "old.braid")
        #expect(archive.users.identifiers == ["u"] && archive.items.identifiers == ["a", "b"])
        #expect(archive.itemTitles == ["Alpha", "Beta"])
        #expect(archive.catalog == [ItemRecord(id: "a", title: "Alpha", categories: ["x"], attributes: ["year": 1999],
                                               userText: [UserText(user: "u", text: "fun", timestamp: 7)])])
        #expect(try archive.floats("x") == [1, 2, 3])
        #expect(throws: DataError.self) {
            try ModelArchive.decode(Self.crafted(version: 2) { $0["items"] = ["a"]; $0["tables"] = nil }, fileName: "old.braid")
        }
    }

    /// The bytes of table `name` in an encoded archive.
    static func table(_ name: String, of data: Data) -> [UInt8] {
        let bytes = [UInt8](data)
        let (header, payloadStart) = Self.header(of: bytes)
        let entry = (header["tables"] as! [[String: Any]]).first { $0["name"] as? String == name }!
        let start = payloadStart + (entry["offset"] as! Int)
        return Array(bytes[start..<(start + (entry["count"] as! Int))])
    }

    /// Version 3's tables, byte for byte as worked out by hand from their definition: LEB128
    /// counts (300 is 0xAC 0x02), strings as length and UTF-8, a record's flags, its fields in
    /// name order, little-endian doubles, timestamps and floats.
    @Test func tablesHoldTheirDocumentedBytes() throws {
        var archive = ModelArchive(model: "test", configuration: Data("{}".utf8), users: Vocabulary((0..<300).map { "u\($0)" }),
                                   items: Vocabulary(["a", "é"]))
        archive.itemTitles = ["Zoë", ""]
        archive.catalog = [ItemRecord(id: "a", title: "Zoë", categories: ["x"], text: ["e": "", "d": "hi"], attributes: ["year": 1.5],
                                      userText: [UserText(user: "u", text: "t", timestamp: 5)], vector: [1]),
                           ItemRecord(id: "é")]
        let data = archive.encoded()
        #expect(Array(Self.table("users", of: data).prefix(5)) == [0xAC, 0x02, 2, 0x75, 0x30])
        #expect(Self.table("items", of: data) == [2, 1, 0x61, 2, 0xC3, 0xA9])
        #expect(Self.table("titles", of: data) == [2, 4, 0x5A, 0x6F, 0xC3, 0xAB, 0])
        let first: [UInt8] = [1, 0x61, 3, 4, 0x5A, 0x6F, 0xC3, 0xAB, 1, 1, 0x78,
                              2, 1, 0x64, 2, 0x68, 0x69, 1, 0x65, 0,
                              1, 4, 0x79, 0x65, 0x61, 0x72, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F,
                              1, 1, 0x75, 1, 0x74, 5, 0, 0, 0, 0, 0, 0, 0,
                              1, 0, 0, 0x80, 0x3F]
        let second: [UInt8] = [2, 0xC3, 0xA9, 0, 0, 0, 0, 0]
        #expect(Self.table("catalog", of: data) == [2] + first + second)
        let read = try ModelArchive.decode(data, fileName: "m.braid")
        #expect(read == archive)
        // A file without titles or a catalogue has no such tables.
        #expect((Self.header(of: [UInt8](Self.sample())).header["tables"] as! [[String: Any]]).map { $0["name"] as! String } == ["users", "items"])
    }

    /// Bytes of the tables changed at random (1 to 3 at a time, 2,000 times, seeded), the
    /// checksum made valid again: each file reads, or is refused as corrupt, and never traps.
    @Test func randomlyDamagedTablesAreReadOrRefused() throws {
        var archive = ModelArchive(model: "test", configuration: Data("{}".utf8), users: Vocabulary(["u1", "u2"]), items: Vocabulary(["a", "b", "c"]))
        archive.itemTitles = ["Alpha", "Beta", "Gamma"]
        archive.catalog = [ItemRecord(id: "a", title: "Alpha", categories: ["x", "y"], text: ["plot": "long ago"], attributes: ["year": 1999],
                                      userText: [UserText(user: "u1", text: "fun", timestamp: 9)], vector: [0.5, -1]),
                           ItemRecord(id: "b", categories: ["z"]), ItemRecord(id: "c", title: "Gamma")]
        let bytes = [UInt8](archive.encoded())
        let (header, payloadStart) = Self.header(of: bytes)
        let tables = (header["tables"] as! [[String: Any]]).map { payloadStart + ($0["offset"] as! Int) ..< payloadStart + ($0["offset"] as! Int) + ($0["count"] as! Int) }
        var generator = SeededGenerator(seed: 7)
        var refused = 0, read = 0
        for _ in 0..<2_000 {
            var damaged = Array(bytes[..<(bytes.count - 8)])
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let range = tables.randomElement(using: &generator)!
                damaged[Int.random(in: range, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            withUnsafeBytes(of: XXHash64.hash(damaged).littleEndian) { damaged += $0 }
            do {
                _ = try ModelArchive.decode(Data(damaged), fileName: "m.braid")
                read += 1
            } catch {
                #expect(error.code == .corruptFile)
                refused += 1
            }
        }
        #expect(refused > 1_000 && read > 0, "\(refused) refused, \(read) read")
    }

    /// A table whose length, name or dtype was edited (with the checksum made valid again) is
    /// refused, naming the table: cut short, with bytes after its end, unknown, or twice.
    @Test func craftedTablesAreRefused() {
        var archive = try! ModelArchive.decode(Self.sample(), fileName: "m.braid")
        archive.catalog = [ItemRecord(id: "a", title: "Alpha", categories: ["x", "y"])]
        let data = archive.encoded()
        func editTable(_ name: String, _ edit: @escaping (inout [String: Any]) -> Void) -> Data {
            Self.crafted(data) { header in
                var tables = header["tables"] as! [[String: Any]]
                let k = tables.firstIndex { $0["name"] as? String == name }!
                edit(&tables[k])
                header["tables"] = tables
            }
        }
        let cases: [(Data, String)] = [
            (editTable("catalog") { $0["count"] = ($0["count"] as! Int) - 1 }, "its catalog table ends early"),
            (editTable("items") { $0["count"] = ($0["count"] as! Int) + 1 }, "its items table has 1 bytes after its end"),
            (editTable("users") { $0["count"] = 1 }, "its users table gives a length of 1, past its end"),
            (editTable("catalog") { $0["name"] = "tags" }, "table tags of dtype u8 is not one it knows"),
            (editTable("catalog") { $0["dtype"] = "f32" }, "table catalog of dtype f32 is not one it knows"),
            (editTable("catalog") { $0["name"] = "items" }, "table items appears twice"),
            (editTable("users") { $0["count"] = 1 << 40 }, "table users (1099511627776 values at offset"),
            (Self.crafted(data) { header in header["tables"] = (header["tables"] as! [[String: Any]]).filter { $0["name"] as? String != "items" } },
             "it has no item vocabulary"),
            (Self.crafted(data) { header in header["tables"] = (header["tables"] as! [[String: Any]]).filter { $0["name"] as? String != "users" } },
             "it has no user vocabulary"),
        ]
        for (bytes, message) in cases {
            do {
                _ = try ModelArchive.decode(bytes, fileName: "m.braid")
                Issue.record("accepted: \(message)")
            } catch {
                #expect(error.code == .corruptFile && error.description.contains(message) && error.description.contains("m.braid"), "\(error.description)")
            }
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
        var bytes = [UInt8](Self.crafted(version: 2) { header in
            header["users"] = ["u"]
            header["items"] = ["a", "b"]
            header["tables"] = nil
        })
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
