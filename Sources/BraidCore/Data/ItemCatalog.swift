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

    public init(name: String, digest: String, dimension: Int) {
        self.name = name
        self.digest = digest
        self.dimension = dimension
    }

    public var description: String { "\(name) (\(dimension) dimensions, weights SHA-256 \(digest.prefix(12))…)" }
}

/// Item metadata keyed by external item id.
public struct ItemCatalog: Sendable, Equatable {
    public private(set) var records: [String: ItemRecord] = [:]
    /// The text model the items' vectors are embeddings of, when they are the items' texts
    /// embedded (`--item-vectors text`); nil when the vectors were supplied (or there are none).
    public var textEmbedding: TextEmbeddingModel?

    public init(_ records: [ItemRecord] = []) {
        self.records.reserveCapacity(records.count)
        for record in records { self.records[record.id] = record }
    }

    public var count: Int { records.count }

    public subscript(id: String) -> ItemRecord? {
        get { records[id] }
        set { records[id] = newValue }
    }

    /// The title of `id`, or the id itself when no title is known.
    public func displayName(of id: String) -> String { records[id]?.title ?? id }

    /// The number of user-written texts in the catalogue.
    public var userTextCount: Int { records.values.reduce(0) { $0 + $1.userText.count } }

    /// The catalogue with only the user-written texts `keep(item, text)` accepts.
    public func filteringUserText(_ keep: (String, UserText) -> Bool) -> ItemCatalog {
        var out = self
        for (id, record) in records where !record.userText.isEmpty {
            out.records[id]!.userText = record.userText.filter { keep(id, $0) }
        }
        return out
    }

    /// The dimension of the items' vectors, when any item has one: the length most of them
    /// have (the shorter of two as common), so that a catalogue holding a vector of another
    /// length reads the same in every process (the records' order is a dictionary's).
    public var vectorDimension: Int? {
        var counts: [Int: Int] = [:]
        for record in records.values { if let vector = record.vector { counts[vector.count, default: 0] += 1 } }
        return counts.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }?.key
    }

    /// How many items have a vector.
    public var vectorCount: Int { records.values.filter { $0.vector != nil }.count }

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
        for (id, vector) in vectors { records[id, default: ItemRecord(id: id)].vector = vector }
    }

    /// Categories per item index of `items`; empty for unknown items.
    public func categoryIndex(for items: Vocabulary) -> [[String]] {
        items.identifiers.map { records[$0]?.categories ?? [] }
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
