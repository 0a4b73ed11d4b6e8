import BraidCore
@testable import BraidModels
import BraidTestSupport
import Foundation
import Testing

/// SVMlight / LETOR ranking files: what `braid rank` reads and the fusion's `ranker-data` writes.
@Suite struct RankingDataTests {
    static func rows(_ text: String) throws(DataError) -> LambdaMART.Dataset.SVMLightRows {
        try LambdaMART.Dataset.SVMLightRows(Data(text.utf8), fileName: "r.svm")
    }

    /// Read by hand: two queries, a comment, a blank line, features left out as 0.
    @Test func readsRowsQueriesAndFeatures() throws {
        let parsed = try Self.rows("2 qid:a 1:0.5 3:1.25 # a comment 9:9\n0 qid:a 2:-1\n\n1\tqid:b 1:3e2\r\n")
        #expect(parsed.labels == [2, 0, 1])
        #expect(parsed.queryIDs == ["a", "b"])
        #expect(parsed.queryStarts == [0, 2, 3])
        #expect(parsed.width == 3)
        let data = LambdaMART.Dataset(parsed, featureCount: 4)
        #expect(data.features == [0.5, 0, 1.25, 0, 0, -1, 0, 0, 300, 0, 0, 0])
        #expect(data.queryCount == 2 && data.rowCount == 3)
    }

    /// Each mistake names the file, the line and the field.
    @Test func errorsNameTheLineAndField() {
        let cases: [(String, String)] = [
            ("1 qid:1 1:2\n0 qid:1 1:nan\n", "r.svm line 2 column feature 1: the value \"nan\""),
            ("1 qid:1 1:1e40\n", "r.svm line 1 column feature 1: the value \"1e40\" is not a finite number"),
            ("1 qid:1 1:0x10\n", "the value \"0x10\""),
            ("1 qid:1 1:2\n0 qid:2 1:1\n1 qid:1 1:3\n", "r.svm line 3 column qid: query \"1\" continues here after other queries (it began on line 1)"),
            ("1 qid:1 2:2 1:3\n", "r.svm line 1 column feature 1: feature 1 comes after feature 2"),
            ("31 qid:1 1:2\n", "r.svm line 1 column label: the label \"31\" is not a number in 0…30"),
            ("-1 qid:1 1:2\n", "column label"),
            ("1 1:2\n", "r.svm line 1 column qid: the second field is \"1:2\", not qid:Q"),
            ("1 qid:1 0:2\n", "\"0:2\" is not index:value with an index in 1…1000000"),
            ("1 qid:1 1:2 x\n", "\"x\" is not index:value"),
            ("# only a comment\n\n", "r.svm: no rows"),
        ]
        for (text, expected) in cases {
            do {
                _ = try Self.rows(text)
                Issue.record("no error for \(text.debugDescription)")
            } catch {
                #expect(error.description.contains(expected), "\(text.debugDescription): \(error.description)")
            }
        }
    }

    /// Written and read back: the same labels, queries and every value to the bit.
    @Test func writesWhatItReads() throws {
        let data = LambdaMART.Dataset(featureCount: 3, features: [1.0 / 3, 0, -2.5e-7, 0, 0, 0, 7, 1e30, 0.1],
                                      labels: [1, 0, 2], queryStarts: [0, 2, 3])
        let text = data.svmLightText(firstQuery: 5)
        #expect(text == "1 qid:5 1:0.33333334 3:-2.5e-07\n0 qid:5\n2 qid:6 1:7.0 2:1e+30 3:0.1\n")
        let back = LambdaMART.Dataset(try Self.rows(text), featureCount: 3)
        #expect(back.features == data.features && back.labels == data.labels && back.queryStarts == data.queryStarts)
    }

    /// `ranker-data=PREFIX` writes the rows the fusion's ranker learned from: one query per user
    /// and fold with a held-out item among its candidates, labels 0 and 1, a feature per name.
    @Test func theFusionWritesItsRankerRows() throws {
        let data = Fixtures.randomRatings(users: 60, items: 25, perUser: 8)
        let prefix = Fixtures.temporaryDirectory() + "/ranker"
        let model = try ModelRegistry.fit("fusion", parameters: ModelParameters(["members": "itemknn+pop", "candidates": "8", "adjacency-members": "false", "trees": "5",
                                                                                 "min-leaf": "2", "ranker-data": prefix]), data: data) as! Fusion
        let names = try String(contentsOfFile: prefix + ".features.txt", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(names.count == model.context.featureCount)
        #expect(names.first == "itemknn score")
        var queries = 0
        for file in ["train", "valid"] {
            let rows = try LambdaMART.Dataset.SVMLightRows(try Data(contentsOf: URL(fileURLWithPath: "\(prefix).\(file).svm")), fileName: file)
            #expect(rows.width <= names.count)
            #expect(rows.labels.allSatisfy { $0 == 0 || $0 == 1 })
            for q in 0..<(rows.queryStarts.count - 1) {
                #expect(rows.labels[rows.queryStarts[q]..<rows.queryStarts[q + 1]].contains(1))
                #expect(rows.queryStarts[q + 1] - rows.queryStarts[q] <= 16, "two members of 8 candidates")
            }
            queries += rows.queryIDs.count
        }
        // Five folds of 60 users: at most 300 lists, every one a distinct query id.
        #expect(queries > 0 && queries <= 300)
        #expect(throws: ModelError.self) {
            try ModelRegistry.fit("fusion", parameters: ModelParameters(["members": "itemknn", "ranker-data": "/nonexistent-dir/x"]), data: data)
        }
    }
}
