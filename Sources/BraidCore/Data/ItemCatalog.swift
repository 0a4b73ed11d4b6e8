/// Text that one user wrote about an item (a MovieLens tag, a review): it carries that user's
/// taste, so evaluation must not let it describe an item the user is tested on.
public struct UserText: Sendable, Equatable, Codable {
    /// The author's external user id.
    public var user: String
    public var text: String
    /// Epoch seconds, or `InteractionTable.noTimestamp`.
    public var timestamp: Int64

    public init(user: String, text: String, timestamp: Int64 = InteractionTable.noTimestamp) {
        self.user = user
        self.text = text
        self.timestamp = timestamp
    }
}

/// What Braid knows about one item beyond its interactions.
public struct ItemRecord: Sendable, Equatable, Codable {
    public var id: String
    public var title: String?
    /// Categorical labels (genres, departments, topics).
    public var categories: [String]
    /// Named free-text fields from the catalogue itself (description, …).
    public var text: [String: String]
    /// Named numeric attributes (price, year, duration, …).
    public var attributes: [String: Double]
    /// Text written by users (tags, reviews), with author and time.
    public var userText: [UserText]
    /// An embedding from any modality (image, audio, a model of your own), used by
    /// `content-dense` and the hybrid like a text embedding (`--item-vectors`).
    public var vector: [Float]?

    public init(id: String, title: String? = nil, categories: [String] = [], text: [String: String] = [:],
                attributes: [String: Double] = [:], userText: [UserText] = [], vector: [Float]? = nil) {
        self.id = id
        self.title = title
        self.categories = categories
        self.text = text
        self.attributes = attributes
        self.userText = userText
        self.vector = vector
    }

    /// The users' texts, each distinct text once (case-insensitively), in their order.
    public var distinctUserText: [String] {
        var seen = Set<String>()
        return userText.map(\.text).filter { seen.insert($0.lowercased()).inserted }
    }
}

/// What Braid knows about one user beyond their interactions.
public struct UserRecord: Sendable, Equatable, Codable {
    public var id: String
    public var categories: [String]
    public var attributes: [String: Double]

    public init(id: String, categories: [String] = [], attributes: [String: Double] = [:]) {
        self.id = id
        self.categories = categories
        self.attributes = attributes
    }
}

/// The text model whose sentence embeddings of the items' texts a catalogue's vectors are
/// (`--item-vectors text`): an item that joins later with a text and no vector is embedded by the
/// same model, so that it lies in the same space as the others.
public struct TextEmbeddingModel: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The model's name ("all-MiniLM-L6-v2").
    public var name: String
    /// SHA-256 of its weight file: another model, or other weights, embed into another space.
    public var digest: String
    public var dimension: Int
    /// What else decides the vectors (`SentenceEncoder.settings`: vocabulary, tokenizer, pooling,
    /// dense layers, normalization); nil in files written before it was kept.
    public var settings: String?

    public init(name: String, digest: String, dimension: Int, settings: String? = nil) {
        self.name = name
        self.digest = digest
        self.dimension = dimension
        self.settings = settings
    }

    /// Whether `other` embeds texts into the same space: the same weights and dimension, and the
    /// same settings where both record them (a file from before settings were kept matches on
    /// the weights alone).
    public func embedsLike(_ other: TextEmbeddingModel) -> Bool {
        name == other.name && digest == other.digest && dimension == other.dimension
            && (settings == nil || other.settings == nil || settings == other.settings)
    }

    public var description: String {
        "\(name) (\(dimension) dimensions, weights SHA-256 \(digest.prefix(12))…\(settings.map { "; \($0)" } ?? ""))"
    }
}

/// Item metadata keyed by external item id.
///
/// A catalogue that grows a few records at a time (items posted to a server) shares the records
/// it grew from with the catalogue before and keeps the added and replaced ones apart, so that
/// a change copies those few rather than every record; `changedIDs(since:)` then finds what
/// changed without comparing every record. Once the records apart reach an eighth of the shared ones,
/// they are merged into one dictionary again.
public struct ItemCatalog: Sendable, Equatable {
    /// Records that catalogues grown from one another share. Changed in place only by a
    /// catalogue that holds the only reference (a catalogue being built), never once shared;
    /// that is what makes it safe to send.
    private final class Shared: @unchecked Sendable {
        var records: [String: ItemRecord]
        init(_ records: [String: ItemRecord]) { self.records = records }
    }

    private var shared: Shared
    /// The records added or replaced since `shared` (they take precedence).
    private var changes: [String: ItemRecord] = [:]
    public private(set) var count: Int
    /// The text model the items' vectors are embeddings of, when they are the items' texts
    /// embedded (`--item-vectors text`); nil when the vectors were supplied (or there are none).
    public var textEmbedding: TextEmbeddingModel?

    /// The catalogue of `records` (of two with one id, the later). The records are moved out of
    /// the array when the caller gives up its last copy, not copied and then released one by one.
    public init(_ records: consuming [ItemRecord] = []) {
        var byID = [String: ItemRecord](minimumCapacity: records.count)
        var records = records
        records.reverse()
        while let record = records.popLast() {
            let id = record.id
            byID.updateValue(consume record, forKey: id)
        }
        shared = Shared(byID)
        count = byID.count
    }

    /// Every record by id: a merged copy when records changed since the last merge, so read it
    /// once rather than per record (the subscript reads one, `forEachRecord` visits all).
    public var records: [String: ItemRecord] {
        changes.isEmpty ? shared.records : shared.records.merging(changes) { $1 }
    }

    /// Equal records and text model.
    public static func == (a: ItemCatalog, b: ItemCatalog) -> Bool {
        guard a.count == b.count, a.textEmbedding == b.textEmbedding else { return false }
        return a.shared === b.shared && a.changes == b.changes || a.records == b.records
    }

    public subscript(id: String) -> ItemRecord? {
        get {
            if !changes.isEmpty, let record = changes[id] { return record }
            return shared.records[id]
        }
        set {
            // No other catalogue shares the records (one being built, record by record): they
            // change in place. Setting them apart then would merge them again and again.
            if isKnownUniquelyReferenced(&shared) {
                let wasApart = changes.removeValue(forKey: id) != nil
                let wasShared = if let newValue {
                    shared.records.updateValue(newValue, forKey: id) != nil
                } else {
                    shared.records.removeValue(forKey: id) != nil
                }
                count += (newValue == nil ? 0 : 1) - (wasApart || wasShared ? 1 : 0)
                return
            }
            guard let newValue else {
                guard self[id] != nil else { return }
                var merged = records
                merged[id] = nil
                replaceRecords(with: merged)
                return
            }
            if changes[id] == nil, shared.records[id] == nil { count += 1 }
            changes[id] = newValue
            if changes.count > 64 + shared.records.count / 8 { replaceRecords(with: records) }
        }
    }

    /// Calls `body` with every record once, without merging: the shared records not replaced
    /// since, then the changes.
    public func forEachRecord(_ body: (ItemRecord) throws -> Void) rethrows {
        for (id, record) in shared.records where changes.isEmpty || changes[id] == nil { try body(record) }
        for record in changes.values { try body(record) }
    }

    /// Every record replaced by `records`, merged into one dictionary (for changes of many).
    private mutating func replaceRecords(with records: [String: ItemRecord]) {
        shared = Shared(records)
        changes = [:]
        count = records.count
    }

    /// The ids whose record differs between `base` and this catalogue (added, removed or
    /// replaced by a different record), when this catalogue grew from `base` since their last
    /// merge (a server's catalogue after a post and the one before): found among the records
    /// each changed, not by comparing every record. Nil when they share no records that way.
    public func changedIDs(since base: ItemCatalog) -> Set<String>? {
        guard shared === base.shared else { return nil }
        var ids = Set<String>()
        for (id, record) in changes where base[id] != record { ids.insert(id) }
        for (id, record) in base.changes where self[id] != record { ids.insert(id) }
        return ids
    }

    /// The title of `id`, or the id itself when no title is known.
    public func displayName(of id: String) -> String { self[id]?.title ?? id }

    /// The number of user-written texts in the catalogue.
    public var userTextCount: Int {
        var count = 0
        forEachRecord { count += $0.userText.count }
        return count
    }

    /// The catalogue with only the user-written texts `keep(item, text)` accepts.
    public func filteringUserText(_ keep: (String, UserText) -> Bool) -> ItemCatalog {
        var records = records
        for (id, record) in records where !record.userText.isEmpty {
            records[id]!.userText = record.userText.filter { keep(id, $0) }
        }
        var out = self
        out.replaceRecords(with: records)
        return out
    }

    /// The dimension of the items' vectors, when any item has one: the length most of them
    /// have (the shorter of two as common), so that a catalogue holding a vector of another
    /// length reads the same in every process (the records' order is a dictionary's).
    public var vectorDimension: Int? {
        var counts: [Int: Int] = [:]
        forEachRecord { record in if let vector = record.vector { counts[vector.count, default: 0] += 1 } }
        return counts.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }?.key
    }

    /// How many items have a vector.
    public var vectorCount: Int {
        var count = 0
        forEachRecord { if $0.vector != nil { count += 1 } }
        return count
    }

    /// The first of `items` whose vector's length is not `vectorDimension`: its id, its length
    /// and the catalogue's; nil when all agree, none has a vector, or the catalogue has none.
    /// (Such a vector the content models would leave out, and the catalogue would hold two lengths.)
    public func vectorOfAnotherLength(among items: [(id: String, vector: [Float]?)]) -> (id: String, length: Int, expected: Int)? {
        vectorsOfAnotherLength(among: items).first
    }

    /// Every one of `items` whose vector's length is not `vectorDimension`, in order
    /// (`vectorOfAnotherLength(among:)` gives the first).
    public func vectorsOfAnotherLength(among items: [(id: String, vector: [Float]?)]) -> [(id: String, length: Int, expected: Int)] {
        guard items.contains(where: { $0.vector != nil }), let expected = vectorDimension else { return [] }
        return items.compactMap { item in item.vector.flatMap { $0.count == expected ? nil : (item.id, $0.count, expected) } }
    }

    /// Attaches `vectors` by item id, adding a record for an id the catalogue lacks.
    public mutating func attach(vectors: [String: [Float]]) {
        var records = records
        for (id, vector) in vectors { records[id, default: ItemRecord(id: id)].vector = vector }
        replaceRecords(with: records)
    }

    /// Categories per item index of `items`; empty for unknown items.
    public func categoryIndex(for items: Vocabulary) -> [[String]] {
        items.identifiers.map { self[$0]?.categories ?? [] }
    }
}

/// Everything Braid loads for one experiment: interactions plus optional metadata.
public struct Dataset: Sendable {
    public var interactions: InteractionTable
    public var catalog: ItemCatalog
    public var userRecords: [String: UserRecord]
    public var name: String

    public init(name: String, interactions: InteractionTable, catalog: ItemCatalog = ItemCatalog(),
                userRecords: [String: UserRecord] = [:]) {
        self.name = name
        self.interactions = interactions
        self.catalog = catalog
        self.userRecords = userRecords
    }
}
