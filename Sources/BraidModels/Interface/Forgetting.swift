internal import BraidCore

/// A model that can forget users exactly, without the cost of a full refit: the result
/// scores as the same model fitted on the data without those users' interactions would
/// (to rounding). The server uses it to erase a user's influence at once.
public protocol ForgettingModel: RecommendationModel {
    /// The model as if fitted without the training interactions of `users` (dense indices).
    func forgetting(users: Set<Int>) throws(ModelError) -> Self
}

extension ForgettingModel {
    /// Forgetting by refitting on the remaining data: exact by construction, used where the
    /// fit is cheap (neighbourhoods, popularity).
    func refitting(without users: Set<Int>) throws(ModelError) -> Self {
        try Self(fitting: data.removingUsers(users), configuration: configuration)
    }
}

extension Popularity: ForgettingModel {
    public func forgetting(users: Set<Int>) throws(ModelError) -> Popularity { try refitting(without: users) }
}

extension NeighborhoodModel: ForgettingModel {
    /// Recomputes the similarities without the users (the affected ones change; item-kNN fits
    /// in well under a second on ml-latest-small).
    public func forgetting(users: Set<Int>) throws(ModelError) -> NeighborhoodModel { try refitting(without: users) }
}

extension RP3Beta: ForgettingModel {
    public func forgetting(users: Set<Int>) throws(ModelError) -> RP3Beta { try refitting(without: users) }
}

extension Adjacency: ForgettingModel {
    public func forgetting(users: Set<Int>) throws(ModelError) -> Adjacency { try refitting(without: users) }
}

extension EASE: ForgettingModel {
    /// Removes each user's row x from the Gram matrix by the Sherman–Morrison downdate
    /// P' = P + (Px)(Px)ᵀ / (1 − xᵀPx) of P = (XᵀX + λI)⁻¹, applied to B directly: with
    /// P = (I − B)·D, D = diag(P), every entry becomes
    /// B'[i, j] = (B[i, j]·d_j − v_i v_j / c) / (d_j + v_j² / c), v = Px, c = 1 − xᵀv,
    /// an O(n²) pass per user instead of an O(n³) refit. D itself is recovered from
    /// G·P = I: d_j = 1 / (G[j, j] − Σ_k G[j, k] B[k, j]), G's off-diagonal being the item
    /// co-occurrences, so no n×n matrix beyond B is formed.
    public func forgetting(users: Set<Int>) throws(ModelError) -> EASE {
        let n = modelled.count
        let byUser = data.byUser
        let binarize = configuration.binarize
        /// A user's row over the modelled items: (position, value).
        func modelledRow(_ u: Int) -> [(Int, Double)] {
            byUser.entries(ofRow: u).compactMap { k -> (Int, Double)? in
                let a = Int(position[Int(byUser.columns[k])])
                return a >= 0 ? (a, binarize ? 1 : Double(byUser.values[k])) : nil
            }
        }
        // Σ_k G[j, k] B[k, j] over the co-occurrences, per modelled item j.
        var coupling = [Double](repeating: 0, count: n)
        var ownGram = [Double](repeating: Double(lambda), count: n)
        weights.storage.withUnsafeBufferPointer { b in
            for u in 0..<data.userCount where byUser.count(ofRow: u) > 0 {
                let row = modelledRow(u)
                for (j, xj) in row {
                    ownGram[j] += xj * xj
                    var sum = 0.0
                    for (k, xk) in row where k != j { sum += xk * Double(b[k * n + j]) }
                    coupling[j] += xj * sum
                }
            }
        }
        var d = (0..<n).map { 1 / (ownGram[$0] - coupling[$0]) }
        var storage = weights.storage
        for user in users.sorted() where user >= 0 && user < data.userCount && byUser.count(ofRow: user) > 0 {
            let row = modelledRow(user)
            // v = P x with P[i, j] = (δ_ij − B[i, j]) d_j.
            var v = [Double](repeating: 0, count: n)
            storage.withUnsafeBufferPointer { b in
                for i in 0..<n {
                    var sum = 0.0
                    for (j, xj) in row { sum += ((i == j ? 1 : 0) - Double(b[i * n + j])) * d[j] * xj }
                    v[i] = sum
                }
            }
            let c = 1 - row.reduce(0.0) { $0 + $1.1 * v[$1.0] }
            guard c > 1e-12, c.isFinite else {
                throw ModelError(.diverged, "EASE: removing user \(data.users[user]) leaves XᵀX + λI singular (1 − xᵀPx = \(c))",
                                 hint: "refit the model without the user")
            }
            let updated = (0..<n).map { d[$0] + v[$0] * v[$0] / c }
            let (oldD, pv) = (d, v)
            storage.withUnsafeMutableBufferPointer { b in
                let shared = SharedBuffer(b)
                parallelFor(n, minimumChunk: 64) { i in
                    for j in 0..<n where i != j {
                        shared[i * n + j] = Float((Double(shared[i * n + j]) * oldD[j] - pv[i] * pv[j] / c) / updated[j])
                    }
                }
            }
            d = updated
        }
        let result = DenseMatrix(rows: n, columns: n, storage: storage)
        try Self.checkFinite(result)
        return EASE(configuration: configuration, data: data.removingUsers(users), modelled: modelled, position: position, weights: result)
    }
}

extension GFCF: ForgettingModel {
    /// Refits without the users: the degrees, the filter and the singular vectors all change.
    public func forgetting(users: Set<Int>) throws(ModelError) -> GFCF { try refitting(without: users) }
}
