internal import BraidCore
import Foundation

/// The fitted state of a user- or item-based neighbourhood model: each row's (user's or item's)
/// saved similarities, its k strongest neighbours for top-N scoring, the means and the optional
/// baseline.
struct NeighborhoodIndex: Sendable {
    typealias Orientation = NeighborhoodOrientation

    let orientation: Orientation
    let settings: NeighborhoodSettings
    /// The kept similarities (positive, support ≥ min-support, each row's `saved-neighbors`
    /// strongest); row a's columns ascending.
    let similarities: SparseMatrix
    /// The neighbours top-N scoring reads: `similarities` pruned to each row's `neighbors`
    /// strongest, or with neighbours chosen per candidate all of them (the same storage).
    let nearest: SparseMatrix
    /// Item-based with neighbours chosen per candidate: `similarities` transposed, row j holding
    /// the items whose kept neighbours include j, with their similarity to it.
    let incoming: SparseMatrix?
    let userMeans: [Float]
    let itemMeans: [Float]
    let baseline: BaselineEstimates?
    let scale: RatingScale
    /// User-based: the training users' prepared vectors, which a new history is compared with,
    /// and whether their values were log-transformed (the data's value kind, detected once).
    let users: (others: PairwiseSimilarity.Others, logsValues: Bool)?

    init(fitting data: InteractionMatrix, orientation: Orientation, settings: NeighborhoodSettings) throws(ModelError) {
        guard data.interactionCount > 0 else { throw ModelError(.noTrainingData, "a neighbourhood model needs interactions") }
        let userMeans = data.byUser.rowMeans()
        let itemMeans = data.byItem.rowMeans()
        let baseline = settings.needsBaseline ? settings.baseline.fit(data) : nil
        let logs = Self.logsValues(settings, data)
        let userItem = Self.prepared(data, orientation: orientation, settings: settings, logs: logs, userMeans: userMeans, itemMeans: itemMeans, baseline: baseline)
        let kernel = Self.kernel(settings, limit: settings.rowCap)
        // User-based: the users' transpose, norms and counts serve the fit and, kept, new histories.
        let users = orientation == .users ? PairwiseSimilarity.Others(userItem) : nil
        let similarities = users.map { kernel.compute(userItem, among: $0) } ?? kernel.compute(userItem.transposed())
        self.init(orientation: orientation, settings: settings, similarities: similarities,
                  userMeans: userMeans, itemMeans: itemMeans, baseline: baseline, scale: RatingScale(data),
                  users: Self.foldsIn(settings) ? users.map { ($0, logs) } : nil)
    }

    static func kernel(_ settings: NeighborhoodSettings, limit: Int?) -> PairwiseSimilarity {
        PairwiseSimilarity(measure: settings.similarity, shrinkage: settings.effectiveShrinkage,
                           minimumSupport: settings.minimumSupport, maximumNeighbors: limit)
    }

    /// The user × item values the similarities compare, prepared for the measure: log(1 + x)
    /// when the values are transformed, then centred by the user's mean (user-based pearson),
    /// the item's (adjusted cosine, item-based pearson), or the baseline (pearson-baseline).
    static func prepared(_ data: InteractionMatrix, orientation: Orientation, settings: NeighborhoodSettings, logs: Bool, userMeans: [Float], itemMeans: [Float],
                         baseline: BaselineEstimates?) -> SparseMatrix {
        var userItem = data.byUser
        if logs {
            userItem = userItem.mapValues { _, _, r in Foundation.log1p(max(0, r)) }
        }
        switch settings.similarity {
        case .pearson where orientation == .users, .adjustedCosine where orientation == .items:
            userItem = userItem.mapValues { u, _, r in r - userMeans[u] }
        case .pearson, .adjustedCosine:
            userItem = userItem.mapValues { _, i, r in r - itemMeans[Int(i)] }
        case .pearsonBaseline:
            userItem = baseline!.residuals(ofUserItem: userItem)
        case .cosine, .jaccard, .msd:
            break
        }
        return userItem
    }

    static func logsValues(_ settings: NeighborhoodSettings, _ data: InteractionMatrix) -> Bool {
        settings.valueTransform == .log || (settings.valueTransform == .auto && data.valueKind == .counts)
    }

    /// Whether a user-based index scores new histories: every measure but pearson-baseline,
    /// whose residuals need the new user's fitted bias.
    static func foldsIn(_ settings: NeighborhoodSettings) -> Bool { settings.similarity != .pearsonBaseline }

    /// `nearest` is `similarities` pruned to each row's `neighbors` strongest, when the caller
    /// has it already.
    init(orientation: Orientation, settings: NeighborhoodSettings, similarities: SparseMatrix, nearest: SparseMatrix? = nil, userMeans: [Float],
         itemMeans: [Float], baseline: BaselineEstimates?, scale: RatingScale, users: (others: PairwiseSimilarity.Others, logsValues: Bool)?) {
        self.users = users
        self.orientation = orientation
        self.settings = settings
        self.similarities = similarities
        self.userMeans = userMeans
        self.itemMeans = itemMeans
        self.baseline = baseline
        self.scale = scale
        self.nearest = nearest ?? (settings.neighborhood == .perItem ? similarities : similarities.keepingStrongest(settings.neighbors))
        incoming = orientation == .items && settings.neighborhood == .perItem ? similarities.transposed() : nil
    }

    var perItem: Bool { settings.neighborhood == .perItem }

    /// Top-N scores: item-based `Σ_{j∈I(u)} W[j, i] · x_uj` (Deshpande & Karypis 2004);
    /// user-based `Σ_{v∈N_k(u)} s(u, v) · x_vi`.
    func scores(forUser user: Int, data: InteractionMatrix) -> [Float] {
        switch orientation {
        case .items:
            return self.scores(forHistory: data.byUser.columns(ofRow: user), values: data.byUser.values(ofRow: user), itemCount: data.itemCount)
        case .users:
            let row = nearest.entries(ofRow: user)
            return neighbourSum(nearest.columns[row], nearest.values[row], data: data)
        }
    }

    /// User-based top-N scores from neighbours and their similarities: `Σ_v s(u, v) · x_vi`
    /// over the k nearest (`fixed`), or for each item over the k nearest of those who have it
    /// (`per-item`, the neighbours being all the kept ones).
    func neighbourSum(_ neighbours: some Collection<Int32>, _ similarities: some Collection<Float>, data: InteractionMatrix) -> [Float] {
        let byUser = data.byUser
        guard !perItem else {
            return nearestPerCandidate(itemCount: data.itemCount) { offer in
                for (v, s) in zip(neighbours, similarities) {
                    for k in byUser.entries(ofRow: Int(v)) { offer(Int(byUser.columns[k]), v, s, byUser.values[k]) }
                }
            }
        }
        var scores = [Float](repeating: 0, count: data.itemCount)
        for (v, s) in zip(neighbours, similarities) {
            for k in byUser.entries(ofRow: Int(v)) { scores[Int(byUser.columns[k])] += s * (settings.rankByValue ? byUser.values[k] : 1) }
        }
        return scores
    }

    /// User-based scores of a history that is no training row: its similarities to every
    /// training user (prepared and computed as the fit computes a training user's), its k
    /// nearest, then `Σ_{v∈N_k} s(h, v) · x_vi` as for a training user. A repeated item keeps
    /// its last value. With `excluding`, that training user is not a neighbour (a training
    /// user's own history, scored this way, gives exactly `scores(forUser:)`).
    func scores(forNewUser items: [Int32], values: [Float], data: InteractionMatrix, excluding: Int? = nil) -> [Float]? {
        guard let nearest = neighbours(ofNewUser: items, values: values, excluding: excluding) else { return nil }
        return neighbourSum(nearest.columns, nearest.values, data: data)
    }

    /// The k nearest training users of a history that is no training row (every kept one, up
    /// to `saved-neighbors`, when neighbours are chosen per item), with their similarities
    /// (`scores(forNewUser:values:data:excluding:)`'s); nil where the index does not fold in.
    func neighbours(ofNewUser items: [Int32], values: [Float], excluding: Int?) -> (columns: [Int32], values: [Float])? {
        guard let users else { return nil }
        var last: [Int32: Float] = [:]
        for (item, value) in zip(items, values) { last[item] = value }
        let columns = last.keys.sorted()
        var raw = columns.map { last[$0]! }
        // The user's mean is of the raw values, as the fit's `rowMeans` takes it.
        let mean = raw.isEmpty ? 0 : Float(raw.reduce(0.0) { $0 + Double($1) } / Double(raw.count))
        if users.logsValues { raw = raw.map { Foundation.log1p(max(0, $0)) } }
        let prepared: [Float] = switch settings.similarity {
        case .pearson: raw.map { $0 - mean }
        case .adjustedCosine: zip(columns, raw).map { $1 - itemMeans[Int($0)] }
        case .cosine, .jaccard, .msd, .pearsonBaseline: raw
        }
        let norm = Float(prepared.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
        var scratch = PairwiseSimilarity.Scratch(users.others.rowCount)
        return Self.kernel(settings, limit: perItem ? settings.rowCap : settings.neighbors)
            .neighbors(of: columns, prepared, norm: norm, count: columns.count, excluding: excluding, among: users.others, scratch: &scratch)
    }

    /// Item-based scores of any history: `Σ_j W[j, i] · x_j` over its items (`fixed`), or over
    /// each candidate's k most similar among them (`per-item`).
    func scores<Items: Collection<Int32>, Values: Collection<Float>>(forHistory items: Items, values: Values, itemCount: Int) -> [Float] {
        if let incoming {
            return nearestPerCandidate(itemCount: itemCount) { offer in
                for (j, x) in zip(items, values) where j >= 0 && Int(j) < incoming.rowCount {
                    for m in incoming.entries(ofRow: Int(j)) where Int(incoming.columns[m]) < itemCount {
                        offer(Int(incoming.columns[m]), j, incoming.values[m], x)
                    }
                }
            }
        }
        var scores = [Float](repeating: 0, count: itemCount)
        for (item, value) in zip(items, values) { addHistoryTerm(item: item, value: value, factor: 1, to: &scores) }
        return scores
    }

    /// Scores with neighbours chosen per candidate: `offers` calls its argument with every
    /// (candidate, neighbour, similarity, neighbour's value), and is run twice (to count, then
    /// to gather); each candidate then scores as `sumOfNearest` sums its offers.
    func nearestPerCandidate(itemCount: Int, offers: ((Int, Int32, Float, Float) -> Void) -> Void) -> [Float] {
        var starts = [Int](repeating: 0, count: itemCount + 1)
        starts.withUnsafeMutableBufferPointer { counts in offers { candidate, _, _, _ in counts[candidate + 1] += 1 } }
        for c in 0..<itemCount { starts[c + 1] += starts[c] }
        var next = starts
        var neighbours = [Int32](repeating: 0, count: starts[itemCount])
        var similarities = [Float](repeating: 0, count: starts[itemCount]), values = similarities
        // Through buffers: the arrays written from inside the closure would each check that
        // they are not shared, at every offer.
        next.withUnsafeMutableBufferPointer { next in
            neighbours.withUnsafeMutableBufferPointer { n in
                similarities.withUnsafeMutableBufferPointer { s in
                    values.withUnsafeMutableBufferPointer { v in
                        offers { candidate, neighbour, similarity, value in
                            let p = next[candidate]
                            n[p] = neighbour; s[p] = similarity; v[p] = value
                            next[candidate] = p + 1
                        }
                    }
                }
            }
        }
        var scores = [Float](repeating: 0, count: itemCount)
        for c in 0..<itemCount where starts[c + 1] > starts[c] {
            let range = starts[c]..<starts[c + 1]
            scores[c] = sumOfNearest(neighbours[range], similarities[range], values[range])
        }
        return scores
    }

    /// One candidate's score from its neighbours' offers, in the order they were offered: the
    /// `neighbors` most similar (ties to the lower index) each add s · x (s alone unless ranking
    /// by value), summed in offer order; `term` sees each chosen one (for explanations, which so
    /// add up to the score bit for bit).
    func sumOfNearest(_ neighbours: ArraySlice<Int32>, _ similarities: ArraySlice<Float>, _ values: ArraySlice<Float>,
                      term: ((Int32, Float) -> Void)? = nil) -> Float {
        // Past k offers, each offer's key orders it (similarity descending, then neighbour):
        // similarities are positive, so their bit patterns order as they do. The k-th smallest
        // key is the threshold; an offer at it is taken while the quota lasts (a history may
        // hold an item twice, whose offers then share a key).
        func key(_ n: Int) -> UInt64 { UInt64(~similarities[n].bitPattern) << 32 | UInt64(UInt32(bitPattern: neighbours[n])) }
        let k = settings.neighbors, selecting = neighbours.count > k
        var threshold: UInt64 = 0, quota = 0
        if selecting {
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: neighbours.count) { keys in
                for (slot, n) in neighbours.indices.enumerated() { keys[slot] = key(n) }
                threshold = Self.smallest(k - 1, of: keys)
                var below = 0
                for slot in keys.indices where keys[slot] < threshold { below += 1 }
                quota = k - below
            }
        }
        var sum: Float = 0
        for n in neighbours.indices {
            if selecting {
                let nk = key(n)
                if nk > threshold || (nk == threshold && quota == 0) { continue }
                if nk == threshold { quota -= 1 }
            }
            let t = similarities[n] * (settings.rankByValue ? values[n] : 1)
            sum += t
            term?(neighbours[n], t)
        }
        return sum
    }

    /// One candidate's chosen neighbours and their terms, from its offers (neighbour,
    /// similarity, value) made in the order the scores' gathering makes them: `sumOfNearest`'s
    /// choice, so the terms add up to the score bit for bit.
    func chosenTerms(_ offers: ((Int32, Float, Float) -> Void) -> Void) -> [(index: Int32, weight: Float)] {
        var neighbours: [Int32] = [], similarities: [Float] = [], values: [Float] = []
        offers { neighbours.append($0); similarities.append($1); values.append($2) }
        var parts: [(index: Int32, weight: Float)] = []
        _ = sumOfNearest(neighbours[...], similarities[...], values[...]) { parts.append(($0, $1)) }
        return parts
    }

    /// The element of `keys` that would stand at `rank` (from 0) were they sorted (Hoare's
    /// selection: partition around the middle element, go on in the side that holds the rank);
    /// `keys` is left reordered.
    static func smallest(_ rank: Int, of keys: UnsafeMutableBufferPointer<UInt64>) -> UInt64 {
        var low = 0, high = keys.count - 1
        while low < high {
            let pivot = keys[low + (high - low) / 2]
            var i = low, j = high
            while i <= j {
                while keys[i] < pivot { i += 1 }
                while keys[j] > pivot { j -= 1 }
                if i <= j { keys.swapAt(i, j); i += 1; j -= 1 }
            }
            if rank <= j { high = j } else if rank >= i { low = i } else { return keys[rank] }
        }
        return keys[rank]
    }

    /// One history item's term of `scores(forHistory:values:itemCount:)`, times `factor`
    /// (neighbours fixed at the fit only: per candidate, no history item has a term of its own).
    func addHistoryTerm(item: Int32, value: Float, factor: Float, to scores: inout [Float]) {
        guard !perItem, item >= 0, Int(item) < nearest.rowCount, scores.count >= nearest.columnCount else { return }
        let weight = factor * (settings.rankByValue ? value : 1)
        for m in nearest.entries(ofRow: Int(item)) { scores[Int(nearest.columns[m])] += nearest.values[m] * weight }
    }

    /// The terms of `scores(forUser:data:)` for one item: each history item's (item-based) or
    /// each neighbour's (user-based) share.
    func explanation(user: Int, item: Int, data: InteractionMatrix) -> Explanation {
        let byUser = data.byUser
        switch orientation {
        case .items:
            return explanation(of: item, history: byUser.columns(ofRow: user), values: byUser.values(ofRow: user))
        case .users:
            let row = nearest.entries(ofRow: user)
            return explanation(of: item, neighbours: nearest.columns[row], nearest.values[row], data: data)
        }
    }

    /// Item-based: each history item's term W[j, i]·x_j (x_j = 1 unless ranking by value); per
    /// candidate, the terms of the item's k most similar among the history.
    func explanation(of item: Int, history: some Collection<Int32>, values: some Collection<Float>) -> Explanation {
        if perItem {
            return Explanation(items: chosenTerms { offer in
                guard item >= 0 && item < similarities.rowCount else { return }
                for (j, x) in zip(history, values) {
                    if let s = similarities.value(row: item, column: Int(j)) { offer(j, s, x) }
                }
            }, sumsToScore: true)
        }
        var parts: [(index: Int32, weight: Float)] = []
        for (j, value) in zip(history, values) {
            for m in nearest.entries(ofRow: Int(j)) where Int(nearest.columns[m]) == item {
                parts.append((j, nearest.values[m] * (settings.rankByValue ? value : 1)))
            }
        }
        return Explanation(items: parts, sumsToScore: true)
    }

    /// User-based: each neighbour's term s(u, v)·x_vi (x_vi = 1 unless ranking by value); per
    /// candidate, the terms of the k most similar among the neighbours who have the item.
    func explanation(of item: Int, neighbours: some Collection<Int32>, _ similarities: some Collection<Float>, data: InteractionMatrix) -> Explanation {
        if perItem {
            return Explanation(users: chosenTerms { offer in
                for (v, s) in zip(neighbours, similarities) {
                    if let value = data.byUser.value(row: Int(v), column: item) { offer(v, s, value) }
                }
            }, sumsToScore: true)
        }
        var parts: [(index: Int32, weight: Float)] = []
        for (v, s) in zip(neighbours, similarities) {
            if let value = data.byUser.value(row: Int(v), column: item) { parts.append((v, s * (settings.rankByValue ? value : 1))) }
        }
        return Explanation(users: parts, sumsToScore: true)
    }

    /// The rating prediction from the k most similar neighbours that rated the pair.
    func predict(user: Int, item: Int, data: InteractionMatrix) -> Float {
        // The target row and the rated list: for items, neighbours of `item` among the items
        // `user` rated; for users, neighbours of `user` among the users who rated `item`.
        let (target, rated) = orientation == .items ? (item, data.byUser) : (user, data.byItem)
        let ratedRow = orientation == .items ? user : item
        var selector = TopKSelector(count: settings.neighbors)
        var a = similarities.rowStarts[target], aEnd = similarities.rowStarts[target + 1]
        var b = rated.rowStarts[ratedRow], bEnd = rated.rowStarts[ratedRow + 1]
        while a < aEnd && b < bEnd {
            let ca = similarities.columns[a], cb = rated.columns[b]
            if ca < cb { a += 1 } else if ca > cb { b += 1 } else {
                selector.offer(index: Int32(b), score: similarities.values[a])  // remember the rating's position
                a += 1; b += 1
            }
        }
        let chosen = selector.sorted()
        let base = baseTerm(user: user, item: item)
        guard chosen.count >= settings.minimumNeighbors else { return scale.clip(base) }
        var numerator: Float = 0, denominator: Float = 0
        for neighbour in chosen {
            let position = Int(neighbour.index)
            let other = Int(rated.columns[position])
            let r = rated.values[position]
            let (nu, ni) = orientation == .items ? (user, other) : (other, item)
            let centred: Float = switch settings.prediction {
            case .weightedSum: r
            case .meanCentered: r - (orientation == .items ? itemMeans[ni] : userMeans[nu])
            case .baseline: r - baseline!.estimate(user: nu, item: ni)
            }
            numerator += neighbour.score * centred
            denominator += abs(neighbour.score)
        }
        guard denominator > 0 else { return scale.clip(base) }
        let offset = settings.prediction == .weightedSum ? 0 : base
        return scale.clip(offset + numerator / denominator)
    }

    /// The term a prediction is built around, and its fallback.
    private func baseTerm(user: Int, item: Int) -> Float {
        switch settings.prediction {
        case .weightedSum, .meanCentered: orientation == .items ? itemMeans[item] : userMeans[user]
        case .baseline: baseline!.estimate(user: user, item: item)
        }
    }

    func archive(into archive: inout ModelArchive) {
        archive.store(similarities, as: "similarities")
        archive.arrays["userMeans"] = .float32(FloatBuffer(userMeans))
        archive.arrays["itemMeans"] = .float32(FloatBuffer(itemMeans))
        scale.archive(into: &archive)
        baseline?.archive(into: &archive, prefix: "baseline")
    }

    init(archive: ModelArchive, data: InteractionMatrix, orientation: Orientation, settings: NeighborhoodSettings) throws(ModelError) {
        let (similarities, userMeans, itemMeans) = try ModelArchive.mapError { () throws(DataError) in
            (try archive.sparseMatrix("similarities"), try archive.floats("userMeans"), try archive.floats("itemMeans"))
        }
        let side = orientation == .items ? data.itemCount : data.userCount
        guard similarities.rowCount == side, similarities.columnCount == side,
              userMeans.count == data.userCount, itemMeans.count == data.itemCount else {
            throw ModelError(.corruptModel, "the similarity matrix does not match the vocabularies")
        }
        let baseline = settings.needsBaseline ? try BaselineEstimates(archive: archive, prefix: "baseline", data: data) : nil
        self.init(orientation: orientation, settings: settings, similarities: similarities, userMeans: userMeans,
                  itemMeans: itemMeans, baseline: baseline, scale: RatingScale(archive: archive),
                  users: Self.trainingUsers(data, orientation: orientation, settings: settings, userMeans: userMeans, itemMeans: itemMeans, baseline: baseline))
    }

    /// A user-based index's training users as a new history is compared with them, prepared
    /// as the fit prepared them; nil for an item-based index and for pearson-baseline.
    static func trainingUsers(_ data: InteractionMatrix, orientation: Orientation, settings: NeighborhoodSettings, userMeans: [Float], itemMeans: [Float],
                              baseline: BaselineEstimates?) -> (others: PairwiseSimilarity.Others, logsValues: Bool)? {
        guard orientation == .users && foldsIn(settings) else { return nil }
        let logs = logsValues(settings, data)
        return (PairwiseSimilarity.Others(prepared(data, orientation: orientation, settings: settings, logs: logs, userMeans: userMeans,
                                                   itemMeans: itemMeans, baseline: baseline)), logs)
    }

    /// This index serving `data`, its training data with items added that have no interactions
    /// (`InteractionMatrix.extendsCatalogue(of:)`): no pair of users or items gains a common
    /// interaction, so the similarities stand (item-based: the new items' rows and columns
    /// empty) and only what is per item (means, the baseline, the users' prepared rows) is
    /// worked out again, as the fit works it out.
    func extended(to data: InteractionMatrix) -> NeighborhoodIndex {
        let itemMeans = data.byItem.rowMeans()
        let baseline = settings.needsBaseline ? settings.baseline.fit(data) : nil
        let items = orientation == .items
        return NeighborhoodIndex(orientation: orientation, settings: settings,
                                 similarities: items ? similarities.widened(to: data.itemCount) : similarities,
                                 nearest: items ? nearest.widened(to: data.itemCount) : nearest,
                                 userMeans: userMeans, itemMeans: itemMeans, baseline: baseline, scale: RatingScale(data),
                                 users: Self.trainingUsers(data, orientation: orientation, settings: settings, userMeans: userMeans, itemMeans: itemMeans, baseline: baseline))
    }
}
