import BraidCore
@testable import BraidData
import BraidTestSupport
import Foundation
import Testing

@Suite struct ImporterTests {
    func load(_ text: String, name: String = "ratings.csv", options: ImportOptions = ImportOptions()) throws(DataError) -> (InteractionTable, ImportReport) {
        try InteractionImporter(options: options).importFile(Fixtures.temporaryFile(text, name: name))
    }

    func caught(_ body: () throws(DataError) -> Void) -> DataError? {
        do { try body(); return nil } catch { return error }
    }

    func error(_ text: String, name: String = "ratings.csv", options: ImportOptions = ImportOptions()) -> DataError? {
        do { _ = try load(text, name: name, options: options); return nil } catch { return error }
    }

    @Test func movieLensLatestWithHeader() throws {
        let (table, report) = try load("userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n")
        #expect(table.count == 2)
        #expect(report.headerLine == ["userId", "movieId", "rating", "timestamp"])
        #expect(table[0] == Interaction(user: "1", item: "31", value: 2.5, timestamp: 1260759144))
    }

    @Test func movieLens100kTabSeparatedWithoutHeader() throws {
        let (table, report) = try load("196\t242\t3\t881250949\n186\t302\t3\t891717742\n", name: "u.data")
        #expect(table.count == 2 && report.headerLine == nil && report.delimiter == "tab")
        #expect(table[1].item == "302")
    }

    @Test func movieLens1MDoubleColon() throws {
        let (table, report) = try load("1::1193::5::978300760\n1::661::3::978302109\n", name: "ratings.dat")
        #expect(table.count == 2 && report.delimiter == "'::'")
        #expect(table[0].value == 5)
    }

    @Test func byteOrderMarkAndCRLFAreAccepted() throws {
        let bytes = Data([0xEF, 0xBB, 0xBF]) + Data("user,item,rating\r\nA,X,4\r\nB,Y,5\r\n".utf8)
        let (table, _) = try InteractionImporter().importFile(Fixtures.temporaryFile(bytes))
        #expect(table.users.identifiers == ["A", "B"])
        #expect(table.values == [4, 5])
    }

    @Test func quotedFieldsKeepTheirDelimiters() throws {
        let (table, _) = try load("user,item,rating\n\"Smith, J\",\"a \"\"b\"\"\",3\n")
        #expect(table[0].user == "Smith, J" && table[0].item == "a \"b\"")
    }

    @Test func columnsByHeaderNameAndEvents() throws {
        let text = "ts,event_type,customer_id,sku\n2024-03-01T10:00:00Z,view,c1,p9\n2024-03-01,purchase,c2,p9\n"
        let options = ImportOptions(columns: try ColumnMapping(argument: "user=customer_id,item=sku,timestamp=ts,event=event_type"))
        let (table, _) = try load(text, options: options)
        #expect(table[0] == Interaction(user: "c1", item: "p9", value: 1, timestamp: 1_709_287_200, event: "view"))
        #expect(table[1].timestamp == 1_709_251_200)
        let weighted = table.weighted(by: EventWeights(["purchase": 8]))
        #expect(weighted.values == [1, 8])
    }

    @Test func recognisedHeaderNamesMapThemselves() throws {
        let (table, _) = try load("timestamp,rating,item_id,user_id\n5,4.5,X,U\n")
        #expect(table[0] == Interaction(user: "U", item: "X", value: 4.5, timestamp: 5))
    }

    @Test func jsonLines() throws {
        let text = "{\"user\": 7, \"item\": \"a\", \"rating\": 4, \"timestamp\": 10}\n\n{\"user_id\": \"8\", \"item_id\": 3}\n"
        let (table, _) = try load(text, name: "events.jsonl")
        #expect(table[0] == Interaction(user: "7", item: "a", value: 4, timestamp: 10))
        #expect(table[1] == Interaction(user: "8", item: "3", value: 1))
    }

    // MARK: The corpus of bad files

    @Test func emptyFile() {
        #expect(error("")?.code == .emptyInput)
    }

    @Test func headerOnly() {
        let e = error("userId,movieId,rating,timestamp\n")
        #expect(e?.code == .noDataRows)
    }

    @Test func wrongColumnCountNamesTheLine() throws {
        let e = try #require(error("1\t2\t3\t4\n1\t2\t3\n", name: "u.data"))
        #expect(e.code == .wrongColumnCount)
        #expect(e.location == .init(file: e.location!.file, line: 2))
        #expect(e.description.contains("line 2") && e.description.contains("expected 4 fields but found 3"))
    }

    @Test(arguments: ["4,5", "abc", "NaN", "inf", "-Infinity", ""])
    func badValuesNameFileLineColumnAndValue(value: String) throws {
        let e = try #require(error("user\titem\trating\nA\tX\t4\nB\tY\t\(value)\n", name: "bad.tsv"))
        #expect(e.code == .invalidValue)
        #expect(e.location?.line == 3 && e.location?.column == "rating")
        #expect(e.description.contains("bad.tsv line 3 column rating"))
        #expect(e.description.contains("\"\(value)\""))
    }

    @Test(arguments: ["-5", "yesterday", "12:00"])
    func badTimestamps(value: String) throws {
        let e = try #require(error("A,X,4,5\nB,Y,4,\(value)\n"))
        #expect(e.code == .invalidTimestamp && e.location?.line == 2 && e.location?.column == "timestamp")
    }

    /// A bad number on the first line is a bad row, not a header: before, `A,X,NaN` (or a
    /// negative time) was taken for a header and dropped without a word.
    @Test(arguments: [("A,X,NaN\nB,Y,4\n", DataError.Code.invalidValue), ("A,X,inf\nB,Y,4\n", .invalidValue),
                      ("A,X,1e400\nB,Y,4\n", .invalidValue), ("A,X,,\nB,Y,4,5\n", .invalidValue),
                      ("A,X,4,-5\nB,Y,4,5\n", .invalidTimestamp), ("A,X,4,1e20\nB,Y,4,5\n", .invalidTimestamp)])
    func badNumbersOnTheFirstLineAreRowsNotHeaders(text: String, code: DataError.Code) throws {
        let e = try #require(error(text))
        #expect(e.code == code && e.location?.line == 1)
    }

    @Test func wordsWhereNumbersGoMakeAHeader() throws {
        let (table, report) = try load("who,what,score,when\nA,X,4,2024-03-01\n")
        #expect(report.headerLine == ["who", "what", "score", "when"] && table.count == 1 && report.headerGuessed)
        // Only a header taken for its words is a guess: not one named, nor one stated.
        #expect(try !load("user,item,rating\nA,X,4\n").1.headerGuessed)
        #expect(try !load("who,what,score\nA,X,4\n", options: ImportOptions(header: .present)).1.headerGuessed)
        let (dated, noHeader) = try load("A,X,4,2024-03-01\nB,Y,5,2024-03-02\n")
        #expect(noHeader.headerLine == nil && dated.count == 2)
    }

    @Test func invalidUTF8NamesTheLine() throws {
        let bytes = Data("A,X,4\n".utf8) + Data([0x42, 0xFF, 0x2C, 0x59, 0x2C, 0x35, 0x0A])
        let e = try #require(caught { () throws(DataError) in _ = try InteractionImporter().importFile(Fixtures.temporaryFile(bytes)) })
        #expect(e.code == .invalidEncoding && e.location?.line == 2)
        #expect(e.hint?.contains("latin1") == true)
    }

    @Test func latin1CanBeRequested() throws {
        let bytes = Data([0x41, 0x2C, 0xE9, 0x2C, 0x34, 0x0A])  // A,é,4
        var options = ImportOptions()
        options.encoding = .latin1
        let (table, _) = try InteractionImporter(options: options).importFile(Fixtures.temporaryFile(bytes))
        #expect(table[0].item == "é")
    }

    @Test func tenMegabyteLineIsRefused() throws {
        let e = try #require(error("A,X,4\nB,Y," + String(repeating: "9", count: 10 << 20) + "\n"))
        #expect(e.code == .lineTooLong && e.location?.line == 2)
    }

    @Test func unknownDelimiter() throws {
        let e = try #require(error("justonecolumn\nanother\n"))
        #expect(e.code == .unknownDelimiter && e.hint?.contains("--delimiter") == true)
    }

    @Test func unterminatedQuote() {
        #expect(error("A,\"X,4\n")?.code == .invalidValue)
    }

    @Test func strictImportLeavesTheTableUntouched() throws {
        var table = InteractionTable([Interaction(user: "keep", item: "me")])
        let before = table
        #expect(throws: DataError.self) {
            _ = try InteractionImporter().importFile(Fixtures.temporaryFile("A,X,4\nB,Y,bad\n"), into: &table)
        }
        #expect(table == before)
    }

    @Test func skipInvalidCountsAndExplains() throws {
        var options = ImportOptions()
        options.skipInvalid = true
        let (table, report) = try load("A,X,4\nB,Y,bad\nC,Z\nD,W,NaN\nE,V,5\n", options: options)
        #expect(table.count == 2)
        #expect(report.rowsSkipped == 3)
        #expect(report.skipReasons == ["invalidValue": 2, "wrongColumnCount": 1])
        #expect(report.skippedExamples.count == 3)
    }

    @Test func skipInvalidStillFailsWhenNothingIsLeft() {
        var options = ImportOptions()
        options.skipInvalid = true
        #expect(error("A,X,bad\n", options: options)?.code == .noDataRows)
    }

    @Test func missingFileSaysWhere() throws {
        let e = try #require(caught { () throws(DataError) in _ = try InteractionImporter().importFile("/nonexistent/ratings.csv") })
        #expect(e.code == .fileNotFound && e.description.contains("/nonexistent/ratings.csv"))
    }

    @Test func duplicateRowsFollowThePolicy() throws {
        let (table, _) = try load("A,X,3,10\nA,X,5,30\nA,X,4,20\nB,X,1,5\n")
        #expect(DatasetStatistics(table).duplicatePairs == 2)
        #expect(table.deduplicated(.last).0.values == [5, 1])
        #expect(table.deduplicated(.first).0.values == [3, 1])
        #expect(table.deduplicated(.sum).0.values == [12, 1])
        #expect(table.deduplicated(.max).0.values == [5, 1])
        #expect(table.deduplicated(.last).merged == 2)
        #expect(InteractionMatrix(table).byUser.values == [5, 1])
    }
}

/// Files large enough to be read in several runs of lines on two threads (a run is at least
/// 64 KB): rows, line numbers, skipped rows and the first error are what reading line by line
/// gives, worked out from where the test puts them.
@Suite struct ParallelImportTests {
    /// 20,000 rows of about 20 bytes (two runs of some 200 KB), user `u(n % 500)`, item
    /// `i(n % 977)`, value `n % 5 + 1`, time `1000 + n`, with a header, CRLF line ends on
    /// every seventh line and a blank line after row 9,000 (so row n is on line n + 2 before
    /// it and n + 3 after).
    static func text(replacing line: Int? = nil, with replacement: String = "") -> String {
        var lines = ["user,item,rating,timestamp"]
        for n in 0..<20_000 {
            lines.append("u\(n % 500),i\(n % 977),\(n % 5 + 1),\(1000 + n)" + (n % 7 == 0 ? "\r" : ""))
            if n == 9_000 { lines.append("") }
        }
        if let line { lines[line - 1] = replacement }
        return lines.joined(separator: "\n") + "\n"
    }

    func load(_ text: String, name: String = "big.csv", skipInvalid: Bool = false) throws(DataError) -> (InteractionTable, ImportReport) {
        var options = ImportOptions()
        options.skipInvalid = skipInvalid
        let path = Fixtures.temporaryFile(text, name: name)
        return try Parallelism.withThreadCount(2) { () throws(DataError) in try InteractionImporter(options: options).importFile(path) }
    }

    @Test func rowsKeepTheirFileOrder() throws {
        let (table, report) = try load(Self.text())
        #expect(table.count == 20_000 && report.rowsImported == 20_000 && report.linesRead == 20_001)
        #expect(table.users.count == 500 && table.items.count == 977)
        // Ids are numbered in order of first appearance, and every row is where it was.
        #expect(table.users.index(of: "u499") == 499 && table.items.index(of: "i976") == 976)
        let times = table.timestamps, values = table.values
        #expect((0..<20_000).allSatisfy { (n: Int) -> Bool in times[n] == Int64(1000 + n) })
        #expect((0..<20_000).allSatisfy { (n: Int) -> Bool in values[n] == Float(n % 5 + 1) })
    }

    /// A bad value on line 15,003 (row 15,000, in the second run) is an error naming that
    /// line; skipped, the other 19,999 rows stay in order. A bad row in the first run is the
    /// error even when the second run has a malformed line (invalid UTF-8) of its own.
    @Test func errorsNameTheirLinesInEveryRun() throws {
        let bad = Self.text(replacing: 15_003, with: "u1,i1,oops,5")
        let error = try #require(throws: DataError.self) { try load(bad) }
        #expect(error.location?.line == 15_003 && error.description.contains("oops"), "\(error.description)")
        let (table, report) = try load(bad, skipInvalid: true)
        #expect(table.count == 19_999 && report.rowsSkipped == 1)
        #expect(table.timestamps[14_999] == 1000 + 14_999 && table.timestamps[15_000] == 1000 + 15_001)
        // Invalid UTF-8 three quarters into the file (in the second run), alone and after a
        // bad row on line 101.
        func damaged(_ text: String) -> (path: String, line: Int) {
            var bytes = Data(text.utf8)
            var at = bytes.count * 3 / 4
            while bytes[at] == 0x0A || bytes[at] == 0x0D { at += 1 }
            bytes[at] = 0xFF
            let path = Fixtures.temporaryFile("", name: "damaged.csv")
            try? bytes.write(to: URL(fileURLWithPath: path))
            return (path, bytes.prefix(at).filter { $0 == 0x0A }.count + 1)
        }
        func loadFile(_ path: String) throws(DataError) {
            _ = try Parallelism.withThreadCount(2) { () throws(DataError) in try InteractionImporter().importFile(path) }
        }
        let both = damaged(Self.text(replacing: 101, with: "u1,i1,5,-7"))
        let first = try #require(throws: DataError.self) { try loadFile(both.path) }
        #expect(first.location?.line == 101 && first.description.contains("-7"), "\(first.description)")
        let alone = damaged(Self.text())
        let invalid = try #require(throws: DataError.self) { try loadFile(alone.path) }
        #expect(alone.line > 13_000 && invalid.code == .invalidEncoding && invalid.location?.line == alone.line,
                "\(invalid.description) against line \(alone.line)")
    }

    /// JSON Lines in two runs: the same rows and line numbers.
    @Test func jsonLinesKeepTheirOrderAndLines() throws {
        var lines = (0..<12_000).map { #"{"user": "u\#($0 % 300)", "item": "i\#($0 % 501)", "rating": \#($0 % 5 + 1), "timestamp": \#(1000 + $0)}"# }
        let (table, report) = try load(lines.joined(separator: "\n"), name: "big.jsonl")
        #expect(table.count == 12_000 && report.linesRead == 12_000 && table.users.index(of: "u299") == 299)
        let times = table.timestamps
        #expect((0..<12_000).allSatisfy { (n: Int) -> Bool in times[n] == Int64(1000 + n) })
        lines[9_999] = #"{"user": "u1", "item": "i1", "rating": "bad"}"#
        let error = try #require(throws: DataError.self) { try load(lines.joined(separator: "\n"), name: "bad.jsonl") }
        #expect(error.location?.line == 10_000 && error.description.contains("bad"), "\(error.description)")
    }

    /// Item catalogues of 8,000 records (about 360 KB, so several runs on two threads), CSV
    /// and JSON Lines: every record as its line gives it, a repeated id taking its later line's
    /// record, and the first bad line (in the second half) named, even with a malformed line after it.
    @Test func itemCataloguesKeepTheirOrderAndLines() throws {
        func catalog(_ text: String, name: String) throws(DataError) -> ItemCatalog {
            let path = Fixtures.temporaryFile(text, name: name)
            return try Parallelism.withThreadCount(2) { () throws(DataError) in try ItemCatalogImporter().importFile(path) }
        }
        var rows = ["item,title,genres,price,description"] + (0..<8_000).map { n in
            "m\(n),\"Film \(n), part \(n % 3) (\(1950 + n % 70))\",Drama|Genre\(n % 11),\(n % 90).5,words for item \(n)"
        }
        rows.append("m17,Seventeen again,Comedy,1,later")
        let read = try catalog(rows.joined(separator: "\n"), name: "items.csv")
        #expect(read.count == 8_000)
        #expect(read["m7999"] == ItemRecord(id: "m7999", title: "Film 7999, part 1 (1969)", categories: ["Drama", "Genre2"],
                                            text: ["description": "words for item 7999"], attributes: ["year": 1969, "price": 79.5]))
        #expect(read["m17"]?.title == "Seventeen again" && read["m17"]?.text == ["description": "later"])
        // The repeats are noted with the first one's later line (m17 on line 19, again on line 8,002).
        let repeated = try ItemCatalogImporter().read(Fixtures.temporaryFile(rows.joined(separator: "\n") + "\nm3,Three again,,,\n", name: "items.csv"))
        #expect(repeated.repeatedLines == 2 && repeated.firstRepeat?.id == "m17" && repeated.firstRepeat?.line == 8_002)
        rows[6_001] = "m6000,too,many,fields,here,now"
        rows[7_000] = "m6999,\"unclosed"
        let error = try #require(throws: DataError.self) { try catalog(rows.joined(separator: "\n"), name: "bad.csv") }
        #expect(error.code == .wrongColumnCount && error.location?.line == 6_002, "\(error.description)")
        var lines = (0..<8_000).map { #"{"id": "m\#($0)", "title": "Film \#($0)", "genres": ["Drama", "Genre\#($0 % 11)"], "runtime": \#($0 % 200)}"# }
        lines.append(#"{"id": "m17", "title": "Seventeen again"}"#)
        let json = try catalog(lines.joined(separator: "\n"), name: "items.jsonl")
        #expect(json.count == 8_000 && json["m17"]?.title == "Seventeen again" && json["m17"]?.attributes.isEmpty == true)
        let jsonRepeat = try ItemCatalogImporter().read(Fixtures.temporaryFile(lines.joined(separator: "\n"), name: "items.jsonl"))
        #expect(jsonRepeat.repeatedLines == 1 && jsonRepeat.firstRepeat?.id == "m17" && jsonRepeat.firstRepeat?.line == 8_001)
        let unique = try ItemCatalogImporter().read(Fixtures.temporaryFile(lines.dropLast().joined(separator: "\n"), name: "items.jsonl"))
        #expect(unique.repeatedLines == 0 && unique.firstRepeat == nil)
        #expect(json["m7998"] == ItemRecord(id: "m7998", title: "Film 7998", categories: ["Drama", "Genre1"], attributes: ["runtime": 198]))
        lines[5_999] = #"{"title": "no id"}"#
        lines[7_000] = "[1, 2]"
        let jsonError = try #require(throws: DataError.self) { try catalog(lines.joined(separator: "\n"), name: "bad.jsonl") }
        #expect(jsonError.code == .missingColumn && jsonError.location?.line == 6_000, "\(jsonError.description)")
    }

    /// A user file of 12,000 lines (about 400 KB, several runs on two threads): every user's
    /// attributes from its own line, and the first line of the wrong width named, even with a
    /// malformed line after it.
    @Test func userFilesKeepTheirLines() throws {
        func users(_ text: String) throws(DataError) -> [String: UserRecord] {
            let path = Fixtures.temporaryFile(text, name: "users.csv")
            return try Parallelism.withThreadCount(2) { () throws(DataError) in try UserAttributesImporter().importFile(path) }
        }
        var rows = ["user_id,age,country,plan"] + (0..<12_000).map { n in "u\(n),\(18 + n % 60),C\(n % 40),\(n % 2 == 0 ? "pro" : "free|trial")" }
        let read = try users(rows.joined(separator: "\n"))
        #expect(read.count == 12_000)
        #expect(read["u11999"] == UserRecord(id: "u11999", categories: ["country=C39", "plan=free", "plan=trial"], attributes: ["age": 77]))
        #expect(read["u0"] == UserRecord(id: "u0", categories: ["country=C0", "plan=pro"], attributes: ["age": 18]))
        rows[9_001] = "u9000,30,FR"
        rows[10_000] = "u9999,\"unclosed"
        let error = try #require(throws: DataError.self) { try users(rows.joined(separator: "\n")) }
        #expect(error.code == .wrongColumnCount && error.location?.line == 9_002, "\(error.description)")
    }
}

/// Plain lines are read straight from their bytes (`RowLayout.parsePlain`); every other line
/// is decoded and split. Both readings must give the same rows.
@Suite struct PlainLineTests {
    /// Known answers: the nearest Double to each decimal, as Swift's literals are.
    @Test func plainDecimalsAreTheNearestDouble() {
        func decimal(_ text: String) -> Double? {
            Array(text.utf8).withUnsafeBufferPointer { RowLayout.plainDecimal($0) }
        }
        #expect(decimal("4") == 4 && decimal("4.0") == 4 && decimal("2.675") == 2.675 && decimal("0.1") == 0.1)
        #expect(decimal("-1.25") == -1.25 && decimal(".5") == 0.5 && decimal("0.00000000000001") == 1e-14)
        #expect(decimal("123456789012345") == 123_456_789_012_345 && decimal("3.14159265358979") == 3.14159265358979)
        // Sixteen digits, exponents, signs other than a leading minus, a bare point: not plain.
        func integer(_ text: String) -> Int64? { Array(text.utf8).withUnsafeBufferPointer { RowLayout.plainInteger($0) } }
        #expect(integer("964982703") == 964_982_703 && integer("-12") == -12 && integer("-0") == 0 && integer("123456789012345") == 123_456_789_012_345)
        for text in ["1234567890123456", "-", "", "12a", "1.0", "+1", " 1"] { #expect(integer(text) == nil, "\(text)") }
        for text in ["1234567890123456", "0.000000000000001", "1e3", "+2", "5.", "-", ".", "1.2.3", "", "0x10", "1 "] { #expect(decimal(text) == nil, "\(text)") }
    }

    /// The same ASCII file read as UTF-8 (plain lines from their bytes) and as Latin-1 (every
    /// line decoded and split): the same ids, values, times and events, row for row, with values
    /// and times that are plain and that are not (exponents, 16 digits, dates, decimals of
    /// seconds, spaces, signs, quotes).
    @Test func plainAndDecodedReadingsAgree() throws {
        let values = ["4", "4.0", "3.5", "0.1", "2.675", "-1.25", "1e3", "12345678901234", "1234567.8901234", " 5 ", "5.", "+2", ".5",
                      "3.14159265358979", "0.1234567890123456"]
        let times = ["964982703", "0", "999999999999999", "1000000000000000", "12345678901234567", "1.5e9", "2024-03-01", " 964982703", "964982703.7"]
        var text = "user,item,rating,timestamp,event\n"
        for n in 0..<3_000 {
            let user = n % 11 == 0 ? " u\(n % 13) " : n % 17 == 0 ? "\"u\(n % 7)\"" : "u\(n % 97)"
            text += "\(user),i\(n % 301),\(values[n % values.count]),\(times[(n / 3) % times.count]),\(["View", "CLICK", " buy ", ""][n % 4])\n"
        }
        let path = Fixtures.temporaryFile(text, name: "tricky.csv")
        func read(_ encoding: TextEncoding) throws -> InteractionTable {
            try Parallelism.withThreadCount(2) { try InteractionImporter(options: ImportOptions(encoding: encoding)).importFile(path).0 }
        }
        let plain = try read(.utf8), decoded = try read(.latin1)
        #expect(plain.count == 3_000 && decoded.count == 3_000)
        #expect(plain == decoded, "ids, values, times and events row for row")
        #expect(plain.users.count == 97 && plain.eventNames.count == 3)
        #expect(plain.values[4] == Float(2.675) && plain.timestamps[6] == 999_999_999_999_999)
    }
}

/// JSON Lines read from their bytes when plain (`PlainJSONObject`), through JSONSerialization
/// otherwise: known answers for lines of both kinds in one file.
@Suite struct PlainJSONLinesTests {
    /// Header names fold case and drop what is not a letter or digit, ASCII or not.
    @Test func headerNamesFoldToTheirRoles() {
        let roles: [String: ColumnRole?] = ["User_ID": .user, "Movie-Id": .item, "UNIXTIME": .timestamp, "Event Type": .event, "Rating": .value,
                                            "x": nil, "Bewertung": nil, "Ürating": nil, "user\u{0301}": nil, "ＵＳＥＲ": nil]
        for (name, role) in roles { #expect(ColumnRole.forHeader(name) == role, "\(name)") }
    }

    @Test func plainAndOtherLinesGiveTheirKnownRows() throws {
        let lines = [
            #"{"user": 12, "item": "a", "rating": 4.5, "timestamp": 964982703}"#,          // plain: number id, decimal
            #"{"user": "u\"q", "item": "b", "rating": 2}"#,                                // escaped id: JSONSerialization
            #"{"user": -0, "item": "c", "rating": -0}"#,                                   // -0 id is "0"; a -0 value reads as 0
            #"{"user": "u1", "item": "d", "rating": "3.5", "timestamp": "2024-03-01"}"#,   // text value and date
            #"{"user": "u1", "item": "e", "rating": null}"#,                               // no value: the default
            #"{"extra": {"x": [1, 2, {"y": null}], "s": "t\n"}, "user": "u1", "item": "f", "rating": 2}"#,
            #"{"user": "u1", "item": "g", "rating": 1e2}"#,                                // exponent: JSONSerialization
            #"{"user": "u1", "item": "h", "rating": 2, "event": "VIEW"}"#,
            #"{"user": "u1", "item": "i", "rating": 2, "rating": 3}"#,                     // a key twice: the last
            #"{"user": "u1", "item": "j", "rating": 0.1234567890123456}"#,                 // 16 digits: JSONSerialization
            #" { "user" : "ü" , "item" : "k" , "rating" : 5 } "#,
        ]
        let path = Fixtures.temporaryFile(lines.joined(separator: "\n") + "\n", name: "mixed.jsonl")
        let table = try InteractionImporter().importFile(path).0
        let rows = (0..<table.count).map { table[$0] }
        #expect(rows.map(\.user) == ["12", "u\"q", "0", "u1", "u1", "u1", "u1", "u1", "u1", "u1", "ü"])
        #expect(rows.map(\.value) == [4.5, 2, 0, 3.5, 1, 2, 100, 2, 3, Float(0.1234567890123456), 5])
        #expect(rows[2].value.sign == .plus)
        #expect(rows[0].timestamp == 964_982_703 && rows[3].timestamp == 1_709_251_200 && rows[1].timestamp == nil)
        #expect(rows[7].event == "view" && rows[6].event == nil)
        // A plain line that is an error is still the error JSONSerialization's reading gives.
        let bad = Fixtures.temporaryFile(#"{"user": "", "item": "x"}"# + "\n", name: "bad.jsonl")
        let error = try #require(throws: DataError.self) { try InteractionImporter().importFile(bad) }
        #expect(error.description.contains("is not a string or number") && error.location?.line == 1, "\(error.description)")
    }
}
