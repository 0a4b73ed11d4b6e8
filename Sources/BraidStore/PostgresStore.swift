internal import Foundation
import Logging
import PostgresNIO

/// The shared store for several `braid serve` replicas: PostgreSQL through postgres-nio.
/// Every write commits before it returns. Model versions and erasures are announced on the
/// `braid` channel (LISTEN/NOTIFY), so every replica swaps to a new version and forgets an
/// erased user without polling.
public final class PostgresStore: Store {
    let client: PostgresClient
    let runner: Task<Void, Never>
    let logger = Logger(label: "braid.store.postgres")
    public let address: String

    /// Connects to `postgres://user[:password]@host[:port]/database` and creates the tables
    /// that are missing.
    public init(address: String) async throws {
        guard let url = URLComponents(string: address), let host = url.host, !host.isEmpty else {
            throw StoreError("\(address) is not a PostgreSQL address (postgres://user:password@host:port/database)")
        }
        self.address = address
        let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        let configuration = PostgresClient.Configuration(host: host, port: url.port ?? 5432, username: url.user ?? "postgres",
                                                         password: url.password, database: database.isEmpty ? nil : database, tls: .disable)
        let client = PostgresClient(configuration: configuration)
        self.client = client
        runner = Task { await client.run() }
        do {
            try await migrate()
        } catch {
            runner.cancel()
            throw StoreError("cannot use the PostgreSQL store \(Self.redacted(address)): \(String(reflecting: error))")
        }
    }

    deinit { runner.cancel() }

    static func redacted(_ address: String) -> String {
        guard var url = URLComponents(string: address), url.password != nil else { return address }
        url.password = "…"
        return url.string ?? address
    }

    func migrate() async throws {
        try await client.withConnection { connection in
            // One migrating replica at a time.
            try await connection.query("SELECT pg_advisory_lock(7243001)", logger: logger)
            defer { Task { [client, logger] in _ = try? await client.query("SELECT pg_advisory_unlock_all()", logger: logger) } }
            for statement in [
                "CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, attributes TEXT NOT NULL, updated DOUBLE PRECISION NOT NULL)",
                """
                CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, title TEXT, text TEXT, categories TEXT NOT NULL, attributes TEXT NOT NULL,
                                                  timestamp DOUBLE PRECISION, hidden BOOLEAN NOT NULL, vector BYTEA, updated DOUBLE PRECISION NOT NULL)
                """,
                """
                CREATE TABLE IF NOT EXISTS feedback (seq BIGSERIAL PRIMARY KEY, user_id TEXT NOT NULL, item TEXT NOT NULL, event TEXT NOT NULL,
                                                     value DOUBLE PRECISION NOT NULL, timestamp DOUBLE PRECISION NOT NULL,
                                                     UNIQUE (user_id, item, event, timestamp))
                """,
                "CREATE INDEX IF NOT EXISTS feedback_user ON feedback (user_id, seq)",
                // Each user's version: the sequence number of the last transaction that wrote
                // their feedback. Concurrent writers may commit out of sequence order, so the
                // latest number alone would not show every change; this row is written by each
                // of them, under its lock, with a number no other transaction has.
                "CREATE TABLE IF NOT EXISTS feedback_versions (user_id TEXT PRIMARY KEY, version BIGINT NOT NULL)",
                """
                INSERT INTO feedback_versions (user_id, version) SELECT user_id, max(seq) FROM feedback
                WHERE NOT EXISTS (SELECT 1 FROM feedback_versions) GROUP BY user_id ON CONFLICT (user_id) DO NOTHING
                """,
                "CREATE TABLE IF NOT EXISTS deleted_items (id TEXT PRIMARY KEY, deleted DOUBLE PRECISION NOT NULL)",
                "CREATE TABLE IF NOT EXISTS api_keys (hash TEXT PRIMARY KEY, role TEXT NOT NULL, name TEXT NOT NULL, created DOUBLE PRECISION NOT NULL)",
                """
                CREATE TABLE IF NOT EXISTS erasures (user_id TEXT PRIMARY KEY, requested DOUBLE PRECISION NOT NULL, rows_removed BIGINT NOT NULL,
                                                     model TEXT NOT NULL, model_done DOUBLE PRECISION)
                """,
                """
                CREATE TABLE IF NOT EXISTS models (version BIGINT PRIMARY KEY, source TEXT NOT NULL, metrics TEXT NOT NULL,
                                                   watermark BIGINT NOT NULL, bytes BYTEA NOT NULL, created DOUBLE PRECISION NOT NULL)
                """,
            ] {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
        }
    }

    // MARK: Users

    public func upsertUsers(_ users: [StoredUser]) async throws {
        try await client.withTransaction(logger: logger) { connection in
            for user in users {
                try await connection.query("""
                    INSERT INTO users (id, attributes, updated) VALUES (\(user.id), \(user.attributes), \(user.updated))
                    ON CONFLICT (id) DO UPDATE SET attributes = excluded.attributes, updated = excluded.updated
                    """, logger: logger)
            }
        }
    }

    public func user(_ id: String) async throws -> StoredUser? {
        for try await (id, attributes, updated) in try await client.query("SELECT id, attributes, updated FROM users WHERE id = \(id)", logger: logger)
            .decode((String, String, Double).self) {
            return StoredUser(id: id, attributes: attributes, updated: updated)
        }
        return nil
    }

    public func allUsers() async throws -> [StoredUser] {
        var out: [StoredUser] = []
        for try await (id, attributes, updated) in try await client.query("SELECT id, attributes, updated FROM users ORDER BY id", logger: logger)
            .decode((String, String, Double).self) {
            out.append(StoredUser(id: id, attributes: attributes, updated: updated))
        }
        return out
    }

    // MARK: Items

    public func upsertItems(_ items: [StoredItem]) async throws {
        try await client.withTransaction(logger: logger) { connection in
            for item in items {
                let categories = String(decoding: try JSONEncoder().encode(item.categories), as: UTF8.self)
                let vector: ByteBuffer? = item.vector.map { v in v.withUnsafeBytes { ByteBuffer(bytes: $0) } }
                try await connection.query("""
                    INSERT INTO items (id, title, text, categories, attributes, timestamp, hidden, vector, updated)
                    VALUES (\(item.id), \(item.title), \(item.text), \(categories), \(item.attributes), \(item.timestamp), \(item.hidden), \(vector), \(item.updated))
                    ON CONFLICT (id) DO UPDATE SET title = excluded.title, text = excluded.text, categories = excluded.categories,
                        attributes = excluded.attributes, timestamp = excluded.timestamp, hidden = excluded.hidden, vector = excluded.vector,
                        updated = excluded.updated
                    """, logger: logger)
                try await connection.query("DELETE FROM deleted_items WHERE id = \(item.id)", logger: logger)
            }
        }
    }

    public func item(_ id: String) async throws -> StoredItem? {
        try await items(client.query("""
            SELECT id, title, text, categories, attributes, timestamp, hidden, vector, updated FROM items WHERE id = \(id)
            """, logger: logger)).first
    }

    public func allItems() async throws -> [StoredItem] {
        try await items(client.query("""
            SELECT id, title, text, categories, attributes, timestamp, hidden, vector, updated FROM items ORDER BY id
            """, logger: logger))
    }

    /// The items of rows with the columns `item(_:)` selects, in order.
    private func items(_ rows: PostgresRowSequence) async throws -> [StoredItem] {
        var out: [StoredItem] = []
        for try await (id, title, text, categories, attributes, timestamp, hidden, vector, updated)
            in rows.decode((String, String?, String?, String, String, Double?, Bool, ByteBuffer?, Double).self) {
            let vectorValues: [Float]? = vector.map { buffer in buffer.readableBytesView.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }
            out.append(StoredItem(id: id, title: title, text: text, categories: try JSONDecoder().decode([String].self, from: Data(categories.utf8)),
                                  attributes: attributes, timestamp: timestamp, hidden: hidden, vector: vectorValues, updated: updated))
        }
        return out
    }

    public func deleteItem(_ id: String) async throws -> Bool {
        try await client.withTransaction(logger: logger) { connection in
            var existed = false
            for try await _ in try await connection.query("DELETE FROM items WHERE id = \(id) RETURNING id", logger: logger) { existed = true }
            try await connection.query("""
                INSERT INTO deleted_items (id, deleted) VALUES (\(id), \(Date().timeIntervalSince1970)) ON CONFLICT (id) DO NOTHING
                """, logger: logger)
            return existed
        }
    }

    public func excludedItems() async throws -> Set<String> {
        var result = Set<String>()
        for try await id in try await client.query("SELECT id FROM items WHERE hidden UNION SELECT id FROM deleted_items", logger: logger)
            .decode(String.self) {
            result.insert(id)
        }
        return result
    }

    public func itemCategories() async throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for try await (id, categories) in try await client.query("SELECT id, categories FROM items WHERE categories <> '[]'", logger: logger)
            .decode((String, String).self) {
            result[id] = try JSONDecoder().decode([String].self, from: Data(categories.utf8))
        }
        return result
    }

    // MARK: Feedback

    public func addFeedback(_ events: [FeedbackEvent]) async throws -> Int {
        // One statement for the batch; within a batch, the last of repeated events wins.
        var last: [String: Int] = [:]
        for (n, event) in events.enumerated() { last["\(event.user)\u{0}\(event.item)\u{0}\(event.event)\u{0}\(event.timestamp)"] = n }
        let kept = last.values.sorted().map { events[$0] }
        guard !kept.isEmpty else { return 0 }
        let users = kept.map(\.user), items = kept.map(\.item), types = kept.map(\.event), values = kept.map(\.value), times = kept.map(\.timestamp)
        var inserted = 0
        // A changed value takes a new sequence number (newer than the served model); a repeated
        // one changes nothing. Every user written gets the batch's latest number as version,
        // the rows taken in one order (by user) so that concurrent batches cannot deadlock.
        let rows = try await client.query("""
            WITH written AS (
                INSERT INTO feedback (user_id, item, event, value, timestamp)
                SELECT * FROM unnest(\(users)::text[], \(items)::text[], \(types)::text[], \(values)::float8[], \(times)::float8[])
                ON CONFLICT (user_id, item, event, timestamp) DO UPDATE SET value = excluded.value, seq = nextval(pg_get_serial_sequence('feedback', 'seq'))
                WHERE feedback.value IS DISTINCT FROM excluded.value
                RETURNING user_id, seq, (xmax = 0) AS new
            ), versions AS (
                INSERT INTO feedback_versions (user_id, version) SELECT user_id, max(seq) FROM written GROUP BY user_id ORDER BY user_id
                ON CONFLICT (user_id) DO UPDATE SET version = excluded.version
            )
            SELECT new FROM written
            """, logger: logger)
        for try await isNew in rows.decode(Bool.self) where isNew { inserted += 1 }
        return inserted
    }

    public func feedback(user: String) async throws -> [FeedbackEvent] {
        try await events(client.query("SELECT seq, user_id, item, event, value, timestamp FROM feedback WHERE user_id = \(user) ORDER BY seq",
                                      logger: logger))
    }

    public func history(user: String, after sequence: Int64, unlessAt known: FeedbackVersion?) async throws -> StoredHistory {
        // One round trip, one snapshot: the version and erasure flag ride on every row, or on a
        // lone row when there is no feedback to read or the caller holds this version already.
        let rows = try await client.query("""
            WITH state AS (
                SELECT COALESCE((SELECT version FROM feedback_versions WHERE user_id = \(user)), 0) AS version,
                       EXISTS (SELECT 1 FROM erasures WHERE user_id = \(user)) AS erased
            )
            SELECT f.seq, f.user_id, f.item, f.event, f.value, f.timestamp, state.version, state.erased
            FROM state LEFT JOIN feedback f ON f.user_id = \(user) AND f.seq > \(sequence)
                AND (state.version, state.erased) IS DISTINCT FROM (\(known?.latest)::bigint, \(known?.erased)::boolean)
            ORDER BY f.seq
            """, logger: logger)
        var result: [FeedbackEvent] = [], version = FeedbackVersion(latest: 0, erased: false)
        for try await (seq, id, item, event, value, timestamp, latest, erased) in rows.decode((Int64?, String?, String?, String?, Double?, Double?, Int64, Bool).self) {
            version = FeedbackVersion(latest: latest, erased: erased)
            guard let seq, let id, let item, let event, let value, let timestamp else { continue }
            var entry = FeedbackEvent(user: id, item: item, event: event, value: value, timestamp: timestamp)
            entry.sequence = seq
            result.append(entry)
        }
        return StoredHistory(feedback: version == known ? nil : result, version: version)
    }

    public func allFeedback() async throws -> [FeedbackEvent] {
        try await events(client.query("SELECT seq, user_id, item, event, value, timestamp FROM feedback ORDER BY seq", logger: logger))
    }

    func events(_ rows: PostgresRowSequence) async throws -> [FeedbackEvent] {
        var result: [FeedbackEvent] = []
        for try await (seq, user, item, event, value, timestamp) in rows.decode((Int64, String, String, String, Double, Double).self) {
            var entry = FeedbackEvent(user: user, item: item, event: event, value: value, timestamp: timestamp)
            entry.sequence = seq
            result.append(entry)
        }
        return result
    }

    // MARK: Erasure

    public func eraseUser(_ id: String, model: Erasure.ModelState, at time: Double) async throws -> Int {
        try await client.withTransaction(logger: logger) { connection in
            var removed = 0
            for try await _ in try await connection.query("DELETE FROM feedback WHERE user_id = \(id) RETURNING seq", logger: logger) { removed += 1 }
            try await connection.query("DELETE FROM feedback_versions WHERE user_id = \(id)", logger: logger)
            for try await _ in try await connection.query("DELETE FROM users WHERE id = \(id) RETURNING id", logger: logger) { removed += 1 }
            let done: Double? = model == .pendingRetrain ? nil : time
            try await connection.query("""
                INSERT INTO erasures (user_id, requested, rows_removed, model, model_done) VALUES (\(id), \(time), \(Int64(removed)), \(model.rawValue), \(done))
                ON CONFLICT (user_id) DO UPDATE SET requested = excluded.requested, rows_removed = erasures.rows_removed + excluded.rows_removed,
                    model = excluded.model, model_done = excluded.model_done
                """, logger: logger)
            try await connection.query("SELECT pg_notify('braid', \("erasure:" + id))", logger: logger)
            return removed
        }
    }

    public func erasure(_ user: String) async throws -> Erasure? {
        let rows = try await client.query("SELECT user_id, requested, rows_removed, model, model_done FROM erasures WHERE user_id = \(user)", logger: logger)
        for try await (user, requested, removed, model, done) in rows.decode((String, Double, Int64, String, Double?).self) {
            return Erasure(user: user, requested: requested, rowsRemoved: Int(removed), model: Erasure.ModelState(rawValue: model) ?? .pendingRetrain,
                           modelDone: done)
        }
        return nil
    }

    public func erasedUsers() async throws -> Set<String> {
        var result = Set<String>()
        for try await user in try await client.query("SELECT user_id FROM erasures", logger: logger).decode(String.self) { result.insert(user) }
        return result
    }

    public func markErasures(_ users: [String], as state: Erasure.ModelState, at time: Double) async throws {
        guard !users.isEmpty else { return }
        try await client.query("""
            UPDATE erasures SET model = \(state.rawValue), model_done = \(time) WHERE user_id = ANY(\(users)::text[])
            """, logger: logger)
    }

    // MARK: Keys

    public func addKey(hash: String, role: Role, name: String) async throws {
        try await client.query("""
            INSERT INTO api_keys (hash, role, name, created) VALUES (\(hash), \(role.rawValue), \(name), \(Date().timeIntervalSince1970))
            """, logger: logger)
    }

    public func role(forKeyHash hash: String) async throws -> Role? {
        for try await role in try await client.query("SELECT role FROM api_keys WHERE hash = \(hash)", logger: logger).decode(String.self) {
            return Role(rawValue: role)
        }
        return nil
    }

    public func keyCount() async throws -> Int {
        for try await count in try await client.query("SELECT COUNT(*) FROM api_keys", logger: logger).decode(Int64.self) { return Int(count) }
        return 0
    }

    public func counts() async throws -> [String: Int] {
        var result: [String: Int] = [:]
        for table in ["users", "items", "feedback", "erasures", "api_keys"] {
            for try await count in try await client.query(PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM \(table)"), logger: logger).decode(Int64.self) {
                result[table] = Int(count)
            }
        }
        return result
    }

    // MARK: Models and announcements

    public func publishModel(_ model: PublishedModel) async throws {
        try await client.withTransaction(logger: logger) { connection in
            let metrics = String(decoding: try JSONEncoder().encode(model.metrics), as: UTF8.self)
            try await connection.query("""
                INSERT INTO models (version, source, metrics, watermark, bytes, created)
                VALUES (\(Int64(model.version)), \(model.source), \(metrics), \(model.feedbackWatermark), \(ByteBuffer(bytes: model.bytes)), \(Date().timeIntervalSince1970))
                ON CONFLICT (version) DO NOTHING
                """, logger: logger)
            try await connection.query("DELETE FROM models WHERE version < \(Int64(model.version - 1))", logger: logger)
            try await connection.query("SELECT pg_notify('braid', \("model:\(model.version)"))", logger: logger)
        }
    }

    public func latestModel() async throws -> PublishedModel? {
        let rows = try await client.query("SELECT version, source, metrics, watermark, bytes FROM models ORDER BY version DESC LIMIT 1", logger: logger)
        for try await (version, source, metrics, watermark, bytes) in rows.decode((Int64, String, String, Int64, ByteBuffer).self) {
            return PublishedModel(version: Int(version), source: source, metrics: try JSONDecoder().decode([String: Double].self, from: Data(metrics.utf8)),
                                  feedbackWatermark: watermark, bytes: Data(bytes.readableBytesView))
        }
        return nil
    }

    public func latestModelVersion() async throws -> Int? {
        for try await (version) in try await client.query("SELECT max(version) FROM models", logger: logger).decode((Int64?).self) {
            return version.map(Int.init)
        }
        return nil
    }

    public func announcements() -> AsyncStream<StoreAnnouncement> {
        AsyncStream { continuation in
            let task = Task { [client, logger] in
                while !Task.isCancelled {
                    do {
                        try await client.withConnection { connection in
                            try await connection.listen(on: "braid") { notifications in
                                for try await notification in notifications {
                                    if let announcement = StoreAnnouncement(notification.payload) { continuation.yield(announcement) }
                                }
                            }
                        }
                    } catch {
                        logger.warning("LISTEN braid failed, retrying: \(error)")
                        try? await Task.sleep(for: .seconds(1))
                    }
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
