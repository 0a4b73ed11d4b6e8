public import BraidCore

/// An array of a model's archive that holds one row per item, between `before` rows that come
/// first (a padding token) and `after` rows that come last (a mask token).
struct ItemRows: Sendable {
    var key: String
    var before = 0
    var after = 0
}

extension RecommendationModel {
    /// This model serving `data`, its training data with items added to the catalogue
    /// (`InteractionMatrix.extendsCatalogue(of:)`), restored from its own archive with a zero
    /// row for each new item in each of `rows`, after the known items' rows: new items come
    /// without interactions, so a fit has nothing to learn of them and nothing it learned of the
    /// others changes, and what the model holds per user and per known item stays as fitted.
    /// A new item's parameters are zero where a fit would have left their random start
    /// untouched or pushed them only down, and the model does not recommend it
    /// (`scoresItemsWithoutInteractions` is false); an array of `rows` the archive lacks (an
    /// optional bias) is skipped. Any other `data` is fitted anew.
    func extendingArchive(to data: InteractionMatrix, rows: [ItemRows]) throws(ModelError) -> any RecommendationModel {
        guard data.extendsCatalogue(of: self.data) else { return try Self(fitting: data, configuration: configuration) }
        var archive = ModelArchive(model: Self.name, configuration: .init(), users: data.users, items: data.items)
        self.archive(into: &archive)
        try archive.insertItemRows(rows, known: self.data.itemCount, added: data.itemCount - self.data.itemCount, model: Self.name)
        return try Self(archive: archive, data: data, configuration: configuration)
    }
}

extension ModelArchive {
    /// Inserts a zero row for each of `added` new items after the `known` items' rows of each
    /// of `rows`; an array of `rows` the archive lacks (an optional bias) is skipped.
    mutating func insertItemRows(_ rows: [ItemRows], known: Int, added: Int, model: String) throws(ModelError) {
        for table in rows {
            guard let values = try? floatBuffer(table.key) else { continue }
            let slots = table.before + known + table.after
            guard slots > 0, values.count % slots == 0 else {
                throw ModelError(.corruptModel, "\(model)'s \(table.key) has \(values.count) values, not a row for each of \(known) items")
            }
            arrays[table.key] = .float32(values.insertingZeroRows(added, width: values.count / slots, before: table.before + known))
        }
    }
}
