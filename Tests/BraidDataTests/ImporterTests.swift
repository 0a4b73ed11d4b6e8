import BraidCore
import BraidData
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
