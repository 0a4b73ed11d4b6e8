/// The similarity measures of neighbourhood collaborative filtering, as the textbooks write
/// them (Desrosiers & Karypis, "A comprehensive survey of neighborhood-based recommendation
/// methods"; Sarwar et al. 2001; Koren 2010).
public enum SimilarityMeasure: String, Sendable, Codable, CaseIterable {
    /// Cosine of the raw vectors, missing entries as zero: `a·b / (‖a‖ ‖b‖)`.
    case cosine
    /// Pearson correlation over the co-rated dimensions, each vector centred by its own mean.
    case pearson
    /// Cosine over the co-rated dimensions after centring by the *other* side's mean
    /// (for items: each rating minus its user's mean, Sarwar et al. 2001).
    case adjustedCosine = "adjusted-cosine"
    /// Pearson correlation of the residuals from a baseline predictor (Koren 2010), normally
    /// shrunk.
    case pearsonBaseline = "pearson-baseline"
    /// `|A ∩ B| / |A ∪ B|` of the two vectors' supports.
    case jaccard
    /// Mean squared difference similarity `1 / (msd + 1)` over co-rated dimensions.
    case msd

    /// Whether the measure centres each value (by a mean or a baseline), so that data whose
    /// values are all equal leaves it nothing but zeros.
    public var centresValues: Bool {
        switch self {
        case .pearson, .adjustedCosine, .pearsonBaseline: true
        case .cosine, .jaccard, .msd: false
        }
    }

    /// Whether the measure sums over co-rated dimensions only.
    public var usesCoRatedDimensions: Bool {
        switch self {
        case .cosine, .jaccard: false
        case .pearson, .adjustedCosine, .pearsonBaseline, .msd: true
        }
    }
}

/// A sparse vector: sorted unique indices with their values.
public struct SparseVector: Sendable, Equatable {
    public var indices: [Int32]
    public var values: [Float]
    public init(indices: [Int32], values: [Float]) {
        precondition(indices.count == values.count, "indices and values differ in length")
        self.indices = indices
        self.values = values
    }

    /// The non-zero entries of a dense vector.
    public init(dense: [Float]) {
        var indices: [Int32] = [], values: [Float] = []
        for (i, v) in dense.enumerated() where v != 0 { indices.append(Int32(i)); values.append(v) }
        self.init(indices: indices, values: values)
    }

    public var mean: Float { values.isEmpty ? 0 : Float(values.reduce(0.0) { $0 + Double($1) } / Double(values.count)) }
}

/// Similarity between two vectors, as public functions with known-answer tests. The pairwise
/// kernel that models use (`PairwiseSimilarity`) computes the same quantities in bulk.
public enum Similarity {
    /// `a·b / (‖a‖ ‖b‖)`; 0 when either vector is zero.
    /// Example: cos((4,5),(3,4)) = 32 / (√41 · 5) ≈ 0.99951.
    public static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "vector lengths differ")
        var dot = 0.0, na = 0.0, nb = 0.0
        for i in a.indices {
            dot += Double(a[i]) * Double(b[i]); na += Double(a[i]) * Double(a[i]); nb += Double(b[i]) * Double(b[i])
        }
        return na == 0 || nb == 0 ? 0 : Float(dot / (na.squareRoot() * nb.squareRoot()))
    }

    /// Cosine of sparse vectors (missing entries are zero).
    public static func cosine(_ a: SparseVector, _ b: SparseVector) -> Float {
        let na = a.values.reduce(0.0) { $0 + Double($1) * Double($1) }
        let nb = b.values.reduce(0.0) { $0 + Double($1) * Double($1) }
        let dot = coRated(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        return na == 0 || nb == 0 ? 0 : Float(dot / (na.squareRoot() * nb.squareRoot()))
    }

    /// Pearson correlation of two fully observed vectors.
    public static func pearson(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "vector lengths differ")
        let ma = a.reduce(0.0) { $0 + Double($1) } / Double(a.count)
        let mb = b.reduce(0.0) { $0 + Double($1) } / Double(b.count)
        return centredCosine(zip(a, b).map { (Double($0) - ma, Double($1) - mb) })
    }

    /// Pearson correlation over the co-rated indices, each vector centred by its own mean over
    /// all its entries (Herlocker et al. 1999) unless means are given.
    public static func pearson(_ a: SparseVector, _ b: SparseVector, meanA: Float? = nil, meanB: Float? = nil) -> Float {
        let ma = Double(meanA ?? a.mean), mb = Double(meanB ?? b.mean)
        return centredCosine(coRated(a, b).map { (Double($0.0) - ma, Double($0.1) - mb) })
    }

    /// Adjusted cosine over the co-rated indices: each value is centred by the mean of its
    /// index (for two items, the co-rating users' means).
    public static func adjustedCosine(_ a: SparseVector, _ b: SparseVector, indexMeans: [Float]) -> Float {
        var pairs: [(Double, Double)] = []
        var i = 0, j = 0
        while i < a.indices.count && j < b.indices.count {
            if a.indices[i] < b.indices[j] { i += 1 } else if a.indices[i] > b.indices[j] { j += 1 } else {
                let m = Double(indexMeans[Int(a.indices[i])])
                pairs.append((Double(a.values[i]) - m, Double(b.values[j]) - m))
                i += 1; j += 1
            }
        }
        return centredCosine(pairs)
    }

    /// `|A ∩ B| / |A ∪ B|` of the supports.
    public static func jaccard(_ a: SparseVector, _ b: SparseVector) -> Float {
        let common = coRated(a, b).count
        let union = a.indices.count + b.indices.count - common
        return union == 0 ? 0 : Float(common) / Float(union)
    }

    /// `1 / (mean squared difference over co-rated indices + 1)`; 0 without co-rated indices.
    public static func msd(_ a: SparseVector, _ b: SparseVector) -> Float {
        let pairs = coRated(a, b)
        guard !pairs.isEmpty else { return 0 }
        let total = pairs.reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        return Float(1 / (total / Double(pairs.count) + 1))
    }

    /// Shrinks a similarity computed on `support` co-rated dimensions toward zero:
    /// `s · n / (n + λ)` (Koren 2010, eq. 2).
    public static func shrunk(_ similarity: Float, support: Int, shrinkage: Float) -> Float {
        shrinkage <= 0 ? similarity : similarity * Float(support) / (Float(support) + shrinkage)
    }

    private static func centredCosine(_ pairs: [(Double, Double)]) -> Float {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in pairs { dot += x * y; na += x * x; nb += y * y }
        return na == 0 || nb == 0 ? 0 : Float(dot / (na * nb).squareRoot())
    }

    private static func coRated(_ a: SparseVector, _ b: SparseVector) -> [(Float, Float)] {
        var out: [(Float, Float)] = []
        var i = 0, j = 0
        while i < a.indices.count && j < b.indices.count {
            if a.indices[i] < b.indices[j] { i += 1 } else if a.indices[i] > b.indices[j] { j += 1 } else {
                out.append((a.values[i], b.values[j])); i += 1; j += 1
            }
        }
        return out
    }
}
