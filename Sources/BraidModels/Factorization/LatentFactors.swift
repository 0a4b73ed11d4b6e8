public import BraidCore
internal import Foundation

/// The fitted state every latent-factor model shares: user and item factor matrices and
/// optional biases, with scoring, similar items, persistence and divergence checks written
/// once for all of them.
///
/// The score of (u, i) is `globalBias + userBias[u] + itemBias[i] + p_u · q_i`.
public struct LatentFactors: Sendable, Equatable {
    public var userFactors: DenseMatrix
    public var itemFactors: DenseMatrix
    public var userBiases: [Float]?
    public var itemBiases: [Float]?
    public var globalBias: Float
    /// `itemFactors` packed in panels for `VectorKernels.scorePanels`, built by the first score
    /// and shared by copies of these factors; rebuilt when the item factors changed since.
    private let packed = PackedItems()

    /// Equal factors and biases (the packed copy is derived from them).
    public static func == (a: LatentFactors, b: LatentFactors) -> Bool {
        a.userFactors == b.userFactors && a.itemFactors == b.itemFactors && a.userBiases == b.userBiases
            && a.itemBiases == b.itemBiases && a.globalBias == b.globalBias
    }

    public init(userFactors: DenseMatrix, itemFactors: DenseMatrix, userBiases: [Float]? = nil, itemBiases: [Float]? = nil,
                globalBias: Float = 0) {
        precondition(userFactors.columns == itemFactors.columns, "user and item factors differ in width")
        self.userFactors = userFactors
        self.itemFactors = itemFactors
        self.userBiases = userBiases
        self.itemBiases = itemBiases
        self.globalBias = globalBias
    }

    /// Random factors, normal with standard deviation `scale`, from `seed`.
    public init(users: Int, items: Int, factors: Int, scale: Float, seed: UInt64, biases: Bool = false) {
        var rng = SeededGenerator(seed: seed)
        func matrix(_ rows: Int) -> DenseMatrix {
            var storage = [Float](repeating: 0, count: rows * factors)
            var k = 0
            while k < storage.count {
                let (a, b) = rng.nextGaussianPair()
                storage[k] = Float(a) * scale
                if k + 1 < storage.count { storage[k + 1] = Float(b) * scale }
                k += 2
            }
            return DenseMatrix(rows: rows, columns: factors, storage: storage)
        }
        self.init(userFactors: matrix(users), itemFactors: matrix(items),
                  userBiases: biases ? [Float](repeating: 0, count: users) : nil,
                  itemBiases: biases ? [Float](repeating: 0, count: items) : nil)
    }

    public var factorCount: Int { userFactors.columns }

    /// The archive's arrays with a row per item (`RecommendationModel.extendingArchive`).
    static let itemRows = [ItemRows(key: "factors.item"), ItemRows(key: "factors.itemBias")]

    /// These factors with `count` items added after the known ones, their factors (and bias)
    /// zero: one new item table, written once; the user side is shared.
    func addingItems(_ count: Int) -> LatentFactors {
        let items = itemFactors.rows, f = factorCount
        return LatentFactors(userFactors: userFactors,
                             itemFactors: DenseMatrix(rows: items + count, columns: f,
                                                      storage: itemFactors.storage.insertingZeroRows(count, width: f, before: items)),
                             userBiases: userBiases, itemBiases: itemBiases.map { $0 + repeatElement(0, count: count) }, globalBias: globalBias)
    }

    /// The score of one pair.
    public func score(user: Int, item: Int) -> Float {
        globalBias + (userBiases?[user] ?? 0) + (itemBiases?[item] ?? 0) + product(user: user, item: item)
    }

    /// The dot product of the user's and the item's factors.
    public func product(user: Int, item: Int) -> Float {
        let f = factorCount
        return userFactors.storage.withUnsafeBufferPointer { p in
            itemFactors.storage.withUnsafeBufferPointer { q in
                VectorKernels.dot(p.baseAddress! + user * f, q.baseAddress! + item * f, f)
            }
        }
    }

    /// The parts `score(user:item:)` adds up: the global, user and item biases where the model
    /// has them, and the factors' product.
    public func contributions(user: Int, item: Int) -> [(name: String, weight: Float)] {
        var parts: [(name: String, weight: Float)] = []
        if globalBias != 0 { parts.append(("global bias", globalBias)) }
        if let userBiases { parts.append(("user bias", userBiases[user])) }
        if let itemBiases { parts.append(("item bias", itemBiases[item])) }
        parts.append(("factors", product(user: user, item: item)))
        return parts
    }

    /// Scores of every item for a user vector: the dot products from the item factors packed in
    /// panels (`VectorKernels.scorePanels`: no horizontal sums, 32 items per pass over the
    /// vector), then the biases. The first few vectors scored are scored from the rows, packed
    /// a block at a time, with the same values (`PackedItems.score(_:factors:into:)`): one
    /// list from a large catalogue no longer writes a packed copy of it first.
    public func scores(forUserVector vector: [Float], userBias: Float = 0) -> [Float] {
        precondition(vector.count == factorCount, "vector length \(vector.count) is not \(factorCount)")
        var out = [Float](repeating: 0, count: itemFactors.rows)
        guard !out.isEmpty else { return out }
        vector.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in packed.score(x.baseAddress!, factors: itemFactors, into: y.baseAddress!) }
        }
        addBiases(to: &out, userBias: userBias)
        return out
    }

    /// Packs the item factors for scoring now, which the first score would otherwise wait for
    /// (`RecommendationModel.prepareForServing()`); the copies of these factors share them.
    public func packForScoring() { _ = packed.panels(of: itemFactors) }

    /// Whether the item factors are packed for scoring as they are now.
    var isPackedForScoring: Bool { packed.isPacked(itemFactors) }

    /// Scores of every item for a user.
    public func scores(forUser user: Int) -> [Float] {
        scores(forUserVector: userFactors.row(user), userBias: userBiases?[user] ?? 0)
    }

    /// `scores(forUser:)` of each of `users`, the same values, the block scored by
    /// `PackedItems.scores(of:count:factors:)`.
    public func scores(forUsers users: [Int]) -> [[Float]] {
        // `row` reads through a pointer: an index outside the rows stops here.
        precondition(users.allSatisfy { (0..<userFactors.rows).contains($0) }, "a user index is outside 0..<\(userFactors.rows)")
        var out = packed.scores(of: users.flatMap(userFactors.row), count: users.count, factors: itemFactors)
        for (k, user) in users.enumerated() { addBiases(to: &out[k], userBias: userBiases?[user] ?? 0) }
        return out
    }

    /// score = (global bias + user bias) + item bias + dot, in that order; without biases
    /// (ALS, BPR's users) the dot as it is.
    private func addBiases(to scores: inout [Float], userBias: Float) {
        let base = globalBias + userBias
        if let itemBiases {
            for i in scores.indices { scores[i] = base + itemBiases[i] + scores[i] }
        } else if base != 0 {
            for i in scores.indices { scores[i] = base + scores[i] }
        }
    }

    /// Cosine similarity of every item's factors to `item`'s.
    public func itemSimilarities(to item: Int) -> [Float] {
        itemFactors.storage.withUnsafeBufferPointer { VectorKernels.rowCosines($0.baseAddress!, count: itemFactors.rows, width: factorCount, to: item) }
    }

    /// Fails when training produced NaN or infinite values.
    public func checkFinite(model: String, iteration: Int) throws(ModelError) {
        let finite = userFactors.storage.allFinite && itemFactors.storage.allFinite
            && (userBiases ?? []).allSatisfy(\.isFinite) && (itemBiases ?? []).allSatisfy(\.isFinite) && globalBias.isFinite
        guard finite else {
            throw ModelError(.diverged, "\(model) diverged: factors became NaN or infinite in iteration \(iteration)",
                             hint: "lower learning-rate or alpha, or raise regularization")
        }
    }

    func archive(into archive: inout ModelArchive) {
        archive.arrays["factors.user"] = .float32(userFactors.storage)
        archive.arrays["factors.item"] = .float32(itemFactors.storage)
        archive.scalars["factors.count"] = Double(factorCount)
        archive.scalars["factors.globalBias"] = Double(globalBias)
        if let userBiases { archive.arrays["factors.userBias"] = .float32(FloatBuffer(userBiases)) }
        if let itemBiases { archive.arrays["factors.itemBias"] = .float32(FloatBuffer(itemBiases)) }
    }

    init(archive: ModelArchive, data: InteractionMatrix) throws(ModelError) {
        let (users, items, f, bias) = try ModelArchive.mapError { () throws(DataError) in
            (try archive.floatBuffer("factors.user"), try archive.floatBuffer("factors.item"), try archive.integer("factors.count", in: 1...Int(Int32.max)),
             Float(try archive.scalar("factors.globalBias")))
        }
        guard f > 0, users.count == data.userCount * f, items.count == data.itemCount * f else {
            throw ModelError(.corruptModel, "the factor matrices do not match the vocabularies")
        }
        let userBiases = try? archive.floats("factors.userBias"), itemBiases = try? archive.floats("factors.itemBias")
        guard userBiases.map({ $0.count == data.userCount }) ?? true, itemBiases.map({ $0.count == data.itemCount }) ?? true else {
            throw ModelError(.corruptModel, "the bias vectors do not match the vocabularies")
        }
        self.init(userFactors: DenseMatrix(rows: data.userCount, columns: f, storage: users),
                  itemFactors: DenseMatrix(rows: data.itemCount, columns: f, storage: items),
                  userBiases: userBiases, itemBiases: itemBiases, globalBias: bias)
    }
}

/// Item factors packed for scoring (`VectorKernels.packPanels`), built when they have been
/// scored for a few vectors (or at once by `packForScoring()`); a lock keeps scoring threads
/// from building them twice.
final class PackedItems: @unchecked Sendable {
    private let lock = NSLock()

    /// What is known of the factors last scored. Each case holds their storage: any later
    /// mutation of those factors copies them first (copy on write), so factors that still
    /// share it are the ones counted or packed, and factors that do not start again at
    /// `.scored(_, 1)`. The copies of `LatentFactors` that share this box (a fit's factors and
    /// the snapshot early stopping scores) never read panels of other factors.
    private enum State {
        case unscored
        /// Scored from their rows for this many vectors.
        case scored(FloatBuffer, times: Int)
        case packed(FloatBuffer, panels: [Float])
    }
    private var state = State.unscored

    /// How many vectors are scored from the rows (`VectorKernels.scoreRows`) before the next
    /// packs the factors: packing pays for itself only over many vectors. At 500,000 items ×
    /// 64 factors on one thread, packing took 0.10 s (a copy of every row, 128 MB of fresh
    /// memory), a vector's scores from the panels 8 ms and from the rows 14 ms: packing costs
    /// what scoring from the rows loses over about 16 vectors, so after 16 (as a ski rental
    /// buys once renting has cost the price). However many vectors come, that costs at most
    /// about 1.4 times the better of packing at once and never packing, there.
    static let rowScoresBeforePacking = 16

    func isPacked(_ factors: DenseMatrix) -> Bool {
        lock.withLock {
            if case .packed(let source, _) = state { return source.sharesStorage(with: factors.storage) }
            return false
        }
    }

    /// The panels of `factors`, packed now unless they were already.
    func panels(of factors: DenseMatrix) -> [Float] {
        lock.withLock { panelsLocked(of: factors) }
    }

    private func panelsLocked(of factors: DenseMatrix) -> [Float] {
        if case .packed(let source, let panels) = state, source.sharesStorage(with: factors.storage) { return panels }
        let panels = factors.storage.withUnsafeBufferPointer { VectorKernels.packPanels($0, factors.rows, factors.columns) }
        state = .packed(factors.storage, panels: panels)
        return panels
    }

    /// `y[j]` = the dot product of `vector` (`factors.columns` floats) with row j of `factors`,
    /// for every row: from the panels when they are packed or it is time to pack them, else from
    /// the rows; the same values either way.
    func score(_ vector: UnsafePointer<Float>, factors: DenseMatrix, into y: UnsafeMutablePointer<Float>) {
        let n = factors.rows, f = factors.columns
        let panels: [Float]? = lock.withLock {
            switch state {
            case .packed(let source, let panels) where source.sharesStorage(with: factors.storage):
                return panels
            case .scored(let source, let times) where source.sharesStorage(with: factors.storage):
                guard times >= Self.rowScoresBeforePacking else {
                    state = .scored(source, times: times + 1)
                    return nil
                }
                return panelsLocked(of: factors)
            default:
                state = .scored(factors.storage, times: 1)
                return nil
            }
        }
        if let panels {
            panels.withUnsafeBufferPointer { VectorKernels.scorePanels($0.baseAddress!, n, f, vector, y) }
        } else {
            factors.storage.withUnsafeBufferPointer { VectorKernels.scoreRows($0.baseAddress!, n, f, vector, y) }
        }
    }

    /// Bytes of packed item factors one pass of `scores(of:count:factors:)` scores every vector
    /// of its block against: they stay in a 32 KB L1 data cache between vectors, beside the
    /// outputs. (All users of a synthetic 100k × 20k ALS, 64 factors, one thread: 16–32 KB
    /// scored 11–15k users/s, 64 KB 8–9k, 128 KB 5–6k.)
    static let blockBytes = 24 << 10

    /// The dot products of each of `count` vectors (`vectors`, one row of `factors.columns`
    /// values each) with every row of `factors`, the same values as one `scorePanels` pass per
    /// vector: each range of item panels is scored for every vector before the next, so the
    /// packed factors are read from memory once per block of vectors instead of once per vector.
    func scores(of vectors: [Float], count: Int, factors: DenseMatrix) -> [[Float]] {
        let n = factors.rows, f = factors.columns, width = VectorKernels.panelWidth
        var out = (0..<count).map { _ in [Float](repeating: 0, count: n) }
        guard n > 0, f > 0, count > 0, vectors.count >= count * f else { return out }
        let panels = panels(of: factors)
        let step = max(1, Self.blockBytes / (width * f * MemoryLayout<Float>.size)) * width
        panels.withUnsafeBufferPointer { p in
            vectors.withUnsafeBufferPointer { u in
                for start in stride(from: 0, to: n, by: step) {
                    for k in 0..<count {
                        out[k].withUnsafeMutableBufferPointer { y in
                            VectorKernels.scorePanels(p.baseAddress! + start * f, min(step, n - start), f, u.baseAddress! + k * f, y.baseAddress! + start)
                        }
                    }
                }
            }
        }
        return out
    }
}

/// A model whose scores come from `LatentFactors`: scoring and similar items are shared.
public protocol FactorizationModel: RecommendationModel {
    var factors: LatentFactors { get }
}

extension FactorizationModel {
    /// Packs the item factors for scoring (`LatentFactors.packForScoring()`): at 500,000 items a
    /// list after a change of catalogue no longer waits for it.
    public func prepareForServing() { factors.packForScoring() }

    public func scores(forUser user: Int) -> [Float] { factors.scores(forUser: user) }
    public func scores(forUsers users: [Int]) -> [[Float]]? { factors.scores(forUsers: users) }
    public func itemSimilarities(to item: Int) -> [Float]? { factors.itemSimilarities(to: item) }

    /// New items come without interactions: the fitted factors and biases stay, and the new
    /// items' are zero, with no second fit (`extendingArchive(to:rows:)`). ALS's solve of a row
    /// without interactions gives it zero; an SGD fit (SVD, biased MF, BPR) would leave it at its
    /// random start, or for BPR push it only down, as a negative.
    public func extendingCatalogue(to data: InteractionMatrix) throws(ModelError) -> any RecommendationModel {
        try extendingArchive(to: data, rows: LatentFactors.itemRows)
    }

    /// The score's parts (`LatentFactors.contributions`), which add up to it, and the user's
    /// items by the cosine of their factors with the item's: the user's factors are fitted
    /// free, not computed from the history (ALS's are, and it explains by exact shares).
    public func explanation(user: Int, item: Int) -> Explanation? {
        guard (0..<data.userCount).contains(user), (0..<data.itemCount).contains(item) else { return nil }
        return .nearest(data.items(ofUser: user), similarities: factors.itemSimilarities(to: item),
                        contributions: factors.contributions(user: user, item: item))
    }
}

/// A factor model trained in iterations, which can report its factors after each one (for
/// early stopping and progress) and be stopped early.
public protocol IterativeFactorizationModel: FactorizationModel {
    /// Fits, calling `onIteration(iteration, factors)` after each iteration; returning false
    /// stops training there.
    init(fitting data: InteractionMatrix, configuration: Configuration, onIteration: ((Int, LatentFactors) -> Bool)?) throws(ModelError)
    /// The configured number of iterations.
    static var iterationParameter: String { get }
}

extension IterativeFactorizationModel {
    public static var iterationParameter: String { "iterations" }

    public init(fitting data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
        try self.init(fitting: data, configuration: configuration, onIteration: nil)
    }
}
