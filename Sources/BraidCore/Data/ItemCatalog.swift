/// What Braid knows about one item beyond its interactions.
public struct ItemRecord: Sendable, Equatable, Codable {
    public var id: String
    public var title: String?
    /// Categorical labels (genres, departments, topics).
    public var categories: [String]
    /// Named free-text fields (description, tags, …).
    public var text: [String: String]
    /// Named numeric attributes (price, year, duration, …).
    public var attributes: [String: Double]

    public init(id: String, title: String? = nil, categories: [String] = [], text: [String: String] = [:],
                attributes: [String: Double] = [:]) {
        self.id = id
        self.title = title
        self.categories = categories
        self.text = text
        self.attributes = attributes
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

/// Item metadata keyed by external item id.
public struct ItemCatalog: Sendable, Equatable {
    public private(set) var records: [String: ItemRecord] = [:]

    public init(_ records: [ItemRecord] = []) {
        for record in records { self.records[record.id] = record }
    }

    public var count: Int { records.count }

    public subscript(id: String) -> ItemRecord? {
        get { records[id] }
        set { records[id] = newValue }
    }

    /// The title of `id`, or the id itself when no title is known.
    public func displayName(of id: String) -> String { records[id]?.title ?? id }

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
