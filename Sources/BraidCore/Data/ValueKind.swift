/// What the values of interactions mean, read off the values themselves, so that each model
/// can apply the transform it needs with default parameters (`braid info` reports it).
public enum ValueKind: String, Sendable, Codable, CaseIterable {
    /// Every value is the same (clicks, follows, ratings turned into positives).
    case binary
    /// A small discrete scale (stars: at most 20 distinct values, all within 0…10).
    case ratings
    /// Non-negative whole numbers with a long tail (plays, views, purchases counted).
    case counts
    /// Anything else (durations, scores, weights).
    case continuous

    /// The kind of `values`; events (typed interactions) are reported separately.
    public static func detect<Values: Collection>(_ values: Values) -> ValueKind where Values.Element == Float {
        guard let first = values.first else { return .binary }
        var distinct = Set<Float>(), allWhole = true, allNonNegative = true, maximum = first, minimum = first
        for v in values {
            if distinct.count <= 21 { distinct.insert(v) }
            if v != v.rounded() { allWhole = false }
            if v < 0 { allNonNegative = false }
            maximum = max(maximum, v)
            minimum = min(minimum, v)
        }
        if distinct.count == 1 { return .binary }
        if distinct.count <= 20 && minimum >= 0 && maximum <= 10 && distinct.allSatisfy({ ($0 * 2).rounded() == $0 * 2 }) {
            return .ratings
        }
        if allWhole && allNonNegative { return .counts }
        return .continuous
    }
}

extension InteractionMatrix {
    /// The kind of this matrix's values.
    public var valueKind: ValueKind { ValueKind.detect(byUser.values) }
}
