internal import Foundation

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

    /// The value an earlier and a later interaction on one pair combine to.
    @inlinable public func combine<Value: FloatingPoint>(_ earlier: Value, _ later: Value) -> Value {
        switch self {
        case .last: later
        case .first: earlier
        case .sum: earlier + later
        case .max: Swift.max(earlier, later)
        }
    }
}

extension InteractionTable {
    /// One row per (user, item) pair, combined by `policy`. The result keeps the timestamp of
    /// the row whose value it kept (for `sum`, the latest).
    ///
    /// - Returns: the table and the number of rows merged away.
    public func deduplicated(_ policy: DuplicatePolicy) -> (InteractionTable, merged: Int) {
        // Rows by user in row order (a counting sort), then each user's by (item, timestamp,
        // row): the stable order by (user, item, timestamp, row) in O(n + Σ n_u log n_u).
        let userCount = userIndices.max().map { Int($0) + 1 } ?? 0
        var starts = [Int](repeating: 0, count: userCount + 1)
        for user in userIndices { starts[Int(user) + 1] += 1 }
        for u in 0..<userCount { starts[u + 1] += starts[u] }
        var order = [Int](repeating: 0, count: count)
        var next = starts
        for row in 0..<count {
            let user = Int(userIndices[row])
            order[next[user]] = row
            next[user] += 1
        }
        var duplicated = false
        for u in 0..<userCount where starts[u + 1] - starts[u] > 1 {
            order[starts[u]..<starts[u + 1]].sort { a, b in
                if itemIndices[a] != itemIndices[b] { return itemIndices[a] < itemIndices[b] }
                if timestamps[a] != timestamps[b] { return timestamps[a] < timestamps[b] }
                return a < b
            }
            if !duplicated {
                for k in (starts[u] + 1)..<starts[u + 1] where itemIndices[order[k]] == itemIndices[order[k - 1]] { duplicated = true; break }
            }
        }
        // Every pair once: each row keeps its value and timestamp under every policy.
        guard duplicated else { return (self, 0) }
        var kept = [Bool](repeating: false, count: count)
        var keptValue = values, keptTime = timestamps
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
            kept[chosen] = true
            keptValue[chosen] = value
            keptTime[chosen] = policy == .sum ? timestamps[group.last!] : timestamps[chosen]
            start = end
        }
        // The kept rows in file order, so that later splits see the input order.
        let rows = kept.indices.filter { kept[$0] }
        var out = selecting(rows)
        out.values = rows.map { keptValue[$0] }
        out.timestamps = rows.map { keptTime[$0] }
        return (out, count - out.count)
    }

    /// The rows with value ≥ `threshold`, each with value 1: ratings turned into implicit positives.
    public func positives(threshold: Float) -> InteractionTable {
        var out = selecting((0..<count).filter { values[$0] >= threshold })
        out.values = [Float](repeating: 1, count: out.count)
        return out
    }

    /// Why `threshold` leaves no positives in a table that has rows (a NaN threshold, or one
    /// above every value), as an error naming the values there are; nil when it keeps some.
    public func thresholdProblem(_ threshold: Float, file: String? = nil) -> DataError? {
        guard count > 0 else { return nil }
        let location = file.map { DataError.Location(file: $0) }
        guard !threshold.isNaN else {
            return DataError(.invalidArgument, "the threshold is not a number", location: location, hint: "give a value such as 4")
        }
        guard !values.contains(where: { $0 >= threshold }) else { return nil }
        let low = values.min() ?? 0, high = values.max() ?? 0
        return DataError(.invalidArgument, "the threshold \(threshold) keeps none of the \(count) training rows: their values run from \(low) to \(high)",
                         location: location, hint: "give a threshold of at most \(high), or none to train on every row")
    }

    /// The rows with value < `threshold`, values kept: what `positives(threshold:)` drops.
    public func below(threshold: Float) -> InteractionTable {
        selecting((0..<count).filter { values[$0] < threshold })
    }
}
