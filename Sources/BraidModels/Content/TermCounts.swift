internal import BraidCore
internal import Foundation

/// How a term is weighted in a document, in two parts: the term's inverse document frequency,
/// worked out once per term, and its weight in a document from that.
struct TermWeight: Sendable {
    /// The term's weight across documents from the number of documents that use it (`df`) and
    /// the number of documents with any term (`n`).
    var idf: @Sendable (_ df: Float, _ n: Float) -> Float
    /// The term's weight in a document from its `idf`, its count there (`tf`), the document's
    /// length in terms (repeats counted) and the documents' mean length.
    var inDocument: @Sendable (_ idf: Float, _ tf: Float, _ length: Float, _ averageLength: Float) -> Float
}

/// A representation of items as weighted term vectors (TF-IDF, BM25), whose weights come from
/// the items' term counts alone (`TermCounts.weighted(minimumDocumentFrequency:_:)`).
protocol TermRepresentation: ContentRepresentation {
    static func weight(_ settings: ContentSettings) -> TermWeight
}

extension TermRepresentation {
    /// The term vectors of `data.items`, counted on every thread.
    static func termVectors(_ data: InteractionMatrix, _ catalog: ItemCatalog, settings: ContentSettings) -> SparseMatrix {
        termVectors(TermCounts(data, catalog), settings: settings)
    }

    /// The term vectors of `counts`' documents.
    static func termVectors(_ counts: TermCounts, settings: ContentSettings) -> SparseMatrix {
        counts.weighted(minimumDocumentFrequency: settings.minimumDocumentFrequency, weight(settings))
    }
}

/// Each item's distinct terms and how often its document uses each, over one numbering of the
/// terms: what the sparse text representations weight. A TF-IDF or BM25 model keeps them, so
/// that a change of its catalogue tokenizes only the items it adds or changes
/// (`updated(known:from:to:_:)`), not the whole catalogue again.
///
/// Documents are tokenized and counted on every thread, and their terms numbered by runs of
/// documents that are then joined in order, so that the columns are the terms in the order the
/// documents first use them, as numbering them one document after another would give.
struct TermCounts: Sendable {
    /// The term of each column.
    let terms: Vocabulary
    /// Documents × terms: each document's distinct terms, ascending, and how often it uses each.
    let counts: SparseMatrix

    /// The counts of the documents of `data.items` (`ItemRecord.document`; an item without a
    /// record has none).
    init(_ data: InteractionMatrix, _ catalog: ItemCatalog) {
        let (terms, documents) = Self.numbered(data.items.identifiers, catalog)
        self.terms = terms
        counts = SparseMatrix(stackingRows: Self.counted(documents), columnCount: terms.count)
    }

    private init(terms: Vocabulary, counts: SparseMatrix) {
        self.terms = terms
        self.counts = counts
    }

    /// The term of each column of the counts of `data.items`, without counting them.
    static func terms(_ data: InteractionMatrix, _ catalog: ItemCatalog) -> [String] {
        numbered(data.items.identifiers, catalog).terms.identifiers
    }

    /// The terms of the documents of `ids` (`ItemRecord.document`, `TermTokenizer`; an item
    /// without a record has none), numbered after the terms of `base` in the order the
    /// documents first use them, and each document's terms as their numbers. Runs of documents
    /// are tokenized and numbered on their own threads (each its own new terms, in the order it
    /// first uses them; a document's words are let go once numbered); joining the runs' terms
    /// in order then numbers each term where its first document puts it.
    static func numbered(_ ids: [String], _ catalog: ItemCatalog, after base: Vocabulary = Vocabulary()) -> (terms: Vocabulary, documents: [[Int32]]) {
        let runs = max(1, min(ids.count, Parallelism.threadCount * 8))
        let bounds = (0...runs).map { $0 * ids.count / runs }
        let known = Int32(base.count)
        let local = parallelMap(runs) { run -> (terms: [String], documents: [[Int32]]) in
            var numbers: [String: Int32] = [:]
            var terms: [String] = []
            let numbered = ids[bounds[run]..<bounds[run + 1]].map { id in
                TermTokenizer.terms(catalog[id]?.document ?? "").map { term -> Int32 in
                    if known > 0, let number = base.index(of: term) { return number }
                    if let number = numbers[term] { return number }
                    let next = known + Int32(terms.count)
                    numbers[term] = next
                    terms.append(term)
                    return next
                }
            }
            return (terms, numbered)
        }
        var vocabulary = base
        let maps = local.map { run in run.terms.map { vocabulary.insert($0) } }
        let joined = parallelMap(runs) { run in
            local[run].documents.map { $0.map { $0 < known ? $0 : maps[run][Int($0 - known)] } }
        }
        return (vocabulary, Array(joined.joined()))
    }

    /// Each document's distinct terms, ascending, with their counts.
    static func counted(_ documents: [[Int32]]) -> [(columns: [Int32], values: [Float])] {
        parallelMap(documents.count, minimumChunk: 64) { d -> (columns: [Int32], values: [Float]) in
            var columns: [Int32] = [], tf: [Float] = []
            for term in documents[d].sorted() {
                if columns.last == term { tf[tf.count - 1] += 1 } else {
                    columns.append(term)
                    tf.append(1)
                }
            }
            return (columns, tf)
        }
    }

    /// The counts of `data.items`, whose first `known` items are the ones counted here, from
    /// `baseCatalog`, and whose others were added after them (`InteractionMatrix.addingItems`),
    /// from `catalog`: the documents of the added items and of the known ones whose text
    /// changed are tokenized; every other row is kept. Terms new to the counts are numbered after
    /// the known ones, in the order those documents first use them (as counting the whole
    /// catalogue again numbers them when only items were added); a term that no document uses
    /// any longer keeps its column, empty.
    func updated(known: Int, from baseCatalog: ItemCatalog, to data: InteractionMatrix, _ catalog: ItemCatalog) -> TermCounts {
        let ids = data.items.identifiers
        let differs: @Sendable (String) -> Bool = { !ItemRecord.sameDocument(baseCatalog[$0], catalog[$0]) }
        // The known items whose text changed, in order: looked for among the records the
        // catalogue says changed when it can tell (`ItemCatalog.changedIDs(since:)`), else among all.
        let changed = catalog.changedIDs(since: baseCatalog).map { candidates in
            candidates.compactMap { id in data.items.index(of: id).map(Int.init).flatMap { $0 < known && differs(id) ? $0 : nil } }.sorted()
        } ?? {
            let marks = parallelMap(known, minimumChunk: 4096) { differs(ids[$0]) }
            return marks.indices.filter { marks[$0] }
        }()
        let recounted = changed + Array(known..<ids.count)
        let (terms, documents) = Self.numbered(recounted.map { ids[$0] }, catalog, after: self.terms)
        let fresh = Self.counted(documents)
        // Each row's place among the fresh rows, or −1 where the row is kept.
        var place = [Int](repeating: -1, count: ids.count)
        for (n, row) in recounted.enumerated() { place[row] = n }
        var starts = [Int](repeating: 0, count: ids.count + 1)
        for row in 0..<ids.count {
            starts[row + 1] = starts[row] + (place[row] >= 0 ? fresh[place[row]].columns.count : counts.count(ofRow: row))
        }
        var columns: [Int32] = [], values: [Float] = []
        columns.reserveCapacity(starts[ids.count])
        values.reserveCapacity(starts[ids.count])
        for row in 0..<ids.count {
            if place[row] >= 0 {
                columns.append(contentsOf: fresh[place[row]].columns)
                values.append(contentsOf: fresh[place[row]].values)
            } else {
                columns.append(contentsOf: counts.columns(ofRow: row))
                values.append(contentsOf: counts.values(ofRow: row))
            }
        }
        return TermCounts(terms: terms, counts: SparseMatrix(rowCount: ids.count, columnCount: terms.count, rowStarts: starts,
                                                             columns: columns, values: values))
    }

    /// One row per document: `weight.inDocument(weight.idf(df, N), tf, length, averageLength)`
    /// for each of its terms that at least `minimumDocumentFrequency` documents use (N: the
    /// documents with any term; a document's length: its terms, repeats counted; each term's
    /// idf worked out once), the row L2-normalized.
    func weighted(minimumDocumentFrequency: Int, _ weight: TermWeight) -> SparseMatrix {
        var documentFrequency = [Float](repeating: 0, count: terms.count)
        for term in counts.columns { documentFrequency[Int(term)] += 1 }
        let df = documentFrequency, counts = counts
        // Sums of whole counts, exact in a Float below 2^24 terms per document.
        let lengths = (0..<counts.rowCount).map { counts.values(ofRow: $0).reduce(0, +) }
        let n = Float(lengths.count(where: { $0 > 0 }))
        let averageLength = Float(lengths.reduce(0) { $0 + Int($1) }) / max(1, n)
        let minimum = Float(minimumDocumentFrequency)
        let idf = df.map { $0 >= minimum ? weight.idf($0, n) : 0 }
        var values = [Float](repeating: 0, count: counts.nonzeroCount)
        values.withUnsafeMutableBufferPointer { buffer in
            let out = SharedBuffer(buffer)
            parallelChunks(counts.rowCount, minimumChunk: 256) { rows in
                for row in rows {
                    let entries = counts.entries(ofRow: row)
                    var squares: Float = 0
                    for k in entries where df[Int(counts.columns[k])] >= minimum {
                        let w = weight.inDocument(idf[Int(counts.columns[k])], counts.values[k], lengths[row], averageLength)
                        out[k] = w
                        squares = squares + w * w
                    }
                    let norm = squares.squareRoot()
                    if norm > 0 { for k in entries { out[k] = out[k] / norm } }
                }
            }
        }
        let vectors = SparseMatrix(rowCount: counts.rowCount, columnCount: terms.count, rowStarts: counts.rowStarts,
                                   columns: counts.columns, values: values)
        return minimum > 1 ? vectors.filter { _, column, _ in df[Int(column)] >= minimum } : vectors
    }
}

/// A model's term counts (TF-IDF, BM25): kept from its fit, or counted at their first use
/// after a load.
extension Lazily where Value == TermCounts {
    /// The counts of `data`'s items, the ones kept here, or counted now (and kept) when none
    /// are; nil without a catalogue. `prepareForServing()` calls it so that the first change of
    /// catalogue does not wait for the count.
    @discardableResult
    func counts(of data: InteractionMatrix) -> TermCounts? {
        data.catalog.map { catalog in value { TermCounts(data, catalog) } }
    }

    /// The counts of `data`, whose catalogue extends `base`'s (`InteractionMatrix.extendsCatalogue(of:)`),
    /// from the counts of `base` (`counts(of:)`): `TermCounts.updated(known:from:to:_:)`, which
    /// tokenizes only the added and changed items. Nil when either has no catalogue.
    func updated(from base: InteractionMatrix, to data: InteractionMatrix) -> TermCounts? {
        guard let baseCatalog = base.catalog, let catalog = data.catalog, let counts = counts(of: base) else { return nil }
        return counts.updated(known: base.itemCount, from: baseCatalog, to: data, catalog)
    }
}

/// A value made on first use and kept (a model's term counts, its vectors by term); a lock
/// keeps threads from making it twice: one that asks meanwhile waits for it.
final class Lazily<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value?

    init(_ value: Value? = nil) { self.value = value }

    /// The value, made by `make` now if it has not been, unless another thread holds it
    /// (making it, most likely): nil then, for a caller that can do without it rather than wait.
    func valueUnlessBusy(orMake make: () -> Value) -> Value? {
        guard lock.try() else { return nil }
        defer { lock.unlock() }
        if let value { return value }
        let made = make()
        value = made
        return made
    }

    /// The value, made by `make` the first time.
    func value(orMake make: () -> Value) -> Value {
        lock.withLock {
            if let value { return value }
            let made = make()
            value = made
            return made
        }
    }
}
