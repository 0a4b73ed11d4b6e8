/// One interaction as a user of the library writes it: who, what, how much, when, and what
/// kind of event.
public struct Interaction: Sendable, Equatable, Codable {
    public var user: String
    public var item: String
    /// A rating, a count, or 1 for a bare event.
    public var value: Float
    /// Seconds since the Unix epoch, when known.
    public var timestamp: Int64?
    /// The event type (`rating`, `view`, `click`, `cart`, `purchase`, …), when known.
    public var event: String?

    public init(user: String, item: String, value: Float = 1, timestamp: Int64? = nil, event: String? = nil) {
        self.user = user
        self.item = item
        self.value = value
        self.timestamp = timestamp
        self.event = event
    }
}

/// Interactions in columnar form, users and items as dense indices into vocabularies.
///
/// This is the one data schema every importer produces and every splitter and model reads.
public struct InteractionTable: Sendable, Equatable {
    public var users: Vocabulary
    public var items: Vocabulary
    public var userIndices: [Int32] = []
    public var itemIndices: [Int32] = []
    public var values: [Float] = []
    /// Seconds since the epoch; `InteractionTable.noTimestamp` where unknown.
    public var timestamps: [Int64] = []
    /// Index into `eventNames` per row; -1 where unknown.
    public var events: [Int16] = []
    public var eventNames: [String] = []

    public static let noTimestamp = Int64.min

    public init(users: Vocabulary = Vocabulary(), items: Vocabulary = Vocabulary()) {
        self.users = users
        self.items = items
    }

    /// A table from interactions, building the vocabularies in order of first appearance.
    public init<S: Sequence>(_ interactions: S) where S.Element == Interaction {
        self.init()
        for interaction in interactions { append(interaction) }
    }

    public var count: Int { values.count }
    public var isEmpty: Bool { values.isEmpty }
    public var hasTimestamps: Bool { timestamps.contains { $0 != Self.noTimestamp } }

    public mutating func append(_ interaction: Interaction) {
        append(user: users.insert(interaction.user), item: items.insert(interaction.item), value: interaction.value,
               timestamp: interaction.timestamp ?? Self.noTimestamp, event: interaction.event.map { eventIndex($0) } ?? -1)
    }

    public mutating func append(user: Int32, item: Int32, value: Float, timestamp: Int64 = noTimestamp, event: Int16 = -1) {
        userIndices.append(user)
        itemIndices.append(item)
        values.append(value)
        timestamps.append(timestamp)
        events.append(event)
    }

    /// Appends `other`'s rows, which must already use this table's vocabularies (see
    /// `adoptVocabularies(of:)`); event types are matched by name.
    public mutating func append(contentsOf other: InteractionTable) {
        let eventMap = other.eventNames.map { eventIndex($0) }
        userIndices += other.userIndices
        itemIndices += other.itemIndices
        values += other.values
        timestamps += other.timestamps
        events += other.events.map { $0 < 0 ? -1 : eventMap[Int($0)] }
    }

    /// The index of an event name, adding it when new.
    public mutating func eventIndex(_ name: String) -> Int16 {
        if let index = eventNames.firstIndex(of: name) { return Int16(index) }
        eventNames.append(name)
        return Int16(eventNames.count - 1)
    }

    /// Row `row` as an `Interaction`.
    public subscript(row: Int) -> Interaction {
        Interaction(user: users[userIndices[row]], item: items[itemIndices[row]], value: values[row],
                    timestamp: timestamps[row] == Self.noTimestamp ? nil : timestamps[row],
                    event: events[row] < 0 ? nil : eventNames[Int(events[row])])
    }

    /// The rows at `rows`, in that order, sharing this table's vocabularies.
    public func selecting<C: Collection>(_ rows: C) -> InteractionTable where C.Element == Int {
        var out = InteractionTable(users: users, items: items)
        out.eventNames = eventNames
        out.userIndices.reserveCapacity(rows.count)
        for row in rows {
            out.append(user: userIndices[row], item: itemIndices[row], value: values[row],
                       timestamp: timestamps[row], event: events[row])
        }
        return out
    }

    /// Row numbers grouped by user index.
    public func rowsByUser() -> [[Int]] {
        var groups = [[Int]](repeating: [], count: users.count)
        for row in 0..<count { groups[Int(userIndices[row])].append(row) }
        return groups
    }

    /// Re-expresses `other` in this table's vocabularies, adding ids it does not know yet.
    public mutating func adoptVocabularies(of other: inout InteractionTable) {
        let userMap = other.users.identifiers.map { users.insert($0) }
        let itemMap = other.items.identifiers.map { items.insert($0) }
        other.userIndices = other.userIndices.map { userMap[Int($0)] }
        other.itemIndices = other.itemIndices.map { itemMap[Int($0)] }
        other.users = users
        other.items = items
    }

    /// The user × item matrix of these rows (values as they are; duplicates: the later row wins).
    public func userItemMatrix() -> SparseMatrix {
        SparseMatrix(rowCount: users.count, columnCount: items.count, rows: userIndices, columns: itemIndices, values: values)
    }
}
