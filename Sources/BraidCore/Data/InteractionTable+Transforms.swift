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

    /// The rows with value < `threshold`, values kept: what `positives(threshold:)` drops.
    public func below(threshold: Float) -> InteractionTable {
        selecting((0..<count).filter { values[$0] < threshold })
    }
}
