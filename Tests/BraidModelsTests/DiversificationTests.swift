import BraidCore
import BraidModels
import Testing

/// Maximal marginal relevance on lists worked out by hand.
@Suite struct DiversificationTests {
    /// Four items scored 1, 0.9, 0.8, 0 (relevance the same, scaled over the pool); item 1 shares
    /// item 0's one category, items 2 and 3 have their own.
    let pool = [ScoredIndex(index: 0, score: 1), ScoredIndex(index: 1, score: 0.9), ScoredIndex(index: 2, score: 0.8), ScoredIndex(index: 3, score: 0)]
    let categories = CategorySets([["A"], ["A"], ["B"], ["C"]])

    func order(_ weight: Double, count: Int = 4) throws -> [Int32] {
        try Diversification(weight: weight).rerank(pool, count: count, similarity: categories.similarity).map(\.index)
    }

    /// Weight 0.5: item 0 first (relevance 1); then item 1 scores 0.5·0.9 − 0.5·1 = −0.05, item 2
    /// 0.5·0.8 = 0.4, item 3 0: item 2; then item 3 (0) before item 1 (−0.05). Weight 0.1: item 2
    /// scores 0.9·0.8 = 0.72 against item 1's 0.9·0.9 − 0.1 = 0.71, so only that near tie moves.
    /// Weight 1: the best first, then each time the least like those listed, ties in the model's order.
    @Test func listsKnownAnswers() throws {
        #expect(try order(0) == [0, 1, 2, 3])
        #expect(try order(0.5) == [0, 2, 3, 1])
        #expect(try order(0.5, count: 2) == [0, 2])
        #expect(try order(0.1) == [0, 2, 1, 3])
        #expect(try order(1) == [0, 2, 3, 1])
        let listed = try Diversification(weight: 0.5).rerank(pool, count: 4, similarity: categories.similarity)
        #expect(listed.map(\.score) == [1, 0.8, 0, 0.9], "the items keep the model's scores")
        // Equal scores: every relevance 1, so the categories alone decide after the first.
        let level = pool.map { ScoredIndex(index: $0.index, score: 2) }
        #expect(try Diversification(weight: 0.3).rerank(level, count: 3, similarity: categories.similarity).map(\.index) == [0, 2, 3])
    }

    /// Jaccard indices by hand: {A, B} and {B, C} share 1 of 3; no categories on either side is
    /// alike (as `diversity@K` counts it), and so is an index outside the catalogue.
    @Test func categorySimilarities() {
        let sets = CategorySets([["A", "B"], ["C", "B"], [], ["A", "A"]])
        #expect(sets.similarity(0, 1) == 1.0 / 3 && sets.similarity(1, 0) == 1.0 / 3)
        #expect(sets.similarity(0, 3) == 0.5 && sets.similarity(0, 0) == 1)
        #expect(sets.similarity(0, 2) == 0 && sets.similarity(2, 2) == 1 && sets.similarity(2, 9) == 1 && sets.similarity(-1, 0) == 0)
        #expect(!sets.isEmpty && CategorySets([[], []]).isEmpty)
    }

    @Test func poolsAndWeightsAreChecked() throws {
        #expect(try Diversification(weight: 0.2).poolSize(for: 10) == 100 && (try Diversification(weight: 0.2).poolSize(for: 3)) == 50)
        #expect(try Diversification(weight: 0.2, pool: 5).poolSize(for: 10) == 10)
        for weight in [-0.1, 1.5, .nan, .infinity] { #expect(throws: ModelError.self) { try Diversification(weight: weight) } }
        #expect(throws: ModelError.self) { try Diversification(weight: 0.2, pool: 0) }
        // A pool larger than asked for is cut to poolSize first: item 3 (the fourth) is never listed.
        #expect(try Diversification(weight: 1, pool: 3).rerank(pool, count: 3, similarity: categories.similarity).map(\.index) == [0, 2, 1])
    }

    /// Vectors' cosine by hand: items 0 and 1 point the same way (cosine 1, whatever their
    /// lengths), item 2 at right angles (0), item 3 between (1/√2); none for item 4. At weight
    /// 0.5 over scores 1, 0.9, 0.8, 0.7 (relevance scaled over the pool: 1, 2/3, 1/3, 0): item 0;
    /// then item 1 scores 0.5·(2/3) − 0.5·1 = −1/6, item 2 0.5·(1/3) = 1/6, item 3 −0.5·0.7071:
    /// item 2; then item 1 (−1/6) before item 3 (−0.354, item 2 being 0.7071 from it too).
    @Test func vectorsKnownAnswers() throws {
        let vectors = VectorSimilarity([[1, 0], [3, 0], [0, 2], [1, 1], nil])
        #expect(vectors.similarity(0, 1) == 1 && vectors.similarity(0, 2) == 0 && abs(vectors.similarity(0, 3) - 0.5.squareRoot()) < 1e-6)
        #expect(vectors.similarity(0, 4) == 0 && vectors.similarity(4, 4) == 0 && vectors.similarity(0, 9) == 0 && !vectors.isEmpty)
        let scored = [ScoredIndex(index: 0, score: 1), ScoredIndex(index: 1, score: 0.9), ScoredIndex(index: 2, score: 0.8), ScoredIndex(index: 3, score: 0.7)]
        #expect(try Diversification(weight: 0.5, basis: .vectors).rerank(scored, count: 4, similarity: vectors.similarity).map(\.index) == [0, 2, 1, 3])
        // A negative cosine counts: scores 1, 0.5, 0.6 (relevance 1, 0, 0.2) at weight 0.5 list item 0,
        // then the item opposite it (0.5·0 + 0.5·1 = 0.5) before the one at right angles (0.5·0.2 = 0.1).
        let opposite = VectorSimilarity([[1, 0], [-1, 0], [0, 1]])
        let three = [ScoredIndex(index: 0, score: 1), ScoredIndex(index: 2, score: 0.6), ScoredIndex(index: 1, score: 0.5)]
        #expect(opposite.similarity(0, 1) == -1)
        #expect(try Diversification(weight: 0.5, basis: .vectors).rerank(three, count: 3, similarity: opposite.similarity).map(\.index) == [0, 1, 2])
        var catalog = ItemCatalog()
        for (n, vector) in [[Float(1), 0], [3, 0], [0, 2]].enumerated() { catalog["i\(n)"] = ItemRecord(id: "i\(n)", vector: vector) }
        let likeness = try Diversification(weight: 0.5, basis: .vectors).similarity(items: Vocabulary(["i0", "i1", "i2"]), catalog: catalog)
        #expect(likeness(0, 1) == 1 && likeness(0, 2) == 0)
        // The default basis: categories when some record has one, else vectors, else categories.
        let plain = ItemRecord(id: "p"), genre = ItemRecord(id: "g", categories: ["x"]), embedded = ItemRecord(id: "v", vector: [1])
        #expect(Diversification.Basis.default(for: [plain, embedded, genre]) == .categories && Diversification.Basis.default(for: [plain, embedded]) == .vectors)
        #expect(Diversification.Basis.default(for: [plain]) == .categories && Diversification.Basis.default(for: []) == .categories)
    }
}
