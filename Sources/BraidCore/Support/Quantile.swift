/// The `q` quantile of sorted values by linear interpolation between the two nearest ranks
/// (type 7 of Hyndman and Fan, NumPy's default): position q·(n − 1).
public func quantile(sorted: [Double], _ q: Double) -> Double {
    let position = q * Double(sorted.count - 1)
    let low = Int(position.rounded(.down)), high = min(sorted.count - 1, low + 1)
    return sorted[low] + (position - Double(low)) * (sorted[high] - sorted[low])
}

extension Double {
    /// The value as short text: a whole number without a fraction (`25`, not `25.0`), any other
    /// as Swift writes it.
    public var compactText: String { self == rounded() && abs(self) < 1e15 ? String(Int64(self)) : String(self) }
}
