extension SparseMatrix {
    /// The sparse product `self × other`, computed row by row (Gustavson's algorithm) on the
    /// worker threads.
    ///
    /// - Complexity: O(flops) where flops is the number of scalar multiplications.
    public func multiplied(by other: SparseMatrix) -> SparseMatrix {
        SparseMatrix(stackingRows: productRows(other) { _, columns, accumulator in
            (columns, columns.map { accumulator[Int($0)] })
        }, columnCount: other.columnCount)
    }

    /// `self × other` with each value passed through `transform(row, column, value)` and each
    /// row pruned to its `count` largest (as `keepingStrongest`: ties to the lower column,
    /// columns ascending, a row with at most `count` entries kept whole), without forming the
    /// whole product: each row is pruned as soon as it is accumulated, so memory holds one
    /// dense row per thread and the kept entries (a large catalogue's co-occurrences are
    /// nearly dense: items² entries).
    public func multiplied(by other: SparseMatrix, keepingStrongest count: Int,
                           transform: @Sendable (Int, Int32, Float) -> Float) -> SparseMatrix {
        SparseMatrix(stackingRows: productRows(other) { r, columns, accumulator in
            guard columns.count > count else { return (columns, columns.map { transform(r, $0, accumulator[Int($0)]) }) }
            return Self.strongest(count, of: columns.indices, column: { columns[$0] },
                                  value: { transform(r, columns[$0], accumulator[Int(columns[$0])]) })
        }, columnCount: other.columnCount)
    }

    /// Accumulates each row of `self × other` in a dense row (Gustavson's algorithm) on the
    /// worker threads and hands `row` its index, its nonzero columns ascending and the dense
    /// row, gathering what it returns in row order.
    private func productRows<Row: Sendable>(_ other: SparseMatrix,
                                            _ row: @Sendable (Int, [Int32], [Float]) -> Row) -> [Row] {
        precondition(columnCount == other.rowCount, "inner dimensions differ: \(columnCount) vs \(other.rowCount)")
        let width = other.columnCount
        return parallelMapRows(rowCount) { range in
            var accumulator = [Float](repeating: 0, count: width)
            var occupied = [Bool](repeating: false, count: width)
            var touched: [Int32] = []
            var out: [Row] = []
            for r in range {
                touched.removeAll(keepingCapacity: true)
                for k in self.entries(ofRow: r) {
                    let a = self.values[k]
                    let middle = Int(self.columns[k])
                    for m in other.entries(ofRow: middle) {
                        let c = Int(other.columns[m])
                        if !occupied[c] { occupied[c] = true; touched.append(Int32(c)) }
                        accumulator[c] += a * other.values[m]
                    }
                }
                // Ascending: sorted when few, read off the dense row when many.
                if touched.count * 16 < width {
                    touched.sort()
                } else {
                    touched.removeAll(keepingCapacity: true)
                    for c in 0..<width where occupied[c] { touched.append(Int32(c)) }
                }
                out.append(row(r, touched, accumulator))
                for c in touched {
                    accumulator[Int(c)] = 0
                    occupied[Int(c)] = false
                }
            }
            return out
        }
    }

    /// The product `self × dense` with a dense row-major right-hand side.
    public func multiplied(by dense: DenseMatrix) -> DenseMatrix {
        precondition(columnCount == dense.rows, "inner dimensions differ: \(columnCount) vs \(dense.rows)")
        let width = dense.columns
        var result = [Float](repeating: 0, count: rowCount * width)
        result.withUnsafeMutableBufferPointer { buffer in
            let out = SharedBuffer(buffer)
            parallelChunks(rowCount, minimumChunk: 16) { rows in
                dense.storage.withUnsafeBufferPointer { d in
                    for r in rows {
                        let target = out.base + r * width
                        for k in self.entries(ofRow: r) {
                            let a = self.values[k]
                            let source = d.baseAddress! + Int(self.columns[k]) * width
                            for c in 0..<width { target[c] += a * source[c] }
                        }
                    }
                }
            }
        }
        return DenseMatrix(rows: rowCount, columns: width, storage: result)
    }

    /// The product `self × vector`.
    public func multiplied(by vector: [Float]) -> [Float] { multiplied(by: vector, rows: 0..<rowCount) }

    /// The entries of `self × vector` for `rows` only, in their order.
    public func multiplied(by vector: [Float], rows: some Collection<Int>) -> [Float] {
        precondition(vector.count == columnCount, "vector length \(vector.count) is not \(columnCount)")
        return rows.map { r in
            var sum: Float = 0
            for k in entries(ofRow: r) { sum += values[k] * vector[Int(columns[k])] }
            return sum
        }
    }

    /// Joins rows built separately into one matrix.
    public init(stackingRows rows: [(columns: [Int32], values: [Float])], columnCount: Int) {
        var starts = [Int](repeating: 0, count: rows.count + 1)
        for (r, row) in rows.enumerated() { starts[r + 1] = starts[r] + row.columns.count }
        var columns = [Int32](), values = [Float]()
        columns.reserveCapacity(starts[rows.count])
        values.reserveCapacity(starts[rows.count])
        for row in rows {
            columns.append(contentsOf: row.columns)
            values.append(contentsOf: row.values)
        }
        self.init(rowCount: rows.count, columnCount: columnCount, rowStarts: starts, columns: columns, values: values)
    }
}

/// Computes per-row results in parallel chunks, each chunk with its own scratch state, and
/// concatenates them in row order.
public func parallelMapRows<Row: Sendable>(_ count: Int, _ chunk: @Sendable (Range<Int>) -> [Row]) -> [Row] {
    let threads = Parallelism.threadCount
    let chunkSize = max(1, (count + threads * 8 - 1) / (threads * 8))
    let chunkCount = (count + chunkSize - 1) / chunkSize
    let pieces = parallelMap(chunkCount) { c in
        chunk((c * chunkSize)..<min(count, (c + 1) * chunkSize))
    }
    return pieces.flatMap { $0 }
}
