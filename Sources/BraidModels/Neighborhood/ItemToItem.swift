public import BraidCore

/// What the models scoring a history by an items × items matrix W share (RP3beta's walks,
/// adjacency's counts): a score is a weighted sum of the history items' rows, and the file
/// keeps W.
extension SparseMatrix {
    /// Σ_k w_k · row(items_k) over `columnCount` columns; every w is 1 without `weights`.
    func summingRows<Items: Collection<Int32>>(_ items: Items, weights: [Float]? = nil) -> [Float] {
        var scores = [Float](repeating: 0, count: columnCount)
        for (k, i) in items.enumerated() {
            let w = weights?[k] ?? 1
            for e in entries(ofRow: Int(i)) { scores[Int(columns[e])] += w * values[e] }
        }
        return scores
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
