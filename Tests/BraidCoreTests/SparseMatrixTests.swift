import BraidCore
import Testing

@Suite struct SparseMatrixTests {
    let matrix = SparseMatrix(rowCount: 2, columnCount: 3, rows: [0, 0, 1, 0], columns: [2, 0, 1, 2], values: [1, 2, 3, 4])

    @Test func coordinatesAreSortedAndLaterDuplicatesWin() {
        #expect(matrix.rowStarts == [0, 2, 3])
        #expect(matrix.columns == [0, 2, 1])
        #expect(matrix.values == [2, 4, 3])
    }

    @Test func duplicatesCanBeSummed() {
        let summed = SparseMatrix(rowCount: 1, columnCount: 2, rows: [0, 0, 0], columns: [1, 1, 0], values: [1, 2, 5], combine: +)
        #expect(summed.values == [5, 3])
    }

    @Test func transposeRoundTrips() {
        let t = matrix.transposed()
        #expect(t.rowCount == 3 && t.columnCount == 2)
        #expect(t.value(row: 2, column: 0) == 4)
        #expect(t.value(row: 1, column: 1) == 3)
        #expect(t.transposed() == matrix)
    }

    @Test func statistics() {
        #expect(matrix.rowCounts == [2, 1])
        #expect(matrix.columnCounts == [1, 1, 1])
        #expect(matrix.rowSums == [6, 3])
        #expect(matrix.rowMeans() == [3, 3])
        #expect(abs(matrix.rowNorms[0] - 20.0.squareRoot().float) < 1e-6)
    }

    @Test func sparseTimesSparseMatchesDense() {
        // [[2,0,4],[0,3,0]] × its transpose = [[20,0],[0,9]]
        let product = matrix.multiplied(by: matrix.transposed()).toDense()
        #expect(product == DenseMatrix([[20, 0], [0, 9]]))
    }

    @Test func prunedProductKeepsEachRowsStrongest() {
        // X = [[1,1,0,0],[1,0,1,1],[0,1,1,0]] (users × items); XᵀX by hand, items × items:
        // [[2,1,1,1],[1,2,1,0],[1,1,2,1],[1,0,1,1]]. With the diagonal set to 0 and two kept a
        // row: item 0 keeps items 1 and 2 (a three-way tie at 1, to the lower columns); item 1
        // keeps 0 and 2 (its 0 at item 3 is no entry, so three remain); item 3 has three entries
        // (items 0, 2 and its own 0) and keeps 0 and 2.
        let x = SparseMatrix(rowCount: 3, columnCount: 4, rows: [0, 0, 1, 1, 1, 2, 2], columns: [0, 1, 0, 2, 3, 1, 2],
                             values: [1, 1, 1, 1, 1, 1, 1])
        let pruned = x.transposed().multiplied(by: x, keepingStrongest: 2) { i, j, w in Int(j) == i ? 0 : w }
        #expect(pruned.toDense() == DenseMatrix([[0, 1, 1, 0], [1, 0, 1, 0], [1, 1, 0, 0], [1, 0, 1, 0]]))
        // Against forming the whole product, transforming it and pruning it, on rows both
        // sparse (their columns sorted) and nearly dense (read off the dense row), some with
        // fewer entries than are kept.
        var generator = SeededGenerator(seed: 5)
        let rows = 60, columns = 40
        var r: [Int32] = [], c: [Int32] = [], v: [Float] = []
        for row in 0..<rows {
            for column in 0..<columns where generator.next() % (row < 20 ? 3 : 13) == 0 {
                r.append(Int32(row)); c.append(Int32(column)); v.append(Float(generator.next() % 5 + 1))
            }
        }
        let a = SparseMatrix(rowCount: rows, columnCount: columns, rows: r, columns: c, values: v)
        let transform: @Sendable (Int, Int32, Float) -> Float = { i, j, w in Float(Int(j) % 7) + w / Float(i + 1) }
        for kept in [1, 5, 30] {
            let whole = a.transposed().multiplied(by: a).mapValues(transform).keepingStrongest(kept)
            #expect(a.transposed().multiplied(by: a, keepingStrongest: kept, transform: transform) == whole)
        }
    }

    @Test func sparseTimesDense() {
        let dense = DenseMatrix([[1, 2], [3, 4], [5, 6]])
        // [[2,0,4],[0,3,0]] × dense = [[22, 28], [9, 12]]
        #expect(matrix.multiplied(by: dense) == DenseMatrix([[22, 28], [9, 12]]))
        #expect(matrix.multiplied(by: [1, 1, 1]) == [6, 3])
    }

    @Test func blasProductsMatchHandResults() {
        let a = DenseMatrix([[1, 2], [3, 4]])
        let b = DenseMatrix([[5, 6], [7, 8]])
        #expect(BLAS.multiply(a, b) == DenseMatrix([[19, 22], [43, 50]]))
        #expect(BLAS.multiply(a, transposeA: true, b) == DenseMatrix([[26, 30], [38, 44]]))
        #expect(BLAS.multiply(a, [1, 1]) == [3, 7])
        // Rows long enough for the vector kernel, with a remainder: row r is (r + 1)·(1, 2, …, 37),
        // so against ones it sums to (r + 1)·703, and against (1, 0, …, 0, 2) to (r + 1)·(1 + 74).
        let long = DenseMatrix((0..<3).map { r in (1...37).map { Float($0 * (r + 1)) } })
        #expect(BLAS.multiply(long, [Float](repeating: 1, count: 37)) == [703, 1406, 2109])
        #expect(BLAS.multiply(long, [1] + [Float](repeating: 0, count: 35) + [2]) == [75, 150, 225])
        #expect(BLAS.dot([1, 2, 3], [4, 5, 6]) == 32)
    }

    @Test func topKBreaksTiesByIndexAndSkipsNaN() {
        let scores: [Float] = [0.5, .nan, 0.9, 0.5, -.infinity, 0.1]
        #expect(scores.topK(3).map(\.index) == [2, 0, 3])
        #expect(scores.topK(10).count == 4)
    }

    @Test func strongestNeighboursPerRow() {
        let s = SparseMatrix(rowCount: 1, columnCount: 4, rows: [0, 0, 0, 0], columns: [0, 1, 2, 3], values: [0.1, 0.9, 0.5, 0.7])
        let kept = s.keepingStrongest(2)
        #expect(Array(kept.columns(ofRow: 0)) == [1, 3])
    }
}

extension Double {
    var float: Float { Float(self) }
}
