public import BraidCore

/// A list reordered for variety by maximal marginal relevance (Carbonell & Goldstein 1998):
/// from the model's best `pool` items, each place of the list takes the item with the largest
///
///     (1 − weight) · relevance − weight · (its largest similarity to an item already listed),
///
/// where relevance is the model's score scaled to 0…1 over the pool (its best item 1, its
/// worst 0) and similarity is the Jaccard index of two items' category sets (two items without
/// categories count as alike, as `diversity@K` counts them) or the cosine of their vectors (a
/// negative cosine, an item opposite all those listed, counts for it). The first place takes
/// the best item. Weight 0 keeps the model's order; weight 1 lists the best item, then each
/// time the item least like those listed. Equal values keep the model's order. The items keep
/// the model's scores, so a reordered list's scores do not fall in order.
public struct Diversification: Sendable, Equatable {
    /// How much variety counts against relevance, 0…1.
    public var weight: Double
    /// How many of the model's best items are reordered (nil: `defaultPool(for:)`).
    public var pool: Int?
    /// What makes two items alike.
    public var basis: Basis

    /// What makes two items alike: their categories (Jaccard) or their vectors (cosine).
    public enum Basis: String, Sendable, CaseIterable, Equatable {
        case categories, vectors

        /// Whether `record` has what this basis reads.
        public func describes(_ record: ItemRecord) -> Bool {
            switch self {
            case .categories: !record.categories.isEmpty
            case .vectors: record.vector != nil
            }
        }

        /// Categories when some record has one, else vectors when some record has one, else categories.
        public static func `default`(for records: [ItemRecord]) -> Basis {
            [.categories, .vectors].first { basis in records.contains(where: basis.describes) } ?? .categories
        }
    }

    public init(weight: Double, pool: Int? = nil, basis: Basis = .categories) throws(ModelError) {
        guard weight.isFinite, (0...1).contains(weight) else {
            throw ModelError(.invalidParameter, "the diversity weight must be a number from 0 to 1, not \(weight)",
                             hint: "0 keeps the model's order; 0.1–0.3 trades a little relevance for variety")
        }
        if let pool, pool < 1 { throw ModelError(.invalidParameter, "the diversity pool must be at least 1, not \(pool)") }
        self.weight = weight
        self.pool = pool
        self.basis = basis
    }

    /// How alike two indices of `items` are by `basis`, read from `catalog` (nothing is alike
    /// by vectors without one; by categories, everything is).
    public func similarity(items: Vocabulary, catalog: ItemCatalog?) -> @Sendable (Int32, Int32) -> Double {
        similarity(of: items.identifiers.map { catalog?[$0] })
    }

    /// How alike two indices of `records` are by `basis` (nil: an item nothing describes).
    public func similarity(of records: [ItemRecord?]) -> @Sendable (Int32, Int32) -> Double {
        switch basis {
        case .categories:
            let sets = CategorySets(records.map { $0?.categories ?? [] })
            return { sets.similarity($0, $1) }
        case .vectors:
            let vectors = VectorSimilarity(records.map { $0?.vector })
            return { vectors.similarity($0, $1) }
        }
    }

    /// The pool a list of `count` items is chosen from: ten times the list, at least 50.
    public static func defaultPool(for count: Int) -> Int { max(50, count.multipliedReportingOverflow(by: 10).partialValue) }

    /// How many of the model's best items to select before `rerank(_:count:similarity:)`.
    public func poolSize(for count: Int) -> Int { max(count, pool ?? Self.defaultPool(for: count)) }

    /// The `count` items of `ranked` (the model's best first, as many as `poolSize(for:)` or
    /// fewer) in the order maximal marginal relevance lists them, two item indices being as alike
    /// as `similarity` says (`similarity(items:catalog:)`, `CategorySets`, `VectorSimilarity`).
    public func rerank(_ ranked: [ScoredIndex], count: Int, similarity: (Int32, Int32) -> Double) -> [ScoredIndex] {
        let pool = Array(ranked.prefix(poolSize(for: count)))
        guard weight > 0, pool.count > 1, count > 1 else { return Array(pool.prefix(count)) }
        let best = Double(pool.map(\.score).max()!), worst = Double(pool.map(\.score).min()!)
        let relevance = pool.map { best > worst ? (Double($0.score) - worst) / (best - worst) : 1 }
        // Each waiting item's largest similarity to the items listed so far (none yet: no term).
        var nearest = [Double](repeating: -.infinity, count: pool.count)
        var waiting = Array(pool.indices)
        var listed: [ScoredIndex] = []
        while listed.count < count, !waiting.isEmpty {
            var chosen = 0, value = -Double.infinity
            for (place, candidate) in waiting.enumerated() {
                let marginal = (1 - weight) * relevance[candidate] - (listed.isEmpty ? 0 : weight * nearest[candidate])
                if marginal > value { (chosen, value) = (place, marginal) }
            }
            let item = waiting.remove(at: chosen)
            listed.append(pool[item])
            for candidate in waiting {
                nearest[candidate] = max(nearest[candidate], similarity(pool[item].index, pool[candidate].index))
            }
        }
        return listed
    }
}

/// Each item's categories as numbers, for the Jaccard index of two items' sets.
public struct CategorySets: Sendable {
    /// Per item index, its categories' numbers in ascending order.
    let sets: [[Int32]]

    /// The categories of each item index (`ItemCatalog.categoryIndex(for:)`).
    public init(_ categories: [[String]]) {
        var numbers: [String: Int32] = [:]
        sets = categories.map { names in
            Set(names).map { name in
                if let number = numbers[name] { return number }
                let number = Int32(numbers.count)
                numbers[name] = number
                return number
            }.sorted()
        }
    }

    /// Whether any item has a category.
    public var isEmpty: Bool { sets.allSatisfy(\.isEmpty) }

    /// |A ∩ B| / |A ∪ B| of the two items' sets; 1 when neither has a category (or an index is
    /// outside the catalogue, which has none).
    public func similarity(_ a: Int32, _ b: Int32) -> Double {
        let x = Int(a) < sets.count && a >= 0 ? sets[Int(a)] : [], y = Int(b) < sets.count && b >= 0 ? sets[Int(b)] : []
        guard !x.isEmpty || !y.isEmpty else { return 1 }
        var i = 0, j = 0, shared = 0
        while i < x.count, j < y.count {
            if x[i] == y[j] { shared += 1; i += 1; j += 1 } else if x[i] < y[j] { i += 1 } else { j += 1 }
        }
        return Double(shared) / Double(x.count + y.count - shared)
    }
}

/// The cosine of items' vectors (images', texts', any embedding's), for `Diversification` where
/// items carry vectors rather than categories.
public struct VectorSimilarity: Sendable {
    /// Per item index, its vector scaled to length 1 (empty: none, or all zeros).
    let units: [[Float]]

    /// The vectors of each item index (nil: none).
    public init(_ vectors: [[Float]?]) {
        units = vectors.map { vector in
            guard let vector else { return [] }
            let norm = vector.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            return norm > 0 && norm.isFinite ? vector.map { $0 / norm } : []
        }
    }

    /// Whether any item has a vector.
    public var isEmpty: Bool { units.allSatisfy(\.isEmpty) }

    /// The cosine of the two items' vectors; 0 when either has none (or an index is outside the
    /// catalogue), as nothing says they are alike.
    public func similarity(_ a: Int32, _ b: Int32) -> Double {
        guard a >= 0, b >= 0, Int(a) < units.count, Int(b) < units.count else { return 0 }
        let x = units[Int(a)], y = units[Int(b)]
        guard !x.isEmpty, x.count == y.count else { return 0 }
        var dot: Float = 0
        for k in x.indices { dot += x[k] * y[k] }
        return Double(dot)
    }
}
