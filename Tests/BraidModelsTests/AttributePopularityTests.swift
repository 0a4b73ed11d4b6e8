import BraidCore
import BraidModels
import Testing

/// `AttributePopularity` against values worked out by hand.
@Suite struct AttributePopularityTests {
    /// Training: u0 {a, b} (F, 20), u1 {a} (M, 30), u2 {a, c} (F, 40), u3 {b} (M, 50), u5 {a}
    /// (no attributes); u4 is described but has no interactions. Five training users: P_a = 4/5,
    /// P_b = 2/5, P_c = 1/5. Two age bins: the median of 20, 30, 40, 50 is 35, so `age<35`
    /// (u0, u1) and `age≥35` (u2, u3). Holders and their items: gender=F (u0, u2): a 2, b 1, c 1;
    /// gender=M (u1, u3): a 1, b 1; age<35: a 2, b 1; age≥35: a 1, b 1, c 1. With m = 2,
    /// m·P = 1.6, 0.8, 0.4 and n_t + m = 4 for every token.
    func scorer() -> AttributePopularity {
        let table = InteractionTable([
            Interaction(user: "u0", item: "a", value: 1), Interaction(user: "u0", item: "b", value: 1),
            Interaction(user: "u1", item: "a", value: 1), Interaction(user: "u2", item: "a", value: 1),
            Interaction(user: "u2", item: "c", value: 1), Interaction(user: "u3", item: "b", value: 1),
            Interaction(user: "u5", item: "a", value: 1),
        ])
        let users = [
            "u0": UserRecord(id: "u0", categories: ["gender=F"], attributes: ["age": 20]),
            "u1": UserRecord(id: "u1", categories: ["gender=M"], attributes: ["age": 30]),
            "u2": UserRecord(id: "u2", categories: ["gender=F"], attributes: ["age": 40]),
            "u3": UserRecord(id: "u3", categories: ["gender=M"], attributes: ["age": 50]),
            "u4": UserRecord(id: "u4", categories: ["gender=F"], attributes: ["age": 90]),
        ]
        return AttributePopularity(data: InteractionMatrix(table), users: users, smoothing: 2, bins: 2)
    }

    func expectScores(_ record: UserRecord, _ expected: [Float]) throws {
        let scores = try #require(scorer().scores(for: record))
        #expect(scores.count == 3)
        for (got, want) in zip(scores, expected) { #expect(abs(got - want) < 1e-6, "\(scores) against \(expected)") }
    }

    @Test func tokensAreCategoriesAndQuantileBins() {
        let scorer = scorer()
        #expect(scorer.tokens == ["age<35", "age≥35", "gender=F", "gender=M"])
        #expect(scorer.edges == ["age": [35]])
        #expect(scorer.tokens(of: UserRecord(id: "n", categories: ["gender=X"], attributes: ["age": 35, "height": 2])) == ["gender=X", "age≥35"])
    }

    @Test func aNewUserGetsTheMeanOfTheirTokensSmoothedShares() throws {
        // gender=M, age<35: a ½[(1 + 1.6)/4 + (2 + 1.6)/4] = 0.775, b ½[1.8/4 + 1.8/4] = 0.45,
        // c ½[0.4/4 + 0.4/4] = 0.1.
        try expectScores(UserRecord(id: "n", categories: ["gender=M"], attributes: ["age": 20]), [0.775, 0.45, 0.1])
        // gender=F, age≥35: a ½[3.6/4 + 2.6/4] = 0.775, b ½[1.8/4 + 1.8/4] = 0.45, c ½[1.4/4 + 1.4/4] = 0.35.
        try expectScores(UserRecord(id: "n", categories: ["gender=F"], attributes: ["age": 60]), [0.775, 0.45, 0.35])
        // A token nobody holds counts for nothing: age≥35 alone, a 2.6/4, b 1.8/4, c 1.4/4.
        try expectScores(UserRecord(id: "n", categories: ["gender=X"], attributes: ["age": 60]), [0.65, 0.45, 0.35])
    }

    @Test func aUserWithNoKnownTokenHasNoScores() {
        #expect(scorer().scores(for: UserRecord(id: "n", categories: ["gender=X"])) == nil)
        #expect(scorer().scores(for: UserRecord(id: "n")) == nil)
    }

    @Test func newUserScoresFallBackToPopularity() throws {
        let model = try ModelRegistry.fit("ease", data: InteractionMatrix(InteractionTable([
            Interaction(user: "u0", item: "a", value: 1), Interaction(user: "u1", item: "a", value: 1),
            Interaction(user: "u1", item: "b", value: 1),
        ])))
        let attributes = AttributePopularity(data: model.data, users: ["u0": UserRecord(id: "u0", categories: ["plan=pro"])], smoothing: 0)
        // plan=pro is held by u0 alone, who has a: with m = 0, a 1 and b 0.
        #expect(model.newUserScores(UserRecord(id: "n", categories: ["plan=pro"]), attributes: attributes) == [1, 0])
        #expect(model.newUserScores(UserRecord(id: "n", categories: ["plan=free"]), attributes: attributes) == [2, 1])
        #expect(model.newUserScores(nil, attributes: attributes) == [2, 1])
    }
}
