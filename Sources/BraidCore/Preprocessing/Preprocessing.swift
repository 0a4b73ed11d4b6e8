/// How repeated (user, item) pairs are combined into one.
public enum DuplicatePolicy: String, Sendable, Codable, CaseIterable {
    /// The latest by timestamp (file order breaks ties) wins.
    case last
    /// The earliest wins.
    case first
    /// Values are added up (views, plays, purchases counted).
    case sum
    /// The largest value wins.
    case max
}

/// Weights per event type, applied as `value × weight`.
public struct EventWeights: Sendable, Equatable, Codable {
    public var weights: [String: Float]
    /// The weight of events not listed (and of rows without an event type).
    public var defaultWeight: Float

    public init(_ weights: [String: Float] = [:], defaultWeight: Float = 1) {
        self.weights = weights
        self.defaultWeight = defaultWeight
    }

    /// Parses `view=1,click=2,cart=4,purchase=8`.
    public init(argument: String) throws(DataError) {
        var weights: [String: Float] = [:]
        for part in argument.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: " ") }
            guard pair.count == 2, let weight = Float(pair[1]), weight.isFinite else {
                throw DataError(.invalidArgument, "event weight \(DataError.quote(String(part))) is not event=number",
                                hint: "e.g. --event-weights view=1,click=2,cart=4,purchase=8")
            }
            weights[pair[0].lowercased()] = weight
        }
        self.init(weights)
    }
}

extension InteractionTable {
    /// Multiplies each row's value by its event type's weight.
    public func weighted(by weights: EventWeights) -> InteractionTable {
        var out = self
        for row in 0..<count {
            let weight = events[row] < 0 ? weights.defaultWeight : weights.weights[eventNames[Int(events[row])]] ?? weights.defaultWeight
            out.values[row] = values[row] * weight
        }
        return out
    }

    /// One row per (user, item) pair, combined by `policy`. The result keeps the timestamp of
    /// the row whose value it kept (for `sum`, the latest).
    ///
    /// - Returns: the table and the number of rows merged away.
    public func deduplicated(_ policy: DuplicatePolicy) -> (InteractionTable, merged: Int) {
        var order = Array(0..<count)
        // Stable order by (user, item, timestamp, row).
        order.sort { a, b in
            if userIndices[a] != userIndices[b] { return userIndices[a] < userIndices[b] }
            if itemIndices[a] != itemIndices[b] { return itemIndices[a] < itemIndices[b] }
            if timestamps[a] != timestamps[b] { return timestamps[a] < timestamps[b] }
            return a < b
        }
        var keep: [Int] = []
        var values: [Float] = []
        var times: [Int64] = []
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count && userIndices[order[end]] == userIndices[order[start]]
                && itemIndices[order[end]] == itemIndices[order[start]] { end += 1 }
            let group = order[start..<end]
            var chosen = group.last!
            var value = self.values[chosen]
            switch policy {
            case .last: break
            case .first: chosen = group.first!; value = self.values[chosen]
            case .sum: value = group.reduce(Float(0)) { $0 + self.values[$1] }
            case .max:
                chosen = group.max { self.values[$0] < self.values[$1] }!
                value = self.values[chosen]
            }
            keep.append(chosen)
            values.append(value)
            times.append(policy == .sum ? timestamps[group.last!] : timestamps[chosen])
            start = end
        }
        // Back to file order of the kept rows, so that later splits see the input order.
        let restore = keep.indices.sorted { keep[$0] < keep[$1] }
        var out = selecting(restore.map { keep[$0] })
        out.values = restore.map { values[$0] }
        out.timestamps = restore.map { times[$0] }
        return (out, count - out.count)
    }

    /// The rows with value ≥ `threshold`, each with value 1: ratings turned into implicit positives.
    public func positives(threshold: Float) -> InteractionTable {
        var out = selecting((0..<count).filter { values[$0] >= threshold })
        out.values = [Float](repeating: 1, count: out.count)
        return out
    }

    /// Repeatedly drops users with fewer than `minimumUserCount` rows and items with fewer
    /// than `minimumItemCount` rows until every remaining user and item qualifies (the k-core).
    public func kCore(minimumUserCount: Int, minimumItemCount: Int) -> InteractionTable {
        var alive = [Bool](repeating: true, count: count)
        while true {
            var userCounts = [Int](repeating: 0, count: users.count)
            var itemCounts = [Int](repeating: 0, count: items.count)
            for row in 0..<count where alive[row] {
                userCounts[Int(userIndices[row])] += 1
                itemCounts[Int(itemIndices[row])] += 1
            }
            var changed = false
            for row in 0..<count where alive[row] {
                if userCounts[Int(userIndices[row])] < minimumUserCount || itemCounts[Int(itemIndices[row])] < minimumItemCount {
                    alive[row] = false
                    changed = true
                }
            }
            if !changed { break }
        }
        return selecting((0..<count).filter { alive[$0] })
    }

    /// A copy whose vocabularies hold only the users and items that occur in the rows.
    public func compacted() -> InteractionTable {
        var out = InteractionTable()
        out.eventNames = eventNames
        for row in 0..<count {
            out.append(user: out.users.insert(users[userIndices[row]]), item: out.items.insert(items[itemIndices[row]]),
                       value: values[row], timestamp: timestamps[row], event: events[row])
        }
        return out
    }
}
