import BraidCore
import BraidModels
@testable import BraidServer
import BraidStore
import BraidTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The HTTP API driven in-process (Hummingbird's router test client) over a real SQLite store.
@Suite struct ServerTests {
    /// A server over EASE (λ = 1) fitted on 30 users × 25 items, with a fresh store.
    static func server(limits: Limits = Limits(), model: (any RecommendationModel)? = nil,
                       feedback: FeedbackPolicy = FeedbackPolicy(), historyLimit: Int? = 500,
                       historyPrior: HistoryPrior = .off, textEmbedder: (any TextEmbedder)? = nil) throws -> (RecommendationServer, InteractionMatrix) {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let fitted = try model ?? EASE(fitting: data, configuration: EASE.Configuration(parameters: ModelParameters(["lambda": "1"])))
        let store = try SQLiteStore(path: Fixtures.temporaryDirectory() + "/store.sqlite")
        var configuration = RecommendationServer.Configuration()
        configuration.allowAnonymous = true
        configuration.limits = limits
        configuration.feedback = feedback
        configuration.historyLimit = historyLimit
        configuration.historyPrior = historyPrior
        configuration.textEmbedder = textEmbedder
        return (RecommendationServer(store: store, model: ServedModel(model: fitted, version: 1, source: "test"), configuration: configuration), data)
    }

    static func run<T: Sendable>(_ server: RecommendationServer, _ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await Application(router: server.router()).test(.router, body)
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any], "\(String(buffer: response.body))")
    }

    static func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    /// The value of an unlabelled metric in `/metrics`' text.
    static func metric(_ text: String, _ name: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }

    static func items(_ response: TestResponse) throws -> [(item: String, score: Double)] {
        try (json(response)["items"] as? [[String: Any]] ?? []).map { ($0["item"] as! String, $0["score"] as! Double) }
    }

    @Test func feedbackChangesTheNextListAtOnce() async throws {
        let (server, data) = try Self.server()
        let user = data.users[0]
        try await Self.run(server) { client in
            let before = try Self.items(try await client.execute(uri: "/users/\(user)/recommendations?n=5", method: .get))
            #expect(before.count == 5)
            let top = before[0].item
            let posted = try await client.execute(uri: "/feedback", method: .post,
                                                  body: Self.body(#"{"feedback": [{"user": "\#(user)", "item": "\#(top)", "value": 5, "timestamp": 1700000000}]}"#))
            #expect(posted.status == .ok)
            #expect(try Self.json(posted)["new"] as? Int == 1)
            // A retry of the same event replaces it instead of adding a row.
            let retried = try await client.execute(uri: "/feedback", method: .post,
                                                   body: Self.body(#"{"feedback": [{"user": "\#(user)", "item": "\#(top)", "value": 5, "timestamp": "2023-11-14T22:13:20Z"}]}"#))
            #expect(try Self.json(retried)["replaced"] as? Int == 1)
            let after = try await client.execute(uri: "/users/\(user)/recommendations?n=5", method: .get)
            #expect(try Self.json(after)["method"] as? String == "fold-in")
            let list = try Self.items(after)
            #expect(!list.contains { $0.item == top }, "the item just interacted with is not recommended again")
            // The served scores are EASE's for the history with the new item added.
            let model = server.slot.served.model
            var history = Array(data.items(ofUser: 0)), values = Array(data.byUser.values(ofRow: 0))
            history.append(data.items.index(of: top)!)
            values.append(5)
            let expected = try model.scores(forHistory: history, values: values)
            for entry in list { #expect(abs(entry.score - Double(expected[Int(data.items.index(of: entry.item)!)])) < 1e-5) }
        }
        #expect(try await server.store.feedback(user: data.users[0]).count == 1)
    }

    /// A user's history is kept between their lists and follows every change the store sees:
    /// feedback through this server, feedback written to the store by another (as a replica
    /// sharing PostgreSQL does), a replaced value, an erasure. Each list equals EASE's scores
    /// for the history at that moment, and `/metrics` counts which lists read the store.
    @Test func keptHistoriesFollowEveryChangeInTheStore() async throws {
        let (server, data) = try Self.server()
        let user = data.users[0]
        try await Self.run(server) { client in
            @Sendable func list() async throws -> (method: String?, items: [(item: String, score: Double)]) {
                let response = try await client.execute(uri: "/users/\(user)/recommendations?n=5", method: .get)
                return (try Self.json(response)["method"] as? String, try Self.items(response))
            }
            @Sendable func counted() async throws -> (hits: Int, reads: Int, users: Int) {
                let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
                func value(_ name: String) -> Int { Self.metric(text, name).map { Int($0) } ?? -1 }
                return (value("braid_history_cache_hits_total"), value("braid_history_reads_total"), value("braid_history_cache_users"))
            }
            @Sendable func expectScores(_ list: [(item: String, score: Double)], extra: [(item: String, value: Float)]) throws {
                var history = Array(data.items(ofUser: 0)), values = Array(data.byUser.values(ofRow: 0))
                for (item, value) in extra {
                    let index = try #require(data.items.index(of: item))
                    if let k = history.firstIndex(of: index) { history.remove(at: k); values.remove(at: k) }
                    history.append(index)
                    values.append(value)
                }
                let expected = try server.slot.served.model.scores(forHistory: history, values: values)
                #expect(list.count == 5)
                for entry in list { #expect(abs(entry.score - Double(expected[Int(data.items.index(of: entry.item)!)])) < 1e-5) }
            }
            let first = try await list()
            #expect(first.method == "trained")
            let again = try await list()
            #expect(again.items.map(\.item) == first.items.map(\.item) && again.items.map(\.score) == first.items.map(\.score))
            var count = try await counted()
            #expect(count.hits == 1 && count.reads == 1 && count.users == 1)

            // Feedback through this server.
            let top = first.items[0].item, second = first.items[1].item
            _ = try await client.execute(uri: "/feedback", method: .post,
                                         body: Self.body(#"{"feedback": [{"user": "\#(user)", "item": "\#(top)", "value": 5, "timestamp": 100}]}"#))
            let folded = try await list()
            #expect(folded.method == "fold-in" && !folded.items.contains { $0.item == top })
            try expectScores(folded.items, extra: [(top, 5)])
            _ = try await list()
            count = try await counted()
            #expect(count.hits == 2 && count.reads == 2)

            // Feedback another server wrote to the shared store, and a value replaced there.
            _ = try await server.store.addFeedback([FeedbackEvent(user: user, item: second, value: 4, timestamp: 200)])
            try expectScores(try await list().items, extra: [(top, 5), (second, 4)])
            _ = try await server.store.addFeedback([FeedbackEvent(user: user, item: top, value: 2, timestamp: 100)])
            try expectScores(try await list().items, extra: [(second, 4), (top, 2)])
            // The same value again changes nothing: the kept history serves.
            _ = try await server.store.addFeedback([FeedbackEvent(user: user, item: top, value: 2, timestamp: 100)])
            try expectScores(try await list().items, extra: [(second, 4), (top, 2)])
            count = try await counted()
            #expect(count.hits == 3 && count.reads == 4)

            // Erased: nothing of theirs stays kept, and their next list is not theirs.
            _ = try await client.execute(uri: "/users/\(user)", method: .delete)
            #expect(try await counted().users == 0)
            #expect(try await list().method == "popular")
        }
    }

    /// A list chosen from the best items kept with a user's history is the list scoring again
    /// gives: the same items, scores and method as a server that keeps nothing, over the same
    /// store, for lists shorter and longer than what is kept, exclusions, a category, hidden
    /// and deleted items, and feedback written to the store.
    @Test func keptListsEqualScoredLists() async throws {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let model = try EASE(fitting: data, configuration: EASE.Configuration(parameters: ModelParameters(["lambda": "1"])))
        let store = try SQLiteStore(path: Fixtures.temporaryDirectory() + "/store.sqlite")
        func server(keeping users: Int) -> RecommendationServer {
            var configuration = RecommendationServer.Configuration()
            configuration.allowAnonymous = true
            configuration.historyCache = users
            configuration.keptListLength = 4
            return RecommendationServer(store: store, model: ServedModel(model: model, version: 1, source: "test"), configuration: configuration)
        }
        let keeping = server(keeping: 100), scoring = server(keeping: 0)
        let users = (0..<4).map { data.users[$0] }
        try await Self.run(keeping) { a in
            try await Self.run(scoring) { b in
                @Sendable func compare(_ queries: [String]) async throws {
                    for user in users {
                        for query in queries {
                            let uri = "/users/\(user)/recommendations?\(query)"
                            let expected = try Self.json(try await b.execute(uri: uri, method: .get))
                            // Scored and kept, then chosen from what was kept.
                            for _ in 0..<2 {
                                let answer = try Self.json(try await a.execute(uri: uri, method: .get))
                                #expect(answer["method"] as? String == expected["method"] as? String, "\(uri)")
                                let got = (answer["items"] as? [[String: Any]] ?? []).map { "\($0["item"]!) \($0["score"]!)" }
                                let want = (expected["items"] as? [[String: Any]] ?? []).map { "\($0["item"]!) \($0["score"]!)" }
                                #expect(got == want, "\(uri)")
                            }
                        }
                    }
                }
                @Sendable func both(_ uri: String, _ method: HTTPRequest.Method, _ body: String? = nil) async throws {
                    for client in [a, b] {
                        #expect(try await client.execute(uri: uri, method: method, body: body.map(Self.body)).status == .ok)
                    }
                }
                let top = try Self.items(try await b.execute(uri: "/users/\(users[0])/recommendations?n=6", method: .get)).map(\.item)
                let queries = ["n=3", "n=4", "n=7", "n=3&exclude=\(top[0]),\(top[2])", "n=6&exclude=\(top[1])", "n=2&category=x", "n=5&category=x"]
                try await compare(queries)
                // Their best items hidden, deleted and put in a category.
                try await both("/items", .post, #"{"items": [{"id": "\#(top[0])", "categories": ["x"], "hidden": true}, {"id": "\#(top[3])", "categories": ["x"]}, {"id": "\#(top[5])", "categories": ["x"]}]}"#)
                try await both("/items/\(top[1])", .delete)
                try await compare(queries)
                // Feedback another server wrote.
                _ = try await store.addFeedback([FeedbackEvent(user: users[0], item: top[4], value: 5, timestamp: 100),
                                                 FeedbackEvent(user: users[1], item: top[3], value: 1, timestamp: 100)])
                try await compare(queries)
                let metrics = String(buffer: try await a.execute(uri: "/metrics", method: .get).body)
                let hits = Self.metric(metrics, "braid_list_cache_hits_total")
                // At least, in each of the 3 rounds, each user's second list of the 4 queries the kept
                // items always suffice for (n = 3, 4, and the two with exclusions); 91 of the 168 lists here.
                #expect((hits ?? 0) >= 3 * 4 * 4, "\(metrics.prefix(2000))")
            }
        }
    }

    /// A list after feedback updates the user's kept sums by the items that came and went
    /// (EASE, item kNN, RP3beta: their scores; ALS: its fold-in's system): every list equals the
    /// one a server keeping no sums gives, as the history slides past the limit, an item's value
    /// is replaced and an event falls below the threshold, and `/metrics` counts the updated lists.
    /// The fusion keeps its summed members' (EASE, item kNN, ALS and, as the data has
    /// timestamps, `adjacency`) and asks the others (popularity, `adjacency(half-life=10)`).
    @Test(arguments: ["ease", "itemknn", "rp3beta", "als", "fusion"])
    func keptScoresFollowTheHistory(name: String) async throws {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let parameters = switch name {
        case "ease": ["lambda": "1"]
        case "als": ["factors": "4", "iterations": "5"]
        case "fusion": ["members": "ease(lambda=1)+itemknn+als(factors=4,iterations=5)+pop", "candidates": "8", "trees": "10", "min-leaf": "2",
                        "holdout": "0.3"]
        default: [String: String]()
        }
        let model = try ModelRegistry.fit(name, parameters: ModelParameters(parameters), data: data)
        #expect(model.scoresHistoryBySum == (name != "fusion"))
        #expect(name != "fusion" || model.historyParts.filter(\.scoresHistoryBySum).count == 4)
        let store = try SQLiteStore(path: Fixtures.temporaryDirectory() + "/store.sqlite")
        func server(scoreBytes: Int) -> RecommendationServer {
            var configuration = RecommendationServer.Configuration()
            configuration.allowAnonymous = true
            configuration.historyLimit = 8
            configuration.scoreCacheBytes = scoreBytes
            configuration.feedback = FeedbackPolicy(threshold: 2)
            return RecommendationServer(store: store, model: ServedModel(model: model, version: 1, source: "test"), configuration: configuration)
        }
        let keeping = server(scoreBytes: 1 << 20), scoring = server(scoreBytes: 0)
        let user = data.users[3], row = data.items(ofUser: 3)
        let fresh = (0..<data.itemCount).filter { !row.contains(Int32($0)) }.map { data.items[$0] }
        // (item, value): new items past the limit of 8, a value replaced, one below the threshold of 2.
        let events: [(String, Double)] = [(fresh[0], 5), (fresh[1], 3), (fresh[2], 4), (fresh[3], 5), (fresh[1], 1.5), (fresh[4], 2),
                                          (fresh[0], 4), (fresh[5], 5), (fresh[6], 3), (fresh[7], 4), (fresh[8], 5), (fresh[9], 1)]
        try await Self.run(keeping) { a in
            try await Self.run(scoring) { b in
                @Sendable func compare(_ context: String) async throws {
                    let uri = "/users/\(user)/recommendations?n=8"
                    let got = try Self.items(try await a.execute(uri: uri, method: .get)), want = try Self.items(try await b.execute(uri: uri, method: .get))
                    // The same scores in the same order; items may trade places only within float rounding of a tie.
                    func close(_ x: Double, _ y: Double) -> Bool { abs(x - y) <= 1e-5 * max(1, abs(y)) }
                    #expect(got.count == want.count && zip(got, want).allSatisfy { close($0.score, $1.score) }, "\(name), \(context): \(got) vs \(want)")
                    let wanted = Dictionary(uniqueKeysWithValues: want.map { ($0.item, $0.score) })
                    for (item, score) in got { #expect(wanted[item].map { close(score, $0) } ?? true, "\(name), \(context): \(item)") }
                }
                try await compare("the training row")
                for (k, (item, value)) in events.enumerated() {
                    let posted = try await a.execute(uri: "/feedback", method: .post, body: Self.body(
                        #"{"feedback": [{"user": "\#(user)", "item": "\#(item)", "value": \#(value), "timestamp": \#(1_700_000_000 + k)}]}"#))
                    #expect(posted.status == .ok)
                    try await compare("after event \(k)")
                }
                let metrics = String(buffer: try await a.execute(uri: "/metrics", method: .get).body)
                // Each new item past the limit adds one term and takes one away: 2 of 8 changed.
                #expect((Self.metric(metrics, "braid_score_cache_updates_total") ?? 0) >= 6, "\(metrics.prefix(1500))")
                #expect(Self.metric(String(buffer: try await b.execute(uri: "/metrics", method: .get).body), "braid_score_cache_updates_total") == 0)
            }
        }
    }

    /// User kNN folds in a training user's fresh feedback with the user's own older row left out
    /// of their neighbours: the served scores are `scores(forHistory:values:trainedUser:)`'s,
    /// which differ from the same history scored as anyone's.
    @Test func userKNNFoldsInFeedbackWithoutTheUsersOwnRow() async throws {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let model = try UserKNN(fitting: data, configuration: try .init(parameters: ModelParameters(["neighbors": "5"])))
        let (server, _) = try Self.server(model: model)
        let item = try #require((0..<Int32(data.itemCount)).first { !data.items(ofUser: 2).contains($0) })
        try await Self.run(server) { client in
            let posted = try await client.execute(uri: "/feedback", method: .post, body: Self.body(
                #"{"feedback": [{"user": "\#(data.users[2])", "item": "\#(data.items[Int(item)])", "value": 5, "timestamp": 1700000000}]}"#))
            #expect(posted.status == .ok)
            let after = try await client.execute(uri: "/users/\(data.users[2])/recommendations?n=5", method: .get)
            #expect(try Self.json(after)["method"] as? String == "fold-in")
            let history = Array(data.items(ofUser: 2)) + [item], values = Array(data.byUser.values(ofRow: 2)) + [5]
            let expected = try model.scores(forHistory: history, values: values, trainedUser: 2)
            let list = try Self.items(after)
            #expect(list.count == 5)
            for entry in list { #expect(abs(entry.score - Double(expected[Int(data.items.index(of: entry.item)!)])) < 1e-5) }
            #expect(try model.scores(forHistory: history, values: values) != expected)
        }
    }

    /// A list scores only the user's latest `historyLimit` interactions (in time), folded in,
    /// while every item they interacted with stays out of it; without a limit the training row
    /// is served as trained.
    @Test func aLongHistoryIsScoredFromItsLatestInteractions() async throws {
        let (limited, data) = try Self.server(historyLimit: 3)
        let (unlimited, _) = try Self.server(model: limited.slot.served.model, historyLimit: nil)
        let model = limited.slot.served.model
        // The fixture's timestamps put a user's items in index order.
        let row = Array(data.items(ofUser: 0)), values = Array(data.byUser.values(ofRow: 0))
        try #require(row.count == 6)
        let user = data.users[0]
        let new = try #require((0..<Int32(data.itemCount)).first { !row.contains($0) })
        try await Self.run(limited) { client in
            let listed = try await client.execute(uri: "/users/\(user)/recommendations?n=10", method: .get)
            #expect(try Self.json(listed)["method"] as? String == "fold-in")
            let expected = try model.scores(forHistory: Array(row.suffix(3)), values: Array(values.suffix(3)), trainedUser: 0)
            #expect(expected != model.scores(forUser: 0))
            let list = try Self.items(listed)
            #expect(list.count == 10)
            for entry in list {
                let item = try #require(data.items.index(of: entry.item))
                #expect(!row.contains(item), "an interaction older than the limit is still seen")
                #expect(abs(entry.score - Double(expected[Int(item)])) < 1e-5)
            }
            // Feedback is the latest: it and the row's two latest items are scored.
            let posted = try await client.execute(uri: "/feedback", method: .post,
                                                  body: Self.body(#"{"feedback": [{"user": "\#(user)", "item": "\#(data.items[Int(new)])", "value": 4}]}"#))
            #expect(posted.status == .ok)
            let after = try Self.items(try await client.execute(uri: "/users/\(user)/recommendations?n=10", method: .get))
            let folded = try model.scores(forHistory: Array(row.suffix(2)) + [new], values: Array(values.suffix(2)) + [4], trainedUser: 0)
            #expect(after.count == 10)
            for entry in after {
                let item = try #require(data.items.index(of: entry.item))
                #expect(!row.contains(item) && item != new)
                #expect(abs(entry.score - Double(folded[Int(item)])) < 1e-5)
            }
        }
        try await Self.run(unlimited) { client in
            let listed = try await client.execute(uri: "/users/\(user)/recommendations?n=10", method: .get)
            #expect(try Self.json(listed)["method"] as? String == "trained")
            let expected = model.scores(forUser: 0)
            for entry in try Self.items(listed) { #expect(abs(entry.score - Double(expected[Int(data.items.index(of: entry.item)!)])) < 1e-5) }
        }
    }

    /// An item the user rated below the threshold is seen: never listed to them, whether the
    /// rating came with the training data or as feedback the threshold drops; a retrain keeps
    /// both set aside.
    @Test func itemsRatedBelowTheThresholdAreNeverListed() async throws {
        let trained = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let configuration = try EASE.Configuration(parameters: ModelParameters(["lambda": "1"]))
        let top = try EASE(fitting: trained, configuration: configuration).recommend(userIndex: 0, count: 2).map(\.index)
        var low = InteractionTable(users: trained.users, items: trained.items)
        low.append(user: 0, item: top[0], value: 2)
        let (server, _) = try Self.server(model: try EASE(fitting: trained.settingAside(low), configuration: configuration),
                                          feedback: FeedbackPolicy(threshold: 4))
        let user = trained.users[0], (first, second) = (trained.items[top[0]], trained.items[top[1]])
        try await Self.run(server) { client in
            let listed = { try Self.items(try await client.execute(uri: "/users/\(user)/recommendations?n=5", method: .get)).map(\.item) }
            let before = try await listed()
            #expect(!before.contains(first) && before.first == second, "the training data's 2★ item is left out, the next best leads")
            let posted = try await client.execute(uri: "/feedback", method: .post,
                                                  body: Self.body(#"{"feedback": [{"user": "\#(user)", "item": "\#(second)", "value": 1}, {"user": "stranger", "item": "\#(first)", "value": 2}]}"#))
            #expect(posted.status == .ok)
            let after = try await listed()
            #expect(after.count == 5 && !after.contains(first) && !after.contains(second), "the 1★ feedback is seen at once")
            #expect(try await client.execute(uri: "/models/retrain", method: .post).status == .ok)
            #expect(server.slot.served.version == 2)
            let retrained = server.slot.served.model.data
            #expect(retrained.seenItems(ofUser: 0).count == trained.items(ofUser: 0).count + 2)
            #expect(retrained.interactionCount == trained.interactionCount, "no low rating is trained on")
            #expect(retrained.users.count == trained.users.count + 1 && retrained.users.index(of: "stranger") != nil)
            let again = try await listed()
            #expect(!again.contains(first) && !again.contains(second))
            // A new user whose only event fell below the threshold is known after the retrain.
            let stranger = try await client.execute(uri: "/users/stranger/recommendations?n=20", method: .get)
            #expect(try Self.json(stranger)["method"] as? String == "popular")
            #expect(try Self.items(stranger).count == 20 && !(try Self.items(stranger).contains { $0.item == first }))
        }
    }

    /// An event sent without a value is an interaction, a positive: on a model served with a
    /// threshold of 4 it takes the least value the threshold keeps for its type (4, and 8 for a
    /// click weighted 0.5), so a session or a new user's feedback of bare items folds them in (it
    /// had been read as a 1★ rating and dropped: the session got the popular list).
    @Test func eventsWithoutAValueArePositives() async throws {
        let policy = FeedbackPolicy(eventWeights: ["click": 0.5], threshold: 4)
        #expect(policy.unsentValue(event: "rating") == 4 && policy.unsentValue(event: "click") == 8)
        #expect(FeedbackPolicy().unsentValue(event: "rating") == 1 && FeedbackPolicy(threshold: 0.5).unsentValue(event: "rating") == 1)
        #expect(FeedbackPolicy(eventWeights: ["skip": 0], threshold: 4).unsentValue(event: "skip") == 1)
        let (server, data) = try Self.server(feedback: policy)
        let (a, b) = (data.items[0], data.items[1])
        try await Self.run(server) { client in
            let session = try Self.json(try await client.execute(uri: "/recommendations", method: .post,
                                                                 body: Self.body(#"{"history": [{"item": "\#(a)"}, {"item": "\#(b)", "event": "click"}], "n": 5}"#)))
            #expect(session["method"] as? String == "fold-in", "\(session)")
            let listed = (session["items"] as? [[String: Any]] ?? []).compactMap { $0["item"] as? String }
            #expect(listed.count == 5 && !listed.contains(a) && !listed.contains(b))
            let low = try Self.json(try await client.execute(uri: "/recommendations", method: .post, body: Self.body(#"{"history": [{"item": "\#(a)", "value": 1}]}"#)))
            #expect(low["method"] as? String == "popular", "an explicit 1★ stays below the threshold")
            _ = try await client.execute(uri: "/feedback", method: .post, body: Self.body(#"{"feedback": [{"user": "new", "item": "\#(a)", "event": "click"}]}"#))
            let user = try Self.json(try await client.execute(uri: "/users/new/recommendations?n=5", method: .get))
            #expect(user["method"] as? String == "fold-in", "\(user)")
        }
        #expect(try await server.store.allFeedback().map(\.value) == [8])
    }

    /// A user whose every rating fell below the threshold is known but has no training row:
    /// served popular items, less the ones they rated.
    @Test func aUserWithOnlyLowRatingsGetsPopularItemsTheyHaveNotRated() async throws {
        var table = InteractionTable()
        for user in ["u0", "u1", "u2", "u3"] { table.append(Interaction(user: user, item: "i0", value: 5)) }
        for user in ["u0", "u1"] { table.append(Interaction(user: user, item: "i1", value: 5)) }
        table.append(Interaction(user: "u2", item: "i2", value: 4))
        table.append(Interaction(user: "lonely", item: "i0", value: 1))
        let data = InteractionMatrix(table.positives(threshold: 4)).settingAside(table.below(threshold: 4))
        let (server, _) = try Self.server(model: try ModelRegistry.fit("pop", data: data), feedback: FeedbackPolicy(threshold: 4))
        try await Self.run(server) { client in
            let response = try await client.execute(uri: "/users/lonely/recommendations?n=2", method: .get)
            #expect(try Self.json(response)["method"] as? String == "popular")
            #expect(try Self.items(response).map(\.item) == ["i1", "i2"], "i0 is the most popular, but lonely rated it 1★")
        }
    }

    /// `explain=true` on a linear fusion: every listed item carries its members' scores and
    /// the ranker's contributions, which add up to the served score. The ratings carry
    /// timestamps, so the fit adds the two adjacency members.
    @Test func explainedFusionListsAddUp() async throws {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let fusion = try ModelRegistry.fit("fusion", parameters: ModelParameters(["members": "itemknn+pop", "candidates": "8", "holdout": "0.3"]), data: data)
        let (server, _) = try Self.server(model: fusion)
        let user = data.users[3]
        try await Self.run(server) { client in
            let response = try await client.execute(uri: "/users/\(user)/recommendations?n=4&explain=true", method: .get)
            #expect(response.status == .ok)
            let items = try #require(try Self.json(response)["items"] as? [[String: Any]])
            #expect(items.count == 4)
            for item in items {
                let score = try #require(item["score"] as? Double)
                let members = try #require(item["members"] as? [String: Double])
                #expect(Set(members.keys) == ["itemknn", "pop", "adjacency", "adjacency(half-life=10)"])
                let contributions = try #require(item["contributions"] as? [String: Double])
                #expect(abs(contributions.values.reduce(0, +) - score) <= 1e-4 * max(1, abs(score)), "\(item)")
            }
        }
    }

    /// A folded-in list explains itself as it was scored: after feedback, and for a session,
    /// each item's reasons are the history items' EASE terms and add up to its score.
    @Test func foldedInListsAreExplained() async throws {
        let (server, data) = try Self.server()
        let user = data.users[4], row = Array(data.items(ofUser: 4))
        let new = try #require((0..<Int32(data.itemCount)).first { !row.contains($0) })
        @Sendable func checked(_ response: TestResponse, history: Set<String>) throws {
            #expect(response.status == .ok)
            let items = try #require(try Self.json(response)["items"] as? [[String: Any]])
            #expect(items.count == 4)
            for item in items {
                let score = try #require(item["score"] as? Double)
                let because = try #require(item["because"] as? [[String: Any]], "\(item)")
                #expect(Set(because.compactMap { $0["item"] as? String }).isSubset(of: history))
                let total = because.reduce(0) { $0 + ($1["weight"] as? Double ?? .nan) } + (item["because_rest"] as? Double ?? 0)
                #expect(abs(total - score) <= 1e-4 * max(1, abs(score)), "\(item)")
            }
        }
        try await Self.run(server) { client in
            let posted = try await client.execute(uri: "/feedback", method: .post,
                                                  body: Self.body(#"{"feedback": [{"user": "\#(user)", "item": "\#(data.items[Int(new)])", "value": 5}]}"#))
            #expect(posted.status == .ok)
            let listed = try await client.execute(uri: "/users/\(user)/recommendations?n=4&explain=true", method: .get)
            #expect(try Self.json(listed)["method"] as? String == "fold-in")
            try checked(listed, history: Set((row + [new]).map { data.items[Int($0)] }))
            let session = try await client.execute(uri: "/recommendations", method: .post,
                                                   body: Self.body(#"{"history": [{"item": "i1"}, {"item": "i2", "value": 4}], "n": 4, "explain": true}"#))
            try checked(session, history: ["i1", "i2"])
            let refused = try await client.execute(uri: "/recommendations", method: .post, body: Self.body(#"{"history": [{"item": "i1"}], "explain": "yes"}"#))
            #expect(refused.status == .badRequest)
        }
    }

    @Test func anonymousSessionsAndUnknownUsers() async throws {
        let (server, data) = try Self.server()
        try await Self.run(server) { client in
            let session = try await client.execute(uri: "/recommendations", method: .post,
                                                   body: Self.body(#"{"history": [{"item": "\#(data.items[0])"}, {"item": "\#(data.items[1])", "value": 4}], "n": 3}"#))
            #expect(session.status == .ok)
            let expected = try server.slot.served.model.scores(forHistory: [0, 1], values: [1, 4])
            let list = try Self.items(session)
            #expect(list.count == 3 && !list.contains { $0.item == data.items[0] || $0.item == data.items[1] })
            #expect(abs(list[0].score - Double(expected.enumerated().filter { $0.offset > 1 }.map(\.element).max()!)) < 1e-5)
            let stranger = try await client.execute(uri: "/users/nobody/recommendations?n=1", method: .get)
            #expect(try Self.json(stranger)["method"] as? String == "popular")
            let popular = try Self.items(try await client.execute(uri: "/popular?n=1", method: .get))
            #expect(try Self.items(stranger).map(\.item) == popular.map(\.item))
        }
    }

    /// A short history the model was not trained on leans on the list without it: a new user's
    /// first feedback on their attributes' list, a session on the popular list (or the
    /// attributes it brings); the scores are z(fold-in) + w·z(prior), the weight given, and the
    /// explanation's two contributions add up to each score. A long history is the fold-in alone.
    @Test func shortHistoriesLeanOnTheListWithoutThem() async throws {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let model = try EASE(fitting: data, configuration: EASE.Configuration(parameters: ModelParameters(["lambda": "1"])))
        let prior = HistoryPrior(weight: 4, length: 10)
        let (server, _) = try Self.server(model: model, historyPrior: prior)
        let records = (0..<data.userCount).map { UserRecord(id: data.users[$0], categories: ["group=\($0 % 3 == 0 ? "a" : "b")"]) }
        let scorer = AttributePopularity(data: data, users: Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0) }))
        let folded = try model.scores(forHistory: [2], values: [5])
        /// The expected list: z over the items with interactions, item 2 seen.
        @Sendable func expected(_ base: [Float]) -> [(item: String, score: Double)] {
            let w = 4 * exp(-0.1)
            let trained = (0..<data.itemCount).filter { data.byItem.count(ofRow: $0) > 0 }
            func z(_ v: [Float]) -> [Double] {
                let mean = trained.reduce(0.0) { $0 + Double(v[$1]) } / Double(trained.count)
                let sd = (trained.reduce(0.0) { $0 + (Double(v[$1]) - mean) * (Double(v[$1]) - mean) } / Double(trained.count)).squareRoot()
                return v.map { (Double($0) - mean) / sd }
            }
            let (zf, zp) = (z(folded), z(base))
            return trained.filter { $0 != 2 }.map { (data.items[$0], zf[$0] + w * zp[$0]) }.sorted { $0.1 > $1.1 }.prefix(5).map { $0 }
        }
        try await Self.run(server) { client in
            let body = "{\"users\": [" + records.map { #"{"id": "\#($0.id)", "attributes": {"group": "\#($0.categories[0].dropFirst(6))"}}"# }.joined(separator: ", ")
                + #", {"id": "fresh", "attributes": {"group": "a"}}]}"#
            #expect(try await client.execute(uri: "/users", method: .post, body: Self.body(body)).status == .ok)
            let feedback = Self.body(#"{"feedback": [{"user": "fresh", "item": "\#(data.items[2])", "value": 5}]}"#)
            #expect(try await client.execute(uri: "/feedback", method: .post, body: feedback).status == .ok)
            let fresh = try await client.execute(uri: "/users/fresh/recommendations?n=5&explain=true", method: .get)
            let json = try Self.json(fresh)
            let about = try #require(json["prior"] as? [String: Any])
            #expect(json["method"] as? String == "fold-in" && about["from"] as? String == "attributes" && about["attributes"] as? [String] == ["group=a"])
            #expect(abs((about["weight"] as? Double ?? 0) - 4 * exp(-0.1)) < 1e-9)
            let want = expected(try #require(scorer.scores(for: UserRecord(id: "fresh", categories: ["group=a"]))))
            let got = try Self.items(fresh)
            #expect(got.map(\.item) == want.map(\.item))
            for (g, w) in zip(got, want) { #expect(abs(g.score - w.score) < 1e-3, "\(got) against \(want)") }
            for entry in try #require(json["items"] as? [[String: Any]]) {
                let parts = try #require(entry["contributions"] as? [String: Double])
                #expect(Set(parts.keys) == ["history", "prior"] && abs(parts.values.reduce(0, +) - (entry["score"] as? Double ?? .nan)) < 1e-3)
            }
            // A session: the popular list is its prior; with attributes, theirs.
            let session = Self.body(#"{"history": [{"item": "\#(data.items[2])", "value": 5}], "n": 5}"#)
            let anonymous = try await client.execute(uri: "/recommendations", method: .post, body: session)
            #expect((try Self.json(anonymous)["prior"] as? [String: Any])?["from"] as? String == "popular")
            #expect(try Self.items(anonymous).map(\.item) == expected(model.popularityScores()).map(\.item))
            let described = try await client.execute(uri: "/recommendations", method: .post,
                                                     body: Self.body(#"{"history": [{"item": "\#(data.items[2])", "value": 5}], "n": 5, "attributes": {"group": "a"}}"#))
            #expect(try Self.items(described).map(\.item) == want.map(\.item))
            // A trained user's list is their own, no prior.
            let trained = try Self.json(try await client.execute(uri: "/users/\(data.users[0])/recommendations?n=5", method: .get))
            #expect(trained["method"] as? String == "trained" && trained["prior"] == nil)
        }
    }

    /// A user without history whose stored attributes training users share gets the items
    /// popular among those users (method attributes, naming the attributes read); one without
    /// attributes, or erased, popular items.
    @Test func newUsersAreServedByTheirStoredAttributes() async throws {
        // ALS forgets an erased user only at the next retrain, so the model version stays.
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let (server, _) = try Self.server(model: try AlternatingLeastSquares(fitting: data, configuration: AlternatingLeastSquares.Configuration(
            parameters: ModelParameters(["factors": "4", "iterations": "3"]))))
        let stored: [StoredUser] = (0..<data.userCount).map { u in
            StoredUser(id: data.users[u], attributes: #"{"group": "\#(u % 3 == 0 ? "a" : "b")", "age": \#(20 + u)}"#)
        } + [StoredUser(id: "fresh", attributes: #"{"group": "a", "age": 21, "vip": true}"#)]
        let scorer = AttributePopularity(data: data, users: Dictionary(uniqueKeysWithValues: stored.map { ($0.id, $0.record) }))
        let expected = try #require(scorer.scores(for: stored.last!.record))
        let top = (0..<data.itemCount).sorted { expected[$0] > expected[$1] }.prefix(5).map { data.items[$0] }
        try await Self.run(server) { client in
            let body = "{\"users\": [" + stored.map { #"{"id": "\#($0.id)", "attributes": \#($0.attributes)}"# }.joined(separator: ", ") + "]}"
            #expect(try await client.execute(uri: "/users", method: .post, body: Self.body(body)).status == .ok)
            let fresh = try await client.execute(uri: "/users/fresh/recommendations?n=5", method: .get)
            let json = try Self.json(fresh)
            #expect(json["method"] as? String == "attributes")
            // vip=true: no training user holds it.
            #expect(json["attributes"] as? [String] == scorer.knownTokens(of: stored.last!.record))
            #expect(try Self.items(fresh).map(\.item) == top)
            let stranger = try await client.execute(uri: "/users/nobody/recommendations?n=5", method: .get)
            #expect(try Self.json(stranger)["method"] as? String == "popular")
            // An anonymous visitor with the same attributes and no history: the same list.
            let visitor = try await client.execute(uri: "/recommendations", method: .post,
                                                   body: Self.body(#"{"history": [], "n": 5, "attributes": {"group": "a", "age": 21, "vip": true}}"#))
            #expect(try Self.json(visitor)["method"] as? String == "attributes")
            #expect(try Self.items(visitor).map(\.item) == top)
            let unheard = try await client.execute(uri: "/recommendations", method: .post, body: Self.body(#"{"history": [], "attributes": {"group": "q"}}"#))
            #expect(try Self.json(unheard)["method"] as? String == "popular")
            #expect(try await client.execute(uri: "/users/fresh", method: .delete).status == .ok)
            let erased = try await client.execute(uri: "/users/fresh/recommendations?n=5", method: .get)
            #expect(try Self.json(erased)["method"] as? String == "popular")
            // A training user who alone holds an attribute: once erased, nobody's list reads it.
            let only = data.users[1]
            let patched = Self.body(#"{"attributes": {"group": "z"}}"#)
            #expect(try await client.execute(uri: "/users/\(only)", method: .patch, body: patched).status == .ok)
            #expect(try await client.execute(uri: "/users/newcomer", method: .patch, body: patched).status == .ok)
            server.userAttributes.invalidate()  // the training users' attributes changed: as five minutes later
            let before = try Self.json(try await client.execute(uri: "/users/newcomer/recommendations?n=5", method: .get))
            #expect(before["method"] as? String == "attributes" && before["attributes"] as? [String] == ["group=z"])
            let erasure = try Self.json(try await client.execute(uri: "/users/\(only)", method: .delete))
            #expect(erasure["model"] as? String == "pending-retrain" && server.slot.served.version == 1)
            let after = try Self.json(try await client.execute(uri: "/users/newcomer/recommendations?n=5", method: .get))
            #expect(after["method"] as? String == "popular")
        }
    }

    @Test func storedAttributesReadAsCategoriesAndNumbers() {
        let user = StoredUser(id: "u", attributes: #"{"age": 31.5, "vip": true, "country": "FR", "tags": ["a", 2, false, {"x": 1}], "nested": {"x": 1}, "none": null}"#)
        #expect(user.record == UserRecord(id: "u", categories: ["country=FR", "tags=a", "tags=2", "tags=false", "vip=true"], attributes: ["age": 31.5]))
        #expect(StoredUser(id: "u", attributes: "[1, 2]").record == UserRecord(id: "u"))
    }

    /// A sequence model over the session endpoint: the history is read in the order sent (a
    /// repeated item counts where it last occurred), so reordering a session changes its list.
    @Test func sessionsAreReadInOrderBySequenceModels() async throws {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let sasrec = try SASRec(fitting: data, configuration: SASRec.Configuration(parameters: ModelParameters(
            ["factors": "8", "layers": "1", "inner": "16", "max-length": "8", "epochs": "5", "patience": "0"])))
        let (server, _) = try Self.server(model: sasrec)
        @Sendable func session(_ items: [Int]) -> ByteBuffer {
            Self.body(#"{"history": [\#(items.map { #"{"item": "\#(data.items[$0])"}"# }.joined(separator: ", "))], "n": 25}"#)
        }
        try await Self.run(server) { client in
            for order in [[0, 1, 2], [2, 1, 0], [1, 0, 2, 1]] {
                let list = try Self.items(try await client.execute(uri: "/recommendations", method: .post, body: session(order)))
                var seen: [Int32] = []
                for i in order.map(Int32.init) { seen.removeAll { $0 == i }; seen.append(i) }
                let expected = try sasrec.scores(forHistory: seen, values: seen.map { _ in 1 })
                #expect(!list.isEmpty)
                for entry in list { #expect(abs(entry.score - Double(expected[Int(data.items.index(of: entry.item)!)])) < 1e-5, "order \(order)") }
            }
            #expect(try sasrec.scores(forHistory: [0, 1, 2], values: [1, 1, 1]) != sasrec.scores(forHistory: [2, 1, 0], values: [1, 1, 1]))
        }
    }

    @Test func hiddenAndDeletedItemsNeverAppear() async throws {
        let (server, data) = try Self.server()
        try await Self.run(server) { client in
            let first = try Self.items(try await client.execute(uri: "/popular?n=2", method: .get)).map(\.item)
            let hide = try await client.execute(uri: "/items", method: .post,
                                                body: Self.body(#"{"items": [{"id": "\#(first[0])", "title": "A", "categories": ["x"], "hidden": true}]}"#))
            #expect(hide.status == .ok)
            _ = try await client.execute(uri: "/items/\(first[1])", method: .delete)
            let now = try Self.items(try await client.execute(uri: "/popular?n=25", method: .get)).map(\.item)
            #expect(!now.contains(first[0]) && !now.contains(first[1]))
            for user in 0..<5 {
                let list = try Self.items(try await client.execute(uri: "/users/\(data.users[user])/recommendations?n=25", method: .get)).map(\.item)
                #expect(!list.contains(first[0]) && !list.contains(first[1]))
            }
            // Unhiding by PATCH brings it back.
            _ = try await client.execute(uri: "/items/\(first[0])", method: .patch, body: Self.body(#"{"hidden": false}"#))
            let back = try Self.items(try await client.execute(uri: "/popular?n=1", method: .get)).map(\.item)
            #expect(back == [first[0]])
            let category = try Self.items(try await client.execute(uri: "/popular?n=5&category=x", method: .get)).map(\.item)
            #expect(category == [first[0]])
        }
    }

    /// `diversify`: the user's list reordered by the categories the store gives the items, from
    /// the pool of the model's best (here every unseen item, fewer than 50), as the library's
    /// `Diversification` orders that pool; 0 is the model's order, and a weight outside 0…1 is a 400.
    @Test func diversifiedListsReorderByTheStoresCategories() async throws {
        let (server, data) = try Self.server()
        let user = data.users[2]
        try await Self.run(server) { client in
            let all = try Self.items(try await client.execute(uri: "/users/\(user)/recommendations?n=50", method: .get))
            // The user's three best items share a category; every other item has its own.
            let genres = Dictionary(uniqueKeysWithValues: all.enumerated().map { ($1.item, $0 < 3 ? ["a"] : ["b\($0)"]) })
            let body = genres.map { #"{"id": "\#($0.key)", "categories": ["\#($0.value[0])"]}"# }
            let stored = try await client.execute(uri: "/items", method: .post, body: Self.body(#"{"items": ["# + body.joined(separator: ", ") + "]}"))
            #expect(stored.status == .ok)
            let plain = try Self.items(try await client.execute(uri: "/users/\(user)/recommendations?n=5", method: .get)).map(\.item)
            let zero = try Self.items(try await client.execute(uri: "/users/\(user)/recommendations?n=5&diversify=0", method: .get)).map(\.item)
            #expect(plain.count == 5 && zero == plain && plain == all.prefix(5).map(\.item))
            let pool = all.enumerated().map { ScoredIndex(index: Int32($0.offset), score: Float($0.element.score)) }
            let sets = CategorySets(all.map { genres[$0.item]! })
            let expected = try Diversification(weight: 0.6).rerank(pool, count: 5, similarity: sets.similarity).map { all[Int($0.index)].item }
            let varied = try Self.items(try await client.execute(uri: "/users/\(user)/recommendations?n=5&diversify=0.6", method: .get)).map(\.item)
            // The best first; its two fellows (0.4·relevance − 0.6 < 0) after the items of their own.
            #expect(varied == expected && varied.first == plain.first && !varied.prefix(3).contains(plain[1]), "\(varied) \(expected) \(plain)")
            let session = try await client.execute(uri: "/recommendations", method: .post,
                                                   body: Self.body(#"{"history": [{"item": "\#(data.items[1])"}], "n": 4, "diversify": 0.6}"#))
            let sessionItems = try Self.items(session)
            #expect(session.status == .ok && sessionItems.count == 4)
            let wrong = try await client.execute(uri: "/users/\(user)/recommendations?diversify=2", method: .get)
            #expect(wrong.status == .badRequest)
            #expect((try Self.json(wrong)["error"] as? [String: Any])?["message"] as? String == #"diversify must be a number from 0 to 1, not "2""#)
            let negative = try await client.execute(uri: "/recommendations", method: .post, body: Self.body(#"{"history": [], "diversify": -1}"#))
            #expect(negative.status == .badRequest)
        }
    }

    /// Without categories, `diversify` reorders by the cosine of the served model's item vectors.
    @Test func diversifiedListsReorderByVectorsWithoutCategories() async throws {
        var fitted = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        // Items alike in threes: the same direction for every item of a group.
        let directions: [[Float]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1], [2, 1, 0], [0, 2, 1]]
        fitted.catalog = ItemCatalog(fitted.items.identifiers.enumerated().map { n, id in ItemRecord(id: id, vector: directions[n / 3]) })
        let data = fitted
        let model = try EASE(fitting: data, configuration: EASE.Configuration(parameters: ModelParameters(["lambda": "1"])))
        let (server, _) = try Self.server(model: model)
        let user = data.users[2]
        try await Self.run(server) { client in
            let all = try Self.items(try await client.execute(uri: "/users/\(user)/recommendations?n=50", method: .get))
            let pool = all.enumerated().map { ScoredIndex(index: Int32($0.offset), score: Float($0.element.score)) }
            let vectors = VectorSimilarity(all.map { directions[Int(data.items.index(of: $0.item)!) / 3] })
            let expected = try Diversification(weight: 0.7, basis: .vectors).rerank(pool, count: 6, similarity: vectors.similarity).map { all[Int($0.index)].item }
            let varied = try Self.items(try await client.execute(uri: "/users/\(user)/recommendations?n=6&diversify=0.7", method: .get)).map(\.item)
            #expect(varied == expected && varied != all.prefix(6).map(\.item), "\(varied) \(expected)")
        }
    }

    /// DELETE /users/{id}: the rows leave the store, and EASE forgets the user exactly: the
    /// served scores equal those of EASE fitted without the user, to 1e-4.
    @Test func erasureIsExactForEASE() async throws {
        let (server, data) = try Self.server()
        let erased = data.users[4], other = data.users[9]
        try await Self.run(server) { client in
            _ = try await client.execute(uri: "/feedback", method: .post, body: Self.body(#"{"feedback": [{"user": "\#(erased)", "item": "\#(data.items[3])"}]}"#))
            let deleted = try await client.execute(uri: "/users/\(erased)", method: .delete)
            let answer = try Self.json(deleted)
            #expect(answer["model"] as? String == "exact")
            #expect(answer["rows_removed"] as? Int == 1)
            let state = try Self.json(try await client.execute(uri: "/erasures/\(erased)", method: .get))
            #expect(state["model"] as? String == "exact" && state["model_done"] is Double)
            let list = try Self.items(try await client.execute(uri: "/users/\(other)/recommendations?n=10", method: .get))
            let refitted = try EASE(fitting: data.removingUsers([4]), configuration: EASE.Configuration(parameters: ModelParameters(["lambda": "1"])))
            let expected = refitted.scores(forUser: 9)
            for entry in list { #expect(abs(entry.score - Double(expected[Int(data.items.index(of: entry.item)!)])) < 1e-4) }
            let original = try EASE(fitting: data, configuration: EASE.Configuration(parameters: ModelParameters(["lambda": "1"]))).scores(forUser: 9)
            #expect(zip(original, expected).contains { abs($0 - $1) > 1e-3 }, "the erased user did influence user 9's scores")
            #expect(try Self.json(try await client.execute(uri: "/users/\(erased)/recommendations", method: .get))["method"] as? String == "popular")
        }
        #expect(try await server.store.feedback(user: erased).isEmpty)
        #expect(server.slot.served.version == 2)
    }

    @Test func keysAndRoles() async throws {
        let (server, _) = try Self.server()
        let reader = try await APIKeys.create(role: .read, in: server.store)
        let admin = try await APIKeys.create(role: .admin, in: server.store)
        #expect(try await server.store.role(forKeyHash: APIKeys.hash(admin)) == .admin)
        try await Self.run(server) { client in
            let none = try await client.execute(uri: "/popular", method: .get)
            #expect(none.status == .unauthorized)
            #expect((try Self.json(none)["error"] as? [String: Any])?["code"] as? String == "missingKey")
            let wrong = try await client.execute(uri: "/popular", method: .get, headers: [.authorization: "Bearer nope"])
            #expect(wrong.status == .unauthorized)
            let read = try await client.execute(uri: "/popular", method: .get, headers: [.authorization: "Bearer \(reader)"])
            #expect(read.status == .ok)
            let write = try await client.execute(uri: "/feedback", method: .post, headers: [.authorization: "Bearer \(reader)"],
                                                 body: Self.body(#"{"feedback": []}"#))
            #expect(write.status == .forbidden)
            let erase = try await client.execute(uri: "/users/x", method: .delete, headers: [.authorization: "Bearer \(admin)"])
            #expect(erase.status == .ok)
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
        }
    }

    /// Every malformed request gets a 4xx naming the field and value, and stores nothing.
    @Test func badInputIsRefusedAndLosesNothing() async throws {
        var limits = Limits()
        limits.body = 2_000
        limits.idLength = 20
        let (server, data) = try Self.server(limits: limits)
        let cases: [(String, String, String)] = [
            (#"{"feedback": [{"user": "a", "item": "b", "value": "5"}]}"#, "invalidField", "feedback[0].value"),
            (#"{"feedback": [{"user": "a", "item": "b", "vaule": 5}]}"#, "unknownField", #"unknown field feedback[0].vaule (did you mean "value"?); known fields:"#),
            (#"{"feedback": [{"user": "a", "item": "b", "value": 1e999}]}"#, "", ""),
            // Finite as a double, ∞ as the 32-bit float the models' data holds: accepted before.
            (#"{"feedback": [{"user": "a", "item": "b", "value": 1e39}]}"#, "invalidField", "feedback[0].value must be within ±3.4028234663852886e38"),
            (#"{"feedback": [{"user": "a", "item": "b", "timestamp": "yesterday"}]}"#, "invalidField", "feedback[0].timestamp"),
            // null is refused by name, not read as "left out" (the value would silently be 1).
            (#"{"feedback": [{"user": "a", "item": "b", "value": null}]}"#, "invalidField", "feedback[0].value must be a number, not null"),
            // A C1 control character (U+0085) is a control character too, as the document's pattern says.
            (#"{"feedback": [{"user": "a\u0085", "item": "b"}]}"#, "invalidField", "feedback[0].user contains control characters"),
            // Lengths in code points, as JSON Schema counts them: 20 e's with 20 combining accents are 40.
            (#"{"feedback": [{"user": ""# + String(repeating: "e\u{301}", count: 20) + #"", "item": "b"}]}"#, "invalidField", "feedback[0].user has 40 characters"),
            (#"{"feedback": [{"user": "aaaaaaaaaaaaaaaaaaaaaaaaa", "item": "b"}]}"#, "invalidField", "feedback[0].user"),
            (#"{"feedback": [{"item": "b"}]}"#, "missingField", "feedback[0].user"),
            (#"{"feedback": {"user": "a"}}"#, "invalidField", "feedback"),
            (#"{"feedback": [{"user": "a", "item": "b"}, 7]}"#, "invalidField", "feedback[1]"),
            (#"[1, 2]"#, "invalidField", "the body"),
            (#"{"feedback": [{"user": "a", "item": "b""#, "invalidJSON", ""),
            ("{\"feedback\": [{\"user\": \"" + String(repeating: "x", count: 3_000) + "\"}]}", "bodyTooLarge", ""),
        ]
        try await Self.run(server) { client in
            for (body, code, field) in cases {
                let response = try await client.execute(uri: "/feedback", method: .post, body: Self.body(body))
                #expect((400..<500).contains(response.status.code), "\(body.prefix(60)) → \(response.status)")
                let error = try Self.json(response)["error"] as? [String: Any]
                if !code.isEmpty { #expect(error?["code"] as? String == code, "\(body.prefix(60)): \(error ?? [:])") }
                if !field.isEmpty { #expect((error?["message"] as? String)?.contains(field) == true, "\(error ?? [:])") }
            }
            var invalid = ByteBuffer(string: #"{"feedback": [{"user": ""#)
            invalid.writeBytes([0xFF, 0xFE])
            invalid.writeString(#"", "item": "b"}]}"#)
            let bytes = try await client.execute(uri: "/feedback", method: .post, body: invalid)
            #expect(bytes.status == .badRequest)
            let zero = try await client.execute(uri: "/popular?n=0", method: .get)
            #expect(zero.status == .badRequest)
            // The count as sent, not as a double ("not 0.0" before).
            #expect((try Self.json(zero)["error"] as? [String: Any])?["message"] as? String == "n must be a whole number from 1 to 1000, not 0")
            #expect(try await client.execute(uri: "/popular?n=abc", method: .get).status == .badRequest)
            // n is an integer in the document: "5.0" and "1e1" are refused as well.
            #expect(try await client.execute(uri: "/popular?n=5.0", method: .get).status == .badRequest)
            #expect(try await client.execute(uri: "/popular?n=1e1", method: .get).status == .badRequest)
            // exclude: ids between commas, none empty (an empty value is one empty id, as OpenAPI's
            // form style reads it); an id's own comma travels as %2C.
            #expect(try await client.execute(uri: "/popular?exclude=a,,b", method: .get).status == .badRequest)
            #expect(try await client.execute(uri: "/popular?exclude=", method: .get).status == .badRequest)
            #expect(try await client.execute(uri: "/popular?exclude=a%2C,b", method: .get).status == .ok)
            let unknown = try Self.json(try await client.execute(uri: "/popular?%C3%A9t%C3%A9=1", method: .get))["error"] as? [String: Any]
            #expect((unknown?["message"] as? String)?.hasPrefix(#"unknown query parameter "été"; known"#) == true, "\(unknown ?? [:])")
            let slip = try Self.json(try await client.execute(uri: "/users/\(data.users[0])/recommendations?explian=true", method: .get))["error"] as? [String: Any]
            #expect((slip?["message"] as? String)?.hasPrefix(#"unknown query parameter "explian" (did you mean "explain"?); known"#) == true, "\(slip ?? [:])")
            // Popular and similar items take no reasons and no reordering: refused, not ignored.
            for uri in ["/popular?explain=true", "/popular?diversify=0.2", "/items/\(data.items[0])/similar?diversify=0.2"] {
                let refused = try await client.execute(uri: uri, method: .get)
                #expect(refused.status == .badRequest, "\(uri)")
                #expect((try Self.json(refused)["error"] as? [String: Any])?["message"] as? String == #"unknown query parameter ""# + (uri.contains("explain") ? "explain" : "diversify") + #""; known: n, exclude, category"#)
            }
            #expect(try await client.execute(uri: "/items/nothing/similar", method: .get).status == .notFound)
            let missing = try await client.execute(uri: "/no/such/route", method: .get)
            #expect(missing.status == .notFound)
            #expect((try Self.json(missing)["error"] as? [String: Any])?["code"] as? String == "notFound")
        }
        #expect(try await server.store.allFeedback().isEmpty, "a refused batch stores none of its events")
    }

    /// A method a listed path does not take is 405 with the ones it does in `Allow`; an
    /// unlisted path stays 404.
    @Test func otherMethodsAreNotAllowed() async throws {
        let (server, data) = try Self.server()
        try await Self.run(server) { client in
            let trace = try await client.execute(uri: "/feedback", method: .init("TRACE")!)
            #expect(trace.status == .methodNotAllowed)
            #expect(trace.headers[.allow] == "POST")
            #expect((try Self.json(trace)["error"] as? [String: Any])?["code"] as? String == "methodNotAllowed")
            let put = try await client.execute(uri: "/items/\(data.items[0])", method: .put, body: Self.body("{}"))
            #expect(put.status == .methodNotAllowed)
            #expect(put.headers[.allow] == "DELETE, GET, HEAD, PATCH")
            #expect(try await client.execute(uri: "/users/\(data.users[0])/recommendations", method: .post).headers[.allow] == "GET, HEAD")
            #expect(try await client.execute(uri: "/items/a/b/c", method: .get).status == .notFound)
            // HEAD is GET without the body: the same status and headers, the length of GET's body.
            for uri in ["/health", "/popular?n=3", "/users/\(data.users[0])/recommendations", "/items/nothing"] {
                let get = try await client.execute(uri: uri, method: .get), head = try await client.execute(uri: uri, method: .head)
                #expect(head.status == get.status && head.body.readableBytes == 0, "\(uri)")
                #expect(head.headers[.contentType] == get.headers[.contentType] && head.headers[.contentLength] == String(get.body.readableBytes), "\(uri)")
            }
            #expect(try await client.execute(uri: "/feedback", method: .head).headers[.allow] == "POST")
        }
    }

    /// PATCH /items/{id} changes only the fields it names, `null` clears one (JSON merge
    /// patch), and a deleted item is 404 until POST /items creates it again; a user's
    /// attributes are replaced whole, null clearing them.
    @Test func patchingItems() async throws {
        let (server, _) = try Self.server()
        try await Self.run(server) { client in
            let created = try await client.execute(uri: "/items", method: .post, body: Self.body(
                #"{"items": [{"id": "film", "title": "A film", "text": "about a dog", "categories": ["x"], "vector": [1, 2], "timestamp": "2026-01-02"}]}"#))
            #expect(created.status == .ok)
            let patched = try await client.execute(uri: "/items/film", method: .patch, body: Self.body(#"{"text": null, "vector": null, "title": "The film"}"#))
            #expect(patched.status == .ok)
            let item = try Self.json(try await client.execute(uri: "/items/film", method: .get))
            #expect(item["title"] as? String == "The film" && item["text"] == nil && item["vector"] == nil)
            #expect(item["categories"] as? [String] == ["x"] && item["timestamp"] as? Double == 1_767_312_000)
            let hidden = try await client.execute(uri: "/items/film", method: .patch, body: Self.body(#"{"hidden": null}"#))
            #expect(hidden.status == .badRequest, "hidden is true or false")
            #expect(try await client.execute(uri: "/items/film", method: .delete).status == .ok)
            let afterDelete = try await client.execute(uri: "/items/film", method: .patch, body: Self.body(#"{"hidden": false}"#))
            #expect(afterDelete.status == .notFound)
            #expect((try Self.json(afterDelete)["error"] as? [String: Any])?["code"] as? String == "deletedItem")
            #expect(try await client.execute(uri: "/items/film", method: .get).status == .notFound)
            let again = try await client.execute(uri: "/items", method: .post, body: Self.body(#"{"items": [{"id": "film", "title": "Back"}]}"#))
            #expect(again.status == .ok)
            #expect(try Self.json(try await client.execute(uri: "/items/film", method: .get))["title"] as? String == "Back")
            // A user's attributes are replaced whole; null (like leaving them out) leaves none.
            _ = try await client.execute(uri: "/users/reader", method: .patch, body: Self.body(#"{"attributes": {"age": 30}}"#))
            #expect((try Self.json(try await client.execute(uri: "/users/reader", method: .get))["attributes"] as? [String: Any])?["age"] as? Int == 30)
            #expect(try await client.execute(uri: "/users/reader", method: .patch, body: Self.body(#"{"attributes": null}"#)).status == .ok)
            #expect((try Self.json(try await client.execute(uri: "/users/reader", method: .get))["attributes"] as? [String: Any])?.isEmpty == true)
        }
    }

    /// The served OpenAPI document lists every route the server answers, and each listed
    /// operation is routed (a wrong document would send clients to 404s).
    @Test func openAPIDocumentMatchesTheRoutes() async throws {
        let (server, data) = try Self.server()
        try await Self.run(server) { client in
            let document = try Self.json(try await client.execute(uri: "/openapi.json", method: .get))
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            // The path parameters' examples are the served model's first user and item: they answer.
            let parameters = try #require((document["components"] as? [String: Any])?["parameters"] as? [String: [String: Any]])
            let item = data.items[(0..<data.itemCount).first { data.byItem.count(ofRow: $0) > 0 }!]
            #expect(parameters["UserID"]?["example"] as? String == data.users[0] && parameters["ItemID"]?["example"] as? String == item)
            for uri in ["/users/\(data.users[0])/recommendations", "/items/\(item)/similar"] {
                #expect(try await client.execute(uri: uri, method: .get).status == .ok, "\(uri)")
            }
            let operations = Set(paths.flatMap { path, item in item.keys.filter { $0 != "parameters" }.map { "\($0.uppercased()) \(path)" } })
            #expect(operations == Set(Self.routes))
            for operation in operations.sorted() {
                let parts = operation.split(separator: " ")
                let uri = String(parts[1]).replacingOccurrences(of: "{id}", with: data.items[0])
                let body: ByteBuffer? = ["POST", "PATCH"].contains(String(parts[0])) ? Self.body("{}") : nil
                let response = try await client.execute(uri: uri, method: HTTPRequest.Method(String(parts[0]))!, body: body)
                if response.status == .notFound, let error = try? Self.json(response)["error"] as? [String: Any] {
                    #expect(error["code"] as? String != "notFound", "\(operation) is not routed")
                }
            }
        }
    }

    /// The routes `RecommendationServer.router()` registers, and HEAD beside every GET.
    static let routes: [String] = {
        let registered = [
            "GET /health", "GET /ready", "GET /metrics", "GET /openapi.json", "GET /models", "POST /models/retrain", "POST /users", "GET /users/{id}", "PATCH /users/{id}",
            "DELETE /users/{id}", "GET /erasures/{id}", "POST /items", "GET /items/{id}", "PATCH /items/{id}", "DELETE /items/{id}", "POST /feedback",
            "GET /users/{id}/recommendations", "POST /recommendations", "GET /items/{id}/similar", "GET /popular",
        ]
        return registered + registered.filter { $0.hasPrefix("GET ") }.map { "HEAD " + $0.dropFirst(4) }
    }()

    /// A retrain folds the store's feedback (new users and items too) into a new version and
    /// completes pending erasures; the previous version is listed beside it with its metrics.
    @Test func retrainingSwapsInANewVersion() async throws {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let als = try AlternatingLeastSquares(fitting: data, configuration: AlternatingLeastSquares.Configuration(parameters: ModelParameters(["factors": "4"])),
                                              onIteration: nil)
        let (server, _) = try Self.server(model: als)
        try await Self.run(server) { client in
            let erased = try Self.json(try await client.execute(uri: "/users/\(data.users[2])", method: .delete))
            #expect(erased["model"] as? String == "pending-retrain", "ALS cannot forget exactly")
            _ = try await client.execute(uri: "/feedback", method: .post, body: Self.body(#"{"feedback": [{"user": "newcomer", "item": "brand-new", "value": 4}, {"user": "newcomer", "item": "\#(data.items[1])", "value": 3}, {"user": "\#(data.users[0])", "item": "brand-new", "value": 5}]}"#))
            let report = try await client.execute(uri: "/models/retrain", method: .post)
            #expect(report.status == .ok, "\(String(buffer: report.body))")
            let served = server.slot.served
            #expect(served.version == 2)
            #expect(served.model.data.users.index(of: "newcomer") != nil && served.model.data.items.index(of: "brand-new") != nil)
            #expect(served.model.data.byUser.count(ofRow: Int(served.model.data.users.index(of: data.users[2])!)) == 0, "the erased user's rows are gone")
            #expect(served.model.data.interactionCount == data.interactionCount - data.byUser.count(ofRow: 2) + 3)
            #expect(served.metrics["ndcg@10"] != nil)
            let state = try Self.json(try await client.execute(uri: "/erasures/\(data.users[2])", method: .get))
            #expect(state["model"] as? String == "retrained")
            let models = try Self.json(try await client.execute(uri: "/models", method: .get))
            #expect((models["models"] as? [[String: Any]])?.map { $0["version"] as? Int } == [2, 1])
            #expect((models["last_retrain"] as? [String: Any])?["version"] as? Int == 2)
            let list = try Self.json(try await client.execute(uri: "/users/newcomer/recommendations?n=3", method: .get))
            #expect(list["method"] as? String == "trained")
        }
    }

    /// A fit that fails leaves the previous version serving and says why.
    @Test func aFailedRetrainKeepsTheServedVersion() async throws {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        var configuration = EASE.Configuration()
        configuration.lambda = 1
        configuration.maximumMemoryGB = 2.5e-6  // 25 items fit (2,500 bytes), 26 do not
        let (server, _) = try Self.server(model: try EASE(fitting: data, configuration: configuration))
        try await Self.run(server) { client in
            _ = try await client.execute(uri: "/feedback", method: .post, body: Self.body(#"{"feedback": [{"user": "u", "item": "one-too-many"}]}"#))
            let failed = try await client.execute(uri: "/models/retrain", method: .post)
            #expect(failed.status == .unprocessableContent)
            #expect((try Self.json(failed)["error"] as? [String: Any])?["code"] as? String == "retrainFailed")
            #expect(server.slot.served.version == 1)
            let models = try Self.json(try await client.execute(uri: "/models", method: .get))
            #expect(((models["last_retrain"] as? [String: Any])?["error"] as? String)?.contains("max-memory-gb") == true)
            let list = try await client.execute(uri: "/users/\(data.users[0])/recommendations", method: .get)
            #expect(list.status == .ok)
        }
    }

    /// A new item with text is recommendable at once through a content model: it is added to
    /// the served model's catalogue before POST /items answers. Served from a model file too,
    /// which keeps the catalogue: the old items keep their text (i4 "space war" comes next).
    @Test(arguments: [false, true]) func newItemsWithTextAreRecommendableAtOnce(fromFile: Bool) async throws {
        let titles = ["i0": "space station adventure", "i1": "space pirates", "i2": "love in paris", "i3": "paris romance", "i4": "space war"]
        var table = InteractionTable()
        for (user, items) in [("fan", ["i0", "i1"]), ("romantic", ["i2", "i3"]), ("other", ["i4", "i2"])] {
            for item in items { table.append(Interaction(user: user, item: item)) }
        }
        var data = InteractionMatrix(table)
        data.catalog = ItemCatalog(titles.map { ItemRecord(id: $0.key, title: $0.value) })
        var model = try ModelRegistry.fit("content-bm25", data: data)
        if fromFile {
            let path = Fixtures.temporaryDirectory() + "/content.braid"
            try ModelRegistry.save(model, to: path)
            model = try ModelRegistry.load(from: path)
        }
        let (server, _) = try Self.server(model: model)
        try await Self.run(server) { client in
            let added = try Self.json(try await client.execute(uri: "/items", method: .post,
                                                               body: Self.body(#"{"items": [{"id": "new", "title": "space adventure pirates"}]}"#)))
            #expect(added["recommendable_now"] as? Bool == true)
            let list = try Self.items(try await client.execute(uri: "/users/fan/recommendations?n=2", method: .get))
            #expect(list.map(\.item) == ["new", "i4"], "\(list)")
            // An item without content is stored but waits for interactions.
            let bare = try Self.json(try await client.execute(uri: "/items", method: .post, body: Self.body(#"{"items": [{"id": "bare"}]}"#)))
            #expect(bare["recommendable_now"] as? Bool == false)
            // A changed title is read at once too: "love in paris" becomes a space film.
            let patched = try Self.json(try await client.execute(uri: "/items/i2", method: .patch, body: Self.body(#"{"title": "space pirates return"}"#)))
            #expect(patched["recommendable_now"] as? Bool == true)
            let after = try Self.items(try await client.execute(uri: "/users/fan/recommendations?n=3", method: .get))
            #expect(Set(after.prefix(2).map(\.item)) == ["new", "i2"] && after.last?.item == "i4", "\(after)")
            // The same title again changes nothing.
            let same = try Self.json(try await client.execute(uri: "/items/i2", method: .patch, body: Self.body(#"{"title": "space pirates return"}"#)))
            #expect(same["recommendable_now"] as? Bool == false)
        }
        #expect(server.slot.served.model.data.items.index(of: "new") != nil)
    }

    /// Items posted at the same moment are all taken: each change starts from the model the one
    /// before swapped in, and items that arrive during a change are taken together in the next
    /// (a change computed from a model another had replaced was dropped, and its items waited
    /// for a retrain that might never come).
    @Test func itemsPostedTogetherAreAllTaken() async throws {
        var data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        data.catalog = ModelContract.catalog(for: data.items)
        let (server, _) = try Self.server(model: try ModelRegistry.fit("content-bm25", data: data))
        let ids = (0..<8).map { "new-\($0)" }
        let answers = try await Self.run(server) { client in
            try await withThrowingTaskGroup(of: Bool?.self) { group in
                for id in ids {
                    group.addTask {
                        let body = Self.body(#"{"items": [{"id": "\#(id)", "title": "title of \#(id)", "categories": ["x"]}]}"#)
                        return try Self.json(try await client.execute(uri: "/items", method: .post, body: body))["recommendable_now"] as? Bool
                    }
                }
                return try await group.reduce(into: [Bool?]()) { $0.append($1) }
            }
        }
        #expect(answers == Array(repeating: true, count: ids.count))
        let served = server.slot.served.model.data
        let missing = ids.filter { id in served.items.index(of: id) == nil || served.catalog?[id]?.title != "title of \(id)" }
        #expect(missing.isEmpty)
        #expect((2...(1 + ids.count)).contains(server.slot.served.version))
    }

    /// A content model that cannot take items titled "unwanted …" into its catalogue; it takes
    /// others as BM25 does, after a pause in which other requests queue.
    struct RefusingNewItems: RecommendationModel {
        typealias Configuration = BM25Content.Configuration
        static let name = "test-refusing-new-items"
        static let summary = "BM25 that fails to take new items"
        let inner: BM25Content
        var configuration: Configuration { inner.configuration }
        var data: InteractionMatrix { inner.data }
        init(fitting data: InteractionMatrix, configuration: Configuration) throws(ModelError) { inner = try BM25Content(fitting: data, configuration: configuration) }
        init(archive: ModelArchive, data: InteractionMatrix, configuration: Configuration) throws(ModelError) {
            inner = try BM25Content(archive: archive, data: data, configuration: configuration)
        }
        func scores(forUser user: Int) -> [Float] { inner.scores(forUser: user) }
        var scoresItemsWithoutInteractions: Bool { true }
        func archive(into archive: inout ModelArchive) { inner.archive(into: &archive) }
        func extendingCatalogue(to data: InteractionMatrix) throws(ModelError) -> any RecommendationModel {
            Thread.sleep(forTimeInterval: 0.2)
            if let unwanted = data.catalog?.records.values.filter({ $0.title?.hasPrefix("unwanted") == true }).map(\.id).min() {
                throw ModelError(.invalidParameter, "no room for \(unwanted)")
            }
            return RefusingNewItems(inner: try BM25Content(fitting: data, configuration: configuration))
        }
        init(inner: BM25Content) { self.inner = inner }
    }

    /// Items a served model fails to take are stored all the same, so the requests succeed:
    /// each answers that its items were not taken and why (they answered an error, for items
    /// that were stored), concurrent ones joined into one change alike, and the store has them.
    @Test func itemsTheModelCannotTakeAreStoredAndSaidSo() async throws {
        var data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        data.catalog = ModelContract.catalog(for: data.items)
        let (server, _) = try Self.server(model: try RefusingNewItems(fitting: data, configuration: .init()))
        let ids = (0..<4).map { "new-\($0)" }
        try await Self.run(server) { client in
            // Each answer's status, "stored", "recommendable_now" and "not_taken".
            typealias Answer = (status: HTTPResponse.Status, stored: Int?, taken: Bool?, notTaken: String?)
            let answers = try await withThrowingTaskGroup(of: Answer.self) { group in
                for id in ids {
                    group.addTask {
                        let response = try await client.execute(uri: "/items", method: .post, body: Self.body(#"{"items": [{"id": "\#(id)", "title": "unwanted \#(id)"}]}"#))
                        let body = try Self.json(response)
                        return (response.status, body["stored"] as? Int, body["recommendable_now"] as? Bool, body["not_taken"] as? String)
                    }
                }
                return try await group.reduce(into: [Answer]()) { $0.append($1) }
            }
            for answer in answers {
                #expect(answer.status == .ok && answer.stored == 1 && answer.taken == false, "\(answer)")
                #expect(answer.notTaken?.contains("no room for new-") == true, "\(answer)")
            }
            let patched = try await client.execute(uri: "/items/new-0", method: .patch, body: Self.body(#"{"title": "unwanted again"}"#))
            let patchedBody = try Self.json(patched)
            #expect(patched.status == .ok && patchedBody["not_taken"] as? String != nil)
            for id in ids {
                let status = try await client.execute(uri: "/items/\(id)", method: .get).status
                #expect(status == .ok, "\(id)")
            }
        }
        #expect(server.slot.served.version == 1)
    }

    /// One request of several items, one of which the model refuses: the halves are tried
    /// apart, the others are taken, and the answer names the refused one (before, the request
    /// was answered that none was taken, and none was).
    @Test func oneUnwantedItemHoldsNoOtherOfItsRequestBack() async throws {
        var data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        data.catalog = ModelContract.catalog(for: data.items)
        let (server, _) = try Self.server(model: try RefusingNewItems(fitting: data, configuration: .init()))
        let (stored, taken, refused, reason) = try await Self.run(server) { client in
            let body = try Self.json(try await client.execute(uri: "/items", method: .post, body: Self.body(
                #"{"items": [{"id": "new-a", "title": "first"}, {"id": "new-b", "title": "unwanted second"}, {"id": "new-c", "title": "third"}]}"#)))
            return (body["stored"] as? Int, body["recommendable_now"] as? Bool, body["not_taken_items"] as? [String], body["not_taken"] as? String)
        }
        #expect(stored == 3 && taken == true && refused == ["new-b"], "\(String(describing: refused))")
        let notTaken = try #require(reason)
        #expect(notTaken.hasPrefix("the served model could not take 1 of the request's 3 items (new-b)") && notTaken.contains("no room for new-b"), "\(notTaken)")
        let served = server.slot.served.model.data.items
        #expect(served.index(of: "new-a") != nil && served.index(of: "new-c") != nil && served.index(of: "new-b") == nil)
    }

    /// Concurrent requests join into one change; when the model cannot take one request's
    /// items, the others' are taken all the same (each request's are tried again alone), and
    /// only that request is answered that its items were not taken. Before, every request
    /// joined to the failed change was.
    @Test func oneRequestsUnwantedItemsHoldNoOtherBack() async throws {
        var data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        data.catalog = ModelContract.catalog(for: data.items)
        let (server, _) = try Self.server(model: try RefusingNewItems(fitting: data, configuration: .init()))
        // The first starts a change alone; the others arrive during its pause and join the next.
        let titles = ["first"] + (1..<7).map { $0 % 3 == 0 ? "unwanted \($0)" : "wanted \($0)" }
        try await Self.run(server) { client in
            let first = Task { try await client.execute(uri: "/items", method: .post, body: Self.body(#"{"items": [{"id": "new-0", "title": "first"}]}"#)) }
            try await Task.sleep(for: .milliseconds(50))
            let answers = try await withThrowingTaskGroup(of: (Int, Bool?, String?).self) { group in
                for n in 1..<titles.count {
                    group.addTask {
                        let response = try await client.execute(uri: "/items", method: .post, body: Self.body(#"{"items": [{"id": "new-\#(n)", "title": "\#(titles[n])"}]}"#))
                        let body = try Self.json(response)
                        #expect(response.status == .ok)
                        return (n, body["recommendable_now"] as? Bool, body["not_taken"] as? String)
                    }
                }
                return try await group.reduce(into: [Int: (Bool?, String?)]()) { $0[$1.0] = ($1.1, $1.2) }
            }
            #expect(try Self.json(try await first.value)["recommendable_now"] as? Bool == true)
            for n in 1..<titles.count {
                let (taken, notTaken) = try #require(answers[n])
                if titles[n].hasPrefix("unwanted") {
                    #expect(taken == false && notTaken?.contains("no room for new-\(n)") == true, "\(n): \(String(describing: notTaken))")
                } else {
                    #expect(taken == true && notTaken == nil, "\(n): \(String(describing: notTaken))")
                }
            }
        }
        let served = server.slot.served.model.data
        #expect(titles.indices.filter { served.items.index(of: "new-\($0)") != nil } == titles.indices.filter { !titles[$0].hasPrefix("unwanted") })
    }

    /// Servers over one store of their own, started one after another from a model: a restart.
    struct Restartable: Sendable {
        let store: SQLiteStore

        init() throws { store = try SQLiteStore(path: Fixtures.temporaryDirectory() + "/store.sqlite") }

        func start(_ model: any RecommendationModel, retrain: RetrainPolicy = RetrainPolicy()) -> RecommendationServer {
            var configuration = RecommendationServer.Configuration()
            configuration.allowAnonymous = true
            configuration.retrain = retrain
            return RecommendationServer(store: store, model: ServedModel(model: model, version: 1, source: "test"), configuration: configuration)
        }
    }

    /// Items posted to one server are in the model of a server started later over the same
    /// store from the same model file, before it serves (they waited for a retrain): new ones,
    /// and a known one whose title the store changed; a second start takes nothing more.
    @Test func storedItemsServeAgainAfterARestart() async throws {
        var data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        data.catalog = ModelContract.catalog(for: data.items)
        let model = try BM25Content(fitting: data, configuration: .init())
        let servers = try Restartable()
        let first = servers.start(model)
        let known = data.items.identifiers[3]
        try await Self.run(first) { client in
            let posted = try await client.execute(uri: "/items", method: .post, body: Self.body(#"{"items": [{"id": "new-a", "title": "first new"}, {"id": "new-b", "title": "second new"}]}"#))
            #expect(try Self.json(posted)["recommendable_now"] as? Bool == true)
            let patched = try await client.execute(uri: "/items/\(known)", method: .patch, body: Self.body(#"{"title": "a title of its own"}"#))
            #expect(patched.status == .ok)
        }
        let restarted = servers.start(model)
        #expect(restarted.slot.served.model.data.items.index(of: "new-a") == nil)
        let intake = try await restarted.takeStoredItems()
        #expect(intake.taken == 3 && intake.problem == nil, "\(intake)")
        let served = restarted.slot.served.model.data
        #expect(served.items.index(of: "new-a") != nil && served.items.index(of: "new-b") != nil)
        #expect(served.catalog?[known]?.title == "a title of its own" && served.catalog?["new-b"]?.title == "second new")
        #expect(try await restarted.takeStoredItems().taken == 0)
    }

    /// A user erased through one server is not in the model of a server started later over the
    /// same store from the same model file (the file holds them): a model that forgets exactly
    /// forgets them at start, as at the erasure, and one that cannot leaves them to the next
    /// retrain (the interval schedule sees a change).
    @Test func erasedUsersStayForgottenAfterARestart() async throws {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let ease = try EASE(fitting: data, configuration: EASE.Configuration(parameters: ModelParameters(["lambda": "1"])))
        let servers = try Restartable()
        let user = data.users.identifiers[2], row = 2
        let status = try await Self.run(servers.start(ease)) { client in try await client.execute(uri: "/users/\(user)", method: .delete).status }
        #expect(status == .ok)
        let restarted = servers.start(ease)
        #expect(restarted.slot.served.model.data.byUser.count(ofRow: row) > 0)
        let outcome = try await restarted.maintainer.forgetStoredErasures()
        #expect(outcome.forgotten == 1 && outcome.waiting == 0)
        let served = restarted.slot.served.model
        #expect(served.data.byUser.count(ofRow: row) == 0 && restarted.slot.served.version == 2)
        let fresh = try EASE(fitting: data.removingUsers([row]), configuration: ease.configuration)
        #expect(zip(served.scores(forUser: 0), fresh.scores(forUser: 0)).allSatisfy { abs($0 - $1) <= 1e-4 })
        #expect(try await restarted.maintainer.forgetStoredErasures() == (0, 0))
        // A model that cannot forget exactly keeps them until a retrain.
        let svd = servers.start(try ModelRegistry.fit("svd", parameters: ModelParameters(["factors": "4"]), data: data))
        #expect(await !svd.maintainer.hasChanges)
        #expect(try await svd.maintainer.forgetStoredErasures() == (0, 1))
        #expect(await svd.maintainer.hasChanges)
    }

    /// Feedback sent before a restart counts toward the retrain policy of the server started
    /// again over the store (it counted from zero, so `afterEvents` waited for as many again):
    /// three events, `afterEvents` 3, so a retrain runs at start and counts them in.
    @Test func feedbackBeforeARestartCountsTowardTheRetrain() async throws {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let ease = try EASE(fitting: data, configuration: EASE.Configuration(parameters: ModelParameters(["lambda": "1"])))
        let servers = try Restartable()
        let first = servers.start(ease, retrain: RetrainPolicy(afterEvents: 100))
        let (user, items) = (data.users.identifiers[0], data.items.identifiers)
        let status = try await Self.run(first) { client in
            try await client.execute(uri: "/feedback", method: .post, body: Self.body(
                #"{"feedback": [{"user": "\#(user)", "item": "\#(items[1])"}, {"user": "\#(user)", "item": "\#(items[2])"}, {"user": "new-user", "item": "\#(items[3])"}]}"#)).status
        }
        #expect(status == .ok)
        #expect(await first.maintainer.eventsSinceFit == 3)
        let restarted = servers.start(ease, retrain: RetrainPolicy(afterEvents: 3))
        #expect(await !restarted.maintainer.hasChanges)
        #expect(try await restarted.maintainer.countStoredFeedback() == 3)
        // The retrain it started swaps in a model fitted with the three events.
        // (It swaps the model in before it lowers the count.)
        for _ in 0..<200 {
            if restarted.slot.served.version == 2, await restarted.maintainer.eventsSinceFit == 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(restarted.slot.served.version == 2 && restarted.slot.served.model.data.users.index(of: "new-user") != nil)
        #expect(await restarted.maintainer.eventsSinceFit == 0)
    }

    /// The store's items come from many requests, so one the served model refuses at start holds
    /// no other back (it took none of them): the halves are tried apart down to the refused one,
    /// which the start names with the model's reason; a budget of changes bounds the halving.
    @Test func oneStoredItemTheModelRefusesHoldsNoOtherBackAtStart() async throws {
        var data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        data.catalog = ModelContract.catalog(for: data.items)
        let servers = try Restartable()
        let titles = ["one", "two", "three", "unwanted four", "five", "six", "seven"]
        try await servers.store.upsertItems(titles.enumerated().map { StoredItem(id: "new-\($0.offset)", title: $0.element) })
        let model = try RefusingNewItems(fitting: data, configuration: .init())
        let server = servers.start(model)
        let intake = try await server.takeStoredItems()
        #expect(intake.taken == 6 && intake.refused == ["new-3"], "\(intake)")
        let problem = try #require(intake.problem)
        #expect(problem.hasPrefix("the served model could not take 1 of the store's 7 items (new-3)") && problem.contains("no room for new-3"), "\(problem)")
        let served = server.slot.served.model.data
        #expect(titles.indices.filter { served.items.index(of: "new-\($0)") != nil } == [0, 1, 2, 4, 5, 6])
        // With one change allowed for the halves, the first half (three items) is taken and
        // the second (four) is not tried apart.
        let maintainer = servers.start(model).maintainer
        await maintainer.limitItemChanges(to: 1)
        let bounded = await maintainer.addStoredItems(try await servers.store.allItems())
        #expect(bounded.taken == ["new-0", "new-1", "new-2"] && bounded.refused == ["new-3", "new-4", "new-5", "new-6"] && bounded.untried == 4, "\(bounded)")
        #expect(bounded.reason?.contains("no room for new-3") == true)
    }

    /// A store written before vectors of another length were refused may hold some: the start
    /// says how many, names one with its length and the catalogue's, and takes the rest.
    @Test func storedVectorsOfAnotherLengthAreReportedAtStart() async throws {
        var data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        data.catalog = ItemCatalog(data.items.identifiers.enumerated().map { n, id in ItemRecord(id: id, title: "title \(n)", vector: [Float(n % 3), 1, 2]) })
        let servers = try Restartable()
        try await servers.store.upsertItems([StoredItem(id: "short", title: "short one", vector: [1, 2]), StoredItem(id: "fine", title: "fine one", vector: [1, 2, 3])])
        let server = servers.start(try BM25Content(fitting: data, configuration: .init()))
        let intake = try await server.takeStoredItems()
        #expect(intake.taken == 2)
        let warning = try #require(intake.vectorsOfAnotherLength)
        #expect(warning.hasPrefix("1 stored items") && warning.contains("(short: 2)") && warning.contains("with 3 values"), "\(warning)")
    }

    /// A vector of another length than the served model's item vectors is refused before it is
    /// stored, by POST /items and PATCH alike (it was stored, the content models left it out,
    /// and the catalogue held vectors of two lengths); one of the right length is taken.
    @Test func itemVectorsOfAnotherLengthAreRefused() async throws {
        var data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        data.catalog = ItemCatalog(data.items.identifiers.enumerated().map { n, id in
            ItemRecord(id: id, vector: [Float(n % 3), 1, Float(n % 5)])
        })
        // The hybrid maps the items' vectors into its factor space (content-dense reads them
        // too; it lives in BraidTextModels).
        let (server, _) = try Self.server(model: try ModelRegistry.fit("hybrid", data: data))
        let first = data.items[0]
        try await Self.run(server) { client in
            let posted = try await client.execute(uri: "/items", method: .post,
                                                  body: Self.body(#"{"items": [{"id": "fits", "vector": [1, 2, 3]}, {"id": "short", "vector": [1, 2]}]}"#))
            #expect(posted.status == .badRequest)
            let error = try #require(Self.json(posted)["error"] as? [String: Any])
            #expect(error["code"] as? String == "vectorDimension")
            #expect(error["message"] as? String == "item short's vector has 2 numbers, but the served model's item vectors have 3; send one of 3 (nothing was stored)")
            #expect(try await client.execute(uri: "/items/fits", method: .get).status == .notFound)
            let patched = try await client.execute(uri: "/items/\(first)", method: .patch, body: Self.body(#"{"vector": [1, 2, 3, 4]}"#))
            #expect(patched.status == .badRequest)
            let taken = try Self.json(try await client.execute(uri: "/items", method: .post, body: Self.body(#"{"items": [{"id": "fits", "vector": [1, 2, 3]}]}"#)))
            #expect(taken["recommendable_now"] as? Bool == true)
        }
        let catalog = try #require(server.slot.served.model.data.catalog)
        #expect(catalog[first]?.vector == [0, 1, 0] && catalog["fits"]?.vector == [1, 2, 3] && catalog["short"] == nil)
    }

    /// A model whose item vectors are its items' texts embedded (`--item-vectors text`): an item
    /// posted with a title and no vector is embedded by the same text model and scored at once,
    /// as the same text is in the training catalogue (the hybrid maps the vectors into its
    /// factor space); a new title is embedded again, an unchanged one is not, and a retrain keeps
    /// the embedding. A server with no text model stores such an item and says it was not taken.
    @Test func postedItemsAreEmbeddedLikeTheCataloguesTexts() async throws {
        var data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let titles = ["space station", "love in paris", "space love", "pirates of paris"]
        data.catalog = ItemCatalog(data.items.identifiers.enumerated().map { ItemRecord(id: $1, title: titles[$0 % titles.count]) })
        data = data.addingItems([ItemRecord(id: "cold", title: "space pirates")])
        let embedder = WordCountEmbedder()
        data.catalog = data.catalog?.embeddingTexts(with: embedder)
        let model = try ModelRegistry.fit("hybrid", parameters: ModelParameters(["collaborative": "als(factors=4,iterations=10)"]), data: data)
        let (server, _) = try Self.server(model: model, textEmbedder: embedder)
        let user = data.users[0]
        try await Self.run(server) { client in
            let added = try Self.json(try await client.execute(uri: "/items", method: .post, body: Self.body(#"{"items": [{"id": "new", "title": "Space Pirates"}]}"#)))
            #expect(added["recommendable_now"] as? Bool == true, "\(added)")
            let list = try Self.items(try await client.execute(uri: "/users/\(user)/recommendations?n=100", method: .get))
            let new = try #require(list.first { $0.item == "new" }), cold = try #require(list.first { $0.item == "cold" })
            #expect(abs(new.score - cold.score) <= 1e-6 * max(1, abs(cold.score)), "\(new) \(cold)")
            let embedded = embedder.embeddedTexts
            let same = try Self.json(try await client.execute(uri: "/items/new", method: .patch, body: Self.body(#"{"title": "Space Pirates"}"#)))
            #expect(same["recommendable_now"] as? Bool == false && embedder.embeddedTexts == embedded, "\(same)")
            _ = try await client.execute(uri: "/items/new", method: .patch, body: Self.body(#"{"title": "love in paris"}"#))
            #expect(server.slot.served.model.data.catalog?["new"]?.vector == [0, 1, 1, 0, 1])
            #expect(try await client.execute(uri: "/models/retrain", method: .post).status == .ok)
        }
        #expect(server.slot.served.source.hasPrefix("retrained"), "\(server.slot.served.source)")
        #expect(server.slot.served.model.data.catalog?["new"]?.vector == [0, 1, 1, 0, 1])
        #expect(server.slot.served.model.data.catalog?.textEmbedding == embedder.model)

        let (without, _) = try Self.server(model: model)
        try await Self.run(without) { client in
            let added = try Self.json(try await client.execute(uri: "/items", method: .post, body: Self.body(#"{"items": [{"id": "new", "title": "space pirates"}]}"#)))
            #expect(added["recommendable_now"] as? Bool == false)
            #expect((added["not_taken"] as? String)?.contains("no text model is loaded to embed item new's text") == true, "\(added)")
            // An item that brings its own vector needs no text model.
            let given = try Self.json(try await client.execute(uri: "/items", method: .post, body: Self.body(#"{"items": [{"id": "given", "title": "x", "vector": [1, 0, 0, 1, 1]}]}"#)))
            #expect(given["recommendable_now"] as? Bool == true, "\(given)")
        }
    }

    /// A retrain takes the store's items into the model's catalogue: one posted while a model
    /// that does not read content served (EASE: not recommendable at once), and an item only
    /// the model's catalogue knew, its title and text changed by PATCH and the rest of its
    /// record (categories, its other text field) kept.
    @Test func retrainingTakesTheStoresItems() async throws {
        var data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        data.catalog = ModelContract.catalog(for: data.items)
        let (server, _) = try Self.server(model: try ModelRegistry.fit("ease", parameters: ModelParameters(["lambda": "1"]), data: data))
        let user = data.users[0]
        try await Self.run(server) { client in
            let added = try Self.json(try await client.execute(uri: "/items", method: .post,
                                                               body: Self.body(#"{"items": [{"id": "new", "title": "a new one", "categories": ["x"]}]}"#)))
            #expect(added["recommendable_now"] as? Bool == false)
            let patched = try await client.execute(uri: "/items/i0", method: .patch, body: Self.body(#"{"title": "renamed", "text": "about it"}"#))
            #expect(patched.status == .ok)
            _ = try await client.execute(uri: "/feedback", method: .post, body: Self.body(#"{"feedback": [{"user": "\#(user)", "item": "new"}]}"#))
            #expect(try await client.execute(uri: "/models/retrain", method: .post).status == .ok)
        }
        let catalog = try #require(server.slot.served.model.data.catalog)
        #expect(server.slot.served.version == 2)
        #expect(catalog["new"] == ItemRecord(id: "new", title: "a new one", categories: ["x"]))
        #expect(catalog["i0"] == ItemRecord(id: "i0", title: "renamed", categories: ["even"], text: ["tags": "even-tag", "text": "about it"]))
        #expect(catalog["i1"] == ModelContract.catalog(for: data.items)["i1"])
    }

    @Test func metricsCountRequestsByRoute() async throws {
        let (server, _) = try Self.server()
        try await Self.run(server) { client in
            _ = try await client.execute(uri: "/popular", method: .get)
            _ = try await client.execute(uri: "/feedback", method: .post, body: Self.body(#"{"feedback": [{"user": "a", "item": "b"}, {"user": "a", "item": "c"}]}"#))
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(text.contains(#"braid_http_requests_total{route="/popular",method="GET",status="200"} 1"#), "\(text.prefix(400))")
            #expect(text.contains("braid_feedback_events_total 2"))
            #expect(text.contains(#"braid_store_rows{table="feedback"} 2"#))
            #expect(text.contains("braid_http_request_duration_seconds_bucket"))
        }
    }
}
