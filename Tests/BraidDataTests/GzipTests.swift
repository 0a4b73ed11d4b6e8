import BraidCore
import BraidData
import BraidTestSupport
import Foundation
import Testing

@Suite struct GzipTests {
    /// `gzip.compress(b"u1\ti1\t5\nu2\ti2\t3\n", mtime=0)` and `gzip.compress(b"u3\ti1\t4\n",
    /// mtime=0)` as Python's gzip module (zlib) writes them: header, deflate data, CRC-32, size.
    static let first: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 43, 53, 228, 204, 52, 228, 52, 229, 42, 53, 226, 204, 52, 226, 52, 230, 2, 0,
                                 105, 31, 241, 221, 16, 0, 0, 0]
    static let second: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 43, 53, 230, 204, 52, 228, 52, 225, 2, 0, 4, 5, 141, 183, 8, 0, 0, 0]
    /// Two JSON Lines interactions, gzipped the same way.
    static let jsonLines: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 171, 86, 42, 45, 78, 45, 82, 178, 82, 80, 42, 53, 84, 210, 81, 80, 202, 44,
                                     73, 205, 5, 241, 50, 193, 188, 162, 196, 146, 204, 188, 116, 32, 223, 180, 150, 171, 26, 161, 210, 8, 143,
                                     74, 147, 90, 46, 0, 40, 140, 42, 125, 84, 0, 0, 0]

    static func text(_ bytes: [UInt8]) -> String? {
        guard case .success(let data) = Gzip.decompress(Data(bytes)) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func failure(_ bytes: [UInt8]) -> Gzip.Failure? {
        guard case .failure(let failure) = Gzip.decompress(Data(bytes)) else { return nil }
        return failure
    }

    @Test func membersInflateToTheirTextsInOrder() {
        #expect(Gzip.isCompressed(Data(Self.first)) && !Gzip.isCompressed(Data("u1\ti1\t5\n".utf8)))
        #expect(Self.text(Self.first) == "u1\ti1\t5\nu2\ti2\t3\n")
        #expect(Self.text(Self.first + Self.second) == "u1\ti1\t5\nu2\ti2\t3\nu3\ti1\t4\n", "two members, as cat a.gz b.gz makes")
        #expect(Self.text(Self.second + [0, 0, 0, 0]) == "u3\ti1\t4\n", "zero padding after the last member")
        #expect(Gzip.uncompressedName("data/Ratings.JSONL.GZ") == "data/Ratings.JSONL" && Gzip.uncompressedName("r.csv") == "r.csv")
    }

    /// A cut file, a changed byte (the CRC-32 no longer matches) and bytes after the data that
    /// are not a member are failures that say where (the compressed byte) and why.
    @Test func damagedFilesAreFailuresWithTheirPlace() throws {
        let cut = try #require(Self.failure(Array(Self.first.prefix(30))))
        #expect(cut.reason.contains("truncated") && cut.offset == 30, "\(cut)")
        var changed = Self.first
        changed[13] ^= 0x01
        #expect(try #require(Self.failure(changed)).reason.contains("corrupt"))
        let trailing = try #require(Self.failure(Self.first + Array("junk".utf8)))
        #expect(trailing.offset == Self.first.count && trailing.reason.contains("4 bytes after its gzip data"), "\(trailing)")
    }

    /// Every importer reads a gzipped file as the text inside, its format told by the name
    /// without `.gz`; a damaged one is an error naming the file and the byte.
    @Test func importersReadGzippedFiles() throws {
        let directory = Fixtures.temporaryDirectory()
        try Data(Self.first + Self.second).write(to: URL(fileURLWithPath: directory + "/ratings.tsv.gz"))
        let (table, _) = try InteractionImporter().importFile(directory + "/ratings.tsv.gz")
        #expect(table.count == 3 && table.users.count == 3 && table.values == [5, 3, 4])
        // Named .jsonl.gz: read as JSON Lines.
        try Data(Self.jsonLines).write(to: URL(fileURLWithPath: directory + "/events.jsonl.gz"))
        let (events, _) = try InteractionImporter().importFile(directory + "/events.jsonl.gz")
        #expect(events.count == 2 && events.values == [5, 4])
        try Data(Self.first.prefix(30)).write(to: URL(fileURLWithPath: directory + "/cut.tsv.gz"))
        let error = try #require(throws: DataError.self) { try InteractionImporter().importFile(directory + "/cut.tsv.gz") }
        #expect(error.description.contains("cut.tsv.gz") && error.description.contains("truncated") && error.description.contains("byte 30 of 30"),
                "\(error.description)")
    }
}
