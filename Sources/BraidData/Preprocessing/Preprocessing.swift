public import BraidCore

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
