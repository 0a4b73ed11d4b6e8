import BraidCore
import Testing

@Suite struct SimilarityTests {
    @Test func cosineOfTheTextbookExample() {
        // cos((4,5),(3,4)) = 32 / (√41 · 5)
        #expect(abs(Similarity.cosine([4, 5], [3, 4]) - 0.99951) < 1e-5)
        #expect(abs(Double(Similarity.cosine([4, 5], [3, 4])) - 32 / (41.0.squareRoot() * 5)) < 1e-6)
    }

    @Test func cosineOfOrthogonalAndZeroVectors() {
        #expect(Similarity.cosine([1, 0], [0, 1]) == 0)
        #expect(Similarity.cosine([0, 0], [1, 1]) == 0)
    }

    @Test func pearsonOfPerfectlyAntiCorrelatedVectors() {
        #expect(abs(Similarity.pearson([1, 2, 3], [3, 2, 1]) + 1) < 1e-6)
    }

    @Test func pearsonOverCoRatedItemsWithOwnMeans() {
        // a = {0:5, 1:3, 2:4} (mean 4), b = {0:4, 1:1, 3:5} (mean 10/3); co-rated 0 and 1:
        // centred (1, −1) and (2/3, −7/3): 3 / (√2 · √53 / 3) = 9 / √106.
        let a = SparseVector(indices: [0, 1, 2], values: [5, 3, 4])
        let b = SparseVector(indices: [0, 1, 3], values: [4, 1, 5])
        #expect(abs(Similarity.pearson(a, b) - 0.874157) < 1e-5)
    }

    @Test func adjustedCosineCentresByTheOtherSidesMean() {
        // Items a = (5, 3), b = (4, 2) over users with means 4.5 and 2.5: (0.5, 0.5)·(−0.5, −0.5) → −1.
        let a = SparseVector(indices: [0, 1], values: [5, 3])
        let b = SparseVector(indices: [0, 1], values: [4, 2])
        #expect(abs(Similarity.adjustedCosine(a, b, indexMeans: [4.5, 2.5]) + 1) < 1e-6)
    }

    @Test func jaccardOfSupports() {
        let a = SparseVector(indices: [0, 1, 2], values: [1, 1, 1])
        let b = SparseVector(indices: [1, 2, 3, 4], values: [1, 1, 1, 1])
        #expect(abs(Similarity.jaccard(a, b) - 0.4) < 1e-6)
    }

    @Test func meanSquaredDifference() {
        // differences 1 and 2: msd = 2.5, similarity 1 / 3.5
        let a = SparseVector(indices: [0, 1], values: [5, 3])
        let b = SparseVector(indices: [0, 1], values: [4, 1])
        #expect(abs(Similarity.msd(a, b) - 1 / 3.5) < 1e-6)
    }

    @Test func shrinkageFollowsKoren() {
        #expect(abs(Similarity.shrunk(0.8, support: 10, shrinkage: 90) - 0.08) < 1e-6)
        #expect(Similarity.shrunk(0.8, support: 10, shrinkage: 0) == 0.8)
    }

    @Test func pairwiseKernelMatchesHandWorkedCosines() {
        // Item vectors over three users: i0 = (5,4,0), i1 = (3,2,1), i2 = (0,5,2).
        // cos(i2, i0) = 20/√1189 ≈ 0.580015, cos(i2, i1) = 12/√406 ≈ 0.595550.
        let items = SparseMatrix(rowCount: 3, columnCount: 3, rows: [0, 0, 1, 1, 1, 2, 2], columns: [0, 1, 0, 1, 2, 1, 2],
                                 values: [5, 4, 3, 2, 1, 5, 2])
        let s = PairwiseSimilarity(measure: .cosine).compute(items)
        #expect(abs(s.value(row: 2, column: 0)! - 0.580015) < 1e-5)
        #expect(abs(s.value(row: 2, column: 1)! - 0.595550) < 1e-5)
        #expect(s.value(row: 0, column: 2) == s.value(row: 2, column: 0))
        #expect(s.value(row: 1, column: 1) == nil, "the diagonal is never stored")
    }

    @Test(arguments: [SimilarityMeasure.pearson, .jaccard, .msd])
    func pairwiseKernelAgreesWithTheVectorFunctions(measure: SimilarityMeasure) {
        let rows: [[Float]] = [[5, 3, 0, 4, 1], [4, 0, 2, 5, 0], [0, 1, 3, 2, 5], [2, 2, 0, 0, 4]]
        var matrixRows: [Int32] = [], columns: [Int32] = [], values: [Float] = []
        for (r, row) in rows.enumerated() { for (c, v) in row.enumerated() where v != 0 { matrixRows.append(Int32(r)); columns.append(Int32(c)); values.append(v) } }
        var matrix = SparseMatrix(rowCount: 4, columnCount: 5, rows: matrixRows, columns: columns, values: values)
        let means = matrix.rowMeans()
        if measure == .pearson { matrix = matrix.mapValues { r, _, v in v - means[r] } }
        let s = PairwiseSimilarity(measure: measure, minimumSimilarity: -2).compute(matrix)
        for a in 0..<4 {
            for b in 0..<4 where a != b {
                let va = SparseVector(dense: rows[a]), vb = SparseVector(dense: rows[b])
                let expected: Float = switch measure {
                case .pearson: Similarity.pearson(va, vb)
                case .jaccard: Similarity.jaccard(va, vb)
                default: Similarity.msd(va, vb)
                }
                #expect(abs((s.value(row: a, column: b) ?? 0) - expected) < 1e-5, "\(measure) \(a) \(b)")
            }
        }
    }

    @Test func neighbourLimitKeepsTheStrongest() {
        let items = SparseMatrix(rowCount: 3, columnCount: 3, rows: [0, 0, 1, 1, 1, 2, 2], columns: [0, 1, 0, 1, 2, 1, 2],
                                 values: [5, 4, 3, 2, 1, 5, 2])
        let s = PairwiseSimilarity(measure: .cosine, maximumNeighbors: 1).compute(items)
        #expect(Array(s.columns(ofRow: 2)) == [1])
    }

    /// Capped rows are the uncapped rows' strongest, ties by the lower index (binary data makes
    /// many equal cosines), whichever way the cap is applied.
    @Test func neighbourLimitEqualsPruningTheFullMatrix() {
        var rng = SeededGenerator(seed: 5)
        var rows: [Int32] = [], columns: [Int32] = []
        for row in 0..<120 {
            for column in 0..<40 where rng.next() % 6 == 0 { rows.append(Int32(row)); columns.append(Int32(column)) }
        }
        let vectors = SparseMatrix(rowCount: 120, columnCount: 40, rows: rows, columns: columns,
                                   values: [Float](repeating: 1, count: rows.count))
        let full = PairwiseSimilarity(measure: .cosine).compute(vectors)
        for cap in [1, 5, 30, 119] {
            let capped = PairwiseSimilarity(measure: .cosine, maximumNeighbors: cap).compute(vectors)
            #expect(capped == full.keepingStrongest(cap), "cap \(cap)")
        }
        #expect(full.rowStarts.last! > 120 * 30)  // rows long enough that the caps bind
    }
}
