/// A compressed sparse row (CSR) matrix of `Float` values with `Int32` column indices.
///
/// A compressed sparse column matrix is the CSR matrix of the transpose: `transposed()`
/// turns one into the other. Column indices within a row are sorted ascending and unique.
public struct SparseMatrix: Sendable, Equatable {
    public let rowCount: Int
    public let columnCount: Int
    /// `rowStarts[r]..<rowStarts[r + 1]` are row `r`'s entries; `rowCount + 1` elements.
    public let rowStarts: [Int]
    public let columns: [Int32]
    public let values: [Float]

    /// Creates a matrix from CSR arrays, checking their shape.
    public init(rowCount: Int, columnCount: Int, rowStarts: [Int], columns: [Int32], values: [Float]) {
        precondition(rowStarts.count == rowCount + 1, "rowStarts needs rowCount + 1 entries")
        precondition(columns.count == values.count, "columns and values differ in length")
        precondition(rowStarts.last == columns.count, "rowStarts does not end at the entry count")
        self.rowCount = rowCount
        self.columnCount = columnCount
        self.rowStarts = rowStarts
        self.columns = columns
        self.values = values
    }

    /// An empty matrix of the given shape.
    public init(rowCount: Int, columnCount: Int) {
        self.init(rowCount: rowCount, columnCount: columnCount,
                  rowStarts: [Int](repeating: 0, count: rowCount + 1), columns: [], values: [])
    }

    /// Builds a matrix from coordinate triples. Duplicate coordinates are combined by `combine`
    /// (default: the later one wins).
    ///
    /// - Complexity: O(nnz + rows + columns).
    public init(rowCount: Int, columnCount: Int, rows: [Int32], columns: [Int32], values: [Float],
                combine: (Float, Float) -> Float = { _, later in later }) {
        precondition(rows.count == columns.count && rows.count == values.count, "triples differ in length")
        // Counting sort by row, stable, so that "later" means later in the input.
        var starts = [Int](repeating: 0, count: rowCount + 1)
        for r in rows { starts[Int(r) + 1] += 1 }
        for r in 0..<rowCount { starts[r + 1] += starts[r] }
        var next = starts
        var order = [Int](repeating: 0, count: rows.count)
        for (position, r) in rows.enumerated() {
            order[next[Int(r)]] = position
            next[Int(r)] += 1
        }
        var outStarts = [Int](repeating: 0, count: rowCount + 1)
        var outColumns = [Int32]()
        var outValues = [Float]()
        outColumns.reserveCapacity(rows.count)
        outValues.reserveCapacity(rows.count)
        var scratch: [(Int32, Int, Float)] = []
        for r in 0..<rowCount {
            scratch.removeAll(keepingCapacity: true)
            for k in starts[r]..<starts[r + 1] {
                let p = order[k]
                scratch.append((columns[p], p, values[p]))
            }
            scratch.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            var k = 0
            while k < scratch.count {
                var value = scratch[k].2
                var j = k + 1
                while j < scratch.count && scratch[j].0 == scratch[k].0 {
                    value = combine(value, scratch[j].2)
                    j += 1
                }
                outColumns.append(scratch[k].0)
                outValues.append(value)
                k = j
            }
            outStarts[r + 1] = outColumns.count
        }
        self.init(rowCount: rowCount, columnCount: columnCount, rowStarts: outStarts,
                  columns: outColumns, values: outValues)
    }

    /// The number of stored entries.
    public var nonzeroCount: Int { columns.count }

    /// The range of entry positions that belong to `row`.
    @inlinable public func entries(ofRow row: Int) -> Range<Int> { rowStarts[row]..<rowStarts[row + 1] }

    /// The column indices of `row`.
    public func columns(ofRow row: Int) -> ArraySlice<Int32> { columns[entries(ofRow: row)] }

    /// The values of `row`.
    public func values(ofRow row: Int) -> ArraySlice<Float> { values[entries(ofRow: row)] }

    /// `row` as a dense vector of `columnCount` values (absent entries 0).
    public func denseRow(_ row: Int) -> [Float] {
        var out = [Float](repeating: 0, count: columnCount)
        for k in entries(ofRow: row) { out[Int(columns[k])] = values[k] }
        return out
    }

    /// The number of entries in `row`.
    @inlinable public func count(ofRow row: Int) -> Int { rowStarts[row + 1] - rowStarts[row] }

    /// The stored value at (`row`, `column`), or nil when absent.
    ///
    /// - Complexity: O(log entries in the row).
    public func value(row: Int, column: Int) -> Float? {
        var low = rowStarts[row], high = rowStarts[row + 1]
        let target = Int32(column)
        while low < high {
            let mid = (low + high) / 2
            if columns[mid] < target { low = mid + 1 } else { high = mid }
        }
        return low < rowStarts[row + 1] && columns[low] == target ? values[low] : nil
    }

    /// The transpose, which is also this matrix in compressed sparse column form.
    ///
    /// - Complexity: O(nnz + rows + columns).
    public func transposed() -> SparseMatrix {
        var starts = [Int](repeating: 0, count: columnCount + 1)
        for c in columns { starts[Int(c) + 1] += 1 }
        for c in 0..<columnCount { starts[c + 1] += starts[c] }
        var next = starts
        var outColumns = [Int32](repeating: 0, count: nonzeroCount)
        var outValues = [Float](repeating: 0, count: nonzeroCount)
        for r in 0..<rowCount {
            for k in entries(ofRow: r) {
                let c = Int(columns[k])
                outColumns[next[c]] = Int32(r)
                outValues[next[c]] = values[k]
                next[c] += 1
            }
        }
        return SparseMatrix(rowCount: columnCount, columnCount: rowCount, rowStarts: starts,
                            columns: outColumns, values: outValues)
    }

    /// The same pattern with every value replaced by `transform(row, column, value)`.
    public func mapValues(_ transform: (Int, Int32, Float) -> Float) -> SparseMatrix {
        var newValues = values
        for r in 0..<rowCount {
            for k in entries(ofRow: r) { newValues[k] = transform(r, columns[k], values[k]) }
        }
        return SparseMatrix(rowCount: rowCount, columnCount: columnCount, rowStarts: rowStarts,
                            columns: columns, values: newValues)
    }

    /// Keeps only the entries for which `keep(row, column, value)` is true.
    public func filter(_ keep: (Int, Int32, Float) -> Bool) -> SparseMatrix {
        var starts = [0]
        starts.reserveCapacity(rowCount + 1)
        var newColumns = [Int32](), newValues = [Float]()
        for r in 0..<rowCount {
            for k in entries(ofRow: r) where keep(r, columns[k], values[k]) {
                newColumns.append(columns[k])
                newValues.append(values[k])
            }
            starts.append(newColumns.count)
        }
        return SparseMatrix(rowCount: rowCount, columnCount: columnCount, rowStarts: starts,
                            columns: newColumns, values: newValues)
    }

    /// A dense row-major copy, for tests and small matrices.
    public func toDense() -> DenseMatrix {
        var dense = DenseMatrix(rows: rowCount, columns: columnCount)
        for r in 0..<rowCount {
            for k in entries(ofRow: r) { dense[r, Int(columns[k])] = values[k] }
        }
        return dense
    }
}
