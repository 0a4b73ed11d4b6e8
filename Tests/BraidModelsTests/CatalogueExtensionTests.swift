import BraidCore
@testable import BraidModels
import BraidTestSupport
import Testing

/// The collaborative models that take new items into their catalogue without fitting again:
/// items added to the catalogue come without interactions, so what these models learned from
/// the interactions stands, and the new items score 0.
@Suite struct CatalogueExtensionTests {
    static let padded = ["ease", "gfcf", "gfcf(linear=false)", "rp3beta", "adjacency", "als",
                         "itemknn", "itemknn(similarity=pearson-baseline)", "userknn", "userknn(similarity=pearson)"]

    /// Each keeps its scores of the old items exactly and gives the new ones 0, for training
    /// users and (but ALS) for a history that holds a new item, which adds nothing; the deterministic
    /// ones score the old items as a fit on the grown data does (ALS's random start depends on
    /// the catalogue's size, so a refit differs there by more than rounding).
    @Test(arguments: padded)
    func newItemsJoinWithoutAFit(_ spec: String) throws {
        let data = Fixtures.randomRatings(users: 30, items: 25, perUser: 6)
        let grown = data.addingItems([ItemRecord(id: "new-1", title: "one"), ItemRecord(id: "new-2", title: "two")])
        let (name, parameters) = try MemberSpec.parse(spec, composite: "test").first.map { ($0.model, $0.parameters) }!
        let model = try ModelRegistry.fit(name, parameters: ModelParameters(parameters), data: data)
        let extended = try model.extendingCatalogue(to: grown)
        #expect(type(of: extended) == type(of: model) && extended.data == grown)
        let refit = try ModelRegistry.fit(name, parameters: ModelParameters(parameters), data: grown)
        for user in [0, 9, 21] {
            let before = model.scores(forUser: user), after = extended.scores(forUser: user)
            #expect(Array(after.prefix(25)) == before && after[25] == 0 && after[26] == 0, "\(spec) user \(user)")
            if name != "als" {
                let again = refit.scores(forUser: user)
                for item in 0..<25 { #expect(abs(again[item] - before[item]) <= 1e-4 * max(1, abs(before[item])), "\(spec) user \(user) item \(item)") }
            }
            // Ratings of the old items, as a fit on the grown data predicts them.
            for item in [0, 7, 24] {
                let predicted = (extended.predictRating(user: user, item: item), model.predictRating(user: user, item: item))
                #expect((predicted.0 == nil) == (predicted.1 == nil), "\(spec) user \(user) item \(item)")
                if let after = predicted.0, let before = predicted.1 {
                    #expect(abs(after - before) <= 1e-4 * max(1, abs(before)), "\(spec) user \(user) item \(item)")
                }
            }
            // ALS's weighted λ grows with the history's length, and user kNN compares the whole
            // history with each user's, so there a new item in it counts.
            guard name != "als", name != "userknn" else { continue }
            let history = Array(data.items(ofUser: user)), values = Array(data.byUser.values(ofRow: user))
            let withNew = try extended.scores(forHistory: history + [26], values: values + [1])
            #expect(Array(withNew.prefix(25)) == (try model.scores(forHistory: history, values: values)), "\(spec) user \(user)")
        }
        // Data that is no such extension is fitted anew (EASE keeps the λ it resolved for its data).
        let fewer = data.removingUsers([3])
        let fresh = try (model as? EASE).map { try EASE(fitting: fewer, configuration: $0.configuration) }
            ?? ModelRegistry.fit(name, parameters: ModelParameters(parameters), data: fewer)
        #expect(try model.extendingCatalogue(to: fewer).scores(forUser: 0) == fresh.scores(forUser: 0))
    }
}
