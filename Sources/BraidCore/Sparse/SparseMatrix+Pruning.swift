extension SparseMatrix {
    /// Each row pruned to its `count` largest values (ties: lower column first), columns
    /// ascending.
    public func keepingStrongest(_ count: Int) -> SparseMatrix {
        let rows: [(columns: [Int32], values: [Float])] = parallelMapRows(rowCount) { range in
            range.map { r in
                let entries = self.entries(ofRow: r)
                guard entries.count > count else { return (Array(self.columns[entries]), Array(self.values[entries])) }
                return Self.strongest(count, of: entries, column: { self.columns[$0] }, value: { self.values[$0] })
            }
        }
        return SparseMatrix(stackingRows: rows, columnCount: columnCount)
    }

    /// The `count` largest of a row's entries, each with its `column` and `value`, given in
    /// ascending column order (ties to the lower column); columns ascending.
    static func strongest(_ count: Int, of entries: Range<Int>, column: (Int) -> Int32, value: (Int) -> Float) -> (columns: [Int32], values: [Float]) {
        var selector = TopKSelector(count: count)
        for entry in entries { selector.offer(index: column(entry), score: value(entry)) }
        let kept = selector.sorted().sorted { $0.index < $1.index }
        return (kept.map(\.index), kept.map(\.score))
    }
}
