import BraidCore
@testable import BraidModels
import BraidTestSupport
import Foundation
import Testing

@Suite struct FusionTests {
    static func fit(_ members: String, _ data: InteractionMatrix, _ more: [String: String] = [:]) throws -> any RecommendationModel {
        try ModelRegistry.fit("fusion", parameters: ModelParameters(["members": members, "candidates": "8", "adjacency-members": "false", "trees": "10", "min-leaf": "2",
                                                                     "holdout": "0.3"].merging(more) { $1 }), data: data)
    }

    /// Users scored in blocks (the evaluation's batches, `recommend(userIndices:)`, the inner
    /// folds) get what one user at a time gives, to the bit: ALS and GF-CF score the block
    /// together, the other members user by user. GF-CF alone too, with its linear filter and
    /// without; and lists for many users, untrained and unknown ones among them, equal the
    /// single calls.
    @Test func blocksOfUsersScoreAsOneUserAtATime() throws {
        let data = Fixtures.randomRatings(users: 40, items: 30, perUser: 8)
        let model = try Self.fit("ease+als+gfcf", data) as! Fusion
        let users = Array(0..<data.userCount)
        let together = try #require(model.scores(forUsers: users)), leading = try #require(model.leadingScores(forUsers: users))
        for user in users {
            #expect(together[user].map(\.bitPattern) == model.scores(forUser: user).map(\.bitPattern), "user \(user)")
            #expect(leading[user].map(\.bitPattern) == model.leadingScores(forUser: user)?.map(\.bitPattern), "user \(user)")
        }
        let asked = users + [-1, 999, 3]
        #expect(model.recommend(userIndices: asked, count: 5).map { $0.map(\.index) } == asked.map { model.recommend(userIndex: $0, count: 5).map(\.index) })
        for linear in ["true", "false"] {
            let gfcf = try ModelRegistry.fit("gfcf", parameters: ModelParameters(["linear": linear, "factors": "6"]), data: data)
            let block = try #require(gfcf.scores(forUsers: users))
            #expect(users.allSatisfy { block[$0].map(\.bitPattern) == gfcf.scores(forUser: $0).map(\.bitPattern) }, "linear=\(linear)")
        }
    }

    /// Without timestamps the features of a history and of the same training row are the same,
    /// so the fusion's fold-in gives a training user exactly their scores.
    @Test func historyScoresEqualTrainingScoresWithoutTimestamps() throws {
        var data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        data.ageInDays = nil
        let model = try Self.fit("itemknn+pop", data)
        #expect(model.scoresAnyHistory)
        for user in [0, 7, 19] {
            let own = try model.scores(forHistory: Array(data.items(ofUser: user)), values: Array(data.byUser.values(ofRow: user)))
            #expect(own == model.scores(forUser: user))
        }
    }

    /// Similar items are the fusion's list after a history of the item alone (valued as its
    /// training interactions on average); with a member that cannot score a new history, the
    /// base member's similar items.
    @Test func similarItemsAreTheListAfterTheItemAlone() throws {
        let data = Fixtures.randomRatings(users: 40, items: 25, perUser: 8)
        let fusion = try Self.fit("itemknn+ease", data)
        let values = data.byItem.values(ofRow: 3)
        let after = try fusion.scores(forHistory: [3], values: [values.reduce(0, +) / Float(values.count)])
        let expected = (0..<data.itemCount).filter { $0 != 3 }.sorted { (after[$0], -$0) > (after[$1], -$1) }.prefix(8)
        #expect(try fusion.similarItems(toItemIndex: 3, count: 8).map(\.index) == expected.map(Int32.init))
        let fixed = try Self.fit("itemknn+userknn(similarity=pearson-baseline)", data) as! Fusion
        #expect(!fixed.scoresAnyHistory)
        #expect(try fixed.similarItems(toItemIndex: 3, count: 8) == (try fixed.members[fixed.baseMember].similarItems(toItemIndex: 3, count: 8)))
    }

    /// 8 GiB holds a float32 matrix of 46,340 × 46,340 items (8,589,582,400 bytes) but not
    /// one of 46,341 (8,589,953,124): past that EASE refuses the fit, and the fusion's default
    /// members put item kNN in its place. Members named, or assigned, are kept as they are.
    @Test func defaultsGiveWayPastTheItemsSquaredMemoryLimit() throws {
        func data(items: Int) -> InteractionMatrix {
            var table = InteractionTable()
            for u in 0..<2000 { table.users.insert("u\(u)") }
            for i in 0..<items { table.items.insert("i\(i)") }
            for i in 0..<items { table.append(user: Int32(i % 2000), item: Int32(i), value: 1) }
            return InteractionMatrix(table)
        }
        let fitting = data(items: 46_340), over = data(items: 46_341)
        #expect(EASE.sizeProblem(fitting) == nil)
        #expect(EASE.sizeProblem(over) == "EASE on 46341 items needs a 46341×46341 float32 matrix, 8.0 GiB, more than max-memory-gb=8.0")
        #expect(throws: ModelError.self) { try EASE(fitting: over) }
        let defaults = Fusion.Configuration()
        #expect(defaults.defaultMembers)
        #expect(defaults.resolved(for: fitting).members.map(\.model) == ["ease", "userknn", "als", "rp3beta", "gfcf"])
        let sized = defaults.resolved(for: over)
        #expect(sized.members.map(\.model) == ["itemknn", "userknn", "als", "rp3beta", "gfcf"])
        #expect(defaults.resolvedSizing(for: over).replaced.map(\.index) == [0])
        #expect(defaults.resolvedSizing(for: over).replaced.map(\.problem) == [EASE.sizeProblem(over)!])
        #expect(defaults.resolvedSizing(for: fitting).replaced.isEmpty)
        // A larger limit of EASE's own lets it stay.
        var roomy = defaults
        roomy.members[0] = MemberSpec(model: "ease", parameters: ["max-memory-gb": "9"])
        #expect(!roomy.defaultMembers)
        #expect(Fusion.Configuration.oversized(roomy.members, data: over).isEmpty)
        let named = try Fusion.Configuration(parameters: ModelParameters(["members": "ease+userknn"]))
        #expect(!named.defaultMembers)
        #expect(named.resolved(for: over).members.map(\.model) == ["ease", "userknn"])
        #expect(Fusion.Configuration.oversized(named.members, data: over).map(\.index) == [0])
        // GF-CF at its defaults (linear=auto) keeps the linear filter where it fits and scores
        // by the ideal filter alone past it; linear=true insists and is refused, as is alpha=0,
        // which would leave nothing to score by. The fitted configuration says which it was.
        let small = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        #expect(try #require(try ModelRegistry.fit("gfcf", parameters: ModelParameters(), data: small) as? GFCF).configuration.linear == true)
        let ideal = try #require(try ModelRegistry.fit("gfcf", parameters: ModelParameters(["factors": "4"]), data: over) as? GFCF)
        #expect(ideal.configuration.linear == false && ideal.linearFilter.storage.count == 0)
        #expect(throws: ModelError.self) { try ModelRegistry.fit("gfcf", parameters: ModelParameters(["linear": "true"]), data: over) }
        #expect(throws: ModelError.self) { try ModelRegistry.fit("gfcf", parameters: ModelParameters(["alpha": "0"]), data: over) }
    }

    /// With a member that cannot fold in (user kNN with pearson-baseline similarity), neither
    /// can the fusion, and it says which; with user kNN at its default similarity it can.
    @Test func foldsInOnlyWhenEveryMemberDoes() throws {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        #expect(try Self.fit("itemknn+userknn", data).scoresAnyHistory)
        let model = try Self.fit("itemknn+userknn(similarity=pearson-baseline)", data)
        #expect(!model.scoresAnyHistory)
        #expect(throws: ModelError.self) { try model.scores(forHistory: [0], values: [1]) }
    }

    /// Every neural model is a member and candidate generator like any other; with only
    /// members that fold in (SASRec reads the history in order), the fusion folds in too, and
    /// it survives a save and load.
    @Test func neuralModelsAreMembers() throws {
        let data = SequentialModelTests.ring(items: 20, users: 40, length: 8)
        let small = "factors=8,layers=1,inner=16,max-length=8,epochs=3,patience=0"
        let fusion = try Self.fit("pop+sasrec(\(small))+bert4rec(\(small))+twotower(content=none,factors=8,hidden=8,epochs=3,patience=0)", data)
        #expect(fusion.scoresAnyHistory)
        let scores = fusion.scores(forUser: 3)
        #expect(scores.count == data.itemCount && scores.allSatisfy(\.isFinite))
        let path = Fixtures.temporaryDirectory() + "/fusion.braid"
        try ModelRegistry.save(fusion, to: path)
        #expect(try ModelRegistry.load(from: path).scores(forUser: 3) == scores)
        #expect(throws: ModelError.self) { try Self.fit("pop+neumf(factors=4,epochs=1,patience=0)", data).scores(forHistory: [0], values: [1]) }
    }

    /// The linear ranker (the baseline) is chosen by `ranker=linear`, survives a save and
    /// load, and a file without the ranker's kind loads as trees. Each member gives its score,
    /// and with `rank-features` its rank too; the file keeps which.
    @Test(arguments: [false, true]) func linearRankerIsSavedAndLoaded(ranks: Bool) throws {
        let data = Fixtures.randomRatings(users: 40, items: 25, perUser: 8)
        let model = try ModelRegistry.fit("fusion", parameters: ModelParameters(["members": "itemknn+pop", "candidates": "8", "adjacency-members": "false", "ranker": "linear",
                                                                                 "holdout": "0.3", "rank-features": "\(ranks)"]), data: data) as! Fusion
        guard case .linear(let linear) = model.ranker else { Issue.record("not the linear ranker"); return }
        #expect(linear.weights.count == model.context.featureCount && model.ranker.trees.isEmpty)
        #expect(model.featureWeights.kind == "linear weights")
        let memberFeatures = ranks ? ["itemknn score", "itemknn rank", "pop score", "pop rank"] : ["itemknn score", "pop score"]
        #expect(model.featureWeights.weights.map(\.feature) == memberFeatures + ["popularity", "trend", "item age", "history length", "recency", "co-occurrence"])
        #expect(model.featureWeights.weights.map(\.weight) == linear.weights.map(Double.init))
        let path = Fixtures.temporaryDirectory() + "/fusion-linear-\(ranks).braid"
        try ModelRegistry.save(model, to: path)
        let loaded = try ModelRegistry.load(from: path) as! Fusion
        #expect(loaded.ranker == model.ranker && loaded.configuration.rankFeatures == ranks)
        #expect(loaded.scores(forUser: 5) == model.scores(forUser: 5))
        #expect(throws: ModelError.self) { try ModelRegistry.fit("fusion", parameters: ModelParameters(["ranker": "forest"]), data: data) }
        // Additive: one contribution per member and per item and user feature, adding up to the score.
        let scores = model.scores(forUser: 5)
        for entry in model.recommend(userIndex: 5, count: 3) {
            let why = try #require(model.explanation(user: 5, item: Int(entry.index)))
            #expect(why.contributions.map(\.name) == ["itemknn", "pop", "popularity", "trend", "item age", "history length", "recency", "co-occurrence"])
            let sum = why.contributions.reduce(0) { $0 + $1.weight }
            #expect(abs(sum - scores[Int(entry.index)]) <= 1e-4 * max(1, abs(scores[Int(entry.index)])))
        }
        let trees = try ModelRegistry.fit("fusion", parameters: ModelParameters(["members": "itemknn+pop", "candidates": "8", "adjacency-members": "false", "ranker": "lambdamart",
                                                                                 "trees": "5", "min-leaf": "2", "holdout": "0.3"]), data: data)
        let splits = (trees as! Fusion).featureWeights
        #expect(splits.kind == "splits" && splits.weights.reduce(0) { $0 + $1.weight } == Double((trees as! Fusion).ranker.trees.reduce(0) { $0 + $1.feature.filter { $0 >= 0 }.count }))
    }

    /// Members that read content (a content model, the two-tower model over BM25) get the
    /// item catalogue in the inner split as in the refit.
    @Test func contentMembersReadTheCatalogue() throws {
        var data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        data.catalog = ModelContract.catalog(for: data.items)
        let fusion = try Self.fit("pop+content-bm25+twotower(factors=8,hidden=8,epochs=2,patience=0)", data)
        let scores = fusion.scores(forUser: 3)
        #expect(scores.count == data.itemCount && scores.allSatisfy(\.isFinite))
    }

    /// Items added to the catalogue: the members are fitted again on the grown data (each
    /// member's scores are that member's fitted alone on it), the ranker is the one learned
    /// before, and a new item comes into a user's candidates exactly when the content member
    /// proposes it. Data that is no such extension (a user fewer) is fitted anew.
    @Test func newItemsJoinAndTheRankerStays() throws {
        var data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        data.catalog = ModelContract.catalog(for: data.items)
        let fusion = try Self.fit("itemknn+content-bm25", data, ["cold-items": "0"]) as! Fusion
        // Their parity words repeated, so that BM25 puts them above the old items of that parity.
        let added = data.addingItems([ItemRecord(id: "i100", title: "even even even item", categories: ["even"], text: ["tags": "even-tag even-tag"]),
                                      ItemRecord(id: "i101", title: "odd odd odd item", categories: ["odd"], text: ["tags": "odd-tag odd-tag"])])
        let grown = try fusion.extendingCatalogue(to: added) as! Fusion
        #expect(grown.data == added && grown.ranker == fusion.ranker && grown.baseMember == fusion.baseMember)
        #expect(grown.configuration.members == fusion.configuration.members)
        var alone: [any RecommendationModel] = []
        for spec in grown.configuration.members {
            alone.append(try ModelRegistry.fit(spec.model, parameters: ModelParameters(spec.parameters), data: added))
        }
        var proposals = 0
        for user in 0..<data.userCount {
            for (member, fitted) in zip(grown.members, alone) { #expect(member.scores(forUser: user) == fitted.scores(forUser: user)) }
            let seen = Set(data.items(ofUser: user).map(Int.init))
            let proposed = Set(DescendingOrder.of((0..<added.itemCount).filter { !seen.contains($0) }, alone[1].scores(forUser: user)).prefix(8))
            let leading = grown.leadingScores(forUser: user)!
            for item in [25, 26] {
                #expect(leading[item].isFinite == proposed.contains(item), "user \(user) item \(item)")
                if proposed.contains(item) { proposals += 1 }
            }
        }
        #expect(proposals > 0, "the check above must see a new item proposed")
        let fewer = try fusion.extendingCatalogue(to: data.removingUsers([3])) as! Fusion
        #expect(fewer.data.interactionCount == data.interactionCount - data.byUser.count(ofRow: 3))
    }

    /// 60 users and 60 items of three kinds: user u likes 8 of the 20 items i ≡ u mod 3, and an
    /// item's title and category carry the word of its kind (`kinds[i mod 3]`); no timestamps.
    static func threeKinds() -> (data: InteractionMatrix, kinds: [String]) {
        var table = InteractionTable()
        let kinds = ["apple", "bread", "cheese"]
        for u in 0..<60 { table.users.insert("u\(u)") }
        for i in 0..<60 { table.items.insert("i\(i)") }
        var rng = SeededGenerator(seed: 3)
        for u in 0..<60 {
            for i in (0..<20).map({ 3 * $0 + u % 3 }).shuffled(using: &rng).prefix(8).sorted() { table.append(user: Int32(u), item: Int32(i), value: 1) }
        }
        var data = InteractionMatrix(table)
        data.catalog = ItemCatalog((0..<60).map { ItemRecord(id: "i\($0)", title: "\(kinds[$0 % 3]) number \($0)", categories: [kinds[$0 % 3]]) })
        return (data, kinds)
    }

    /// Three tastes (user u likes items i with i ≡ u mod 3, whose titles carry the word of
    /// their kind), no timestamps. With `cold-items` the inner folds hold out items whole, so
    /// the ranker learns where an item without interactions belongs: a new item of a user's
    /// kind, proposed by the feature-only BM25 member among the items without interactions,
    /// comes in their first ten, above the other kinds' new items. Without it the BM25 member
    /// proposes nothing and the new items stay below every candidate.
    @Test func newItemsRankWhereTheirTextSays() throws {
        let (data, kinds) = Self.threeKinds()
        let added = data.addingItems(kinds.map { ItemRecord(id: "new-\($0)", title: "\($0) arrives", categories: [$0]) })
        var firstTen = 0
        for cold in ["0.1", "0"] {
            let fusion = try ModelRegistry.fit("fusion", parameters: ModelParameters(["members": "ease+content-bm25(candidates=0)", "candidates": "8", "cold-items": cold,
                                                                                      "trees": "10", "min-leaf": "2"]), data: data) as! Fusion
            #expect(fusion.scoresItemsWithoutInteractions == (cold != "0"))
            #expect(fusion.featureWeights.weights.map(\.feature).contains("no interactions") == (cold != "0"))
            let grown = try fusion.extendingCatalogue(to: added)
            for u in 0..<60 {
                let scores = grown.scores(forUser: u)
                let own = 60 + u % 3
                let place = scores.indices.filter { scores[$0] > scores[own] }.count
                if cold == "0" {
                    // Below the candidates: the 8 the EASE member proposed.
                    #expect(place >= 8, "user \(u): new item at \(place) without cold-items")
                } else {
                    if place < 10 { firstTen += 1 }
                    for other in (60..<63) where other != own { #expect(scores[other] < scores[own], "user \(u): another kind's new item above their own") }
                }
            }
        }
        #expect(firstTen >= 45, "the new item of the user's kind in their first ten for \(firstTen) of 60 users")
    }

    /// The items no member proposed follow the candidates in the linear ranker's order (they
    /// followed the first member's alone): without timestamps an item's features are each
    /// member's score standardized over the user's unseen items, its popularity's mid-rank
    /// share and the user's history length's (the same for every item), worked out here apart
    /// from the fusion; seen items come last. Their explanations carry those terms.
    @Test func itemsBeyondTheCandidatesFollowTheLinearRanker() throws {
        var data = Fixtures.randomRatings(users: 40, items: 30, perUser: 8)
        data.ageInDays = nil
        let model = try Self.fit("itemknn+pop", data, ["candidates": "3", "ranker": "linear", "holdout": "0.3"]) as! Fusion
        guard case .linear(let linear) = model.ranker else { Issue.record("not the linear ranker"); return }
        let w = linear.weights
        #expect(w.count == 2 + 6)
        let counts = (0..<data.itemCount).map { data.byItem.count(ofRow: $0) }
        func share(_ c: Int) -> Double {
            Double(counts.filter { $0 < c }.count) + Double(counts.filter { $0 == c }.count) / 2
        }
        for user in [0, 7, 19] {
            let seen = Set(data.byUser.columns(ofRow: user).map(Int.init))
            let unseen = (0..<data.itemCount).filter { !seen.contains($0) }
            let proposed = Set(model.context.candidates(user: user, members: model.members, counts: [3, 3], beyond: .none).items.map(Int.init))
            #expect(proposed.count >= 3)
            // Each member's score standardized over the unseen items (population deviation).
            let standardized: [[Double]] = model.members.map { member in
                let scores = member.scores(forUser: user).map(Double.init)
                let mean = unseen.reduce(0) { $0 + scores[$1] } / Double(unseen.count)
                let deviation = (unseen.reduce(0) { $0 + (scores[$1] - mean) * (scores[$1] - mean) } / Double(unseen.count)).squareRoot()
                return scores.map { ($0 - mean) / (deviation > 0 ? deviation : 1) }
            }
            func expected(_ item: Int) -> Double {
                Double(w[0]) * standardized[0][item] + Double(w[1]) * standardized[1][item] + Double(w[2]) * share(counts[item]) / Double(counts.count)
            }
            let scores = model.scores(forUser: user)
            let beyond = unseen.filter { !proposed.contains($0) }
            let lowestCandidate = proposed.map { scores[$0] }.min()!
            #expect(beyond.allSatisfy { scores[$0] < lowestCandidate })
            #expect(seen.allSatisfy { s in beyond.allSatisfy { scores[s] < scores[$0] } })
            for a in beyond { for b in beyond where expected(a) > expected(b) + 1e-4 {
                #expect(scores[a] > scores[b], "user \(user): \(a) (\(expected(a))) not above \(b) (\(expected(b)))")
            } }
            // Explained by the members' standardized scores and the linear terms, which add up
            // to the order's score (the history length's term is the same for every item).
            for item in beyond.prefix(3) {
                let why = try #require(model.explanation(user: user, item: item))
                #expect(why.members.map(\.name) == ["itemknn", "pop"] && abs(Double(why.members[0].score) - standardized[0][item]) <= 1e-4)
                #expect(why.contributions.count == 2 + 6 && !why.contributions.contains { $0.name == "trees" })
                let total = why.contributions.filter { $0.name != "history length" }.reduce(0.0) { $0 + Double($1.weight) }
                #expect(abs(total - expected(item)) <= 1e-4 * max(1, abs(expected(item))), "\(total) against \(expected(item))")
            }
        }
    }

    /// A shelf of new items larger than the content member proposes (its 10 best new ones): the
    /// rest follow the candidates in the linear ranker's order (under the trees), so each
    /// user's own kind leads the other kinds there too, by the BM25 member's score. They tied
    /// before, in the first member's order, as EASE cannot rank items without interactions.
    @Test func newItemsBeyondTheCandidatesRankByTheirText() throws {
        let (data, kinds) = Self.threeKinds()
        // 20 new items of each kind: new item 60 + k is of kind k mod 3.
        let added = data.addingItems((0..<60).map { ItemRecord(id: "new-\($0)", title: "\(kinds[$0 % 3]) arrives \($0)", categories: [kinds[$0 % 3]]) })
        let fusion = try ModelRegistry.fit("fusion", parameters: ModelParameters(["members": "ease+content-bm25(candidates=0)", "candidates": "8", "trees": "10",
                                                                                  "min-leaf": "2"]), data: data) as! Fusion
        let grown = try fusion.extendingCatalogue(to: added) as! Fusion
        for u in 0..<60 {
            let scores = grown.scores(forUser: u)
            let proposed = Set(grown.context.candidates(user: u, members: grown.members, counts: grown.configuration.candidateCounts, beyond: .none).items.map(Int.init))
            let beyond = (60..<120).filter { !proposed.contains($0) }
            #expect(beyond.count >= 50)
            let own = beyond.filter { ($0 - 60) % 3 == u % 3 }, others = beyond.filter { ($0 - 60) % 3 != u % 3 }
            let lowestOwn = own.map { scores[$0] }.min() ?? .infinity
            #expect(others.allSatisfy { scores[$0] < lowestOwn }, "user \(u): another kind's new item above their own beyond the candidates")
        }
    }

    /// A member with `candidates=0` gives features and proposes nothing: every item the fusion
    /// ranks among its candidates is in the proposing member's top 8 unseen items.
    @Test func featureOnlyMembersProposeNothing() throws {
        var data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        data.catalog = ModelContract.catalog(for: data.items)
        let fusion = try Self.fit("pop+content-bm25(candidates=0)", data) as! Fusion
        #expect(fusion.configuration.members.map(\.candidates) == [nil, 0])
        #expect(fusion.configuration.members[1].description == "content-bm25(candidates=0)")
        let popularity = try ModelRegistry.fit("pop", parameters: ModelParameters([:]), data: data)
        for user in [0, 11, 29] {
            let seen = Set(data.items(ofUser: user).map(Int.init))
            let eligible = (0..<data.itemCount).filter { !seen.contains($0) && data.byItem.count(ofRow: $0) > 0 }
            let proposed = Set(DescendingOrder.of(eligible, popularity.scores(forUser: user)).prefix(8))
            let scores = fusion.scores(forUser: user)
            let order = scores.indices.sorted { scores[$0] > scores[$1] }
            #expect(Set(order.prefix(proposed.count)) == proposed)
        }
        #expect(throws: ModelError.self) { try Self.fit("pop(candidates=0)+content-bm25(candidates=0)", data) }
        #expect(throws: ModelError.self) { try Self.fit("pop(candidates=many)", data) }
        #expect(throws: ModelError.self) { try ModelRegistry.fit("blend", parameters: ModelParameters(["members": "baseline(candidates=3)"]), data: data) }
    }

    /// With item text and no member that reads it, the fit adds BM25 as a feature-only member;
    /// `content-feature=false`, a content member already listed, or items without text leave
    /// the members as given. The fitted list is what the model file keeps.
    @Test func itemTextAddsTheBM25Feature() throws {
        var data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        data.catalog = ModelContract.catalog(for: data.items)
        let added = try Self.fit("pop+itemknn", data) as! Fusion
        #expect(added.configuration.members.map(\.description) == ["pop", "itemknn", "content-bm25(candidates=0)"])
        #expect(added.scoresItemsWithoutInteractions, "a feature-only member proposes items without interactions (cold-items)")
        #expect(!(try Self.fit("pop+itemknn", data, ["cold-items": "0"])).scoresItemsWithoutInteractions, "without cold-items it brings no item into the list")
        #expect(added.featureWeights.weights.map(\.feature).contains("content-bm25(candidates=0) score"))
        let path = Fixtures.temporaryDirectory() + "/fusion-bm25.braid"
        try ModelRegistry.save(added, to: path)
        let loaded = try ModelRegistry.load(from: path) as! Fusion
        #expect(loaded.configuration.members == added.configuration.members)
        #expect(loaded.scores(forUser: 4) == added.scores(forUser: 4))
        let off = try ModelRegistry.fit("fusion", parameters: ModelParameters(["members": "pop+itemknn", "candidates": "8", "adjacency-members": "false", "content-feature": "false"]),
                                        data: data) as! Fusion
        #expect(off.configuration.members.map(\.description) == ["pop", "itemknn"])
        let listed = try Self.fit("pop+content-tfidf(candidates=0)", data) as! Fusion
        #expect(listed.configuration.members.map(\.description) == ["pop", "content-tfidf(candidates=0)"])
        var bare = data
        bare.catalog = ItemCatalog(data.items.identifiers.map { ItemRecord(id: $0) })
        #expect((try Self.fit("pop+itemknn", bare) as! Fusion).configuration.members.count == 2)
    }

    /// With timestamps the fit adds `adjacency` and `adjacency(half-life=10)` after the members
    /// (the fitted list is what the model file keeps); not without timestamps, not when a member
    /// is already `adjacency`, and not with `adjacency-members=false`.
    @Test func adjacencyMembersJoinWhenTheDataHasTimestamps() throws {
        let timed = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        func members(_ data: InteractionMatrix, _ parameters: [String: String] = [:]) throws -> [String] {
            let fusion = try ModelRegistry.fit("fusion", parameters: ModelParameters(["members": "pop+itemknn", "candidates": "8", "trees": "10",
                                                                                      "min-leaf": "2"].merging(parameters) { $1 }), data: data) as! Fusion
            return fusion.configuration.members.map(\.description)
        }
        #expect(timed.sequence != nil)
        let added = try ModelRegistry.fit("fusion", parameters: ModelParameters(["members": "pop+itemknn", "candidates": "8", "trees": "10", "min-leaf": "2"]),
                                          data: timed) as! Fusion
        #expect(added.configuration.members.map(\.description) == ["pop", "itemknn", "adjacency", "adjacency(half-life=10)"])
        #expect(added.featureWeights.weights.map(\.feature).contains("adjacency(half-life=10) score"))
        let path = Fixtures.temporaryDirectory() + "/fusion-adjacency.braid"
        try ModelRegistry.save(added, to: path)
        let loaded = try ModelRegistry.load(from: path) as! Fusion
        #expect(loaded.configuration.members == added.configuration.members && loaded.scores(forUser: 3) == added.scores(forUser: 3))
        #expect(try members(timed, ["adjacency-members": "false"]) == ["pop", "itemknn"])
        #expect(try members(timed, ["members": "pop+adjacency(window=2)"]) == ["pop", "adjacency(window=2)"])
        let untimed = InteractionMatrix(users: timed.users, items: timed.items, byUser: timed.byUser)
        #expect(untimed.sequence == nil)
        #expect(try members(untimed) == ["pop", "itemknn"])
        #expect(throws: ModelError.self) { try members(timed, ["adjacency-members": "often"]) }
    }

    /// `validation=auto` resolves at fit: random folds when the evaluation held its test out at
    /// random or the data has no timestamps; otherwise (a temporal evaluation, or outside any
    /// evaluation) each user's latest share. An explicit choice stays, and the fitted model
    /// carries the resolved one.
    @Test func innerSplitMirrorsTheEvaluation() throws {
        let timed = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        #expect(timed.ageInDays != nil)
        var untimed = timed
        untimed.ageInDays = nil
        var random = timed, temporal = timed
        random.evaluationHoldout = .random
        temporal.evaluationHoldout = .temporal
        let auto = Fusion.Configuration()
        #expect(auto.resolved(for: timed).validation == .temporal)
        #expect(auto.resolved(for: temporal).validation == .temporal)
        #expect(auto.resolved(for: random).validation == .random)
        #expect(auto.resolved(for: untimed).validation == .random)
        var explicit = auto
        explicit.validation = .temporal
        #expect(explicit.resolved(for: random).validation == .temporal)
        #expect((try Self.fit("pop+itemknn", random) as! Fusion).configuration.validation == .random)
    }

    /// `truncation` not given (or `auto`) is chosen at fit: 10 under a random inner split on
    /// binary values, else every pair (0). A number given, 0 included, stays; the fitted model
    /// carries the number it used.
    @Test func truncationFollowsTheInnerSplitAndTheValues() throws {
        var table = InteractionTable()
        for u in 0..<40 { table.users.insert("u\(u)") }
        for i in 0..<25 { table.items.insert("i\(i)") }
        for u in 0..<40 {
            for i in Set((0..<8).map { (u * 7 + $0 * $0 * 3) % 25 }).sorted() { table.append(user: Int32(u), item: Int32(i), value: 1) }
        }
        let binary = InteractionMatrix(table)
        #expect(binary.valueKind == .binary && binary.ageInDays == nil)
        var ratings = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        ratings.evaluationHoldout = .random
        #expect(ratings.valueKind == .ratings)
        let auto = Fusion.Configuration()
        #expect(auto.automaticTruncation && auto.ranker.truncation == 0)
        let resolved = auto.resolved(for: binary)
        #expect(resolved.validation == .random && resolved.ranker.truncation == 10 && !resolved.automaticTruncation)
        #expect(auto.resolved(for: ratings).ranker.truncation == 0)
        var temporal = auto
        temporal.validation = .temporal
        #expect(temporal.resolved(for: binary).ranker.truncation == 0)
        for (text, expected) in [("auto", 10), ("AUTO", 10), ("0", 0), ("3", 3)] {
            let configuration = try Fusion.Configuration(parameters: ModelParameters(["truncation": text]))
            #expect(configuration.resolved(for: binary).ranker.truncation == expected, "truncation=\(text)")
        }
        #expect(throws: ModelError.self) { try Fusion.Configuration(parameters: ModelParameters(["truncation": "top"])) }
        let fitted = try Self.fit("pop+itemknn", binary) as! Fusion
        #expect(fitted.configuration.ranker.truncation == 10 && !fitted.configuration.automaticTruncation)
    }

    /// Cross-fitting folds hold out each interaction of a user with two or more exactly once,
    /// and every user keeps at least one interaction in every fold.
    @Test func foldsHoldOutEachInteractionOnce() {
        let data = Fixtures.randomRatings(users: 40, items: 30, perUser: 7)
        var seen: [Int64: Int] = [:]
        for fold in 0..<5 {
            let (kept, held) = data.holdingOut(fold: fold, of: 5, seed: 9)
            #expect(kept.interactionCount + held.count == data.interactionCount)
            for user in 0..<data.userCount { #expect(kept.byUser.count(ofRow: user) >= 1) }
            for row in held { seen[Int64(row.user) << 32 | Int64(row.item), default: 0] += 1 }
        }
        let expected = (0..<data.userCount).filter { data.byUser.count(ofRow: $0) >= 2 }.reduce(0) { $0 + data.byUser.count(ofRow: $1) }
        #expect(seen.count == expected && seen.values.allSatisfy { $0 == 1 })
    }

    /// Temporal folds step back in time: with 10 interactions a day apart and a share of 0.2,
    /// fold 0 holds out days 8 and 9 and keeps 0…7; fold 1 drops 8 and 9, holds out 6 and 7
    /// and keeps 0…5. A user with 4 interactions (one held out per fold) has enough for fold 1;
    /// one with 2 has not, and is kept whole with nothing held out.
    @Test func temporalFoldsStepBackInTime() {
        var table = InteractionTable()
        for (user, count) in [("a", 10), ("b", 4), ("c", 2)] {
            for day in 0..<count { table.append(Interaction(user: user, item: "\(user)\(day)", value: 1, timestamp: Int64(day * 86_400))) }
        }
        let data = InteractionMatrix(table)
        func days(_ rows: [(user: Int32, item: Int32, value: Float)], _ user: String) -> [Int] {
            rows.filter { data.users.identifiers[Int($0.user)] == user }.map { Int(data.items.identifiers[Int($0.item)].dropFirst())! }.sorted()
        }
        func kept(_ m: InteractionMatrix, _ user: String) -> [Int] {
            m.items(ofUser: Int(data.users.index(of: user)!)).map { Int(data.items.identifiers[Int($0)].dropFirst())! }.sorted()
        }
        let (latest, heldLatest) = data.holdingOut(share: 0.2, temporal: true, seed: 1)
        #expect(days(heldLatest, "a") == [8, 9] && kept(latest, "a") == Array(0...7))
        let (earlier, heldEarlier) = data.holdingOut(share: 0.2, temporal: true, seed: 1, earlier: 1)
        #expect(days(heldEarlier, "a") == [6, 7] && kept(earlier, "a") == Array(0...5))
        #expect(days(heldEarlier, "b") == [2] && kept(earlier, "b") == [0, 1])
        #expect(days(heldEarlier, "c") == [] && kept(earlier, "c") == [0, 1])
    }

    /// A fold's sample of the ranker's users: of 100 users, the 20 first in the shuffled order
    /// stop early; 30 per fold with a share of 0.2 are 6 of those and 24 of the others, each a
    /// window along the shuffled order, so folds 0, 1 and 2 share no user (3 × 6 ≤ 20,
    /// 3 × 24 ≤ 80) and fold 3 wraps round to fold 0's first 4 early-stopping users and first
    /// 16 others.
    @Test func rankerUsersAreSampledPerFold() throws {
        var rng = SeededGenerator(seed: 4)
        let shuffled = (0..<Int32(100)).shuffled(using: &rng)
        var order = [Int](repeating: 0, count: 100)
        for (position, user) in shuffled.enumerated() { order[Int(user)] = position }
        let stopping = Set(shuffled.prefix(20))
        let folds = (0..<4).map { Fusion.sample(Array(0..<100), count: 30, fold: $0, order: order, validation: stopping, share: 0.2) }
        for sample in folds {
            #expect(sample.count == 30 && sample == sample.sorted() && Set(sample).count == 30)
            #expect(sample.filter(stopping.contains).count == 6)
        }
        #expect(Set(folds[0]).isDisjoint(with: folds[1]) && Set(folds[1]).isDisjoint(with: folds[2]) && Set(folds[0]).isDisjoint(with: folds[2]))
        #expect(Set(folds[3]).intersection(folds[0]) == Set(shuffled[0..<4] + shuffled[20..<36]))
        #expect(Set(folds[0]) == Set(shuffled[0..<6] + shuffled[20..<44]))
        // Users outside the list are never taken, and a list no longer than the count is taken whole.
        let few: [Int32] = [3, 50, 97]
        #expect(Fusion.sample(few, count: 2, fold: 0, order: order, validation: [], share: 0).allSatisfy(few.contains))
        #expect(Fusion.sample(few, count: 3, fold: 1, order: order, validation: [], share: 0) == few)

        // A cap above the queries changes nothing; one below them changes what the ranker learns
        // from; a negative cap is refused with its value.
        let data = Fixtures.randomRatings(users: 60, items: 25, perUser: 8)
        func fit(_ extra: [String: String]) throws -> Fusion {
            try ModelRegistry.fit("fusion", parameters: ModelParameters(["members": "itemknn+pop", "candidates": "8", "adjacency-members": "false", "trees": "20",
                                                                         "min-leaf": "2", "folds": "3"].merging(extra) { $1 }), data: data) as! Fusion
        }
        let all = try fit(["ranker-queries": "0"])
        #expect(try fit([:]).scores(forUser: 7) == all.scores(forUser: 7))
        #expect(try fit(["ranker-queries": "180"]).scores(forUser: 7) == all.scores(forUser: 7))
        #expect(try fit(["ranker-queries": "60"]).ranker != all.ranker)
        #expect(throws: ModelError.self) { try fit(["ranker-queries": "-1"]) }
    }

    /// Popularity and history length enter as mid-rank shares: over [1, 2, 2, 3], 2 has one
    /// value below it and two equal, (1 + 2/2)/4 = 0.5; 1 gives 0.5/4; below all 0, above all 1.
    @Test func midRankShares() {
        let sorted = [1, 2, 2, 3]
        #expect(FusionFeatures.midRankShare(2, in: sorted) == 0.5)
        #expect(FusionFeatures.midRankShare(1, in: sorted) == 0.125)
        #expect(FusionFeatures.midRankShare(0, in: sorted) == 0)
        #expect(FusionFeatures.midRankShare(9, in: sorted) == 1)
        #expect(FusionFeatures.midRankShare(3, in: sorted) == 0.875)
    }

    /// A member's scores are standardized by their mean and variance over the eligible items:
    /// over scores 1…7 the mean is 4 and the variance (9 + 4 + 1 + 0 + 1 + 4 + 9)/7 = 4 (seven
    /// items: four partial sums and a remainder of three); over the items scoring 10 and 1,
    /// 5.5 and 4.5² = 20.25; over one item its score and 0; over none 0 and 0.
    @Test func memberScoreMoments() {
        let scores: [Float] = [3, 1, 7, 10, 2, 6, 4, 5]
        #expect(FusionFeatures.moments(of: scores, over: [0, 1, 2, 4, 5, 6, 7]) == (4, 4))
        #expect(FusionFeatures.moments(of: scores, over: [3, 1]) == (5.5, 20.25))
        #expect(FusionFeatures.moments(of: scores, over: [2]) == (7, 0))
        #expect(FusionFeatures.moments(of: scores, over: []) == (0, 0))
    }

    /// By hand: U_a = {0, 1, 3, 4}, U_b = {0, 2, 3}, U_c = {1, 2, 3}. cos(c, a) = 2/√12 and
    /// cos(c, b) = 2/3; cos(b, a) = 2/√12 and cos(b, b) = 1; the feature is their mean over the
    /// latest items, and their order does not change it.
    @Test func cooccurrenceWithTheLatestItems() {
        var table = InteractionTable()
        for (user, items) in [("u0", "ab"), ("u1", "ac"), ("u2", "bc"), ("u3", "abc"), ("u4", "a")] {
            for item in items { table.append(Interaction(user: user, item: String(item), value: 1)) }
        }
        let data = InteractionMatrix(table)
        func index(_ id: String) -> Int { Int(data.items.index(of: id)!) }
        let (a, b, c) = (index("a"), index("b"), index("c"))
        let latest = LatestCooccurrence([a, b], data: data)
        #expect(abs(latest.mean(c) - (2 / Float(12).squareRoot() + Float(2) / 3) / 2) < 1e-6)
        #expect(abs(latest.mean(b) - (2 / Float(12).squareRoot() + 1) / 2) < 1e-6)
        #expect(abs(LatestCooccurrence([b, a], data: data).mean(c) - latest.mean(c)) < 1e-6)
        #expect(abs(LatestCooccurrence([a], data: data).mean(c) - 2 / Float(12).squareRoot()) < 1e-6)
        #expect(LatestCooccurrence([], data: data).mean(c) == 0)
        // The candidates' means, read from either side, are the same values.
        for side in [false, true, nil] {
            let means = LatestCooccurrence.means(of: [Int32(c), Int32(b)], latest: [a, b], data: data, fromLatestItems: side)
            #expect(abs(means[0] - (2 / Float(12).squareRoot() + Float(2) / 3) / 2) < 1e-6)
            #expect(abs(means[1] - (2 / Float(12).squareRoot() + 1) / 2) < 1e-6)
            #expect(LatestCooccurrence.means(of: [Int32(c)], latest: [], data: data, fromLatestItems: side) == [0])
        }
    }

    /// On random data, each candidate's mean from the latest items' users equals the one from its
    /// own users, to the last bit (the same counts of users in common).
    @Test func cooccurrenceIsTheSameFromEitherSide() {
        var rng = SeededGenerator(seed: 11)
        var table = InteractionTable()
        for u in 0..<60 {
            for i in 0..<40 where Int.random(in: 0..<(i < 5 ? 2 : 8), using: &rng) == 0 {
                table.append(Interaction(user: "u\(u)", item: "i\(i)", value: 1))
            }
        }
        let data = InteractionMatrix(table)
        for _ in 0..<20 {
            let latest = (0..<Int.random(in: 1...3, using: &rng)).map { _ in Int.random(in: 0..<data.itemCount, using: &rng) }
            let candidates = (0..<data.itemCount).filter { _ in Bool.random(using: &rng) }.map(Int32.init)
            let byCandidate = LatestCooccurrence.means(of: candidates, latest: latest, data: data, fromLatestItems: false)
            #expect(byCandidate == candidates.map { LatestCooccurrence(latest, data: data).mean(Int($0)) })
            #expect(LatestCooccurrence.means(of: candidates, latest: latest, data: data, fromLatestItems: true) == byCandidate)
        }
    }

    /// Ratings 1…5 without timestamps, 4 and above the positives and the rest set aside.
    static func rated(users: Int = 40, items: Int = 30, perUser: Int = 10) -> InteractionMatrix {
        var rng = SeededGenerator(seed: 5)
        var table = InteractionTable()
        for u in 0..<users {
            for i in (0..<items).shuffled(using: &rng).prefix(perUser) {
                table.append(Interaction(user: "u\(u)", item: "i\(i)", value: Float(1 + rng.next() % 5)))
            }
        }
        return InteractionMatrix(positivesOf: table, threshold: 4)
    }

    /// By hand: a rated x 5★ and y 2★, b rated y 4★ and z 1★; at threshold 4 the positives
    /// are (a, x) and (b, y), and every pair the users rated is (a, x), (a, y), (b, y), (b, z),
    /// each 1, with nothing set aside. Without pairs set aside the matrix is itself.
    @Test func everyRatedPairAsPositive() throws {
        var table = InteractionTable()
        for (user, item, value) in [("a", "x", 5), ("a", "y", 2), ("b", "y", 4), ("b", "z", 1)] as [(String, String, Float)] {
            table.append(Interaction(user: user, item: item, value: value, timestamp: 86_400))
        }
        let data = InteractionMatrix(positivesOf: table, threshold: 4)
        func pairs(_ m: InteractionMatrix) -> [String] {
            (0..<m.userCount).flatMap { u in m.items(ofUser: u).map { m.users.identifiers[u] + m.items.identifiers[Int($0)] } }.sorted()
        }
        #expect(pairs(data) == ["ax", "by"])
        let everything = data.includingBelowThreshold()
        #expect(pairs(everything) == ["ax", "ay", "by", "bz"])
        #expect(everything.byUser.values.allSatisfy { $0 == 1 } && everything.belowThreshold == nil && everything.ageInDays == nil)
        #expect(everything.users == data.users && everything.items == data.items)
        let plain = InteractionMatrix(table.positives(threshold: 4))
        #expect(plain.includingBelowThreshold() == plain)
    }

    /// The pairs set aside below the threshold are cut into the random folds with the
    /// positives: each leaves the kept part's set in exactly one of five folds (as a test
    /// holds out a share of every row), never in a temporal split, which has no times for them.
    @Test func foldsHoldOutThePairsBelowTheThreshold() throws {
        let data = Self.rated()
        let below = try #require(data.belowThreshold)
        #expect(below.nonzeroCount > 100)
        var missing: [Int64: Int] = [:]
        for fold in 0..<5 {
            let kept = try #require(data.holdingOut(fold: fold, of: 5, seed: 9).kept.belowThreshold)
            for user in 0..<data.userCount {
                let left = Set(kept.columns(ofRow: user))
                #expect(left.isSubset(of: Set(below.columns(ofRow: user))))
                for item in below.columns(ofRow: user) where !left.contains(item) { missing[Int64(user) << 32 | Int64(item), default: 0] += 1 }
            }
        }
        #expect(missing.count == below.nonzeroCount && missing.values.allSatisfy { $0 == 1 })
        let share = try #require(data.holdingOut(share: 0.2, temporal: false, seed: 9).kept.belowThreshold)
        #expect(share.nonzeroCount < below.nonzeroCount && share.nonzeroCount > below.nonzeroCount / 2)
        var timed = data
        timed.ageInDays = data.byUser.mapValues { _, _, _ in 1 }
        #expect(timed.holdingOut(share: 0.2, temporal: true, seed: 9).kept.belowThreshold == below)
    }

    /// Holding items out whole, as the first inner fold does with `cold-items`: every
    /// interaction with them leaves the kept part (and becomes a held-out row), and so do
    /// their pairs below the threshold; nothing else moves.
    @Test func itemsHeldOutWhole() throws {
        let data = Self.rated()
        let below = try #require(data.belowThreshold)
        let items: Set<Int32> = [0, 3, 7]
        let (kept, held) = data.holdingOut(items: items)
        #expect(held.count == items.map { data.byItem.count(ofRow: Int($0)) }.reduce(0, +) && held.count > 0)
        #expect(held.allSatisfy { items.contains($0.item) })
        #expect(kept.interactionCount == data.interactionCount - held.count)
        let keptBelow = try #require(kept.belowThreshold)
        for user in 0..<data.userCount {
            #expect(Set(kept.items(ofUser: user)) == Set(data.items(ofUser: user)).subtracting(items))
            #expect(Set(keptBelow.columns(ofRow: user)) == Set(below.columns(ofRow: user)).subtracting(items))
        }
        #expect(data.holdingOut(items: []).kept == data)
    }

    /// `below-threshold=true` inside a member's parentheses is the fusion's: the member is
    /// fitted on every rated pair, and the file rebuilds that matrix at load. A blend's or a
    /// hybrid's member is refused it as a parameter its model does not have, and a
    /// configuration saved before the key decodes its members as fitted on the positives.
    @Test func membersFitOnTheRatingsBelowTheThreshold() throws {
        func members(_ text: String) throws -> [MemberSpec] { try Fusion.Configuration(parameters: ModelParameters(["members": text])).members }
        let spec = try members("ease(lambda=50,below-threshold=true)+itemknn")
        #expect(spec[0].belowThreshold && spec[0].parameters == ["lambda": "50"] && !spec[1].belowThreshold)
        #expect(spec[0].description == "ease(lambda=50,below-threshold=true)")
        let refusals = [
            #expect(throws: ModelError.self) { try members("ease(below-threshold=maybe)") },
            #expect(throws: ModelError.self) { try ModelRegistry.fit("blend", parameters: ModelParameters(["members": "svd(below-threshold=true)"]), data: Self.rated()) },
            #expect(throws: ModelError.self) { try ModelRegistry.fit("hybrid", parameters: ModelParameters(["collaborative": "als(below-threshold=true)"]), data: Self.rated()) },
        ]
        #expect(refusals.map { $0?.code } == [.invalidParameter, .unknownParameter, .unknownParameter])
        for error in refusals { #expect("\(error.map(String.init(describing:)) ?? "")".contains("below-threshold"), "\(String(describing: error))") }
        let saved = try JSONDecoder().decode(MemberSpec.self, from: Data(#"{"model": "ease", "parameters": {"lambda": "5"}}"#.utf8))
        #expect(saved == MemberSpec(model: "ease", parameters: ["lambda": "5"]))
        #expect(try JSONDecoder().decode(MemberSpec.self, from: JSONEncoder().encode(spec[0])) == spec[0])
        let data = Self.rated()
        let members = try MemberSpec.fit(spec, data: data, for: Fusion.name)
        #expect(members[0].data.byUser == data.includingBelowThreshold().byUser && members[1].data.byUser == data.byUser)
    }

    /// Members are separated by `+` or by commas, as the issue writes
    /// `members=ease,userknn,als,content-bm25`; a comma or `+` inside a member's parentheses
    /// belongs to its parameters (`1e+3`), so a composite written as one `--model` entry keeps
    /// its own member list. Each list below is written out by hand.
    @Test func membersSeparatedByPlusOrCommas() throws {
        let expected = [MemberSpec(model: "ease"), MemberSpec(model: "userknn"),
                        MemberSpec(model: "als", parameters: ["factors": "8", "alpha": "2"]), MemberSpec(model: "content-bm25")]
        #expect(try MemberSpec.parse("ease+userknn+als(factors=8,alpha=2)+content-bm25", composite: "fusion") == expected)
        #expect(try MemberSpec.parse("ease, userknn,als(factors=8, alpha=2) ,content-bm25", composite: "fusion") == expected)
        #expect(try MemberSpec.parse("ease(lambda=1e+3)", composite: "fusion") == [MemberSpec(model: "ease", parameters: ["lambda": "1e+3"])])
        #expect(try MemberSpec.parse("fusion(members=ease+als(factors=8),candidates=20)", composite: "--model")
                == [MemberSpec(model: "fusion", parameters: ["members": "ease+als(factors=8)", "candidates": "20"])])
        #expect(MemberSpec.split("a(b,c)+d, e", at: ["+", ","]) == ["a(b,c)", "d", "e"])
        #expect(MemberSpec.split("a)b,c", at: [","]) == ["a)b", "c"])
        for (text, message) in [("ease,,als", "member 2 is empty"), ("ease+", "member 2 is empty"), ("als(factors=8", "is not name(key=value"),
                                ("ease)+als", "closes a parenthesis"), (" ", "at least one member"), ("(factors=8)", "is not name(key=value")] {
            let error = #expect(throws: ModelError.self) { try MemberSpec.parse(text, composite: "fusion") }
            #expect("\(error.map(String.init(describing:)) ?? "")".contains(message), "\(text): \(String(describing: error))")
        }
        let configuration = try Fusion.Configuration(parameters: ModelParameters(["members": "ease,userknn,als,content-bm25"]))
        #expect(configuration.members.map(\.model) == ["ease", "userknn", "als", "content-bm25"])
    }

    /// With ratings set aside below the threshold and a random inner split, the fit adds EASE
    /// fitted on every rated pair, which a saved file restores; not with
    /// `below-threshold-member=false`, a temporal inner split, one such member already listed,
    /// or nothing set aside.
    @Test func ratingsBelowTheThresholdAddAMember() throws {
        let data = Self.rated()
        let fusion = try Self.fit("pop+itemknn", data) as! Fusion
        #expect(fusion.configuration.members.map(\.description) == ["pop", "itemknn", "ease(below-threshold=true)"])
        #expect(fusion.members[2].data.byUser == data.includingBelowThreshold().byUser)
        let path = Fixtures.temporaryDirectory() + "/fusion-below.braid"
        try ModelRegistry.save(fusion, to: path)
        let loaded = try ModelRegistry.load(from: path) as! Fusion
        #expect(loaded.configuration.members == fusion.configuration.members)
        #expect(loaded.members[2].data.byUser == fusion.members[2].data.byUser)
        for user in [0, 9, 33] { #expect(loaded.scores(forUser: user) == fusion.scores(forUser: user)) }
        let configuration = fusion.configuration
        var off = Fusion.Configuration()
        off.belowThresholdMember = false
        #expect(!off.resolved(for: data).members.contains { $0.belowThreshold })
        var temporal = Fusion.Configuration()
        temporal.validation = .temporal
        #expect(!temporal.resolved(for: data).members.contains { $0.belowThreshold })
        #expect(configuration.resolved(for: data).members.filter { $0.belowThreshold }.count == 1)
        var bare = data
        bare.belowThreshold = nil
        #expect(!Fusion.Configuration().resolved(for: bare).members.contains { $0.belowThreshold })
        #expect(throws: ModelError.self) { try ModelRegistry.fit("fusion", parameters: ModelParameters(["below-threshold-member": "sometimes"]), data: data) }
    }

    /// Data too small for the ranker says which way it is too small: no user with two
    /// interactions (nothing to hold out), or held-out interactions that no member could
    /// propose (each of u0's two items, held out, has no other interaction to be scored from).
    @Test func tooSmallDataSaysWhy() {
        let single = InteractionMatrix(InteractionTable([Interaction(user: "u0", item: "i0", value: 1), Interaction(user: "u1", item: "i1", value: 1)]))
        let pair = InteractionMatrix(InteractionTable([Interaction(user: "u0", item: "i0", value: 1), Interaction(user: "u0", item: "i1", value: 1),
                                                       Interaction(user: "u1", item: "i2", value: 1)]))
        let none = #expect(throws: ModelError.self) { try ModelRegistry.fit("fusion", parameters: ModelParameters([:]), data: single) }
        #expect(none?.message.contains("at least two interactions") == true)
        let unproposed = #expect(throws: ModelError.self) { try ModelRegistry.fit("fusion", parameters: ModelParameters([:]), data: pair) }
        #expect(unproposed?.message.contains("none of the 2 interactions the fusion's inner splits held out") == true)
        #expect(unproposed?.hint?.contains("--model ease") == true)
    }

    /// `ranker=lambdamart` (the default) fits the linear ranker, then trees boosted from its
    /// scores: a row's score is the linear score plus the trees' sum, the explanation's terms
    /// (the linear ones and one `trees` term) add up to it, and a save and load keeps both.
    /// With one boosting round allowed and every leaf forced to hold all rows, the one tree
    /// is a single leaf: a constant shift, which leaves the linear ranker's order unchanged.
    @Test func treesBoostFromTheLinearRanker() throws {
        let data = Fixtures.randomRatings(users: 40, items: 25, perUser: 8)
        #expect(Fusion.Configuration().rankerKind == .lambdamart)
        let model = try ModelRegistry.fit("fusion", parameters: ModelParameters(["members": "itemknn+pop", "candidates": "8", "adjacency-members": "false", "trees": "20",
                                                                                 "min-leaf": "2", "holdout": "0.3"]), data: data) as! Fusion
        guard case .boosted(let linear, let trees) = model.ranker else { Issue.record("not trees on the linear ranker"); return }
        let candidates = model.context.candidates(user: 5, members: model.members, counts: model.configuration.candidateCounts, beyond: .none)
        let width = model.context.featureCount
        let served = model.ranker.scores(candidates.features, base: 0)
        let linearScores = linear.scores(candidates.features)
        for k in 0..<candidates.items.count {
            let row = Array(candidates.features[(k * width)..<((k + 1) * width)])
            let sum = row.withUnsafeBufferPointer { p in trees.trees.reduce(Float(0)) { $0 + $1.predict(p.baseAddress!) } }
            #expect(abs(served[k] - (linearScores[k] + sum)) <= 1e-4 * max(1, abs(served[k])))
        }
        let scores = model.scores(forUser: 5)
        for entry in model.recommend(userIndex: 5, count: 3) {
            let why = try #require(model.explanation(user: 5, item: Int(entry.index)))
            #expect(why.contributions.last?.name == "trees" && why.contributions.count == 2 + 6 + 1)
            let total = why.contributions.reduce(0) { $0 + $1.weight }
            #expect(abs(total - scores[Int(entry.index)]) <= 1e-4 * max(1, abs(scores[Int(entry.index)])))
        }
        let path = Fixtures.temporaryDirectory() + "/fusion-boosted.braid"
        try ModelRegistry.save(model, to: path)
        let loaded = try ModelRegistry.load(from: path) as! Fusion
        #expect(loaded.ranker == model.ranker && loaded.scores(forUser: 5) == scores)
        let flat = try ModelRegistry.fit("fusion", parameters: ModelParameters(["members": "itemknn+pop", "candidates": "8", "adjacency-members": "false", "trees": "1",
                                                                                "min-leaf": "1000000", "holdout": "0.3"]), data: data) as! Fusion
        guard case .boosted(let flatLinear, let flatTrees) = flat.ranker else { Issue.record("not trees on the linear ranker"); return }
        #expect(flatTrees.trees.allSatisfy { $0.feature.allSatisfy { $0 < 0 } })
        let order = { (s: [Float]) in s.indices.sorted { s[$0] != s[$1] ? s[$0] > s[$1] : $0 < $1 } }
        let flatCandidates = flat.context.candidates(user: 5, members: flat.members, counts: flat.configuration.candidateCounts, beyond: .none)
        #expect(order(flat.ranker.scores(flatCandidates.features, base: 0)) == order(flatLinear.scores(flatCandidates.features)))
    }
}
