/// Computes the similarity of every pair of rows of a sparse matrix through its sparse
/// product with its own transpose, on the worker threads, keeping each row's strongest
/// neighbours.
public struct PairwiseSimilarity: Sendable {
    public var measure: SimilarityMeasure
    /// λ in `s · n / (n + λ)`; 0 turns shrinkage off.
    public var shrinkage: Float
    /// Pairs with fewer co-rated dimensions are dropped.
    public var minimumSupport: Int
    /// Keep at most this many neighbours per row (the most similar); nil keeps all.
    public var maximumNeighbors: Int?
    /// Keep only similarities above this value.
    public var minimumSimilarity: Float

    public init(measure: SimilarityMeasure, shrinkage: Float = 0, minimumSupport: Int = 1,
                maximumNeighbors: Int? = nil, minimumSimilarity: Float = 0) {
        self.measure = measure
        self.shrinkage = shrinkage
        self.minimumSupport = max(1, minimumSupport)
        self.maximumNeighbors = maximumNeighbors
        self.minimumSimilarity = minimumSimilarity
    }

    /// The similarity matrix of the rows of `vectors`.
    ///
    /// The values of `vectors` must already be prepared for the measure: centred by the row
    /// means for `pearson`, by the column means for `adjustedCosine`, baseline residuals for
    /// `pearsonBaseline`; raw for the others.
    ///
    /// - Returns: a square CSR matrix whose row `a` holds `a`'s kept neighbours, columns sorted
    ///   ascending; the diagonal is never stored.
    /// - Complexity: O(Σ_d n_d²) where n_d is the number of rows sharing dimension d.
    public func compute(_ vectors: SparseMatrix) -> SparseMatrix { compute(vectors, among: Others(vectors)) }

    /// `compute(vectors)` with the rows' transpose, norms and counts already at hand
    /// (`Others(vectors)`), for a caller that keeps them.
    public func compute(_ vectors: SparseMatrix, among others: Others) -> SparseMatrix {
        let rows: [(columns: [Int32], values: [Float])] = parallelMapRows(vectors.rowCount) { range in
            var scratch = Scratch(others.rowCount)
            return range.map { a in
                neighbors(of: vectors.columns[vectors.entries(ofRow: a)], vectors.values[vectors.entries(ofRow: a)],
                          norm: others.norms[a], count: others.counts[a], excluding: a, among: others, scratch: &scratch)
            }
        }
        return SparseMatrix(stackingRows: rows, columnCount: vectors.rowCount)
    }

    /// The rows a vector is compared with: their transpose (dimension → rows), norms and counts.
    public struct Others: Sendable {
        public let transpose: SparseMatrix
        public let norms: [Float]
        public let counts: [Int]
        public var rowCount: Int { transpose.columnCount }

        public init(_ vectors: SparseMatrix) {
            transpose = vectors.transposed()
            norms = vectors.rowNorms
            counts = vectors.rowCounts
        }
    }

    /// Per-row work arrays, one per worker.
    public struct Scratch {
        var dot: [Float], squaresA: [Float], squaresB: [Float], similarity: [Float]
        var support: [Int32]
        var touched: [Int32] = []

        public init(_ rowCount: Int) {
            dot = [Float](repeating: 0, count: rowCount)
            squaresA = dot; squaresB = dot; similarity = dot
            support = [Int32](repeating: 0, count: rowCount)
        }
    }

    /// The kept neighbours among `others` of one vector (its entries `columns`/`values`, columns
    /// ascending and distinct, prepared as `compute` requires; `norm` and `count` as
    /// `SparseMatrix.rowNorms`/`rowCounts` give them), skipping the row `excluding`: the row
    /// `compute` gives a row of the matrix, and the same for a vector that is not one (a new
    /// user's history), computed the same way.
    public func neighbors(of columns: some Collection<Int32>, _ values: some Collection<Float>, norm: Float, count: Int,
                          excluding: Int? = nil, among others: Others, scratch: inout Scratch) -> (columns: [Int32], values: [Float]) {
        let transpose = others.transpose, norms = others.norms, counts = others.counts
        let coRated = measure.usesCoRatedDimensions
        scratch.touched.removeAll(keepingCapacity: true)
        for (dimension, x) in zip(columns, values) {
            for m in transpose.entries(ofRow: Int(dimension)) {
                let b = Int(transpose.columns[m])
                if b == excluding { continue }
                let y = transpose.values[m]
                if scratch.support[b] == 0 { scratch.touched.append(Int32(b)) }
                scratch.support[b] += 1
                scratch.dot[b] += x * y
                if coRated {
                    scratch.squaresA[b] += x * x
                    scratch.squaresB[b] += y * y
                }
            }
        }
        var kept: [Int] = []
        kept.reserveCapacity(scratch.touched.count)
        for b32 in scratch.touched {
            let b = Int(b32)
            let n = Int(scratch.support[b])
            var s: Float
            switch measure {
            case .cosine:
                let denominator = norm * norms[b]
                s = denominator > 0 ? scratch.dot[b] / denominator : 0
            case .pearson, .adjustedCosine, .pearsonBaseline:
                let denominator = (scratch.squaresA[b] * scratch.squaresB[b]).squareRoot()
                s = denominator > 0 ? scratch.dot[b] / denominator : 0
            case .jaccard:
                s = Float(n) / Float(count + counts[b] - n)
            case .msd:
                let squaredDifference = max(0, scratch.squaresA[b] + scratch.squaresB[b] - 2 * scratch.dot[b])
                s = 1 / (squaredDifference / Float(n) + 1)
            }
            s = Similarity.shrunk(s, support: n, shrinkage: shrinkage)
            if n >= minimumSupport && s > minimumSimilarity && s.isFinite {
                kept.append(b)
                scratch.similarity[b] = s
            }
            scratch.dot[b] = 0; scratch.squaresA[b] = 0; scratch.squaresB[b] = 0; scratch.support[b] = 0
        }
        if let limit = maximumNeighbors, kept.count > limit {
            kept = DescendingOrder.first(limit, of: kept, scratch.similarity)  // ties by index, as TopKSelector
        }
        kept.sort()
        return (kept.map { Int32($0) }, kept.map { scratch.similarity[$0] })
    }
}
