public import BraidCore
internal import Foundation

/// How a content model turns item metadata into vectors.
public protocol ContentRepresentation: Sendable {
    static var name: String { get }
    static var summary: String { get }
    /// One L2-normalized vector per item of `data.items` (zero for items without metadata).
    static func itemVectors(_ data: InteractionMatrix, _ catalog: ItemCatalog, settings: ContentSettings) throws(ModelError) -> ItemVectors
}

/// Item vectors: sparse (term weights) or dense (embeddings), rows L2-normalized.
public enum ItemVectors: Sendable, Equatable {
    case sparse(SparseMatrix)
    case dense(DenseMatrix)

    var rowCount: Int {
        switch self {
        case .sparse(let m): m.rowCount
        case .dense(let m): m.rows
        }
    }

    /// The vectors as sparse rows (dense rows keep every column), so one sparse code path
    /// serves both.
    var asSparse: SparseMatrix {
        switch self {
        case .sparse(let m): m
        case .dense(let m):
            SparseMatrix(stackingRows: (0..<m.rows).map { r in (columns: (0..<Int32(m.columns)).map { $0 }, values: m.row(r)) },
                         columnCount: m.columns)
        }
    }
}

/// Settings of the content models.
public struct ContentSettings: ModelConfiguration {
    /// BM25's term-frequency saturation.
    public var k1: Float = 1.2
    /// BM25's length normalization.
    public var b: Float = 0.75
    /// Terms in fewer items are dropped.
    public var minimumDocumentFrequency = 1
    /// The text model directory for `content-dense` (default: the installed all-MiniLM-L6-v2).
    public var textModel: String?
    /// Weight each history item by the interaction value (else 1).
    public var weightByValue = true
    /// Halve a history item's weight every this many days before the latest interaction in
    /// the data (nil: no recency weighting). Needs timestamps.
    public var halfLifeDays: Float?

    public init() {}

    public init(parameters: ModelParameters) throws(ModelError) {
        try parameters.checkKnown(["k1", "b", "min-df", "text-model", "weight-by-value", "half-life-days"])
        if parameters.string("half-life-days") != nil { halfLifeDays = try parameters.float("half-life-days", default: 30, range: 0.001...1e9) }
        k1 = try parameters.float("k1", default: k1, range: 0...100)
        b = try parameters.float("b", default: b, range: 0...1)
        minimumDocumentFrequency = try parameters.int("min-df", default: minimumDocumentFrequency, range: 1...1_000_000)
        textModel = parameters.string("text-model")
        weightByValue = try parameters.bool("weight-by-value", default: weightByValue)
    }
}

/// Content-based recommendation: each user's profile is the value-weighted sum of the vectors
/// of the items they interacted with; items are ranked by cosine similarity to the profile.
/// Items nobody interacted with are scored too, which is what cold start needs.
public struct ContentModel<Representation: ContentRepresentation>: RecommendationModel {
    public typealias Configuration = ContentSettings

    public static var name: String { Representation.name }
    public static var summary: String { Representation.summary }
    public static var needsItemMetadata: Bool { true }

    public let configuration: Configuration
    public let data: InteractionMatrix
    public let vectors: ItemVectors
    /// The term vectors' counts (TF-IDF, BM25), kept from the fit or from the first change of
    /// catalogue after a load (`extendingCatalogue(to:)`).
    let termCounts: Lazily<TermCounts>
    /// Sparse vectors by term (`SparseMatrix.transposed()`), made at the first profile scored
    /// (`profileScores`) or by `prepareForServing()`.
    let byTerm = Lazily<SparseMatrix>()

    public init(fitting data: InteractionMatrix, configuration: Configuration = Configuration()) throws(ModelError) {
        guard let catalog = data.catalog, catalog.count > 0 else {
            throw ModelError(.noTrainingData, "\(Self.name) needs item metadata",
                             hint: "pass --items FILE (MovieLens movies.csv, u.item, movies.dat, or CSV/JSON Lines with an id column and text columns)")
        }
        if let representation = Self.termRepresentation {
            self.init(data: data, configuration: configuration, counts: TermCounts(data, catalog), representation: representation)
        } else {
            self.init(data: data, configuration: configuration, vectors: try Representation.itemVectors(data, catalog, settings: configuration))
        }
    }

    private init(data: InteractionMatrix, configuration: Configuration, counts: TermCounts, representation: any TermRepresentation.Type) {
        self.init(data: data, configuration: configuration, vectors: .sparse(representation.termVectors(counts, settings: configuration)), counts: counts)
    }

    /// The representation as term vectors weighted from term counts (TF-IDF, BM25), or nil.
    static var termRepresentation: (any TermRepresentation.Type)? { Representation.self as? any TermRepresentation.Type }

    private init(data: InteractionMatrix, configuration: Configuration, vectors: ItemVectors, counts: TermCounts? = nil) {
        self.configuration = configuration
        self.data = data
        self.vectors = vectors
        termCounts = Lazily(counts)
    }

    public var scoresItemsWithoutInteractions: Bool { true }

    /// A change of catalogue changes every term's document frequency, and so every item's
    /// weights, as fitting on `data` would (the same weights, the columns perhaps in another
    /// order when known items' text changed; see `TermCounts.updated(known:from:to:_:)`); but a
    /// TF-IDF or BM25 model tokenizes only the added and changed items' text, with the term
    /// counts of the others, which it keeps from its fit (a model read from a file counts them
    /// all at its first change, as a fit does, and keeps them from then on). Any other
    /// representation, or any other `data`, is fitted anew.
    public func extendingCatalogue(to data: InteractionMatrix) throws(ModelError) -> any RecommendationModel {
        guard let representation = Self.termRepresentation, data.extendsCatalogue(of: self.data),
              let counts = termCounts.updated(from: self.data, to: data) else {
            return try Self(fitting: data, configuration: configuration)
        }
        return Self(data: data, configuration: configuration, counts: counts, representation: representation)
    }

    public func prepareForServing() {
        if case .sparse(let m) = vectors { _ = byTerm.value { m.transposed() } }
        if Self.termRepresentation != nil { termCounts.counts(of: data) }
    }

    /// The user's profile: Σ_j w_uj · v_j over the training history, w_uj = value (or 1) ×
    /// 2^(−age/half-life) when a half-life is set.
    public func scores(forUser user: Int) -> [Float] {
        let (history, weights) = historyWeights(user)
        return profileScores(history, weights: weights)
    }

    /// The user's history and each item's weight in the profile.
    func historyWeights(_ user: Int) -> ([Int32], [Float]) {
        let history = Array(data.items(ofUser: user))
        var weights = configuration.weightByValue ? Array(data.byUser.values(ofRow: user)) : [Float](repeating: 1, count: history.count)
        if let halfLife = configuration.halfLifeDays, let ages = data.ageInDays {
            for (n, age) in ages.values(ofRow: user).enumerated() { weights[n] *= pow(2, -age / halfLife) }
        }
        return (history, weights)
    }

    /// The score is the cosine to the profile, Σ_j w_j (v_j · v_i) / ‖Σ_j w_j v_j‖: each
    /// history item's term is its share.
    public func explanation(user: Int, item: Int) -> Explanation? {
        let (history, weights) = historyWeights(user)
        return explanation(of: item, history: history, weights: weights)
    }

    /// A history's profile weighs its items by their values, as `scores(forHistory:values:)` does.
    public func explanation(history: [Int32], values: [Float], trainedUser user: Int?, item: Int) -> Explanation? {
        guard explainable(history, values: values, items: [item]) else { return nil }
        return explanation(of: item, history: history, weights: values)
    }

    /// Each history item's share w_j (v_j · v_i) / ‖Σ_j w_j v_j‖ of the score of `item`.
    func explanation(of item: Int, history: [Int32], weights: [Float]) -> Explanation {
        var profile: [Float]
        switch vectors {
        case .sparse(let m):
            profile = [Float](repeating: 0, count: m.columnCount)
            for (x, w) in zip(history, weights) { for k in m.entries(ofRow: Int(x)) { profile[Int(m.columns[k])] += w * m.values[k] } }
        case .dense(let m):
            profile = [Float](repeating: 0, count: m.columns)
            for (x, w) in zip(history, weights) { for d in 0..<m.columns { profile[d] += w * m[Int(x), d] } }
        }
        let norm = profile.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0 else { return Explanation(sumsToScore: true) }
        let scale = 1 / norm
        // The item's similarity to each history item: for term vectors, those rows' products
        // alone (summed as `itemSimilarities(to:)` sums them), not the whole catalogue's.
        let similarity: [Float]
        switch vectors {
        case .sparse(let m): similarity = m.multiplied(by: m.denseRow(item), rows: history.map { Int($0) })
        case .dense:
            let every = itemSimilarities(to: item)!
            similarity = history.map { every[Int($0)] }
        }
        return Explanation(items: zip(history, zip(weights, similarity)).map { ($0, $1.0 * $1.1 * scale) }, sumsToScore: true)
    }

    public var scoresAnyHistory: Bool { true }

    /// Scores for any history (a new user, a session): cosine of each item to the profile,
    /// with the values as the profile's weights.
    public func scores(forHistory items: [Int32], values: [Float]) throws(ModelError) -> [Float] {
        try validateHistory(items, values: values)
        return profileScores(items, weights: values)
    }

    /// Cosine of every item's vector to the weighted profile of `history` (valid indices).
    func profileScores(_ history: [Int32], weights: [Float]) -> [Float] {
        switch vectors {
        case .sparse(let m):
            guard let profile = m.unitProfile(of: history, weights: weights) else { return [Float](repeating: 0, count: data.itemCount) }
            // Row by row while another thread makes the vectors by term (a server's background
            // `prepareForServing()` after a swap): the same scores, without waiting.
            guard let byColumn = byTerm.valueUnlessBusy(orMake: { m.transposed() }) else { return m.multiplied(by: profile) }
            return m.multiplied(by: profile, byColumn: byColumn)
        case .dense(let m):
            var profile = [Float](repeating: 0, count: m.columns)
            for (item, w) in zip(history, weights) { for d in 0..<m.columns { profile[d] += w * m[Int(item), d] } }
            let norm = profile.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0 else { return [Float](repeating: 0, count: data.itemCount) }
            return BLAS.multiply(m, profile.map { $0 / norm })
        }
    }

    public func itemSimilarities(to item: Int) -> [Float]? {
        switch vectors {
        case .sparse(let m):
            return m.multiplied(by: m.denseRow(item))
        case .dense(let m):
            return BLAS.multiply(m, m.row(item))
        }
    }

    public func archive(into archive: inout ModelArchive) {
        switch vectors {
        case .sparse(let m): archive.store(m, as: "content.sparse")
        case .dense(let m):
            archive.scalars["content.dimension"] = Double(m.columns)
            // Vectors supplied with the items (`--item-vectors`) are in the file's catalogue
            // already: they are read from there at load, not stored a second time.
            if let catalog = data.catalog, ItemVectors.supplied(data, catalog) == m {
                archive.scalars[Self.vectorsFromCatalogKey] = 1
            } else {
                archive.arrays["content.dense"] = .float32(m.storage)
            }
        }
    }

    /// Marks an archive whose dense vectors are the catalogue's supplied ones (`ItemVectors.supplied`).
    static var vectorsFromCatalogKey: String { "content.vectorsFromCatalog" }

    public init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        self.configuration = configuration
        self.data = data
        termCounts = Lazily()
        let dimension = try ModelArchive.mapError { () throws(DataError) in try archive.integerIfPresent("content.dimension", in: 1...Int(Int32.max)) }
        if let dimension, archive.scalars[Self.vectorsFromCatalogKey] != nil {
            guard let catalog = data.catalog, let supplied = ItemVectors.supplied(data, catalog), supplied.columns == dimension else {
                throw ModelError(.corruptModel, "the model reads its item vectors from the file's catalogue, which has none of \(dimension) values")
            }
            vectors = .dense(supplied)
        } else if let dimension {
            let storage = try ModelArchive.mapError { () throws(DataError) in try archive.floatBuffer("content.dense") }
            guard storage.count == data.itemCount * dimension else {
                throw ModelError(.corruptModel, "the content vectors do not match the items")
            }
            vectors = .dense(DenseMatrix(rows: data.itemCount, columns: dimension, storage: storage))
        } else {
            let m = try ModelArchive.mapError { () throws(DataError) in try archive.sparseMatrix("content.sparse") }
            guard m.rowCount == data.itemCount else { throw ModelError(.corruptModel, "the content vectors do not match the items") }
            vectors = .sparse(m)
        }
    }
}

extension SparseMatrix {
    /// `self × vector`, the same values as `multiplied(by:)`, from `byColumn` (`transposed()`)
    /// when the columns where `vector` is not zero hold less than a quarter of the entries: each
    /// of those columns adds its products to its rows in column order, which sums each row's
    /// products in the order `multiplied(by:)` does (it adds an exact zero for every other
    /// entry). A content profile of a few items' terms touches a small share of a large
    /// catalogue's entries.
    func multiplied(by vector: [Float], byColumn: SparseMatrix) -> [Float] {
        let used = vector.indices.filter { vector[$0] != 0 }
        guard used.reduce(0, { $0 + byColumn.count(ofRow: $1) }) < nonzeroCount / 4 else { return multiplied(by: vector) }
        var result = [Float](repeating: 0, count: rowCount)
        for column in used {
            let weight = vector[column]
            for k in byColumn.entries(ofRow: column) { result[Int(byColumn.columns[k])] += byColumn.values[k] * weight }
        }
        return result
    }

    /// The weighted sum of rows `history` (each weight 1 without `weights`), dense over the
    /// columns and scaled to unit length: a content profile. Nil when the sum is zero.
    /// The norm sums the squares in column order over the columns the history wrote (a bit set
    /// of them, read in ascending order), which is the sum over every column (each other one
    /// adds an exact zero), and only they are scaled.
    func unitProfile(of history: [Int32], weights: [Float]? = nil) -> [Float]? {
        var profile = [Float](repeating: 0, count: columnCount)
        var written = [UInt64](repeating: 0, count: (columnCount + 63) / 64)
        for (n, row) in history.enumerated() {
            let w = weights?[n] ?? 1
            for k in entries(ofRow: Int(row)) {
                let column = Int(columns[k])
                profile[column] += w * values[k]
                written[column >> 6] |= 1 << UInt64(column & 63)
            }
        }
        // The written columns in ascending order, each once.
        func forEachWritten(_ body: (Int) -> Void) {
            for (word, bits) in written.enumerated() where bits != 0 {
                var rest = bits
                while rest != 0 {
                    body(word << 6 | rest.trailingZeroBitCount)
                    rest &= rest - 1
                }
            }
        }
        var sum: Float = 0
        forEachWritten { sum += profile[$0] * profile[$0] }
        let norm = sum.squareRoot()
        guard norm > 0 else { return nil }
        forEachWritten { profile[$0] /= norm }
        return profile
    }
}

public typealias TFIDFContent = ContentModel<TFIDFRepresentation>
public typealias BM25Content = ContentModel<BM25Representation>
public typealias AttributeContent = ContentModel<AttributeRepresentation>

/// Sparse term vectors weighted `tf · idf`, idf = ln((1 + N)/(1 + df)) + 1 (smoothed), rows
/// L2-normalized.
public enum TFIDFRepresentation: ContentRepresentation, TermRepresentation {
    public static let name = "content-tfidf"
    public static let summary = "content: TF-IDF vectors of item text (title, categories, tags, text fields)"
    public static func itemVectors(_ data: InteractionMatrix, _ catalog: ItemCatalog, settings: ContentSettings) throws(ModelError) -> ItemVectors {
        .sparse(termVectors(data, catalog, settings: settings))
    }
    static func weight(_ settings: ContentSettings) -> TermWeight {
        TermWeight(idf: { df, n in log((1 + n) / (1 + df)) + 1 }, inDocument: { idf, tf, _, _ in tf * idf })
    }
}

/// Sparse term vectors weighted by Okapi BM25 (Robertson et al.):
/// `idf · tf·(k1 + 1) / (tf + k1·(1 − b + b·dl/avgdl))`, idf = ln(1 + (N − df + 0.5)/(df + 0.5)).
public enum BM25Representation: ContentRepresentation, TermRepresentation {
    public static let name = "content-bm25"
    public static let summary = "content: Okapi BM25 vectors of item text"
    public static func itemVectors(_ data: InteractionMatrix, _ catalog: ItemCatalog, settings: ContentSettings) throws(ModelError) -> ItemVectors {
        .sparse(termVectors(data, catalog, settings: settings))
    }
    static func weight(_ settings: ContentSettings) -> TermWeight {
        let k1 = settings.k1, b = settings.b
        return TermWeight(idf: { df, n in log(1 + (n - df + 0.5) / (df + 0.5)) },
                          inDocument: { idf, tf, length, averageLength in idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / max(averageLength, 1))) })
    }
}

/// One-hot category vectors (genres, departments), L2-normalized: attribute similarity.
public enum AttributeRepresentation: ContentRepresentation {
    /// Each item's distinct categories, sorted, in the order of `data.items`; the columns are
    /// the categories in the order these lists first name them.
    static func categoryLists(_ data: InteractionMatrix, _ catalog: ItemCatalog) -> [[String]] {
        data.items.identifiers.map { Set(catalog[$0]?.categories ?? []).sorted() }
    }

    public static let name = "content-attributes"
    public static let summary = "content: categorical attributes (genres, categories), cosine similarity"
    public static func itemVectors(_ data: InteractionMatrix, _ catalog: ItemCatalog, settings: ContentSettings) throws(ModelError) -> ItemVectors {
        let lists = categoryLists(data, catalog), vocabulary = Vocabulary(lists.joined())
        let rows: [(columns: [Int32], values: [Float])] = lists.map { categories in
            let columns = categories.map { vocabulary.index(of: $0)! }
            let value = categories.isEmpty ? 0 : 1 / Float(categories.count).squareRoot()
            let order = columns.indices.sorted { columns[$0] < columns[$1] }
            return (order.map { columns[$0] }, [Float](repeating: value, count: columns.count))
        }
        return .sparse(SparseMatrix(stackingRows: rows, columnCount: vocabulary.count))
    }
}

extension ItemVectors {
    /// The vectors attached to the catalogue's items (`--item-vectors`), one L2-normalized row
    /// per item of `data.items` (zero for items without one), or nil when no item has one.
    public static func supplied(_ data: InteractionMatrix, _ catalog: ItemCatalog) -> DenseMatrix? {
        guard let dimension = catalog.vectorDimension else { return nil }
        var storage = [Float](repeating: 0, count: data.itemCount * dimension)
        for (row, id) in data.items.identifiers.enumerated() {
            guard let vector = catalog[id]?.vector, vector.count == dimension else { continue }
            let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0 else { continue }
            for d in 0..<dimension { storage[row * dimension + d] = vector[d] / norm }
        }
        return DenseMatrix(rows: data.itemCount, columns: dimension, storage: storage)
    }
}
