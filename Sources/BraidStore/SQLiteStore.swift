internal import BraidCore
internal import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode with `synchronous = FULL`, so a write is
/// on disk before its transaction returns. Readers never wait for the writer.
public final class SQLiteStore: Store {
    let pool: DatabasePool
    public let path: String

    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.busyMode = .timeout(10)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            // A missing or read-only directory, named, before SQLite's own words for it.
            let why = FileManager.default.fileExists(atPath: path) ? "\(error)" : DataFile.writeProblem(at: path, otherwise: "\(error)")
            throw StoreError("cannot open the store \(path): \(why)")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL, attributes TEXT NOT NULL, updated REAL NOT NULL);
                CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, title TEXT, text TEXT, categories TEXT NOT NULL,
                                    attributes TEXT NOT NULL, timestamp REAL, hidden INTEGER NOT NULL, vector BLOB, updated REAL NOT NULL);
                CREATE TABLE feedback (seq INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, item TEXT NOT NULL, event TEXT NOT NULL,
                                       value REAL NOT NULL, timestamp REAL NOT NULL, UNIQUE (user, item, event, timestamp));
                CREATE INDEX feedback_user ON feedback (user, seq);
                CREATE TABLE deleted_items (id TEXT PRIMARY KEY NOT NULL, deleted REAL NOT NULL);
                CREATE TABLE api_keys (hash TEXT PRIMARY KEY NOT NULL, role TEXT NOT NULL, name TEXT NOT NULL, created REAL NOT NULL);
                CREATE TABLE erasures (user TEXT PRIMARY KEY NOT NULL, requested REAL NOT NULL, rows_removed INTEGER NOT NULL,
                                       model TEXT NOT NULL, model_done REAL);
                """)
        }
        migrator.registerMigration("v2: models") { db in
            try db.execute(sql: """
                CREATE TABLE models (version INTEGER PRIMARY KEY, source TEXT NOT NULL, metrics TEXT NOT NULL, watermark INTEGER NOT NULL,
                                     bytes BLOB NOT NULL, created REAL NOT NULL);
                """)
        }
        migrator.registerMigration("v3: a user's feedback read from the index alone") { db in
            // Every list reads the user's newer feedback: with every column it reads in the
            // index, a user's rows lie together and none is looked up in the table (on a store
            // of 600 events per user, a list took 2.1 ms of CPU instead of 3.8).
            try db.execute(sql: """
                CREATE INDEX feedback_user_history ON feedback (user, seq, item, event, value, timestamp);
                DROP INDEX feedback_user;
                """)
        }
        return migrator
    }

    // MARK: Users

    public func upsertUsers(_ users: [StoredUser]) async throws {
        try await pool.write { db in
            for user in users {
                try db.execute(sql: """
                    INSERT INTO users (id, attributes, updated) VALUES (?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET attributes = excluded.attributes, updated = excluded.updated
                    """, arguments: [user.id, user.attributes, user.updated])
            }
        }
    }

    public func user(_ id: String) async throws -> StoredUser? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT id, attributes, updated FROM users WHERE id = ?", arguments: [id]).map {
                StoredUser(id: $0["id"], attributes: $0["attributes"], updated: $0["updated"])
            }
        }
    }

    public func allUsers() async throws -> [StoredUser] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, attributes, updated FROM users ORDER BY id").map {
                StoredUser(id: $0["id"], attributes: $0["attributes"], updated: $0["updated"])
            }
        }
    }

    // MARK: Items

    public func upsertItems(_ items: [StoredItem]) async throws {
        try await pool.write { db in
            for item in items {
                let categories = String(decoding: try JSONEncoder().encode(item.categories), as: UTF8.self)
                let vector = item.vector.map { v in v.withUnsafeBufferPointer { Data(buffer: $0) } }
                try db.execute(sql: """
                    INSERT INTO items (id, title, text, categories, attributes, timestamp, hidden, vector, updated)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET title = excluded.title, text = excluded.text, categories = excluded.categories,
                        attributes = excluded.attributes, timestamp = excluded.timestamp, hidden = excluded.hidden,
                        vector = excluded.vector, updated = excluded.updated
                    """, arguments: [item.id, item.title, item.text, categories, item.attributes, item.timestamp, item.hidden, vector, item.updated])
                try db.execute(sql: "DELETE FROM deleted_items WHERE id = ?", arguments: [item.id])
            }
        }
    }

    public func item(_ id: String) async throws -> StoredItem? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM items WHERE id = ?", arguments: [id]).map(Self.item)
        }
    }

    static func item(_ row: Row) throws -> StoredItem {
        let categories = try JSONDecoder().decode([String].self, from: Data((row["categories"] as String).utf8))
        let vector: [Float]? = (row["vector"] as Data?).map { data in
            data.withUnsafeBytes { raw in Array(raw.bindMemory(to: Float.self)) }
        }
        return StoredItem(id: row["id"], title: row["title"], text: row["text"], categories: categories, attributes: row["attributes"],
                          timestamp: row["timestamp"], hidden: row["hidden"], vector: vector, updated: row["updated"])
    }

    public func allItems() async throws -> [StoredItem] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM items ORDER BY id").map(Self.item) }
    }

    public func deleteItem(_ id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM items WHERE id = ?", arguments: [id])
            let existed = db.changesCount > 0
            try db.execute(sql: "INSERT OR REPLACE INTO deleted_items (id, deleted) VALUES (?, ?)",
                           arguments: [id, Date().timeIntervalSince1970])
            return existed
        }
    }

    public func excludedItems() async throws -> Set<String> {
        try await pool.read { db in
            Set(try String.fetchAll(db, sql: "SELECT id FROM items WHERE hidden = 1 UNION SELECT id FROM deleted_items"))
        }
    }

    public func itemCategories() async throws -> [String: [String]] {
        try await pool.read { db in
            var result: [String: [String]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, categories FROM items WHERE categories != '[]'") {
                result[row["id"]] = try JSONDecoder().decode([String].self, from: Data((row["categories"] as String).utf8))
            }
            return result
        }
    }

    // MARK: Feedback

    public func addFeedback(_ events: [FeedbackEvent]) async throws -> Int {
        try await pool.write { db in
            var added = 0
            let insert = try db.makeStatement(sql: """
                INSERT INTO feedback (user, item, event, value, timestamp) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (user, item, event, timestamp) DO NOTHING
                """)
            // A changed value is written anew, so it takes the next sequence number (newer than
            // the served model; the user's version moves); a repeated value changes nothing.
            let replace = try db.makeStatement(sql: "DELETE FROM feedback WHERE user = ? AND item = ? AND event = ? AND timestamp = ? AND value != ?")
            for event in events {
                let arguments: StatementArguments = [event.user, event.item, event.event, event.value, event.timestamp]
                try insert.execute(arguments: arguments)
                if db.changesCount > 0 {
                    added += 1
                } else {
                    try replace.execute(arguments: [event.user, event.item, event.event, event.timestamp, event.value])
                    if db.changesCount > 0 { try insert.execute(arguments: arguments) }
                }
            }
            return added
        }
    }

    public func feedback(user: String) async throws -> [FeedbackEvent] {
        try await pool.read { db in
            try Self.events(db.cachedStatement(sql: "SELECT seq, user, item, event, value, timestamp FROM feedback WHERE user = ? ORDER BY seq"),
                            arguments: [user])
        }
    }

    public func history(user: String, after sequence: Int64, unlessAt known: FeedbackVersion?) async throws -> StoredHistory {
        try await pool.read { db in
            // Prepared once per connection: this runs for every list served. One writer assigns
            // the sequence numbers in commit order, and a user's rows leave only by an erasure
            // or by a replacement that adds them back with a larger number, so their latest
            // number (with the erasure flag) is their version.
            let version = FeedbackVersion(
                latest: try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(seq) FROM feedback WHERE user = ?"), arguments: [user]) ?? 0,
                erased: try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM erasures WHERE user = ?)"), arguments: [user]) ?? false)
            guard version != known else { return StoredHistory(feedback: nil, version: version) }
            let events = try Self.events(db.cachedStatement(sql: "SELECT seq, user, item, event, value, timestamp FROM feedback WHERE user = ? AND seq > ? ORDER BY seq"),
                                         arguments: [user, sequence])
            return StoredHistory(feedback: events, version: version)
        }
    }

    public func allFeedback() async throws -> [FeedbackEvent] {
        try await pool.read { db in
            try Self.events(db.makeStatement(sql: "SELECT seq, user, item, event, value, timestamp FROM feedback ORDER BY seq"), arguments: [])
        }
    }

    /// The events a `SELECT seq, user, item, event, value, timestamp` finds, decoded in place
    /// through a cursor (fetching all rows first would copy each one).
    static func events(_ statement: Statement, arguments: StatementArguments) throws -> [FeedbackEvent] {
        var events: [FeedbackEvent] = []
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        while let row = try rows.next() { events.append(event(row)) }
        return events
    }

    /// A row of `SELECT seq, user, item, event, value, timestamp` (read by position: finding
    /// columns by name took a tenth of a long history's list).
    static func event(_ row: Row) -> FeedbackEvent {
        var event = FeedbackEvent(user: row[1], item: row[2], event: row[3], value: row[4], timestamp: row[5])
        event.sequence = row[0]
        return event
    }

    // MARK: Erasure

    public func eraseUser(_ id: String, model: Erasure.ModelState, at time: Double) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM feedback WHERE user = ?", arguments: [id])
            var removed = db.changesCount
            try db.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [id])
            removed += db.changesCount
            try db.execute(sql: """
                INSERT INTO erasures (user, requested, rows_removed, model, model_done) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (user) DO UPDATE SET requested = excluded.requested, rows_removed = erasures.rows_removed + excluded.rows_removed,
                    model = excluded.model, model_done = excluded.model_done
                """, arguments: [id, time, removed, model.rawValue, model == .pendingRetrain ? nil : time])
            return removed
        }
    }

    public func erasure(_ user: String) async throws -> Erasure? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM erasures WHERE user = ?", arguments: [user]).map { row in
                Erasure(user: row["user"], requested: row["requested"], rowsRemoved: row["rows_removed"],
                        model: Erasure.ModelState(rawValue: row["model"]) ?? .pendingRetrain, modelDone: row["model_done"])
            }
        }
    }

    public func erasedUsers() async throws -> Set<String> {
        try await pool.read { db in Set(try String.fetchAll(db, sql: "SELECT user FROM erasures")) }
    }

    public func markErasures(_ users: [String], as state: Erasure.ModelState, at time: Double) async throws {
        try await pool.write { db in
            for user in users {
                try db.execute(sql: "UPDATE erasures SET model = ?, model_done = ? WHERE user = ?", arguments: [state.rawValue, time, user])
            }
        }
    }

    // MARK: Keys

    public func addKey(hash: String, role: Role, name: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO api_keys (hash, role, name, created) VALUES (?, ?, ?, ?)",
                           arguments: [hash, role.rawValue, name, Date().timeIntervalSince1970])
        }
    }

    public func role(forKeyHash hash: String) async throws -> Role? {
        try await pool.read { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT role FROM api_keys WHERE hash = ?"), arguments: [hash]).flatMap(Role.init(rawValue:))
        }
    }

    public func keyCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM api_keys") ?? 0 }
    }

    public func counts() async throws -> [String: Int] {
        try await pool.read { db in
            var result: [String: Int] = [:]
            for table in ["users", "items", "feedback", "erasures", "api_keys"] {
                result[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
            }
            return result
        }
    }

    // MARK: Models

    public func publishModel(_ model: PublishedModel) async throws {
        let metrics = String(decoding: try JSONEncoder().encode(model.metrics), as: UTF8.self)
        try await pool.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO models (version, source, metrics, watermark, bytes, created) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [model.version, model.source, metrics, model.feedbackWatermark, model.bytes, Date().timeIntervalSince1970])
            try db.execute(sql: "DELETE FROM models WHERE version < ?", arguments: [model.version - 1])
        }
        // A model file is one large write. Lists read without pause, and SQLite's automatic
        // checkpoints never find a moment without readers, so the log grew by every version
        // (778 MB after ten retrains in a minute apart under load). Wait for the readers once
        // (they take milliseconds) and empty it; when that times out, the next version tries again.
        _ = try? await pool.writeWithoutTransaction { try $0.checkpoint(.truncate) }
    }

    public func latestModel() async throws -> PublishedModel? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM models ORDER BY version DESC LIMIT 1").map { row in
                PublishedModel(version: row["version"], source: row["source"],
                               metrics: try JSONDecoder().decode([String: Double].self, from: Data((row["metrics"] as String).utf8)),
                               feedbackWatermark: row["watermark"], bytes: row["bytes"])
            }
        }
    }

    public func latestModelVersion() async throws -> Int? {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT max(version) FROM models") }
    }

    /// One process owns a SQLite store: nothing to announce.
    public func announcements() -> AsyncStream<StoreAnnouncement> { AsyncStream { $0.finish() } }
}
