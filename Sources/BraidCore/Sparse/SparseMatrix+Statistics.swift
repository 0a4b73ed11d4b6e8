extension SparseMatrix {
    /// Whether the entry (`row`, `column`) is stored (binary search in the row).
    public func contains(row: Int, column: Int32) -> Bool {
        var low = rowStarts[row], high = rowStarts[row + 1]
        while low < high {
            let mid = (low + high) / 2
            if columns[mid] < column { low = mid + 1 } else { high = mid }
        }
        return low < rowStarts[row + 1] && columns[low] == column
    }

    /// Entries per row.
    public var rowCounts: [Int] { (0..<rowCount).map { count(ofRow: $0) } }

    /// Entries per column.
    public var columnCounts: [Int] {
        var counts = [Int](repeating: 0, count: columnCount)
        for c in columns { counts[Int(c)] += 1 }
        return counts
    }

    /// Sum of each row's values.
    public var rowSums: [Double] {
        (0..<rowCount).map { r in values[entries(ofRow: r)].reduce(0.0) { $0 + Double($1) } }
    }

    /// Sum of each column's values.
    public var columnSums: [Double] {
        var sums = [Double](repeating: 0, count: columnCount)
        for k in 0..<nonzeroCount { sums[Int(columns[k])] += Double(values[k]) }
        return sums
    }

    /// Mean of each row's stored values; `empty` for rows without entries.
    public func rowMeans(empty: Float = 0) -> [Float] {
        let sums = rowSums
        return (0..<rowCount).map { r in
            let n = count(ofRow: r)
            return n == 0 ? empty : Float(sums[r] / Double(n))
        }
    }

    /// Euclidean norm of each row.
    public var rowNorms: [Float] {
        (0..<rowCount).map { r in
            Float(values[entries(ofRow: r)].reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
        }
    }
}
