public import BraidCore

/// One train/test pair over shared vocabularies.
public struct TrainTestSplit: Sendable {
    public var train: InteractionTable
    public var test: InteractionTable
    public init(train: InteractionTable, test: InteractionTable) {
        self.train = train
        self.test = test
    }
}

/// How to divide interactions into training and test sets; every method is reproducible
/// from its seed.
public enum SplitMethod: Sendable, Equatable, CustomStringConvertible {
    /// Each row (each pair, when splitting pairs) goes to training with probability `ratio`
    /// (exactly ⌊ratio·n⌋ rows after a seeded shuffle). The other methods, too, count rows
    /// after the duplicate policy has made them pairs.
    case random(ratio: Double)
    /// Per user, a seeded ⌊ratio·n_u⌉ of the user's rows train and the rest test; users with
    /// a single row keep it in training.
    case userRatio(ratio: Double)
    /// Per user, the last `count` rows by timestamp are the test set (users with at most
    /// `count` rows keep everything in training).
    case leaveLastOut(count: Int)
    /// Per user, the earliest ⌊ratio·n_u⌉ rows by timestamp train and the latest test: a
    /// temporal holdout that keeps every user in training.
    case userTimeRatio(ratio: Double)
    /// The earliest `ratio` of all rows by timestamp train, the rest test.
    case timeRatio(ratio: Double)
    /// Rows with timestamp < `time` train, the rest test.
    case timeCut(time: Int64)
    /// `folds`-fold cross-validation over rows: fold f is the test set of split f.
    case kFold(folds: Int)
    /// Item cold start: a seeded (1 − ratio) share of the items with at least
    /// `minimumInteractions` rows of value ≥ `minimumValue` is held out whole — every row of
    /// those items is a test row, so they never occur in training.
    case coldItems(ratio: Double, minimumInteractions: Int, minimumValue: Float?)
    /// Warm and cold items tested together (`EvaluationProtocol.Mode.mixed`): the items are held
    /// out whole as `coldItems` holds them (the same items for the same seed), and of every
    /// other row, per user, a seeded ⌊warmRatio·n_u⌉ trains and the rest test, as `userRatio`
    /// splits them.
    case coldAndWarmItems(ratio: Double, warmRatio: Double, minimumInteractions: Int, minimumValue: Float?)
    /// User cold start (`EvaluationProtocol.Mode.newUsers`): a seeded (1 − ratio) share of the
    /// users is held out whole — every row of those users is a test row, so they never occur
    /// in training and are known by their attributes alone.
    case newUsers(ratio: Double)

    public var description: String {
        switch self {
        case .random(let r): "random \(r)"
        case .userRatio(let r): "per-user ratio \(r)"
        case .leaveLastOut(let k): "leave last \(k) out"
        case .userTimeRatio(let r): "per-user time ratio \(r)"
        case .timeRatio(let r): "global time ratio \(r)"
        case .timeCut(let t): "time cut at \(t)"
        case .kFold(let k): "\(k)-fold"
        case .coldItems(let r, let n, _): "cold items \(1 - r) of items with ≥ \(n) interactions"
        case .coldAndWarmItems(let r, let w, let n, _): "cold items \(1 - r) of items with ≥ \(n) interactions, and per user \(1 - w) of the rest"
        case .newUsers(let r): "new users \(1 - r) of users"
        }
    }
}

/// What a split holds out.
public enum SplitUnit: Sendable, Equatable {
    /// (User, item) pairs: repeated events of a pair are first combined by the policy, so a
    /// pair lands in training or in test, never in both. The default: without it, event logs
    /// put most test pairs in training too, where no model may recommend them.
    case pairs(DuplicatePolicy)
    /// Raw rows, repeats and all: for the re-consumption protocol (`EvaluationProtocol.Mode.repeat`).
    case rows
}

/// Splits an interaction table.
public struct Splitter: Sendable {
    public var method: SplitMethod
    public var seed: UInt64
    public var unit: SplitUnit

    public init(_ method: SplitMethod, seed: UInt64 = 42, unit: SplitUnit = .pairs(.last)) {
        self.method = method
        self.seed = seed
        self.unit = unit
    }

    /// The splits: one for every method but k-fold, which gives `folds`.
    public func split(_ input: InteractionTable) throws(DataError) -> [TrainTestSplit] {
        let table: InteractionTable
        switch unit {
        case .pairs(let policy): table = input.deduplicated(policy).0
        case .rows: table = input
        }
        var rng = SeededGenerator(seed: seed)
        func pair(_ isTest: [Bool]) -> TrainTestSplit {
            TrainTestSplit(train: table.selecting((0..<table.count).filter { !isTest[$0] }),
                           test: table.selecting((0..<table.count).filter { isTest[$0] }))
        }
        switch method {
        case .random(let ratio):
            try Self.checkRatio(ratio)
            var order = Array(0..<table.count)
            order.shuffle(using: &rng)
            var isTest = [Bool](repeating: false, count: table.count)
            for row in order.dropFirst(Int((ratio * Double(table.count)).rounded(.down))) { isTest[row] = true }
            return [pair(isTest)]
        case .userRatio(let ratio):
            try Self.checkRatio(ratio)
            var isTest = [Bool](repeating: false, count: table.count)
            Self.holdOutPerUser(table.rowsByUser(), ratio: ratio, isTest: &isTest, using: &rng)
            return [pair(isTest)]
        case .leaveLastOut(let count):
            guard count >= 1 else { throw DataError(.invalidArgument, "leave-last-out needs a count of at least 1, not \(count)") }
            try requireTimestamps(table)
            var isTest = [Bool](repeating: false, count: table.count)
            for rows in table.rowsByUser() where rows.count > count {
                let ordered = rows.sorted { table.timestamps[$0] != table.timestamps[$1] ? table.timestamps[$0] < table.timestamps[$1] : $0 < $1 }
                for row in ordered.suffix(count) { isTest[row] = true }
            }
            return [pair(isTest)]
        case .userTimeRatio(let ratio):
            try Self.checkRatio(ratio)
            try requireTimestamps(table)
            var isTest = [Bool](repeating: false, count: table.count)
            for rows in table.rowsByUser() where rows.count > 1 {
                let ordered = rows.sorted { table.timestamps[$0] != table.timestamps[$1] ? table.timestamps[$0] < table.timestamps[$1] : $0 < $1 }
                let trainCount = max(1, Int((ratio * Double(rows.count)).rounded()))
                for row in ordered.dropFirst(trainCount) { isTest[row] = true }
            }
            return [pair(isTest)]
        case .timeRatio(let ratio):
            try Self.checkRatio(ratio)
            try requireTimestamps(table)
            let ordered = (0..<table.count).sorted { table.timestamps[$0] != table.timestamps[$1] ? table.timestamps[$0] < table.timestamps[$1] : $0 < $1 }
            var isTest = [Bool](repeating: false, count: table.count)
            for row in ordered.dropFirst(Int((ratio * Double(table.count)).rounded(.down))) { isTest[row] = true }
            return [pair(isTest)]
        case .timeCut(let time):
            try requireTimestamps(table)
            return [pair(table.timestamps.map { $0 >= time })]
        case .coldItems(let ratio, let minimum, let minimumValue):
            let held = try Self.coldItems(table, ratio: ratio, minimum: minimum, minimumValue: minimumValue, using: &rng)
            return [pair(table.itemIndices.map { held.contains($0) })]
        case .coldAndWarmItems(let ratio, let warmRatio, let minimum, let minimumValue):
            try Self.checkRatio(warmRatio, of: "the warm items' training ratio (--warm-ratio)")
            let held = try Self.coldItems(table, ratio: ratio, minimum: minimum, minimumValue: minimumValue, using: &rng)
            var isTest = table.itemIndices.map { held.contains($0) }
            let warmRows = table.rowsByUser().map { $0.filter { !isTest[$0] } }
            Self.holdOutPerUser(warmRows, ratio: warmRatio, isTest: &isTest, using: &rng)
            return [pair(isTest)]
        case .newUsers(let ratio):
            try Self.checkRatio(ratio)
            var users = Array(Set(table.userIndices)).sorted()
            users.shuffle(using: &rng)
            let held = Set(users.prefix(Int((Double(users.count) * (1 - ratio)).rounded())))
            return [pair(table.userIndices.map { held.contains($0) })]
        case .kFold(let folds):
            guard folds >= 2 && folds <= table.count else {
                throw DataError(.invalidArgument, "k-fold needs 2…\(table.count) folds, not \(folds)")
            }
            var order = Array(0..<table.count)
            order.shuffle(using: &rng)
            var fold = [Int](repeating: 0, count: table.count)
            for (position, row) in order.enumerated() { fold[row] = position % folds }
            return (0..<folds).map { f in pair(fold.map { $0 == f }) }
        }
    }

    /// Marks all but a seeded ⌊ratio·n⌉ (at least one) of each group of rows as test rows;
    /// groups of one row stay in training.
    static func holdOutPerUser(_ groups: [[Int]], ratio: Double, isTest: inout [Bool], using rng: inout SeededGenerator) {
        for var rows in groups where rows.count > 1 {
            rows.shuffle(using: &rng)
            let trainCount = max(1, Int((ratio * Double(rows.count)).rounded()))
            for row in rows.dropFirst(trainCount) { isTest[row] = true }
        }
    }

    /// A seeded (1 − ratio) share of the items with at least `minimum` rows of value ≥
    /// `minimumValue`.
    static func coldItems(_ table: InteractionTable, ratio: Double, minimum: Int, minimumValue: Float?,
                          using rng: inout SeededGenerator) throws(DataError) -> Set<Int32> {
        try checkRatio(ratio)
        var counts = [Int](repeating: 0, count: table.items.count)
        for row in 0..<table.count where minimumValue.map({ table.values[row] >= $0 }) ?? true { counts[Int(table.itemIndices[row])] += 1 }
        var eligible = (0..<table.items.count).filter { counts[$0] >= minimum }
        eligible.shuffle(using: &rng)
        return Set(eligible.prefix(Int((Double(eligible.count) * (1 - ratio)).rounded())).map { Int32($0) })
    }

    static func checkRatio(_ ratio: Double, of what: String = "the training ratio") throws(DataError) {
        guard ratio > 0 && ratio < 1 else {
            throw DataError(.invalidArgument, "\(what) must be between 0 and 1 (exclusive), not \(ratio)")
        }
    }

    func requireTimestamps(_ table: InteractionTable) throws(DataError) {
        guard !table.timestamps.contains(InteractionTable.noTimestamp) else {
            throw DataError(.invalidArgument, "\(method) needs a timestamp on every row, and some rows have none",
                            hint: "map a timestamp column with --columns, or use --split user-ratio")
        }
    }
}
