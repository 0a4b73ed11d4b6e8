import BraidCore
import BraidEvaluation
import BraidTestSupport
import Testing

@Suite struct SplitterTests {
    /// 5 users with 10 rows each, timestamps ascending per user.
    let table: InteractionTable = {
        var table = InteractionTable()
        for u in 0..<5 { for i in 0..<10 { table.append(Interaction(user: "u\(u)", item: "i\(i)", value: 1, timestamp: Int64(100 * i + u))) } }
        return table
    }()

    func rows(_ t: InteractionTable) -> Set<String> { Set((0..<t.count).map { "\(t[$0].user)/\(t[$0].item)" }) }

    @Test func newUsersAreHeldOutWhole() throws {
        let split = try Splitter(.newUsers(ratio: 0.6), seed: 4).split(table)[0]
        let trainUsers = Set((0..<split.train.count).map { split.train[$0].user })
        let testUsers = Set((0..<split.test.count).map { split.test[$0].user })
        // 40% of 5 users, each with all 10 of their rows.
        #expect(testUsers.count == 2 && trainUsers.count == 3 && trainUsers.isDisjoint(with: testUsers))
        #expect(split.test.count == 20 && split.train.count == 30)
        let again = try Splitter(.newUsers(ratio: 0.6), seed: 4).split(table)[0]
        #expect(rows(again.test) == rows(split.test))
    }

    @Test func userRatioHoldsOutTwentyPercentPerUser() throws {
        let split = try Splitter(.userRatio(ratio: 0.8), seed: 1).split(table)[0]
        #expect(split.train.count == 40 && split.test.count == 10)
        for u in 0..<5 { #expect((0..<split.test.count).filter { split.test[$0].user == "u\(u)" }.count == 2) }
        #expect(rows(split.train).isDisjoint(with: rows(split.test)))
    }

    @Test func splitsAreReproducibleFromTheSeed() throws {
        let a = try Splitter(.userRatio(ratio: 0.8), seed: 9).split(table)[0]
        let b = try Splitter(.userRatio(ratio: 0.8), seed: 9).split(table)[0]
        let c = try Splitter(.userRatio(ratio: 0.8), seed: 10).split(table)[0]
        #expect(a.test == b.test)
        #expect(a.test != c.test)
    }

    @Test func leaveLastOutTakesTheLatest() throws {
        let split = try Splitter(.leaveLastOut(count: 2)).split(table)[0]
        #expect(split.test.count == 10)
        #expect(Set((0..<split.test.count).map { split.test[$0].item }) == ["i8", "i9"])
    }

    @Test func userTimeRatioKeepsEveryUserInTraining() throws {
        let split = try Splitter(.userTimeRatio(ratio: 0.7)).split(table)[0]
        #expect(Set((0..<split.test.count).map { split.test[$0].item }) == ["i7", "i8", "i9"])
        #expect(Set((0..<split.train.count).map { split.train[$0].user }).count == 5)
    }

    @Test func globalTimeSplits() throws {
        let ratio = try Splitter(.timeRatio(ratio: 0.8)).split(table)[0]
        #expect(ratio.test.timestamps.min()! > ratio.train.timestamps.max()!)
        let cut = try Splitter(.timeCut(time: 500)).split(table)[0]
        #expect(cut.train.count == 25 && cut.test.timestamps.allSatisfy { $0 >= 500 })
    }

    @Test func randomRatio() throws {
        let split = try Splitter(.random(ratio: 0.7), seed: 3).split(table)[0]
        #expect(split.train.count == 35 && split.test.count == 15)
    }

    @Test func kFoldPartitionsEveryRowOnce() throws {
        let splits = try Splitter(.kFold(folds: 5), seed: 2).split(table)
        #expect(splits.count == 5)
        var seen: [String: Int] = [:]
        for split in splits {
            #expect(split.train.count + split.test.count == 50)
            for row in rows(split.test) { seen[row, default: 0] += 1 }
        }
        #expect(seen.count == 50 && seen.values.allSatisfy { $0 == 1 })
    }

    @Test func timeSplitsNeedTimestamps() {
        let untimed = InteractionTable([Interaction(user: "a", item: "x"), Interaction(user: "a", item: "y")])
        #expect(throws: DataError.self) { try Splitter(.leaveLastOut(count: 1)).split(untimed) }
        #expect(throws: DataError.self) { try Splitter(.userRatio(ratio: 1.5)).split(untimed) }
    }
}
