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
    public func compute(_ vectors: SparseMatrix) -> SparseMatrix {
        let transpose = vectors.transposed()
        let n = vectors.rowCount
        let norms = vectors.rowNorms
        let counts = vectors.rowCounts
        let measure = self.measure
        let coRated = measure.usesCoRatedDimensions
        let rows: [(columns: [Int32], values: [Float])] = parallelMapRows(n) { range in
            var dot = [Float](repeating: 0, count: n)
            var squaresA = [Float](repeating: 0, count: n)
            var squaresB = [Float](repeating: 0, count: n)
            var support = [Int32](repeating: 0, count: n)
            var similarity = [Float](repeating: 0, count: n)
            var touched: [Int32] = []
            var out: [(columns: [Int32], values: [Float])] = []
            out.reserveCapacity(range.count)
            for a in range {
                touched.removeAll(keepingCapacity: true)
                for k in vectors.entries(ofRow: a) {
                    let x = vectors.values[k]
                    let dimension = Int(vectors.columns[k])
                    for m in transpose.entries(ofRow: dimension) {
                        let b = Int(transpose.columns[m])
                        if b == a { continue }
                        let y = transpose.values[m]
                        if support[b] == 0 { touched.append(Int32(b)) }
                        support[b] += 1
                        dot[b] += x * y
                        if coRated {
                            squaresA[b] += x * x
                            squaresB[b] += y * y
                        }
                    }
                }
                var kept: [Int] = []
                kept.reserveCapacity(touched.count)
                for b32 in touched {
                    let b = Int(b32)
                    let n = Int(support[b])
                    var s: Float
                    switch measure {
                    case .cosine:
                        let denominator = norms[a] * norms[b]
                        s = denominator > 0 ? dot[b] / denominator : 0
                    case .pearson, .adjustedCosine, .pearsonBaseline:
                        let denominator = (squaresA[b] * squaresB[b]).squareRoot()
                        s = denominator > 0 ? dot[b] / denominator : 0
                    case .jaccard:
                        s = Float(n) / Float(counts[a] + counts[b] - n)
                    case .msd:
                        let squaredDifference = max(0, squaresA[b] + squaresB[b] - 2 * dot[b])
                        s = 1 / (squaredDifference / Float(n) + 1)
                    }
                    s = Similarity.shrunk(s, support: n, shrinkage: shrinkage)
                    if n >= minimumSupport && s > minimumSimilarity && s.isFinite {
                        kept.append(b)
                        similarity[b] = s
                    }
                    dot[b] = 0; squaresA[b] = 0; squaresB[b] = 0; support[b] = 0
                }
                if let limit = maximumNeighbors, kept.count > limit {
                    kept = DescendingOrder.first(limit, of: kept, similarity)  // ties by index, as TopKSelector
                }
                kept.sort()
                out.append((kept.map { Int32($0) }, kept.map { similarity[$0] }))
            }
            return out
        }
        return SparseMatrix(stackingRows: rows, columnCount: n)
    }
}
