extension SparseMatrix {
    /// Each row pruned to its `count` largest values (ties: lower column first), columns
    /// ascending.
    public func keepingStrongest(_ count: Int) -> SparseMatrix {
        let rows: [(columns: [Int32], values: [Float])] = parallelMapRows(rowCount) { range in
            range.map { r in
                let entries = self.entries(ofRow: r)
                guard entries.count > count else { return (Array(self.columns[entries]), Array(self.values[entries])) }
                var selector = TopKSelector(count: count)
                for k in entries { selector.offer(index: self.columns[k], score: self.values[k]) }
                let kept = selector.sorted().sorted { $0.index < $1.index }
                return (kept.map(\.index), kept.map(\.score))
            }
        }
        return SparseMatrix(stackingRows: rows, columnCount: columnCount)
    }
}
