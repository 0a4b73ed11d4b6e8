import BraidCore
import Testing

@Suite struct DeduplicationTests {
    /// Against a reference written the plain way (each pair's rows gathered in a dictionary,
    /// ordered by timestamp and row, combined by the policy's definition): random tables of
    /// 12 users × 6 items where most pairs repeat, with tied timestamps and some rows without.
    @Test func everyPolicyMatchesTheDefinitionOnRandomTables() {
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<25 {
            var table = InteractionTable()
            for u in 0..<12 { table.users.insert("u\(u)") }
            for i in 0..<6 { table.items.insert("i\(i)") }
            for _ in 0..<(20 + Int(generator.next() % 60)) {
                let timestamp = generator.next() % 5 == 0 ? InteractionTable.noTimestamp : Int64(generator.next() % 4)
                table.append(user: Int32(generator.next() % 12), item: Int32(generator.next() % 6), value: Float(generator.next() % 5 + 1),
                             timestamp: timestamp)
            }
            var pairs: [Int64: [Int]] = [:]
            for row in 0..<table.count { pairs[Int64(table.userIndices[row]) << 32 | Int64(table.itemIndices[row]), default: []].append(row) }
            for policy in DuplicatePolicy.allCases {
                var expected: [(row: Int, value: Float, timestamp: Int64)] = []
                for rows in pairs.values {
                    let ordered = rows.sorted { (table.timestamps[$0], $0) < (table.timestamps[$1], $1) }
                    let last = ordered.last!
                    switch policy {
                    case .last: expected.append((last, table.values[last], table.timestamps[last]))
                    case .first: expected.append((ordered[0], table.values[ordered[0]], table.timestamps[ordered[0]]))
                    case .sum: expected.append((last, ordered.reduce(0) { $0 + table.values[$1] }, table.timestamps[last]))
                    case .max:
                        // The first of the largest values in that order.
                        let top = ordered.first { table.values[$0] == ordered.map { table.values[$0] }.max()! }!
                        expected.append((top, table.values[top], table.timestamps[top]))
                    }
                }
                expected.sort { $0.row < $1.row }
                let (out, merged) = table.deduplicated(policy)
                #expect(merged == table.count - pairs.count)
                #expect(out.userIndices == expected.map { table.userIndices[$0.row] } && out.itemIndices == expected.map { table.itemIndices[$0.row] }, "\(policy)")
                #expect(out.values == expected.map(\.value) && out.timestamps == expected.map(\.timestamp), "\(policy)")
                #expect(out.users == table.users && out.items == table.items)
            }
        }
    }

    /// Without repeated pairs the table comes back as it is.
    @Test func aTableWithoutRepeatsIsUnchanged() {
        let table = InteractionTable([Interaction(user: "b", item: "x", value: 2, timestamp: 5), Interaction(user: "a", item: "y", value: 3),
                                      Interaction(user: "a", item: "x", value: 4, timestamp: 1)])
        let (out, merged) = table.deduplicated(.sum)
        #expect(merged == 0)
        #expect(out.userIndices == table.userIndices && out.itemIndices == table.itemIndices && out.values == [2, 3, 4] && out.timestamps == table.timestamps)
    }
}
