internal import BraidCore

/// What the models scoring a history by an items × items matrix W share (RP3beta's walks,
/// adjacency's counts): a score is a weighted sum of the history items' rows, and the file
/// keeps W.
extension SparseMatrix {
    /// Σ_k w_k · row(items_k) over `columnCount` columns; every w is 1 without `weights`.
    func summingRows<Items: Collection<Int32>>(_ items: Items, weights: [Float]? = nil) -> [Float] {
        var scores = [Float](repeating: 0, count: columnCount)
        for (k, i) in items.enumerated() { addRow(i, times: weights?[k] ?? 1, to: &scores) }
        return scores
    }

    /// Adds `w` × row `i` to `scores` (a row outside the matrix adds nothing).
    func addRow(_ i: Int32, times w: Float, to scores: inout [Float]) {
        guard i >= 0, Int(i) < rowCount, scores.count == columnCount else { return }
        for e in entries(ofRow: Int(i)) { scores[Int(columns[e])] += w * values[e] }
    }
}

extension ModelArchive {
    /// The items × items matrix stored under `key`, checked against the data's items.
    func itemToItem(_ key: String, items: Int, model: String) throws(ModelError) -> SparseMatrix {
        let weights = try ModelArchive.mapError { () throws(DataError) in try sparseMatrix(key) }
        guard weights.rowCount == items, weights.columnCount == items else {
            throw ModelError(.corruptModel, "the \(model) weights are \(weights.rowCount)×\(weights.columnCount), not \(items)×\(items) for the items")
        }
        return weights
    }
}
