/// The Gini coefficient of a distribution of non-negative amounts.
public enum Gini {
    /// 0 when every amount is equal, approaching 1 when one holds everything:
    /// `Σ_i (2i − n − 1) x_(i) / (n Σ x)` over amounts sorted ascending, i = 1…n.
    public static func coefficient(_ amounts: [Double]) -> Double {
        let sorted = amounts.sorted()
        let n = Double(sorted.count)
        let total = sorted.reduce(0, +)
        guard sorted.count > 1, total > 0 else { return 0 }
        var weighted = 0.0
        for (i, x) in sorted.enumerated() { weighted += (2 * Double(i + 1) - n - 1) * x }
        return weighted / (n * total)
    }
}
