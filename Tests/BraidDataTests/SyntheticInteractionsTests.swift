import BraidCore
import BraidData
import Testing

@Suite struct SyntheticInteractionsTests {
    /// Each user's timestamps increase, and users' histories interleave in time, as in logged
    /// data: before, the times ran user after user, so that which users had drawn an item
    /// passed for when it was popular. The interactions are the seed's either way.
    @Test func usersHistoriesInterleaveInTime() {
        let table = SyntheticInteractions(users: 200, items: 300, interactions: 4000, seed: 7).generate()
        #expect(table.count == 4000)
        var spans: [Int32: (first: Int64, last: Int64)] = [:]
        for row in 0..<table.count {
            let user = table.userIndices[row], time = table.timestamps[row]
            if let span = spans[user] {
                #expect(time > span.last, "user \(user)'s times increase")
                spans[user] = (span.first, time)
            } else {
                spans[user] = (time, time)
            }
        }
        // Some later user starts before an earlier one ends; in user order no user would.
        let ordered = spans.keys.sorted().map { spans[$0]! }
        let overlapping = zip(ordered, ordered.dropFirst()).filter { $1.first < $0.last }.count
        #expect(overlapping > ordered.count / 4, "\(overlapping) of \(ordered.count - 1) neighbours overlap")
        // Two years of starts, a day between a user's interactions on average.
        let firsts = ordered.map(\.first)
        #expect(firsts.min()! >= 1_600_000_000 && firsts.max()! < 1_600_000_000 + 2 * 365 * 86_400)
        // No order a model could learn: a user's later items are as popular as their earlier
        // ones (before, the popular items came first). Mean popularity of each user's first
        // and second halves, over users with at least 10 items, within 10% of each other.
        var popularity = [Int](repeating: 0, count: table.items.count)
        for item in table.itemIndices { popularity[Int(item)] += 1 }
        var rows: [Int32: [Int32]] = [:]
        for row in 0..<table.count { rows[table.userIndices[row], default: []].append(table.itemIndices[row]) }
        var early = 0.0, late = 0.0
        for items in rows.values where items.count >= 10 {
            let half = items.count / 2
            early += Double(items[..<half].map { popularity[Int($0)] }.reduce(0, +)) / Double(half)
            late += Double(items[(items.count - half)...].map { popularity[Int($0)] }.reduce(0, +)) / Double(half)
        }
        #expect(abs(late / early - 1) < 0.1, "later items' popularity \(late / early) of the earlier ones'")
        let again = SyntheticInteractions(users: 200, items: 300, interactions: 4000, seed: 7).generate()
        #expect(again.itemIndices == table.itemIndices && again.timestamps == table.timestamps)
    }
}
