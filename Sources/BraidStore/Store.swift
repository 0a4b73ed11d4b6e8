public import Foundation
import Crypto

/// Where the server keeps users, items, feedback, API keys and erasures. Every write is
/// durable when the call returns (the reply is sent after it), so an acknowledged write
/// survives the server being killed.
public protocol Store: Sendable {
    func upsertUsers(_ users: [StoredUser]) async throws
    func user(_ id: String) async throws -> StoredUser?
    /// Every stored user, in id order.
    func allUsers() async throws -> [StoredUser]
    func upsertItems(_ items: [StoredItem]) async throws
    func item(_ id: String) async throws -> StoredItem?
    /// Removes the item from the catalogue (its feedback stays, as history); false when absent.
    func deleteItem(_ id: String) async throws -> Bool
    /// Items that must never be recommended: hidden or deleted.
    func excludedItems() async throws -> Set<String>
    /// Each item's categories, for the `category=` filter.
    func itemCategories() async throws -> [String: [String]]
    /// Every stored item, hidden ones included, by id (for retraining).
    func allItems() async throws -> [StoredItem]

    /// Stores a batch in one transaction; returns how many were new (the rest replaced an
    /// identical `(user, item, event, timestamp)`).
    func addFeedback(_ events: [FeedbackEvent]) async throws -> Int
    /// The user's feedback, oldest first.
    func feedback(user: String) async throws -> [FeedbackEvent]
    /// The user's feedback newer than `sequence` (what the served model has not seen), oldest
    /// first, and its version, in one read (what serving a list needs). When the version is
    /// still `known`, the feedback is not read (nil): the caller holds it already.
    func history(user: String, after sequence: Int64, unlessAt known: FeedbackVersion?) async throws -> StoredHistory
    /// Every feedback event, oldest first (for retraining).
    func allFeedback() async throws -> [FeedbackEvent]

    /// Deletes the user's record and every feedback row in one transaction, records the
    /// erasure, and returns the rows removed.
    func eraseUser(_ id: String, model: Erasure.ModelState, at time: Double) async throws -> Int
    func erasure(_ user: String) async throws -> Erasure?
    /// Users whose erasure is recorded (their training history must not be served).
    func erasedUsers() async throws -> Set<String>
    func markErasures(_ users: [String], as state: Erasure.ModelState, at time: Double) async throws

    /// Stores the key's SHA-256 with its role.
    func addKey(hash: String, role: Role, name: String) async throws
    func role(forKeyHash hash: String) async throws -> Role?
    func keyCount() async throws -> Int

    /// Row counts per table, for `/metrics`.
    func counts() async throws -> [String: Int]

    /// Keeps a model version in the store (the latest two are kept) and announces it.
    func publishModel(_ model: PublishedModel) async throws
    /// The newest published version, if any.
    func latestModel() async throws -> PublishedModel?
    /// The newest published version's number, without reading its model file.
    func latestModelVersion() async throws -> Int?
    /// Model versions and erasures announced by any server sharing the store (PostgreSQL's
    /// LISTEN/NOTIFY); a store used by one process announces nothing.
    func announcements() -> AsyncStream<StoreAnnouncement>
}

extension Store {
    /// The user's feedback newer than `sequence`, oldest first, and whether they were erased.
    public func history(user: String, after sequence: Int64) async throws -> (feedback: [FeedbackEvent], erased: Bool) {
        let history = try await history(user: user, after: sequence, unlessAt: nil)
        return (history.feedback ?? [], history.version.erased)
    }
}

/// A model version as the store keeps it: a model file's bytes and what the server knows of it.
public struct PublishedModel: Sendable {
    public var version: Int
    public var source: String
    public var metrics: [String: Double]
    /// The store's feedback up to this sequence number is in the model.
    public var feedbackWatermark: Int64
    public var bytes: Data

    public init(version: Int, source: String, metrics: [String: Double], feedbackWatermark: Int64, bytes: Data) {
        self.version = version
        self.source = source
        self.metrics = metrics
        self.feedbackWatermark = feedbackWatermark
        self.bytes = bytes
    }
}

/// What one server tells the others through a shared store.
public enum StoreAnnouncement: Sendable, Equatable {
    /// A new model version was published.
    case model(version: Int)
    /// A user was erased: every server's model must forget them.
    case erasure(user: String)

    /// Parses a notification's payload (`model:3`, `erasure:user-id`).
    public init?(_ payload: String) {
        if payload.hasPrefix("model:"), let version = Int(payload.dropFirst(6)) {
            self = .model(version: version)
        } else if payload.hasPrefix("erasure:") {
            self = .erasure(user: String(payload.dropFirst(8)))
        } else {
            return nil
        }
    }
}

/// API keys: random 32 bytes, shown once; the store keeps only their SHA-256.
public enum APIKeys {
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let text = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "braid_" + text
    }

    public static func hash(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Creates a key with `role` in `store` and returns it (the only time it is visible).
    public static func create(role: Role, name: String = "", in store: any Store) async throws -> String {
        let key = generate()
        try await store.addKey(hash: hash(key), role: role, name: name)
        return key
    }
}

/// Opens a store by its address: a SQLite file path (the default, embedded), `sqlite:PATH`,
/// or `postgres://user:password@host:port/database` (shared by several servers).
public enum Stores {
    public static func open(_ address: String) async throws -> any Store {
        if address.hasPrefix("postgres://") || address.hasPrefix("postgresql://") {
            return try await PostgresStore(address: address)
        }
        let path = address.hasPrefix("sqlite:") ? String(address.dropFirst("sqlite:".count)) : address
        return try SQLiteStore(path: path)
    }
}
