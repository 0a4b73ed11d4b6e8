/// A deduplicated user × item matrix with its transpose: what models train on.
///
/// Rows are users and columns items of the two vocabularies; a user or item with no entry
/// is present in the vocabulary but has no training data.
public struct InteractionMatrix: Sendable, Equatable {
    public let users: Vocabulary
    public let items: Vocabulary
    /// Users × items.
    public let byUser: SparseMatrix
    /// Items × users (the CSC form of `byUser`).
    public let byItem: SparseMatrix
    /// Item metadata for content models (titles, categories, text), when given.
    public var catalog: ItemCatalog?
    /// Per entry of `byUser` (same pattern): days between the interaction and the latest
    /// timestamp in the data, when the rows had timestamps. Content models use it to weight
    /// recent history more.
    public var ageInDays: SparseMatrix?
    /// Per entry of `byUser` (same pattern): the entry's place in its user's history in time
    /// order (larger is later; ties in time keep the rows' order in the input), when the rows had
    /// timestamps. Sequence models read each history in this order. Exact, unlike the ages.
    public var sequence: SparseMatrix?
    /// How the data this matrix is judged on was held out from it, when the matrix is the
    /// training part of an evaluation (`PreparedSplit` sets it): models that carve an inner
    /// validation split of their own (the fusion's ranker) can mirror it. Nil outside an
    /// evaluation, where the model will be asked about the future.
    public var evaluationHoldout: HoldoutOrder?
    /// The pairs each user interacted with that the models do not train on, because their
    /// values fell below the threshold that turned ratings into positives (users × items, with
    /// the original values). They are seen all the same: recommendations leave them out like
    /// the trained pairs (`seenItems(ofUser:)`), so that nobody is offered an item they already
    /// rated 2★. Nil when no threshold applied. An evaluation leaves it nil: under the
    /// evaluation protocol the user's rows below the threshold are as if absent, as in the
    /// filter-then-split convention of the literature and `peers.py`.
    public var belowThreshold: SparseMatrix?
    /// The value at and above which a rating became a positive to train on, when a threshold
    /// did that (`init(positivesOf:threshold:)`, `braid train --threshold`, `create` on
    /// ratings): model files keep it, and `braid serve` applies it to new feedback unless told
    /// otherwise. Nil when no threshold applied.
    public var threshold: Float?
    /// How the training rows' values were read (event weights, repeated pairs), when the
    /// command that read them said: model files keep it, and `braid serve` reads new feedback
    /// the same way unless told otherwise. Nil when not recorded.
    public var preparation: DataPreparation?

    /// How held-out interactions relate in time to the ones kept.
    public enum HoldoutOrder: String, Sendable, Equatable, Codable {
        /// Each user's held-out interactions come after their kept ones (a user-time or a
        /// global time split, leave-last-out).
        case temporal
        /// Held-out interactions are interleaved in time with the kept ones (a random split).
        case random
    }

    public init(users: Vocabulary, items: Vocabulary, byUser: SparseMatrix) {
        precondition(byUser.rowCount == users.count && byUser.columnCount == items.count,
                     "matrix is \(byUser.rowCount)×\(byUser.columnCount) but vocabularies have \(users.count) users and \(items.count) items")
        self.users = users
        self.items = items
        self.byUser = byUser
        self.byItem = byUser.transposed()
    }

    /// The matrix of a table; repeated pairs are combined by `policy`.
    public init(_ table: InteractionTable, duplicates policy: DuplicatePolicy = .last) {
        let combine: (Float, Float) -> Float = policy.combine
        if policy == .last || policy == .first, table.hasTimestamps {
            // "Later" means later in time; sort the rows by timestamp first (stable).
            let order = (0..<table.count).sorted { table.timestamps[$0] != table.timestamps[$1] ? table.timestamps[$0] < table.timestamps[$1] : $0 < $1 }
            let sorted = table.selecting(order)
            self.init(users: table.users, items: table.items,
                      byUser: SparseMatrix(rowCount: table.users.count, columnCount: table.items.count, rows: sorted.userIndices,
                                           columns: sorted.itemIndices, values: sorted.values, combine: combine))
            // Ages of the kept (latest, or earliest for `first`) interactions.
            let latest = sorted.timestamps.filter { $0 != InteractionTable.noTimestamp }.max() ?? 0
            let ages = sorted.timestamps.map { $0 == InteractionTable.noTimestamp ? Float(0) : Float(Double(latest - $0) / 86400) }
            let keepAge: (Float, Float) -> Float = policy == .last ? { _, later in later } : { earlier, _ in earlier }
            ageInDays = SparseMatrix(rowCount: table.users.count, columnCount: table.items.count, rows: sorted.userIndices,
                                     columns: sorted.itemIndices, values: ages, combine: keepAge)
            // The k-th row of a user in time order has place k (exact in Float below 2²⁴ rows per user).
            var counts = [Int](repeating: 0, count: table.users.count)
            let places = sorted.userIndices.map { user -> Float in
                counts[Int(user)] += 1
                return Float(counts[Int(user)])
            }
            let keepPlace: (Float, Float) -> Float = policy == .last ? { _, later in later } : { earlier, _ in earlier }
            sequence = SparseMatrix(rowCount: table.users.count, columnCount: table.items.count, rows: sorted.userIndices,
                                    columns: sorted.itemIndices, values: places, combine: keepPlace)
        } else {
            self.init(users: table.users, items: table.items,
                      byUser: SparseMatrix(rowCount: table.users.count, columnCount: table.items.count, rows: table.userIndices,
                                           columns: table.itemIndices, values: table.values, combine: combine))
        }
    }

    public var userCount: Int { users.count }
    public var itemCount: Int { items.count }
    public var interactionCount: Int { byUser.nonzeroCount }

    /// The items `user` interacted with, ascending.
    public func items(ofUser user: Int) -> ArraySlice<Int32> { byUser.columns(ofRow: user) }

    /// The items `user` interacted with, ascending: the trained ones and those set aside below
    /// the threshold (`belowThreshold`). What recommendations leave out as seen.
    public func seenItems(ofUser user: Int) -> [Int32] {
        var items: [Int32] = []
        forEachSeenItem(ofUser: user) { items.append($0) }
        return Set(items).sorted()
    }

    /// Calls `body` with every item `user` has seen: the trained ones, then those below the
    /// threshold. No allocation: what the lists' filters use on every request.
    @inlinable
    public func forEachSeenItem(ofUser user: Int, _ body: (Int32) -> Void) {
        for item in byUser.columns(ofRow: user) { body(item) }
        if let below = belowThreshold, user < below.rowCount {
            for item in below.columns(ofRow: user) { body(item) }
        }
    }

    /// Whether each item has at least one interaction.
    public var itemHasInteractions: [Bool] { (0..<items.count).map { byItem.count(ofRow: $0) > 0 } }

    /// Whether each item was rated: it has an interaction or a rating below the threshold
    /// (`belowThreshold`). An item that was not is new: it came with the catalogue alone.
    public var itemWasRated: [Bool] {
        var rated = itemHasInteractions
        for item in belowThreshold?.columns ?? [] where Int(item) < rated.count { rated[Int(item)] = true }
        return rated
    }

    /// The mean of all stored values.
    /// The items of `user` in time order, earliest first (`sequence`; without timestamps, the
    /// ascending item order of the row).
    public func history(ofUser user: Int) -> [Int32] { historyEntries(ofUser: user).map { byUser.columns[$0] } }

    /// The positions in `byUser` of `user`'s entries in the order of `history(ofUser:)`.
    public func historyEntries(ofUser user: Int) -> [Int] {
        let entries = byUser.entries(ofRow: user)
        guard let sequence else { return Array(entries) }
        return entries.sorted { sequence.values[$0] < sequence.values[$1] }
    }

    public var globalMean: Float {
        byUser.nonzeroCount == 0 ? 0 : Float(byUser.values.reduce(0.0) { $0 + Double($1) } / Double(byUser.nonzeroCount))
    }

    /// Equal interactions and vocabularies (the catalog is side information and not compared).
    public static func == (a: InteractionMatrix, b: InteractionMatrix) -> Bool {
        a.users == b.users && a.items == b.items && a.byUser == b.byUser
    }

    /// Whether every value is 1 (implicit feedback without strengths).
    public var isBinary: Bool { byUser.values.allSatisfy { $0 == 1 } }

    /// Whether the values take at least two distinct levels: what centring similarities
    /// (Pearson, adjusted cosine), biases and rating regressions need to learn anything.
    public var hasGradedValues: Bool {
        guard let first = byUser.values.first else { return false }
        return byUser.values.contains { $0 != first }
    }
}

extension InteractionMatrix {
    /// The same matrix without these users' interactions (their rows emptied; the
    /// vocabularies, and so every index, unchanged).
    public func removingUsers(_ removed: Set<Int>) -> InteractionMatrix {
        guard !removed.isEmpty else { return self }
        var result = InteractionMatrix(users: users, items: items, byUser: byUser.filter { row, _, _ in !removed.contains(row) })
        result.catalog = catalog
        result.ageInDays = ageInDays?.filter { row, _, _ in !removed.contains(row) }
        result.sequence = sequence?.filter { row, _, _ in !removed.contains(row) }
        result.belowThreshold = belowThreshold?.filter { row, _, _ in !removed.contains(row) }
        result.threshold = threshold
        result.preparation = preparation
        return result
    }
}

extension InteractionMatrix {
    /// The same interactions with items added to the vocabulary (without interactions), each
    /// with its record in the catalogue; ids already known only update their records.
    public func addingItems(_ records: [ItemRecord]) -> InteractionMatrix {
        var items = self.items
        for record in records { _ = items.insert(record.id) }
        let count = items.count
        func widened(_ m: SparseMatrix) -> SparseMatrix {
            SparseMatrix(rowCount: m.rowCount, columnCount: count, rowStarts: m.rowStarts, columns: m.columns, values: m.values)
        }
        var result = InteractionMatrix(users: users, items: items, byUser: widened(byUser))
        result.ageInDays = ageInDays.map(widened)
        result.sequence = sequence.map(widened)
        result.belowThreshold = belowThreshold.map(widened)
        result.threshold = threshold
        result.preparation = preparation
        var catalog = self.catalog ?? ItemCatalog()
        for record in records { catalog[record.id] = record }
        result.catalog = catalog
        return result
    }

    /// Whether this matrix is `base` with items added to its catalogue (`addingItems(_:)`): the
    /// same users, interactions, times and pairs set aside, and `base`'s items first, in order.
    public func extendsCatalogue(of base: InteractionMatrix) -> Bool {
        func sameEntries(_ a: SparseMatrix?, _ b: SparseMatrix?) -> Bool {
            guard let a, let b else { return a == nil && b == nil }
            return a.rowStarts == b.rowStarts && a.columns == b.columns && a.values == b.values
        }
        return users == base.users && items.count >= base.items.count
            && items.identifiers.prefix(base.items.count).elementsEqual(base.items.identifiers)
            && sameEntries(byUser, base.byUser) && sameEntries(ageInDays, base.ageInDays)
            && sameEntries(sequence, base.sequence) && sameEntries(belowThreshold, base.belowThreshold)
    }
}

extension InteractionMatrix {
    /// `table`'s rows with value ≥ `threshold` as implicit positives (value 1), and the rows
    /// below it set aside as seen (`settingAside(_:)`): what a served model fits on.
    public init(positivesOf table: InteractionTable, threshold: Float, duplicates policy: DuplicatePolicy = .last) {
        self = InteractionMatrix(table.positives(threshold: threshold), duplicates: policy).settingAside(table.below(threshold: threshold))
        self.threshold = threshold
    }

    /// This matrix with `table`'s pairs set aside as seen but not trained on
    /// (`belowThreshold`, in place of any set aside before), so that recommendations leave
    /// them out like the trained ones: give it the rows a threshold dropped
    /// (`InteractionTable.below(threshold:)`). Users and items are matched by id; rows whose
    /// user or item this matrix does not know are skipped (there is no list for that user, and
    /// that item cannot be recommended), and so are pairs it trains on.
    public func settingAside(_ table: InteractionTable) -> InteractionMatrix {
        var rows: [Int32] = [], columns: [Int32] = [], values: [Float] = []
        for row in 0..<table.count {
            guard let user = users.index(of: table.users[table.userIndices[row]]),
                  let item = items.index(of: table.items[table.itemIndices[row]]),
                  !byUser.contains(row: Int(user), column: item) else { continue }
            rows.append(user)
            columns.append(item)
            values.append(table.values[row])
        }
        var result = self
        result.belowThreshold = SparseMatrix(rowCount: userCount, columnCount: itemCount, rows: rows, columns: columns, values: values,
                                             combine: { _, later in later })
        return result
    }
}

extension InteractionMatrix {
    /// Every pair each user interacted with as an implicit positive (value 1): the trained ones
    /// and those set aside below the threshold (`belowThreshold`), nothing set aside. What a
    /// fusion member fitted on everything the users rated learns from (`MemberSpec.belowThreshold`):
    /// a 2★ rating still says the user chose to watch the film. The pairs below the threshold
    /// carry no timestamps, so neither does the result; the catalogue and how an evaluation held
    /// out its test are kept. Without pairs set aside, the matrix itself.
    public func includingBelowThreshold() -> InteractionMatrix {
        guard let below = belowThreshold, below.nonzeroCount > 0 else { return self }
        let rows = (0..<userCount).map { user in
            let seen = seenItems(ofUser: user)
            return (columns: seen, values: [Float](repeating: 1, count: seen.count))
        }
        var result = InteractionMatrix(users: users, items: items, byUser: SparseMatrix(stackingRows: rows, columnCount: itemCount))
        result.catalog = catalog
        result.evaluationHoldout = evaluationHoldout
        return result
    }

    /// This matrix with only the pairs set aside below the threshold for which `keep(user,
    /// item)` holds: an inner split that holds out a share of them as its test held out its own.
    public func keepingBelowThreshold(where keep: (Int, Int32) -> Bool) -> InteractionMatrix {
        guard let below = belowThreshold else { return self }
        var result = self
        result.belowThreshold = below.filter { user, item, _ in keep(user, item) }
        return result
    }
}

/// How raw rows became the values a model trains on, besides the threshold: each event type's
/// weight (by lower-cased name) and the weight of other events and rows without one, and how
/// repeated user-item pairs were combined.
public struct DataPreparation: Sendable, Equatable, Codable {
    public var eventWeights: [String: Float]
    public var defaultEventWeight: Float
    public var duplicates: DuplicatePolicy

    public init(eventWeights: [String: Float] = [:], defaultEventWeight: Float = 1, duplicates: DuplicatePolicy = .last) {
        self.eventWeights = eventWeights
        self.defaultEventWeight = defaultEventWeight
        self.duplicates = duplicates
    }
}
