import BraidStore
import BraidTestSupport
import Foundation
import Testing

/// The same contract over both stores: SQLite (embedded) and PostgreSQL (a cluster the test
/// starts on loopback).
@Suite struct StoreTests {
    enum Kind: String, CaseIterable, CustomStringConvertible {
        case sqlite, postgres
        var description: String { rawValue }
    }

    static func open(_ kind: Kind) async throws -> any Store {
        switch kind {
        case .sqlite: try SQLiteStore(path: Fixtures.temporaryDirectory() + "/store.sqlite")
        case .postgres: try await PostgresStore(address: try PostgresCluster.shared.get().newDatabase())
        }
    }

    /// A store in a directory that does not exist names the directory, not only SQLite's
    /// "unable to open database file".
    @Test func aStoreInAMissingDirectoryNamesIt() throws {
        let path = Fixtures.temporaryDirectory() + "/missing/store.sqlite"
        do {
            _ = try SQLiteStore(path: path)
            Issue.record("opened a store in a missing directory")
        } catch {
            #expect("\(error)".contains("the directory \"\((path as NSString).deletingLastPathComponent)\" does not exist"), "\(error)")
        }
    }

    @Test(arguments: Kind.allCases)
    func feedbackIsIdempotentAndOrdered(kind: Kind) async throws {
        try #require(kind == .sqlite || PostgresCluster.available, "PostgreSQL: \(PostgresCluster.shared)")
        let store = try await Self.open(kind)
        let events = [FeedbackEvent(user: "a", item: "x", value: 1, timestamp: 10), FeedbackEvent(user: "a", item: "y", value: 2, timestamp: 11),
                      FeedbackEvent(user: "b", item: "x", event: "view", value: 1, timestamp: 10)]
        #expect(try await store.addFeedback(events) == 3)
        let before = try await store.feedback(user: "a")
        #expect(before.map(\.item) == ["x", "y"] && before[0].sequence < before[1].sequence)
        #expect(try await store.addFeedback([events[0], events[2]]) == 0, "a retried event replaces, never adds")
        #expect(try await store.feedback(user: "a") == before, "the same value again changes nothing")
        var retry = events[0]
        retry.value = 5
        #expect(try await store.addFeedback([retry, events[2]]) == 0)
        // A changed value is written anew: newer than anything before it.
        let a = try await store.feedback(user: "a")
        #expect(a.map(\.item) == ["y", "x"] && a[1].value == 5 && a[1].sequence > before[1].sequence && a[0] == before[1])
        // What a list reads: only what the served model has not seen, a value replaced since included.
        let all = try await store.history(user: "a", after: 0)
        #expect(all.feedback.map(\.sequence) == a.map(\.sequence) && !all.erased)
        let newer = try await store.history(user: "a", after: before[1].sequence)
        #expect(newer.feedback.map(\.item) == ["x"] && newer.feedback[0].value == 5 && newer.feedback[0].timestamp == 10)
        #expect(try await store.history(user: "a", after: a[1].sequence).feedback.isEmpty)
        #expect(try await store.allFeedback().count == 3)
        #expect(try await store.counts()["feedback"] == 3)
    }

    /// A list keeps a user's history while the store's version of their feedback stays; every
    /// change moves it, and a version never comes back with other content.
    @Test(arguments: Kind.allCases)
    func feedbackVersionsMoveWithEveryChange(kind: Kind) async throws {
        try #require(kind == .sqlite || PostgresCluster.available, "PostgreSQL: \(PostgresCluster.shared)")
        let store = try await Self.open(kind)
        @Sendable func read(_ known: FeedbackVersion?) async throws -> StoredHistory { try await store.history(user: "a", after: 0, unlessAt: known) }
        let none = try await read(nil)
        #expect(none.feedback == [] && none.version == FeedbackVersion(latest: 0, erased: false))
        #expect(try await read(none.version).feedback == nil, "held already: not read")

        _ = try await store.addFeedback([FeedbackEvent(user: "a", item: "x", value: 1, timestamp: 10), FeedbackEvent(user: "a", item: "y", value: 2, timestamp: 11)])
        let added = try await read(none.version)
        #expect(added.feedback?.map(\.item) == ["x", "y"] && added.version != none.version)
        #expect(try await read(added.version).feedback == nil)
        // Another user's feedback and a repeated value leave it.
        _ = try await store.addFeedback([FeedbackEvent(user: "b", item: "x", value: 1, timestamp: 10), FeedbackEvent(user: "a", item: "x", value: 1, timestamp: 10)])
        #expect(try await read(added.version).feedback == nil)
        // A new event, and a changed value, move it.
        _ = try await store.addFeedback([FeedbackEvent(user: "a", item: "z", value: 1, timestamp: 12)])
        let third = try await read(added.version)
        #expect(third.feedback?.count == 3 && third.version != added.version)
        _ = try await store.addFeedback([FeedbackEvent(user: "a", item: "x", value: 4, timestamp: 10)])
        let replaced = try await read(third.version)
        #expect(replaced.feedback?.map(\.item) == ["y", "z", "x"] && replaced.feedback?.last?.value == 4)
        #expect(![none.version, added.version, third.version].contains(replaced.version))
        // Erased: the version says so; new feedback after it moves it again.
        _ = try await store.eraseUser("a", model: .pendingRetrain, at: 100)
        let erased = try await read(replaced.version)
        #expect(erased.feedback == [] && erased.version.erased && erased.version != replaced.version)
        _ = try await store.addFeedback([FeedbackEvent(user: "a", item: "y", value: 1, timestamp: 20)])
        let after = try await read(erased.version)
        #expect(after.feedback?.map(\.item) == ["y"] && after.version.erased && after.version != erased.version)
        #expect(try await read(after.version).feedback == nil)
        #expect(try await store.history(user: "b", after: 0, unlessAt: after.version).feedback?.count == 1, "b's version is b's own")
    }

    @Test(arguments: Kind.allCases)
    func erasureRemovesEveryRowInOneGo(kind: Kind) async throws {
        try #require(kind == .sqlite || PostgresCluster.available, "PostgreSQL: \(PostgresCluster.shared)")
        let store = try await Self.open(kind)
        try await store.upsertUsers([StoredUser(id: "c", attributes: #"{"plan": "pro"}"#, updated: 5), StoredUser(id: "a", attributes: #"{"age": 30}"#, updated: 6)])
        #expect(try await store.allUsers() == [StoredUser(id: "a", attributes: #"{"age": 30}"#, updated: 6), StoredUser(id: "c", attributes: #"{"plan": "pro"}"#, updated: 5)])
        _ = try await store.addFeedback([FeedbackEvent(user: "a", item: "x", timestamp: 1), FeedbackEvent(user: "a", item: "y", timestamp: 2),
                                         FeedbackEvent(user: "b", item: "x", timestamp: 1)])
        #expect(try await store.eraseUser("a", model: .pendingRetrain, at: 100) == 3)
        #expect(try await store.feedback(user: "a").isEmpty)
        let history = try await store.history(user: "a", after: 0)
        #expect(history.feedback.isEmpty && history.erased)
        #expect(try await store.history(user: "b", after: 0).erased == false)
        #expect(try await store.user("a") == nil)
        #expect(try await store.allUsers().map(\.id) == ["c"])
        #expect(try await store.feedback(user: "b").count == 1)
        #expect(try await store.erasure("a")?.model == .pendingRetrain)
        try await store.markErasures(["a"], as: .retrained, at: 200)
        let erasure = try await store.erasure("a")
        #expect(erasure?.model == .retrained && erasure?.modelDone == 200)
        #expect(try await store.erasedUsers() == ["a"])
    }

    @Test(arguments: Kind.allCases)
    func itemsKeysAndModels(kind: Kind) async throws {
        try #require(kind == .sqlite || PostgresCluster.available, "PostgreSQL: \(PostgresCluster.shared)")
        let store = try await Self.open(kind)
        let item = StoredItem(id: "x", title: "X", text: "about x", categories: ["c"], attributes: "{}", timestamp: 5, hidden: false,
                              vector: [1, -2.5], updated: 7)
        try await store.upsertItems([item, StoredItem(id: "y", hidden: true, updated: 7)])
        #expect(try await store.item("x") == item)
        #expect(try await store.allItems() == [item, StoredItem(id: "y", hidden: true, updated: 7)])
        #expect(try await store.excludedItems() == ["y"])
        #expect(try await store.deleteItem("x") == true)
        #expect(try await store.deleteItem("never") == false)
        #expect(try await store.allItems().map(\.id) == ["y"])
        #expect(try await store.excludedItems() == ["x", "y", "never"])
        #expect(try await store.itemCategories().isEmpty)
        #expect(try await store.keyCount() == 0)
        #expect(try await store.latestModelVersion() == nil)
        try await store.addKey(hash: APIKeys.hash("k"), role: .write, name: "")
        #expect(try await store.role(forKeyHash: APIKeys.hash("k")) == .write)
        #expect(try await store.role(forKeyHash: APIKeys.hash("other")) == nil)
        for version in 1...3 {
            try await store.publishModel(PublishedModel(version: version, source: "v\(version)", metrics: ["ndcg@10": 0.3], feedbackWatermark: 9,
                                                        bytes: Data(repeating: UInt8(version), count: 1000)))
        }
        #expect(try await store.latestModelVersion() == 3)
        if let sqlite = store as? SQLiteStore {
            // A published model file leaves SQLite's write-ahead log emptied, not holding it.
            let log = try FileManager.default.attributesOfItem(atPath: sqlite.path + "-wal")[.size] as? Int
            #expect(log == 0)
        }
        let latest = try #require(try await store.latestModel())
        #expect(latest.version == 3 && latest.bytes == Data(repeating: 3, count: 1000) && latest.metrics == ["ndcg@10": 0.3])
    }

    /// PostgreSQL announces model versions and erasures to every store on the database.
    @Test(.enabled(if: PostgresCluster.available, "needs PostgreSQL"))
    func postgresAnnouncesToOtherServers() async throws {
        let address = try PostgresCluster.shared.get().newDatabase()
        let first = try await PostgresStore(address: address), second = try await PostgresStore(address: address)
        let received = Task {
            var seen: [StoreAnnouncement] = []
            for await announcement in second.announcements() {
                seen.append(announcement)
                if seen.count == 2 { break }
            }
            return seen
        }
        try await Task.sleep(for: .milliseconds(300))  // LISTEN is in place
        try await first.publishModel(PublishedModel(version: 4, source: "", metrics: [:], feedbackWatermark: 0, bytes: Data([1])))
        _ = try await first.eraseUser("someone", model: .pendingRetrain, at: 1)
        let seen = try await withThrowingTaskGroup(of: [StoreAnnouncement].self) { group in
            group.addTask { await received.value }
            group.addTask { try await Task.sleep(for: .seconds(10)); return [] }
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
        #expect(seen == [.model(version: 4), .erasure(user: "someone")])
    }
}
