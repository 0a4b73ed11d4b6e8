extension Int {
    /// The product of `factors`, nil when one is negative or the product passes `Int.max`: the
    /// byte count of a shape read from a file, which a crafted header can make overflow.
    public static func checkedProduct(_ factors: some Sequence<Int>) -> Int? {
        var product = 1
        for factor in factors {
            guard factor >= 0 else { return nil }
            let (value, overflow) = product.multipliedReportingOverflow(by: factor)
            guard !overflow else { return nil }
            product = value
        }
        return product
    }
}
