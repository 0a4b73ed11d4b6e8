public import BraidCore
public import Foundation

/// A user as the store keeps it: an id and free-form attributes (JSON object text).
public struct StoredUser: Sendable, Equatable, Codable {
    public var id: String
    /// A JSON object, as text ("{}" when none).
    public var attributes: String
    public var updated: Double

    public init(id: String, attributes: String = "{}", updated: Double = Date().timeIntervalSince1970) {
        self.id = id
        self.attributes = attributes
        self.updated = updated
    }
}

extension StoredUser {
    /// The attributes as a `UserRecord`: a number is a numeric attribute, a string, a boolean
    /// or each string, number or boolean of a list a category `key=value`; null and nested
    /// objects count for nothing, nor does text that is not a JSON object.
    public var record: UserRecord {
        var record = UserRecord(id: id)
        guard let object = try? JSONDecoder().decode([String: AttributeValue].self, from: Data(attributes.utf8)) else { return record }
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            switch value {
            case .number(let number): if number.isFinite { record.attributes[key] = number }
            case .list(let list): record.categories += list.compactMap(\.text).map { "\(key)=\($0)" }
            default: if let text = value.text { record.categories.append("\(key)=\(text)") }
            }
        }
        return record
    }

    /// One value of a user's attributes object.
    enum AttributeValue: Decodable {
        case bool(Bool), number(Double), string(String), list([AttributeValue]), other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let bool = try? container.decode(Bool.self) { self = .bool(bool) }
            else if let number = try? container.decode(Double.self) { self = .number(number) }
            else if let string = try? container.decode(String.self) { self = .string(string) }
            else if let list = try? container.decode([AttributeValue].self) { self = .list(list) }
            else { self = .other }
        }

        /// A category's value: a string, a boolean, or a number in its shortest form.
        var text: String? {
            switch self {
            case .bool(let bool): bool ? "true" : "false"
            case .number(let number): number.compactText
            case .string(let string): string
            case .list, .other: nil
            }
        }
    }
}

/// An item as the store keeps it. A hidden item stays in the catalogue but is never
/// recommended; a deleted item leaves the catalogue and is never recommended either.
public struct StoredItem: Sendable, Equatable, Codable {
    public var id: String
    public var title: String?
    public var text: String?
    public var categories: [String]
    /// A JSON object, as text ("{}" when none).
    public var attributes: String
    /// Seconds since 1970 (publication or arrival), when known.
    public var timestamp: Double?
    public var hidden: Bool
    public var vector: [Float]?
    public var updated: Double

    public init(id: String, title: String? = nil, text: String? = nil, categories: [String] = [], attributes: String = "{}",
                timestamp: Double? = nil, hidden: Bool = false, vector: [Float]? = nil, updated: Double = Date().timeIntervalSince1970) {
        self.id = id
        self.title = title
        self.text = text
        self.categories = categories
        self.attributes = attributes
        self.timestamp = timestamp
        self.hidden = hidden
        self.vector = vector
        self.updated = updated
    }
}

/// One feedback event. `(user, item, event, timestamp)` identifies it: sending the same
/// event again (a retry) replaces its value instead of adding a second row, so writes are
/// idempotent. A replacement that changes the value takes a new sequence number: it is then
/// newer than any model trained before it, and the user's feedback version changes.
public struct FeedbackEvent: Sendable, Equatable, Codable {
    public var user: String
    public var item: String
    /// The event type ("rating", "view", "purchase", …); its weight comes from the server's
    /// event weights.
    public var event: String
    public var value: Double
    /// Seconds since 1970.
    public var timestamp: Double
    /// The store's arrival order (set when read back; 0 before).
    public var sequence: Int64 = 0

    public init(user: String, item: String, event: String = "rating", value: Double = 1, timestamp: Double) {
        self.user = user
        self.item = item
        self.event = event
        self.value = value
        self.timestamp = timestamp
    }
}

/// What an API key may do. Each role includes the ones before it.
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    /// Recommendations, similar items, popular items, reading users and items.
    case read
    /// Feedback and catalogue writes.
    case write
    /// Deletion of users (erasure), keys and models.
    case admin

    public static func < (a: Role, b: Role) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// The state of one user's erasure: the store's rows go at once; the model's influence goes
/// at once when the served model can forget exactly, else at the next retrain.
public struct Erasure: Sendable, Equatable, Codable {
    public enum ModelState: String, Sendable, Codable {
        /// The served model forgot the user exactly when the erasure was made.
        case exact
        /// The served model still carries the user's influence until the next retrain.
        case pendingRetrain = "pending-retrain"
        /// A retrained model without the user is serving.
        case retrained
        /// The served model never saw the user.
        case notInModel = "not-in-model"
    }

    public var user: String
    public var requested: Double
    /// Rows removed from the store (feedback events and the user record).
    public var rowsRemoved: Int
    public var model: ModelState
    /// When the model's part was done (nil while pending).
    public var modelDone: Double?

    public init(user: String, requested: Double, rowsRemoved: Int, model: ModelState, modelDone: Double?) {
        self.user = user
        self.requested = requested
        self.rowsRemoved = rowsRemoved
        self.model = model
        self.modelDone = modelDone
    }
}

/// A store error that carries what went wrong and where.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Where a user's feedback stands in the store: it changes whenever their feedback does (an
/// event added, a value replaced, the user erased) and never comes back to an earlier value
/// while the content differs, so a reader holding what it read at one version can keep it
/// while the version is the same.
public struct FeedbackVersion: Sendable, Hashable {
    /// The sequence number of the user's latest write (0 when they have no feedback).
    public var latest: Int64
    /// Whether the user was erased (their training history must not be served).
    public var erased: Bool

    public init(latest: Int64, erased: Bool) {
        self.latest = latest
        self.erased = erased
    }
}

/// What serving a list reads of a user: their feedback newer than the served model, whether
/// they were erased, and the version it was read at.
public struct StoredHistory: Sendable {
    /// Oldest first; nil when the caller already holds this version.
    public var feedback: [FeedbackEvent]?
    public var version: FeedbackVersion

    public init(feedback: [FeedbackEvent]?, version: FeedbackVersion) {
        self.feedback = feedback
        self.version = version
    }
}
