public import BraidCore
/// Summary numbers of an interaction table: what `braid info` prints.
public struct DatasetStatistics: Sendable, Codable, Equatable {
    public var interactions: Int
    public var users: Int
    public var items: Int
    public var density: Double
    public var duplicatePairs: Int
    public var valueMin: Double?
    public var valueMax: Double?
    public var valueMean: Double?
    /// Value → count when there are at most 20 distinct values (rating scales).
    public var valueHistogram: [String: Int]?
    /// What the values are: binary, ratings, counts or continuous (see `ValueKind`).
    public var valueKind: ValueKind
    public var firstTimestamp: Int64?
    public var lastTimestamp: Int64?
    public var interactionsPerUser: Summary
    public var interactionsPerItem: Summary
    /// Share of interactions on the 1% most popular items.
    public var topOnePercentItemShare: Double
    public var giniOfItemPopularity: Double
    public var events: [String: Int]

    /// Min, median, mean and max of a count distribution.
    public struct Summary: Sendable, Codable, Equatable {
        public var min: Int
        public var median: Double
        public var mean: Double
        public var max: Int

        init(_ counts: [Int]) {
            let sorted = counts.sorted()
            min = sorted.first ?? 0
            max = sorted.last ?? 0
            mean = sorted.isEmpty ? 0 : Double(sorted.reduce(0, +)) / Double(sorted.count)
            if sorted.isEmpty { median = 0 } else if sorted.count % 2 == 1 { median = Double(sorted[sorted.count / 2]) } else {
                median = Double(sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            }
        }
    }

    public init(_ table: InteractionTable) {
        interactions = table.count
        var userCounts = [Int](repeating: 0, count: table.users.count)
        var itemCounts = [Int](repeating: 0, count: table.items.count)
        var pairs = Set<Int64>()
        var duplicates = 0
        for row in 0..<table.count {
            userCounts[Int(table.userIndices[row])] += 1
            itemCounts[Int(table.itemIndices[row])] += 1
            if !pairs.insert(Int64(table.userIndices[row]) << 32 | Int64(table.itemIndices[row])).inserted { duplicates += 1 }
        }
        let activeUsers = userCounts.filter { $0 > 0 }
        let activeItems = itemCounts.filter { $0 > 0 }
        users = activeUsers.count
        items = activeItems.count
        density = users * items == 0 ? 0 : Double(pairs.count) / (Double(users) * Double(items))
        duplicatePairs = duplicates
        valueMin = table.values.min().map(Double.init)
        valueMax = table.values.max().map(Double.init)
        valueMean = table.isEmpty ? nil : table.values.reduce(0.0) { $0 + Double($1) } / Double(table.count)
        var histogram: [Float: Int] = [:]
        for value in table.values {
            histogram[value, default: 0] += 1
            if histogram.count > 20 { break }
        }
        valueHistogram = histogram.count <= 20 ? Dictionary(uniqueKeysWithValues: histogram.map { ("\($0.key)", $0.value) }) : nil
        valueKind = ValueKind.detect(table.values)
        let times = table.timestamps.filter { $0 != InteractionTable.noTimestamp }
        firstTimestamp = times.min()
        lastTimestamp = times.max()
        interactionsPerUser = Summary(activeUsers)
        interactionsPerItem = Summary(activeItems)
        let byPopularity = activeItems.sorted(by: >)
        let top = max(1, byPopularity.count / 100)
        topOnePercentItemShare = table.isEmpty ? 0 : Double(byPopularity.prefix(top).reduce(0, +)) / Double(table.count)
        giniOfItemPopularity = Gini.coefficient(activeItems.map(Double.init))
        var events: [String: Int] = [:]
        for event in table.events where event >= 0 { events[table.eventNames[Int(event)], default: 0] += 1 }
        self.events = events
    }
}

