import BraidCore
import BraidEvaluation
import BraidModels
import BraidTestSupport
import Testing

@Suite struct EvaluatorTests {
    /// Train: a likes x, y; b likes x, z; c likes y. Test: a → z (5★) and w (2★, and w is
    /// never in training); b → y (4★); d (no training data) → x.
    func split() -> TrainTestSplit {
        var train = InteractionTable([
            Interaction(user: "a", item: "x", value: 5), Interaction(user: "a", item: "y", value: 4),
            Interaction(user: "b", item: "x", value: 5), Interaction(user: "b", item: "z", value: 5),
            Interaction(user: "c", item: "y", value: 5), Interaction(user: "c", item: "q", value: 1),
        ])
        var test = InteractionTable([
            Interaction(user: "a", item: "z", value: 5), Interaction(user: "a", item: "w", value: 2),
            Interaction(user: "b", item: "y", value: 4), Interaction(user: "d", item: "x", value: 5),
        ])
        train.adoptVocabularies(of: &test)  // extends train's vocabularies with the test ids
        return TrainTestSplit(train: train, test: test)
    }

    @Test func protocolCountsUnrankableRelevantItemsAndSkipsUsersWithoutTraining() throws {
        let prepared = try PreparedSplit(split(), protocol: EvaluationProtocol(cutoff: 2))
        let items = prepared.train.items
        let z = Int(items.index(of: "z")!)
        // Popularity, with z lifted above q so that no tie decides the order.
        let popularity = (0..<prepared.train.itemCount).map { Float(prepared.train.byItem.count(ofRow: $0)) + ($0 == z ? 0.5 : 0) }
        let result = Evaluator(protocol: EvaluationProtocol(cutoff: 2)).evaluate(scores: { _ in popularity }, predictRating: nil, on: prepared)
        #expect(result.usersEvaluated == 2)
        #expect(result.usersSkippedWithoutTraining == 1)
        // Scores: x 2, y 2, z 1.5, q 1. a's candidates: z, q → top-2 [z, q]; relevant {z, w}:
        // 1 hit at rank 1 → recall 1/2, precision 1/2, ndcg 1/(1 + 1/log2 3).
        // b's candidates: y, q → [y, q]; relevant {y}: hit at rank 1 → recall 1, ndcg 1.
        #expect(abs(result.metrics["recall@2"]! - 0.75) < 1e-9)
        #expect(abs(result.metrics["precision@2"]! - 0.5) < 1e-9)
        let ndcgA = 1 / (1 + 1 / log2(3.0))
        #expect(abs(result.metrics["ndcg@2"]! - (ndcgA + 1) / 2) < 1e-9)
        #expect(result.metrics["coverage@2"] == 0.75)  // {z, q, y} of 4 trained items
        #expect(result.metrics["rmse"] == nil, "no rating predictions given")
    }

    /// Train: u0 {a, c} F, u1 {a, b} M, u2 {c} F, u3 {a, b} M, u4 {a, b}, u5 {c, a} F, u6 {b}
    /// (u4 and u6 undescribed): popularity a 5, b 4, c 3 of 7 users. Test: the new user n (F)
    /// likes c, and u1 (trained) likes c too.
    @Test func newUsersAreRankedByTheirAttributes() throws {
        var train = InteractionTable()
        for (user, items) in [("u0", "ac"), ("u1", "ab"), ("u2", "c"), ("u3", "ab"), ("u4", "ab"), ("u5", "ca"), ("u6", "b")] {
            for item in items { train.append(Interaction(user: user, item: String(item), value: 1)) }
        }
        var test = InteractionTable([Interaction(user: "n", item: "c", value: 1), Interaction(user: "u1", item: "c", value: 1)])
        train.adoptVocabularies(of: &test)
        let evaluation = EvaluationProtocol(mode: .newUsers)
        let prepared = try PreparedSplit(TrainTestSplit(train: train, test: test), protocol: evaluation)
        let model = try ModelRegistry.fit("itemknn", data: prepared.train)
        var evaluator = Evaluator(protocol: evaluation)
        // Without attributes: popularity a, b, c; c at rank 3, NDCG 1/log2(4).
        let plain = evaluator.evaluate(model, on: prepared)
        #expect(plain.usersEvaluated == 1 && plain.usersSkippedWithoutTraining == 0)
        #expect(abs(plain.metrics["ndcg@10"]! - 0.5) < 1e-9)
        // With them (m = 10): gender=F is held by u0, u2, u5 (a 2, b 0, c 3), m·P = 50/7, 40/7,
        // 30/7, so a (2 + 50/7)/13 = 0.703, b (40/7)/13 = 0.440, c (3 + 30/7)/13 = 0.560: c at
        // rank 2, NDCG 1/log2(3).
        evaluator.userAttributes = ["n": UserRecord(id: "n", categories: ["gender=F"])]
            .merging(["u0", "u2", "u5"].map { ($0, UserRecord(id: $0, categories: ["gender=F"])) }) { a, _ in a }
            .merging(["u1", "u3"].map { ($0, UserRecord(id: $0, categories: ["gender=M"])) }) { a, _ in a }
        let described = evaluator.evaluate(model, on: prepared)
        #expect(described.usersEvaluated == 1)
        #expect(abs(described.metrics["ndcg@10"]! - 1 / log2(3.0)) < 1e-9)
    }

    /// A new user's first interactions folded in: u0–u3 had a and b, u4–u9 c and d, so c and d
    /// are the most popular, and b is a's neighbour. The new user n had a, then a 2★ e, then b.
    /// The training and test rows of `newUsersFirstInteractionsAreFoldedIn`.
    func foldInTables() throws -> (train: InteractionTable, test: InteractionTable) {
        var train = InteractionTable()
        for u in 0..<10 { for item in u < 4 ? ["a", "b"] : ["c", "d"] { train.append(Interaction(user: "u\(u)", item: item, value: 5)) } }
        train.append(Interaction(user: "u9", item: "e", value: 5))
        var test = InteractionTable([Interaction(user: "n", item: "b", value: 5, timestamp: 30), Interaction(user: "n", item: "a", value: 4, timestamp: 10),
                                     Interaction(user: "n", item: "e", value: 2, timestamp: 20)])
        train.adoptVocabularies(of: &test)
        return (train, test)
    }

    /// The split of `newUsersFirstInteractionsAreFoldedIn`, and its protocol (two rows given).
    func foldInSplit() throws -> (PreparedSplit, EvaluationProtocol) {
        let (train, test) = try foldInTables()
        var evaluation = EvaluationProtocol(threshold: 4, mode: .newUsers)
        evaluation.newUserHistory = 2
        return (try PreparedSplit(TrainTestSplit(train: train, test: test), protocol: evaluation), evaluation)
    }

    @Test func newUsersFirstInteractionsAreFoldedIn() throws {
        var (prepared, evaluation) = try foldInSplit()
        let items = prepared.train.items, n = Int32(prepared.train.users.index(of: "n")!)
        let index = { (id: String) in Int32(items.index(of: id)!) }
        // The two earliest rows are given: a as history, the 2★ e only seen; b stays to find.
        #expect(prepared.newUserHistories[n] == PreparedSplit.GivenHistory(items: [index("a")], values: [1], seen: [index("a"), index("e")]))
        #expect(prepared.relevant[n] == [index("b")])
        // Item kNN folds a in: b first, NDCG 1. Popularity: c, d, then b (e seen), 1/log2(4).
        let itemKNN = try ModelRegistry.fit("itemknn", data: prepared.train)
        evaluation.historyPrior = .off
        let knn = Evaluator(protocol: evaluation).evaluate(itemKNN, on: prepared)
        #expect(knn.usersEvaluated == 1 && abs(knn.metrics["ndcg@10"]! - 1) < 1e-9)
        // Leaning on popularity (a 4, b 4, c 6, d 6, e 1: z(p) of b −0.11, of c and d 0.98). The
        // fold-in scores only b (z 2, the others −0.5; with a left out, 1.73 and −0.58, and z(p)
        // −0.12, 0.86). At weight 2·e^(−0.1) = 1.81: b 2 − 0.20 = 1.80 against c, d
        // −0.5 + 1.78 = 1.28 (left out: 1.51 against 0.97), b stays first. At weight 8: b 1.13
        // against 7.36 (0.76 against 6.27): c and d pass it, NDCG 1/log2(4).
        evaluation.historyPrior = HistoryPrior(weight: 2, length: 10)
        #expect(abs(Evaluator(protocol: evaluation).evaluate(itemKNN, on: prepared).metrics["ndcg@10"]! - 1) < 1e-9)
        evaluation.historyPrior = HistoryPrior(weight: 8, length: 10)
        #expect(abs(Evaluator(protocol: evaluation).evaluate(itemKNN, on: prepared).metrics["ndcg@10"]! - 0.5) < 1e-9)
        let pop = Evaluator(protocol: evaluation).evaluate(try ModelRegistry.fit("pop", data: prepared.train), on: prepared)
        #expect(abs(pop.metrics["ndcg@10"]! - 0.5) < 1e-9)
    }

    /// The tuner scores one fit under each history prior: on the split above, item kNN with
    /// (neighbors 20 or 1) scores NDCG 1 with the prior off or at 2,10 and 0.5 at 8,10, as
    /// worked there (one neighbour changes nothing: b is a's only one).
    @Test func tunerChoosesTheHistoryPrior() throws {
        let (prepared, evaluation) = try foldInSplit()
        let priors = [HistoryPrior(weight: 8, length: 10), .off, HistoryPrior(weight: 2, length: 10)]
        let tuner = Tuner(evaluator: Evaluator(protocol: evaluation), metric: "ndcg@10", historyPriors: priors)
        #expect(tuner.trialCount(candidates: 2) == 6)
        var numbers: [Int] = []
        let trials = try tuner.run(model: "itemknn", base: [:], candidates: [["neighbors": "20"], ["neighbors": "1"]], split: prepared) { _, n in numbers.append(n) }
        #expect(numbers == Array(0..<6))
        #expect(trials.map(\.historyPrior) == priors + priors)
        #expect(trials.map(\.parameters["neighbors"]) == ["20", "20", "20", "1", "1", "1"])
        for (trial, expected) in zip(trials, [0.5, 1, 1, 0.5, 1, 1]) { #expect(abs(trial.value - expected) < 1e-9) }
        #expect(trials[0].fitSeconds == trials[1].fitSeconds && trials[1].fitSeconds == trials[2].fitSeconds, "one fit per configuration")
        // The first of the best: neighbors 20, prior off.
        let best = try #require(tuner.best(trials))
        #expect(best.historyPrior == .off && best.parameters["neighbors"] == "20")
        // Views of the split with 2 rows given and with none. With none, a and b are both to
        // find, behind the popular c and d under every prior: DCG 1/log2(4) + 1/log2(5) =
        // 0.930677 of 1 + 1/log2(3) = 1.630930, NDCG 0.570642. Each configuration's value is
        // the mean over both views: 0.535321 at 8,10, 0.785321 off and at 2,10.
        var none = evaluation
        none.newUserHistory = 0
        let tables = try foldInTables()
        let views = [prepared, try PreparedSplit(TrainTestSplit(train: tables.train, test: tables.test), protocol: none)]
        let averaged = try tuner.run(model: "itemknn", base: [:], candidates: [[:]], views: views)
        for (trial, expected) in zip(averaged, [0.535321, 0.785321, 0.785321]) { #expect(abs(trial.value - expected) < 1e-6, "\(trial)") }
        // A third view giving every test row as history leaves nothing to score: it has no
        // NDCG, and the mean is over the two views that have one, as over folds.
        var everything = evaluation
        everything.newUserHistory = 1_000
        let empty = try PreparedSplit(TrainTestSplit(train: tables.train, test: tables.test), protocol: everything)
        #expect(empty.relevant.isEmpty)
        let three = try tuner.run(model: "itemknn", base: [:], candidates: [[:]], views: views + [empty])
        #expect(three.map(\.value) == averaged.map(\.value))
        // A prior changes nothing without new users given a history, and early stopping scores
        // trained users: both are refused where they cannot hold.
        var standard = evaluation
        standard.mode = .standard
        standard.newUserHistory = 0
        #expect(throws: ModelError.self) { try Tuner(evaluator: Evaluator(protocol: standard), metric: "ndcg@10", historyPriors: priors).check() }
        var bare = evaluation
        bare.newUserHistory = 0
        #expect(throws: ModelError.self) { try Tuner(evaluator: Evaluator(protocol: bare), metric: "ndcg@10", historyPriors: priors).check() }
        #expect(throws: ModelError.self) { try Tuner(evaluator: Evaluator(protocol: evaluation), metric: "ndcg@10", patience: 3).check() }
        #expect(throws: ModelError.self) { try Tuner(evaluator: Evaluator(protocol: standard), metric: "ndcg@10", patience: 0).check() }
        try Tuner(evaluator: Evaluator(protocol: standard), metric: "ndcg@10", patience: 3).check()
    }

    @Test func thresholdKeepsOnlyPositives() throws {
        let evaluation = EvaluationProtocol(cutoff: 2, threshold: 4)
        let prepared = try PreparedSplit(split(), protocol: evaluation)
        #expect(prepared.train.interactionCount == 5, "c's 1★ rating of q is not a positive")
        #expect(prepared.train.isBinary)
        #expect(prepared.relevant[Int32(prepared.train.users.index(of: "a")!)] == [Int32(prepared.train.items.index(of: "z")!)])
    }

    @Test func ratingMetricsCoverKnownPairsOnly() throws {
        let prepared = try PreparedSplit(split(), protocol: EvaluationProtocol())
        let model = try ModelRegistry.fit("baseline", data: prepared.train)
        let result = Evaluator().evaluate(model, on: prepared)
        // a/z and b/y are known pairs; a/w (w untrained) and d/x (d untrained) are not.
        #expect(result.ratingsEvaluated == 2)
        #expect(result.metrics["rmse"] != nil && result.metrics["mae"] != nil)
    }

    /// A sample of the validation users: only theirs are scored, each as before, and the
    /// training data is untouched.
    @Test func sampledUsersAreScoredAsBeforeAndAlone() throws {
        let data = Fixtures.randomRatings(users: 60, items: 30, perUser: 10)
        var rows = InteractionTable(users: data.users, items: data.items)
        for u in 0..<data.userCount { for k in data.byUser.entries(ofRow: u) { rows.append(user: Int32(u), item: data.byUser.columns[k], value: data.byUser.values[k]) } }
        let full = try PreparedSplit(try Splitter(.userRatio(ratio: 0.7), seed: 3).split(rows)[0], protocol: EvaluationProtocol())
        #expect(full.relevant.count == 60 && full.usersBeforeSampling == nil)
        var sampled = full
        sampled.sampleUsers(20, seed: 5)
        #expect(sampled.relevant.count == 20 && sampled.usersBeforeSampling == 60)
        for (user, items) in sampled.relevant { #expect(full.relevant[user] == items) }
        let test = full.test
        #expect(sampled.ratedRows == full.ratedRows.filter { sampled.relevant[test.userIndices[$0]] != nil })
        #expect(!sampled.ratedRows.isEmpty && sampled.ratedRows.count < full.ratedRows.count)
        #expect(sampled.train.interactionCount == full.train.interactionCount && sampled.test.count == full.test.count)
        // Seeded: the same seed keeps the same users, another seed others.
        var again = full, other = full
        again.sampleUsers(20, seed: 5)
        other.sampleUsers(20, seed: 6)
        #expect(Set(again.relevant.keys) == Set(sampled.relevant.keys) && Set(other.relevant.keys) != Set(sampled.relevant.keys))
        // A sample as large as the users keeps them all, and says nothing was sampled.
        var whole = full
        whole.sampleUsers(60, seed: 5)
        #expect(whole.relevant.count == 60 && whole.usersBeforeSampling == nil)
        // The metrics are the means over the kept users of what each scored on the whole split.
        let model = try ModelRegistry.fit("itemknn", data: full.train)
        let all = Evaluator().evaluate(model, on: full), part = Evaluator().evaluate(model, on: sampled)
        let kept = Set(sampled.relevant.keys.map { full.train.users[Int($0)] })
        let mine = all.perUser.filter { kept.contains($0.user) }
        #expect(part.usersEvaluated == 20 && mine.count == 20)
        for metric in ["ndcg@10", "recall@10", "auc"] {
            #expect(abs(part.metrics[metric]! - mine.reduce(0) { $0 + $1.metrics[metric]! } / 20) < 1e-9, "\(metric)")
        }
        #expect(part.ratingsEvaluated == sampled.ratedRows.count)
    }

    /// A factor model's users are scored in blocks (`scores(forUsers:)`): every metric as when
    /// each user is scored alone, over 100 users (three whole blocks and a part).
    @Test func factorModelsAreScoredInBlocksAsOneByOne() throws {
        let data = Fixtures.randomRatings(users: 100, items: 40, perUser: 12)
        var rows = InteractionTable(users: data.users, items: data.items)
        for u in 0..<data.userCount { for k in data.byUser.entries(ofRow: u) { rows.append(user: Int32(u), item: data.byUser.columns[k], value: data.byUser.values[k]) } }
        let split = try PreparedSplit(try Splitter(.userRatio(ratio: 0.7), seed: 4).split(rows)[0], protocol: EvaluationProtocol())
        for name in ["als", "bpr"] {
            let model = try ModelRegistry.fit(name, data: split.train)
            #expect(model.scores(forUsers: [0, 1]) != nil)
            let blocks = Evaluator().evaluate(model, on: split)
            let alone = Evaluator().evaluate(scores: { model.scores(forUser: $0) }, predictRating: nil, on: split)
            #expect(blocks.usersEvaluated == 100 && alone.usersEvaluated == 100)
            #expect(blocks.metrics == alone.metrics, "\(name)")
            #expect(blocks.perUser.map(\.metrics) == alone.perUser.map(\.metrics), "\(name)")
        }
    }

    @Test func foldsAverage() throws {
        let table = Fixtures.randomRatings(users: 30, items: 20, perUser: 8)
        var rows = InteractionTable(users: table.users, items: table.items)
        for u in 0..<table.userCount { for k in table.byUser.entries(ofRow: u) { rows.append(user: Int32(u), item: table.byUser.columns[k], value: table.byUser.values[k]) } }
        let splits = try Splitter(.kFold(folds: 3)).split(rows).map { try PreparedSplit($0, protocol: EvaluationProtocol()) }
        let result = try Evaluator().run(model: "itemknn", splits: splits)
        #expect(result.folds == 3)
        let single = try (0..<3).map { try Evaluator().run(model: "itemknn", splits: [splits[$0]]).metrics["ndcg@10"]! }
        #expect(abs(result.metrics["ndcg@10"]! - single.reduce(0, +) / 3) < 1e-9)
    }
}

#if canImport(Glibc)
import Glibc
#endif

@Suite struct ColdStartTests {
    /// Items 0–5 with genres by parity; users like items of one parity. Item 4 and 5 are held out
    /// whole (cold): content models must rank the same-parity cold item first.
    func split() throws -> PreparedSplit {
        var table = InteractionTable()
        for u in 0..<6 {
            for i in 0..<6 where i % 2 == u % 2 { table.append(Interaction(user: "u\(u)", item: "i\(i)", value: 5)) }
        }
        let coldItems: Set<String> = ["i4", "i5"]
        let rows = (0..<table.count)
        let train = table.selecting(rows.filter { !coldItems.contains(table[$0].item) })
        let test = table.selecting(rows.filter { coldItems.contains(table[$0].item) })
        var prepared = try PreparedSplit(TrainTestSplit(train: train, test: test), protocol: EvaluationProtocol(cutoff: 1, mode: .coldItems))
        prepared.train.catalog = ModelContract.catalog(for: prepared.train.items)
        return prepared
    }

    @Test func coldItemSplitHoldsOutWholeItems() throws {
        var table = InteractionTable()
        for u in 0..<20 { for i in 0..<10 { table.append(Interaction(user: "u\(u)", item: "i\(i)", value: Float(1 + (u + i) % 5))) } }
        let split = try Splitter(.coldItems(ratio: 0.8, minimumInteractions: 5, minimumValue: 4), seed: 3).split(table)[0]
        let trainItems = Set((0..<split.train.count).map { split.train[$0].item }), testItems = Set((0..<split.test.count).map { split.test[$0].item })
        #expect(trainItems.isDisjoint(with: testItems))
        #expect(testItems.count == 2 && split.test.count == 40)
    }

    @Test func contentModelsRankTheNewCatalogue() throws {
        let prepared = try split()
        let evaluator = Evaluator(protocol: EvaluationProtocol(cutoff: 1, mode: .coldItems))
        let content = try ModelRegistry.fit("content-attributes", data: prepared.train)
        let result = evaluator.evaluate(content, on: prepared)
        #expect(result.usersEvaluated == 6)
        #expect(result.metrics["hit@1"] == 1, "every user's same-parity cold item ranks first")
        let collaborative = try ModelRegistry.fit("itemknn", data: prepared.train)
        #expect(evaluator.evaluate(collaborative, on: prepared).metrics.isEmpty, "collaborative models cannot score cold items")
    }

    @Test func mixedSplitHoldsOutTheColdItemsAndEachUsersShareOfTheRest() throws {
        var table = InteractionTable()
        for u in 0..<20 { for i in 0..<10 { table.append(Interaction(user: "u\(u)", item: "i\(i)", value: Float(1 + (u + i) % 5))) } }
        let cold = try Splitter(.coldItems(ratio: 0.8, minimumInteractions: 5, minimumValue: 4), seed: 3).split(table)[0]
        let mixed = try Splitter(.coldAndWarmItems(ratio: 0.8, warmRatio: 0.75, minimumInteractions: 5, minimumValue: 4), seed: 3).split(table)[0]
        let coldItems = Set((0..<cold.test.count).map { cold.test[$0].item })
        let trainItems = Set((0..<mixed.train.count).map { mixed.train[$0].item })
        #expect(trainItems.isDisjoint(with: coldItems) && trainItems.count == 8, "the same two items held out whole")
        // Each user's 8 other rows: 6 train (0.75 · 8), 2 test; and the 20 rows of each cold item.
        for u in 0..<20 {
            #expect((0..<mixed.train.count).filter { mixed.train[$0].user == "u\(u)" }.count == 6)
            #expect((0..<mixed.test.count).filter { mixed.test[$0].user == "u\(u)" && !coldItems.contains(mixed.test[$0].item) }.count == 2)
        }
        #expect(mixed.test.count == 20 * 2 + 40)
    }

    /// Worked by hand, k = 2. Training: u0 a, u1 b, u2 a c. Test: u0 c and x, u1 x; x is cold.
    /// u0's scores b 1, c 3, x 2 list [c, x]: both relevant, NDCG 1, one cold place; u1's a 5,
    /// c 4, x 1 list [a, c]: no hit. ndcg@2 = recall@2 = 0.5, cold-share@2 = 1 / 4, cold-recall@2
    /// = (1 + 0) / 2. Standard: x is no candidate, u0's list [c, b] has NDCG 1 / (1 + 1/log2 3).
    @Test func mixedListsRankWarmAndColdItemsTogether() throws {
        var train = InteractionTable([Interaction(user: "u0", item: "a"), Interaction(user: "u1", item: "b"),
                                      Interaction(user: "u2", item: "a"), Interaction(user: "u2", item: "c")])
        var test = InteractionTable([Interaction(user: "u0", item: "c"), Interaction(user: "u0", item: "x"), Interaction(user: "u1", item: "x")])
        train.adoptVocabularies(of: &test)
        let split = TrainTestSplit(train: train, test: test)
        let prepared = try PreparedSplit(split, protocol: EvaluationProtocol(cutoff: 2, mode: .mixed))
        let items = prepared.train.items
        let order = ["a", "b", "c", "x"].map { Int(items.index(of: $0)!) }
        let user0 = Int(prepared.train.users.index(of: "u0")!)
        let scores: @Sendable (Int) -> [Float] = { user in
            var out = [Float](repeating: 0, count: 4)
            for (item, score) in zip(order, user == user0 ? [9, 1, 3, 2] : [5, 9, 4, 1] as [Float]) { out[item] = score }
            return out
        }
        let mixed = Evaluator(protocol: EvaluationProtocol(cutoff: 2, mode: .mixed)).evaluate(scores: scores, predictRating: nil, on: prepared).metrics
        #expect(mixed["ndcg@2"] == 0.5 && mixed["recall@2"] == 0.5)
        #expect(mixed["cold-share@2"] == 0.25 && mixed["cold-recall@2"] == 0.5)
        let standardSplit = try PreparedSplit(split, protocol: EvaluationProtocol(cutoff: 2))
        let standard = Evaluator(protocol: EvaluationProtocol(cutoff: 2)).evaluate(scores: scores, predictRating: nil, on: standardSplit).metrics
        #expect(abs(standard["ndcg@2"]! - 0.5 / (1 + 1 / log2(3.0))) < 1e-12)
        #expect(standard["cold-share@2"] == nil)
        // Popularity cannot score x: it leaves x out of its lists rather than rank it by a tie.
        let byPopularity = try PreparedSplit(split, protocol: EvaluationProtocol(cutoff: 3, mode: .mixed))
        let popularity = try ModelRegistry.fit("pop", data: byPopularity.train)
        let result = Evaluator(protocol: EvaluationProtocol(cutoff: 3, mode: .mixed)).evaluate(popularity, on: byPopularity).metrics
        #expect(result["cold-share@3"] == 0 && result["cold-recall@3"] == 0)
    }

    @Test func coldUsersAreThoseWithShortHistories() throws {
        var table = InteractionTable()
        for i in 0..<8 { table.append(Interaction(user: "heavy", item: "i\(i)")) }
        table.append(Interaction(user: "light", item: "i0"))
        var test = InteractionTable([Interaction(user: "heavy", item: "i9"), Interaction(user: "light", item: "i1")])
        table.adoptVocabularies(of: &test)
        let prepared = try PreparedSplit(TrainTestSplit(train: table, test: test), protocol: EvaluationProtocol(mode: .coldUsers, coldUserHistory: 2))
        #expect(prepared.relevant.keys.map { prepared.train.users[$0] } == ["light"])
    }
}
