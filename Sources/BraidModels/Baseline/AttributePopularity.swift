public import BraidCore

/// What a user without interactions gets when their attributes are known (`--user-attributes`):
/// popularity among the training users who share each of their attributes, smoothed toward the
/// popularity among all.
///
/// A user's tokens are their categories (`gender=F`, `country=FR`) and, per numeric attribute,
/// the quantile bin of its value among the training users' (`age<25`, `25≤age<31`, …, with
/// `bins` bins). With n_t the training users (those with interactions) holding token t, c_ti
/// those of them who interacted with item i, P_i the share of all training users who did, and
/// m the `smoothing` (an m-estimate: a token held by m users moves halfway from P_i), the
/// score of item i for a user with known tokens T is
///
///     s_i = (1/|T|) Σ_{t∈T} (c_ti + m·P_i) / (n_t + m)
///
/// the mean over the user's tokens of item i's smoothed share among the users holding it. A
/// user none of whose tokens a training user holds has no such scores (nil): popular items.
///
/// m and the bins were chosen on a development split carved from the benchmark's training part
/// (ml-100k ≥4★, `braid split --split new-users --ratio 0.9 --seed 2` of the seed-1 split's
/// training file; 85 new users ranked on all their positives; no test file read), with u.user's
/// gender, occupation, zip code and age: NDCG@10 0.3860 at m = 10 and 5 bins against 0.3714 for
/// popularity (m = 1 0.3959, m = 30 0.3838; without the zip code 0.3859 at m = 10, 3 and 8 bins
/// within 0.003). m = 10 rather than 1, as a token few users hold then stays near popularity.
/// Weighting each token by n_t/(n_t + m) moved it by less than 0.001.
public struct AttributePopularity: Sendable {
    public static let defaultSmoothing: Float = 10
    public static let defaultBins = 5

    /// m of the m-estimate.
    public let smoothing: Float
    /// The token names, in index order: categories, then numeric bins.
    public let tokens: [String]
    private let tokenIndex: [String: Int]
    /// Per token: the training users holding it.
    private let holders: [Int]
    /// Tokens × items: the holders who interacted with each item.
    private let counts: SparseMatrix
    /// Per item: the share of the training users who interacted with it.
    private let shares: [Float]
    /// Per numeric attribute: its bins' inner edges, ascending.
    public let edges: [String: [Double]]

    /// Learns the tokens' item counts from the users of `data` with interactions whose id
    /// `users` describes.
    public init(data: InteractionMatrix, users: [String: UserRecord], smoothing: Float = Self.defaultSmoothing,
                bins: Int = Self.defaultBins) {
        self.smoothing = max(0, smoothing)
        let trained = (0..<data.userCount).filter { data.byUser.count(ofRow: $0) > 0 }
        let described = trained.compactMap { user in users[data.users[user]].map { (user, $0) } }
        // Numeric attributes' bins: the type-7 quantiles at 1/bins … (bins−1)/bins of the
        // training users' values, each edge once.
        var values: [String: [Double]] = [:]
        for (_, record) in described { for (name, value) in record.attributes where value.isFinite { values[name, default: []].append(value) } }
        var edges: [String: [Double]] = [:]
        for (name, list) in values {
            let sorted = list.sorted()
            var inner: [Double] = []
            for k in 1..<max(1, bins) {
                let edge = quantile(sorted: sorted, Double(k) / Double(bins))
                if edge > (inner.last ?? -.infinity), edge > sorted[0] { inner.append(edge) }
            }
            edges[name] = inner
        }
        self.edges = edges
        // Token vocabulary in a stable order, and each described user's tokens.
        let userTokens = described.map { (user: $0.0, tokens: Self.tokens(of: $0.1, edges: edges)) }
        let names = Set(userTokens.flatMap(\.tokens)).sorted()
        tokens = names
        tokenIndex = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        var holdersOf = [[Int]](repeating: [], count: names.count)
        for (user, list) in userTokens { for name in Set(list) { holdersOf[tokenIndex[name]!].append(user) } }
        holders = holdersOf.map(\.count)
        let holderLists = holdersOf
        // Per token, the items its holders had and how many, counted in a dense row and kept
        // sparse: the memory is the nonzeros, not an entry per holder's interaction.
        let byUser = data.byUser, itemCount = data.itemCount
        let rows: [(columns: [Int32], values: [Float])] = parallelMap(names.count) { t in
            var scratch = [Float](repeating: 0, count: itemCount)
            var touched: [Int32] = []
            for user in holderLists[t] {
                for item in byUser.columns(ofRow: user) {
                    if scratch[Int(item)] == 0 { touched.append(item) }
                    scratch[Int(item)] += 1
                }
            }
            touched.sort()
            return (touched, touched.map { scratch[Int($0)] })
        }
        var starts = [0], columns: [Int32] = [], counted: [Float] = []
        for row in rows {
            columns += row.columns
            counted += row.values
            starts.append(columns.count)
        }
        counts = SparseMatrix(rowCount: names.count, columnCount: itemCount, rowStarts: starts, columns: columns, values: counted)
        let total = Float(max(1, trained.count))
        shares = (0..<data.itemCount).map { Float(data.byItem.count(ofRow: $0)) / total }
    }

    /// Every token of `record`: its categories, and the bin of each numeric attribute this
    /// scorer binned.
    public func tokens(of record: UserRecord) -> [String] { Self.tokens(of: record, edges: edges) }

    static func tokens(of record: UserRecord, edges: [String: [Double]]) -> [String] {
        var out = record.categories
        for (name, value) in record.attributes.sorted(by: { $0.key < $1.key }) where value.isFinite {
            guard let inner = edges[name] else { continue }
            let bin = inner.firstIndex { value < $0 } ?? inner.count
            out.append(binLabel(name, inner: inner, bin: bin))
        }
        return out
    }

    /// `age<25`, `25≤age<31`, `age≥45`: bin `bin` of attribute `name` between `inner` edges.
    static func binLabel(_ name: String, inner: [Double], bin: Int) -> String {
        if inner.isEmpty { return "\(name)=any" }
        if bin == 0 { return "\(name)<\(inner[0].compactText)" }
        if bin == inner.count { return "\(name)≥\(inner[bin - 1].compactText)" }
        return "\(inner[bin - 1].compactText)≤\(name)<\(inner[bin].compactText)"
    }

    /// The tokens of `record` that some training user holds, each once, in `tokens(of:)` order.
    public func knownTokens(of record: UserRecord) -> [String] {
        var seen = Set<String>()
        return tokens(of: record).filter { tokenIndex[$0] != nil && seen.insert($0).inserted }
    }

    /// The scores s_i of every item for a user described by `record`; nil when no training user
    /// holds any of its tokens.
    public func scores(for record: UserRecord) -> [Float]? { described(record)?.scores }

    /// The tokens of `record` some training user holds (`knownTokens(of:)`) and the scores s_i
    /// they give every item; nil when there are none.
    public func described(_ record: UserRecord) -> (tokens: [String], scores: [Float])? {
        let tokens = knownTokens(of: record)
        let known = tokens.map { tokenIndex[$0]! }
        guard !known.isEmpty else { return nil }
        let k = Float(known.count)
        // (1/|T|) Σ_t c_ti/(n_t + m), plus P_i · (1/|T|) Σ_t m/(n_t + m).
        var prior: Float = 0
        var out = [Float](repeating: 0, count: shares.count)
        for t in known {
            let denominator = Float(holders[t]) + smoothing
            guard denominator > 0 else { continue }
            prior += smoothing / denominator
            for e in counts.entries(ofRow: t) { out[Int(counts.columns[e])] += counts.values[e] / denominator / k }
        }
        prior /= k
        for i in out.indices { out[i] += shares[i] * prior }
        return (tokens, out)
    }
}
