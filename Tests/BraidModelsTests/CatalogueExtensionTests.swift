import BraidCore
@testable import BraidModels
import BraidTestSupport
import Testing

/// The collaborative models take new items into their catalogue without fitting again: items
/// added to the catalogue come without interactions, so what these models learned from the
/// interactions stands.
@Suite struct CatalogueExtensionTests {
    /// A model under test and what a fit on the grown data gives it.
    struct Case: CustomStringConvertible, Sendable {
        var spec: String
        /// A fit on the grown data scores the old items as the extended model does: the
        /// deterministic models (ALS's, the SGD models' and the networks' random starts depend
        /// on the catalogue's size, or the sampled negatives on the items there are).
        var refitAgrees = true
        /// The new items score what a fit gives them: 0 from the models without a per-user
        /// constant (the rating models predict the user's mean, μ + b_u, for them).
        var newScore = NewScore.zero
        /// A history with a new item in it scores the old items as the history without it
        /// (not where the history's length counts: ALS's weighted λ, user kNN's overlap, a
        /// sequence model's positions).
        var historyIgnoresNewItems = true
        var description: String { spec }
    }

    enum NewScore: Sendable { case zero, userConstant, asRefit }

    static let cases: [Case] = [
        Case(spec: "ease"), Case(spec: "gfcf"), Case(spec: "gfcf(linear=false)"), Case(spec: "rp3beta"), Case(spec: "adjacency"),
        Case(spec: "als", refitAgrees: false, historyIgnoresNewItems: false),
        Case(spec: "itemknn"), Case(spec: "itemknn(similarity=pearson-baseline)"),
        Case(spec: "userknn", historyIgnoresNewItems: false), Case(spec: "userknn(similarity=pearson)", historyIgnoresNewItems: false),
        Case(spec: "pop"), Case(spec: "baseline", newScore: .asRefit, historyIgnoresNewItems: false),
        Case(spec: "svd", newScore: .userConstant, historyIgnoresNewItems: false),
        Case(spec: "biasedmf", newScore: .userConstant, historyIgnoresNewItems: false),
        Case(spec: "svdpp", newScore: .userConstant, historyIgnoresNewItems: false),
        Case(spec: "bpr(iterations=20)", refitAgrees: false, historyIgnoresNewItems: false),
        Case(spec: "neumf(epochs=2)", refitAgrees: false, newScore: .asRefit, historyIgnoresNewItems: false),
        Case(spec: "sasrec(epochs=2)", refitAgrees: false, historyIgnoresNewItems: false),
        Case(spec: "bert4rec(epochs=2)", refitAgrees: false, newScore: .asRefit, historyIgnoresNewItems: false),
        Case(spec: "twotower(content=none,factors=8,hidden=8,epochs=2)", refitAgrees: false, historyIgnoresNewItems: false),
    ]

    /// Each keeps its scores of the old items exactly, for training users and for a history;
    /// the new ones score 0 or what the model gives an item it has learned nothing of; the
    /// deterministic ones score the old items as a fit on the grown data does, and the rating
    /// models predict the same ratings.
    @Test(arguments: cases)
    func newItemsJoinWithoutAFit(_ c: Case) throws {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let grown = data.addingItems([ItemRecord(id: "new-1", title: "one"), ItemRecord(id: "new-2", title: "two")])
        let (name, parameters) = try MemberSpec.parse(c.spec, composite: "test").first.map { ($0.model, $0.parameters) }!
        let model = try ModelRegistry.fit(name, parameters: ModelParameters(parameters), data: data)
        let extended = try model.extendingCatalogue(to: grown)
        #expect(type(of: extended) == type(of: model) && extended.data == grown)
        let refit = try ModelRegistry.fit(name, parameters: ModelParameters(parameters), data: grown)
        for user in [0, 9, 21] {
            let before = model.scores(forUser: user), after = extended.scores(forUser: user)
            #expect(Array(after.prefix(25)) == before, "\(c) user \(user)")
            switch c.newScore {
            case .zero: #expect(after[25] == 0 && after[26] == 0, "\(c) user \(user)")
            case .userConstant:
                // A factor model's rating of an item with zero factors and bias: μ + b_u.
                let factors = try #require((extended as? any FactorizationModel)?.factors)
                let constant = factors.globalBias + factors.userBiases![user]
                #expect(abs(after[25] - constant) <= 1e-5 && after[26] == after[25], "\(c) user \(user)")
            case .asRefit: #expect(after[25].isFinite && after[25] == after[26], "\(c) user \(user)")
            }
            if c.refitAgrees {
                let again = refit.scores(forUser: user)
                let compared = c.newScore == .asRefit ? 27 : 25
                for item in 0..<compared { #expect(abs(again[item] - after[item]) <= 1e-4 * max(1, abs(after[item])), "\(c) user \(user) item \(item)") }
            }
            // Ratings of the old items, as the model predicted them before.
            for item in [0, 7, 24] {
                let predicted = (extended.predictRating(user: user, item: item), model.predictRating(user: user, item: item))
                #expect((predicted.0 == nil) == (predicted.1 == nil), "\(c) user \(user) item \(item)")
                if let after = predicted.0, let before = predicted.1 {
                    #expect(abs(after - before) <= 1e-4 * max(1, abs(before)), "\(c) user \(user) item \(item)")
                }
            }
            guard model.scoresAnyHistory else { continue }
            let history = Array(data.history(ofUser: user)), values = history.map { _ in Float(1) }
            let old = try model.scores(forHistory: history, values: values)
            #expect(Array(try extended.scores(forHistory: history, values: values).prefix(25)) == old, "\(c) user \(user)")
            guard c.historyIgnoresNewItems else { continue }
            let withNew = try extended.scores(forHistory: history + [26], values: values + [1])
            #expect(Array(withNew.prefix(25)) == old, "\(c) user \(user)")
        }
        // A new item has no interactions, so the model does not recommend it.
        if !extended.scoresItemsWithoutInteractions {
            #expect(extended.recommend(userIndex: 0, count: 27).allSatisfy { $0.index < 25 }, "\(c)")
        }
        // Data that is no such extension is fitted anew (EASE keeps the λ it resolved for its data).
        let fewer = data.removingUsers([3])
        let fresh = try (model as? EASE).map { try EASE(fitting: fewer, configuration: $0.configuration) }
            ?? ModelRegistry.fit(name, parameters: ModelParameters(parameters), data: fewer)
        if c.refitAgrees || name == "als" {
            #expect(try model.extendingCatalogue(to: fewer).scores(forUser: 0) == fresh.scores(forUser: 0))
        } else {
            #expect(try model.extendingCatalogue(to: fewer).data == fewer)
        }
    }
    /// The blend keeps its weights and extends its members: it predicts the old ratings as
    /// before, and over deterministic members it is the blend a fit on the grown data gives
    /// (the same inner split, so the same weights), to rounding.
    @Test func blendTakesNewItemsWithoutAFit() throws {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let grown = data.addingItems([ItemRecord(id: "new-1", title: "one"), ItemRecord(id: "new-2", title: "two")])
        // Members whose fit gives new items what their extension does (a factor model's fit
        // gives them random factors, its extension zero ones).
        let parameters = ModelParameters(["members": "baseline+itemknn+userknn(similarity=pearson)"])
        let blend = try #require(try ModelRegistry.fit("blend", parameters: parameters, data: data) as? Blend)
        let extended = try #require(try blend.extendingCatalogue(to: grown) as? Blend)
        let refit = try #require(try ModelRegistry.fit("blend", parameters: parameters, data: grown) as? Blend)
        #expect(extended.data == grown && extended.weights == blend.weights)
        #expect(zip(extended.weights, refit.weights).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) }, "\(extended.weights) vs \(refit.weights)")
        for user in [0, 9, 21] {
            for item in [0, 7, 24] {
                let before = try #require(blend.predictRating(user: user, item: item))
                #expect(extended.predictRating(user: user, item: item) == before, "user \(user) item \(item)")
            }
            for item in [0, 7, 24, 25, 26] {
                let (a, b) = (try #require(extended.predictRating(user: user, item: item)), try #require(refit.predictRating(user: user, item: item)))
                #expect(abs(a - b) <= 1e-4 * max(1, abs(b)), "user \(user) item \(item)")
            }
            let (after, again) = (extended.scores(forUser: user), refit.scores(forUser: user))
            #expect(after.count == 27)
            for item in 0..<27 { #expect(abs(after[item] - again[item]) <= 1e-3 * max(1, abs(again[item])), "user \(user) item \(item)") }
        }
        #expect(extended.recommend(userIndex: 0, count: 27).allSatisfy { $0.index < 25 })
        // Data that is no such extension is fitted anew.
        let fewer = data.removingUsers([3])
        #expect(try blend.extendingCatalogue(to: fewer).data == fewer)
    }

    /// TF-IDF and BM25 take new and changed items by counting only their text, with the other
    /// items' term counts kept from the change before: the weights a fit on the grown data gives,
    /// each item's terms with the same weights (the same columns when items were only added).
    @Test(arguments: ["content-tfidf", "content-bm25", "content-bm25(min-df=2,k1=0.9)"])
    func termModelsCountOnlyTheChangedItems(_ spec: String) throws {
        var rng = SeededGenerator(seed: 3)
        let words = (0..<12).map { "w\($0)" }
        func text(_ count: Int) -> String { (0..<count).map { _ in words[Int(rng.nextUnit() * Double(words.count)) % words.count] }.joined(separator: " ") }
        var data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        data.catalog = ItemCatalog(data.items.identifiers.map { ItemRecord(id: $0, title: text(3), categories: ["c\($0.count)"], text: ["about": text(5)]) })
        let (name, parameters) = try MemberSpec.parse(spec, composite: "test").first.map { ($0.model, $0.parameters) }!
        func fit(_ data: InteractionMatrix) throws -> any RecommendationModel { try ModelRegistry.fit(name, parameters: ModelParameters(parameters), data: data) }
        /// Each item's terms and weights, by the terms' names.
        func weights(_ model: any RecommendationModel, terms: [String]) throws -> [[String: Float]] {
            let vectors = try #require((model as? BM25Content)?.vectors ?? (model as? TFIDFContent)?.vectors)
            guard case .sparse(let m) = vectors else { Issue.record("\(spec): dense vectors"); return [] }
            return (0..<m.rowCount).map { r in Dictionary(uniqueKeysWithValues: m.entries(ofRow: r).map { (terms[Int(m.columns[$0])], m.values[$0]) }) }
        }
        let model = try fit(data)
        // Added items, one with a term no item used before: the same matrix as a fit.
        let added = data.addingItems([ItemRecord(id: "new-1", title: "w1 w2 fresh"), ItemRecord(id: "new-2", text: ["about": text(4)])])
        let first = try model.extendingCatalogue(to: added)
        let refit = try fit(added)
        #expect((first as? BM25Content)?.vectors == (refit as? BM25Content)?.vectors)
        #expect((first as? TFIDFContent)?.vectors == (refit as? TFIDFContent)?.vectors)
        // A model read from a file has no counts until its first change, which counts them all.
        func archived<M: RecommendationModel>(_ model: M) -> ModelArchive { ModelRegistry.archive(model) }
        let loaded = try ModelRegistry.load(archived(model)).extendingCatalogue(to: added)
        #expect((loaded as? BM25Content)?.vectors == (refit as? BM25Content)?.vectors)
        #expect((loaded as? TFIDFContent)?.vectors == (refit as? TFIDFContent)?.vectors)
        // Or once readied for it (as a server does after a load), the same counts as a fit.
        let readied = try ModelRegistry.load(archived(model))
        readied.prepareForServing()
        let readiedCounts = try #require(((readied as? BM25Content)?.termCounts ?? (readied as? TFIDFContent)?.termCounts)?.value {
            Issue.record("\(spec): not readied"); return TermCounts(data, data.catalog!)
        })
        #expect(readiedCounts.counts == TermCounts(data, data.catalog!).counts && readiedCounts.terms == TermCounts(data, data.catalog!).terms)
        // Now a known item's text changes (its term "w3" gone, a new one "later" in) and another item is added:
        // counted from the first change's counts, never the whole catalogue again.
        let changed = added.addingItems([ItemRecord(id: "i4", title: "later w0"), ItemRecord(id: "new-3", title: "w5 w5 later")])
        let counts = ((first as? BM25Content)?.termCounts ?? (first as? TFIDFContent)?.termCounts)
        _ = counts?.value { Issue.record("\(spec): the first change kept no counts"); return TermCounts(added, added.catalog!) }
        let second = try first.extendingCatalogue(to: changed)
        let secondCounts = try #require(((second as? BM25Content)?.termCounts ?? (second as? TFIDFContent)?.termCounts)?.value {
            Issue.record("\(spec): the second change kept no counts"); return TermCounts(changed, changed.catalog!)
        })
        let again = try fit(changed)
        let extendedWeights = try weights(second, terms: secondCounts.terms.identifiers)
        let fittedWeights = try weights(again, terms: TermCounts.terms(changed, changed.catalog!))
        #expect(extendedWeights.count == 28 && fittedWeights.count == 28)
        for (item, (a, b)) in zip(extendedWeights, fittedWeights).enumerated() {
            #expect(a.keys.sorted() == b.keys.sorted(), "\(spec) item \(item)")
            for (term, w) in a { #expect(abs(w - (b[term] ?? .nan)) <= 1e-6, "\(spec) item \(item) term \(term)") }
        }
        #expect(extendedWeights[4]["later"] != nil && extendedWeights[4]["w3"] == nil)
        // The same records in a catalogue made apart (it cannot tell what changed since the
        // first change's): every known record is compared, with the same result.
        var apart = changed
        apart.catalog = ItemCatalog(Array(changed.catalog!.records.values))
        #expect(apart.catalog!.changedIDs(since: added.catalog!) == nil && changed.catalog!.changedIDs(since: added.catalog!) == ["i4", "new-3"])
        let secondApart = try first.extendingCatalogue(to: apart)
        #expect((secondApart as? BM25Content)?.vectors == (second as? BM25Content)?.vectors)
        #expect((secondApart as? TFIDFContent)?.vectors == (second as? TFIDFContent)?.vectors)
        for user in [0, 9, 21] {
            for (x, y) in zip(second.scores(forUser: user), again.scores(forUser: user)) { #expect(abs(x - y) <= 1e-6, "\(spec) user \(user)") }
        }
        // Data that is no such extension is fitted anew.
        let fewer = changed.removingUsers([3])
        #expect(try second.extendingCatalogue(to: fewer).scores(forUser: 0) == (try fit(fewer)).scores(forUser: 0))
    }
}
