import BraidCore
import BraidData
import BraidEvaluation
import BraidModels
import BraidTestSupport
import Foundation
import Testing

/// The evaluation-integrity defects of issue 7, each reproduced on a small dataset.
@Suite struct IntegrityTests {
    /// An event log: 60 users × 10 items, every (user, item) pair logged 3 times, with a
    /// popularity skew (user u sees items 0…(u % 10)) so that popularity has signal.
    static func eventLog() -> InteractionTable {
        var table = InteractionTable()
        for repeatRound in 0..<3 {
            for u in 0..<60 {
                for i in 0...(u % 10) {
                    table.append(Interaction(user: "u\(u)", item: "i\(i)", value: 1, timestamp: Int64(repeatRound * 1000 + u * 10 + i)))
                }
            }
        }
        return table
    }

    static func pairs(_ table: InteractionTable) -> Set<String> {
        Set((0..<table.count).map { table.users[table.userIndices[$0]] + "/" + table.items[table.itemIndices[$0]] })
    }

    @Test func splitsHoldOutPairsNotRows() throws {
        let log = Self.eventLog()
        for method in [SplitMethod.userRatio(ratio: 0.8), .random(ratio: 0.8), .userTimeRatio(ratio: 0.8), .leaveLastOut(count: 1)] {
            let split = try Splitter(method, seed: 1).split(log)[0]
            #expect(Self.pairs(split.train).isDisjoint(with: Self.pairs(split.test)), "\(method): a test pair is also in training")
            #expect(split.train.count + split.test.count == Self.pairs(log).count, "\(method): one row per pair")
        }
        let folds = try Splitter(.kFold(folds: 3), seed: 1).split(log)
        for fold in folds { #expect(Self.pairs(fold.train).isDisjoint(with: Self.pairs(fold.test))) }
        // Rows, on request, keep the repeats (for the re-consumption protocol).
        let rows = try Splitter(.userTimeRatio(ratio: 0.5), seed: 1, unit: .rows).split(log)[0]
        #expect(rows.train.count + rows.test.count == log.count)
    }

    /// The training part knows how its test was held out. By hand: ten users with training
    /// rows at times 1…3; nine have test rows at 3 or later and one at 2 — 9 of 10 in order,
    /// temporal; a second out of order makes 8 of 10, random. Without timestamps on either side,
    /// nothing is known. Splitter's time splits come out temporal, its random one random.
    @Test func holdoutOrderIsRecognized() throws {
        func tables(outOfOrder: Int) -> (InteractionTable, InteractionTable) {
            var train = InteractionTable(), test = InteractionTable()
            for u in 0..<10 {
                for t in 1...3 { train.append(Interaction(user: "u\(u)", item: "i\(t)", value: 1, timestamp: Int64(t))) }
                test.append(Interaction(user: "u\(u)", item: "i9", value: 1, timestamp: u < outOfOrder ? 2 : Int64(3 + u % 2)))
            }
            return (train, test)
        }
        let (nine, nineTest) = tables(outOfOrder: 1), (eight, eightTest) = tables(outOfOrder: 2)
        #expect(PreparedSplit.holdoutOrder(train: nine, test: nineTest) == .temporal)
        #expect(PreparedSplit.holdoutOrder(train: eight, test: eightTest) == .random)
        var untimed = InteractionTable()
        untimed.append(Interaction(user: "u0", item: "i1", value: 1))
        #expect(PreparedSplit.holdoutOrder(train: untimed, test: untimed) == nil)
        let log = Self.eventLog()
        for (method, order) in [(SplitMethod.userTimeRatio(ratio: 0.8), InteractionMatrix.HoldoutOrder.temporal), (.leaveLastOut(count: 1), .temporal),
                                (.userRatio(ratio: 0.8), .random)] {
            let split = try Splitter(method, seed: 1).split(log)[0]
            #expect(try PreparedSplit(split, protocol: EvaluationProtocol()).train.evaluationHoldout == order, "\(method)")
        }
    }

    @Test func repeatedEventsNoLongerZeroTheMetrics() throws {
        let split = try Splitter(.userRatio(ratio: 0.8), seed: 1).split(Self.eventLog())[0]
        let prepared = try PreparedSplit(split, protocol: EvaluationProtocol())
        #expect(prepared.testPairsInTraining == 0)
        for name in ["pop", "itemknn"] {
            let result = try Evaluator().run(model: name, splits: [prepared])
            #expect(result.metrics["ndcg@10"]! > 0.2, "\(name): \(result.metrics)")
        }
    }

    /// Train and test files that overlap: the overlapping pair can never be recommended under
    /// the standard protocol, so it is not relevant, and RMSE never scores it.
    @Test func overlappingTestPairsAreNeitherRelevantNorRated() throws {
        var train = InteractionTable([
            Interaction(user: "a", item: "x", value: 5), Interaction(user: "a", item: "y", value: 3),
            Interaction(user: "b", item: "x", value: 4), Interaction(user: "b", item: "z", value: 2),
        ])
        var test = InteractionTable([Interaction(user: "a", item: "x", value: 1), Interaction(user: "a", item: "z", value: 4)])
        train.adoptVocabularies(of: &test)
        let standard = try PreparedSplit(TrainTestSplit(train: train, test: test), protocol: EvaluationProtocol())
        let a = Int32(standard.train.users.index(of: "a")!)
        #expect(standard.testPairsInTraining == 1)
        #expect(standard.relevant[a] == [Int32(standard.train.items.index(of: "z")!)])
        #expect(standard.ratedRows.map { standard.test.items[standard.test.itemIndices[$0]] } == ["z"])
        let model = try ModelRegistry.fit("baseline", data: standard.train)
        #expect(Evaluator().evaluate(model, on: standard).ratingsEvaluated == 1)

        let repeated = try PreparedSplit(TrainTestSplit(train: train, test: test), protocol: EvaluationProtocol(mode: .repeat))
        #expect(repeated.relevant[a]?.count == 2, "under repeat, returning to x counts")
        #expect(repeated.ratedRows.count == 1, "RMSE never scores a trained pair")
    }

    /// With a threshold, a training row below it is as if absent (its item stays a candidate,
    /// though it can never be relevant) unless `belowThreshold` is `.seen`. By hand, popularity
    /// over the positives ranks x (3), y (2), z (1) for t, who rated x 2★ and whose test item is
    /// y: NDCG@10 = (1 / log2 3) / 1 = 0.6309 with x in the list, 1 without it.
    ///
    /// Each user's result carries what they were scored against, so that `braid compare` can
    /// refuse to pair the two protocols: t's relevant item y, and 3 candidates (the catalogue
    /// x, y, z, w less w) under `.absent`, 2 under `.seen` (less x too). The hashes, FNV-1a of
    /// "y\u{1F}3" and "y\u{1F}2", were worked out apart from Braid.
    @Test func rowsBelowTheThresholdAreAbsentOrSeen() throws {
        var train = InteractionTable([
            Interaction(user: "u1", item: "x", value: 5), Interaction(user: "u2", item: "x", value: 5), Interaction(user: "u3", item: "x", value: 4),
            Interaction(user: "u1", item: "y", value: 5), Interaction(user: "u2", item: "y", value: 4), Interaction(user: "u1", item: "z", value: 5),
            Interaction(user: "t", item: "x", value: 2), Interaction(user: "t", item: "w", value: 5),
        ])
        var test = InteractionTable([Interaction(user: "t", item: "y", value: 5)])
        train.adoptVocabularies(of: &test)
        func ndcg(_ below: EvaluationProtocol.BelowThreshold) throws -> (Double, UInt64?) {
            let evaluation = EvaluationProtocol(threshold: 4, belowThreshold: below)
            let prepared = try PreparedSplit(TrainTestSplit(train: train, test: test), protocol: evaluation)
            #expect(prepared.train.byUser.nonzeroCount == 7, "the 2★ row is never trained on")
            let model = try ModelRegistry.fit("pop", data: prepared.train)
            let result = Evaluator(protocol: evaluation).evaluate(model, on: prepared)
            #expect(result.perUser.map(\.user) == ["t"])
            return (result.metrics["ndcg@10"]!, result.perUser.first?.test)
        }
        let (absent, absentTest) = try ndcg(.absent), (seen, seenTest) = try ndcg(.seen)
        #expect(abs(absent - 1 / log2(3)) < 1e-9)
        #expect(abs(seen - 1) < 1e-9)
        #expect(absentTest == 0xb597ba1979cc9a26 && seenTest == 0xb597bb1979cc9bd9)
    }

    /// Under `repeat`, a user's training items stay candidates: a model that ranks the user's
    /// own items first hits the re-consumed item; under the standard protocol it cannot.
    @Test func repeatProtocolKeepsSeenItemsAsCandidates() throws {
        var table = InteractionTable()
        for u in 0..<20 {
            for i in 0..<5 { table.append(Interaction(user: "u\(u)", item: "i\((u + i) % 12)", value: 1, timestamp: Int64(i))) }
            // In the test period the user returns to their first item.
            table.append(Interaction(user: "u\(u)", item: "i\(u % 12)", value: 1, timestamp: 100))
        }
        let split = try Splitter(.timeCut(time: 100), unit: .rows).split(table)[0]
        let own: @Sendable (PreparedSplit) -> @Sendable (Int) -> [Float] = { prepared in
            { user in
                var scores = [Float](repeating: 0, count: prepared.train.itemCount)
                for item in prepared.train.items(ofUser: user) { scores[Int(item)] = item == prepared.train.items(ofUser: user).first ? 2 : 1 }
                return scores
            }
        }
        let repeated = try PreparedSplit(split, protocol: EvaluationProtocol(cutoff: 1, mode: .repeat))
        let hitRate = Evaluator(protocol: EvaluationProtocol(cutoff: 1, mode: .repeat))
            .evaluate(scores: own(repeated), predictRating: nil, on: repeated).metrics["hit@1"]!
        #expect(hitRate > 0.3)
        let standard = try PreparedSplit(split, protocol: EvaluationProtocol(cutoff: 1))
        #expect(standard.relevant.isEmpty, "every test pair was seen in training")
    }

    /// A model that gives every item the same score must score like `random`, not like the
    /// index order (here the relevant item always has index 0).
    @Test func tiesAreBrokenBySeededRandomOrder() throws {
        var train = InteractionTable(), test = InteractionTable()
        for i in 0..<50 { train.items.insert("i\(i)"); test.items.insert("i\(i)") }
        for u in 0..<300 {
            for k in 1...3 { train.append(Interaction(user: "u\(u)", item: "i\(1 + (u * 11 + k * 13) % 49)", value: 1)) }
            test.append(Interaction(user: "u\(u)", item: "i0", value: 1))
        }
        for u in 0..<5 { train.append(Interaction(user: "x\(u)", item: "i0", value: 1)) }
        train.adoptVocabularies(of: &test)
        let prepared = try PreparedSplit(TrainTestSplit(train: train, test: test), protocol: EvaluationProtocol())
        let evaluator = Evaluator()
        let constant = evaluator.evaluate(scores: { _ in [Float](repeating: 1, count: 50) }, predictRating: nil, on: prepared)
        let random = try evaluator.run(model: "random", splits: [prepared])
        // Index order would put i0 first for everyone: NDCG 1. Random order: hit@10 ≈ 10/47.
        #expect(constant.metrics["ndcg@10"]! < 0.3)
        #expect(abs(constant.metrics["hit@10"]! - random.metrics["hit@10"]!) < 0.08, "constant \(constant.metrics["hit@10"]!) vs random \(random.metrics["hit@10"]!)")
        #expect(abs(constant.metrics["hit@10"]! - 10.0 / 47) < 0.08)
        // And it is reproducible.
        #expect(evaluator.evaluate(scores: { _ in [Float](repeating: 1, count: 50) }, predictRating: nil, on: prepared).metrics == constant.metrics)
    }

    @Test func oneFailingModelDoesNotSinkTheRun() throws {
        let split = try Splitter(.userRatio(ratio: 0.8), seed: 1).split(Self.eventLog())[0]
        let prepared = try PreparedSplit(split, protocol: EvaluationProtocol(threshold: 1))
        let results = Evaluator().run(models: [
            ("pop", "pop", ModelParameters()), ("itemknn", "itemknn", ModelParameters(["similarity": "pearson"])), ("blend", "blend", ModelParameters()),
            ("ease", "ease", ModelParameters(["lambda": "10"])),
        ], splits: [prepared])
        #expect(results.map(\.model) == ["pop", "itemknn", "blend", "ease"])
        #expect(results[0].failure == nil && results[0].metrics["ndcg@10"] != nil)
        #expect(results[1].failure?.code == "needsGradedValues")
        #expect(results[2].failure?.code == "needsGradedValues")
        #expect(results[3].failure == nil && results[3].metrics["ndcg@10"] != nil)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(results[1])) as? [String: Any]
        #expect((json?["error"] as? [String: Any])?["code"] as? String == "needsGradedValues")
    }

    /// Fold means divide by the folds that have the metric.
    @Test func foldMeansCountOnlyFoldsWithTheMetric() {
        let a = EvaluationResult(model: "m", metrics: ["ndcg@10": 0.4, "rmse": 1.0])
        let b = EvaluationResult(model: "m", metrics: ["ndcg@10": 0.2])
        let mean = Evaluator.average([a, b])
        #expect(abs(mean.metrics["ndcg@10"]! - 0.3) < 1e-12)
        #expect(mean.metrics["rmse"] == 1.0, "not 0.5: the second fold has no RMSE")
    }

    /// Tags carry their authors' taste: a held-out item must not be described by its test
    /// users' words, nor by anything written after the training period.
    @Test func userTextCannotLeakTheTestSet() throws {
        var train = InteractionTable([
            Interaction(user: "a", item: "warm", value: 5, timestamp: 10), Interaction(user: "b", item: "warm", value: 4, timestamp: 20),
            Interaction(user: "a", item: "other", value: 3, timestamp: 30),
        ])
        var test = InteractionTable([Interaction(user: "a", item: "cold", value: 5, timestamp: 40),
                                     Interaction(user: "b", item: "other", value: 5, timestamp: 50)])
        train.adoptVocabularies(of: &test)
        var catalog = ItemCatalog([ItemRecord(id: "warm", title: "Warm"), ItemRecord(id: "cold", title: "Cold"), ItemRecord(id: "other", title: "Other")])
        catalog["warm"]!.userText = [UserText(user: "a", text: "keep", timestamp: 15), UserText(user: "b", text: "too late", timestamp: 35)]
        catalog["cold"]!.userText = [UserText(user: "a", text: "cold by a test user", timestamp: 5), UserText(user: "c", text: "cold by anyone", timestamp: 5)]
        catalog["other"]!.userText = [UserText(user: "b", text: "by b, tested on other", timestamp: 5), UserText(user: "a", text: "by a", timestamp: 5)]
        var prepared = try PreparedSplit(TrainTestSplit(train: train, test: test), protocol: EvaluationProtocol(mode: .coldItems))
        prepared.attach(catalog)
        let kept = try #require(prepared.train.catalog)
        #expect(kept["warm"]?.distinctUserText == ["keep"])
        #expect(kept["cold"]?.distinctUserText == [], "no user text on a held-out item")
        #expect(kept["other"]?.distinctUserText == ["by a"], "no text by a user about their own test pair")
        #expect(kept["cold"]?.title == "Cold", "catalogue text stays")
    }

    @Test func coldItemSplitOnMovieLensKeepsTagsOffHeldOutItems() throws {
        let directory = Fixtures.temporaryDirectory()
        let movies = (directory as NSString).appendingPathComponent("movies.csv")
        try "movieId,title,genres\n1,One (1995),Drama\n2,Two (1996),Comedy\n".write(toFile: movies, atomically: true, encoding: .utf8)
        try "userId,movieId,tag,timestamp\n7,1,secret,1\n8,2,public,1\n".write(toFile: (directory as NSString).appendingPathComponent("tags.csv"), atomically: true, encoding: .utf8)
        var table = InteractionTable()
        for u in 0..<10 { table.append(Interaction(user: "\(u)", item: "2", value: 4)) }
        for u in 5..<10 { table.append(Interaction(user: "\(u)", item: "1", value: 5)) }
        var train = table.selecting((0..<table.count).filter { table.items[table.itemIndices[$0]] == "2" })
        var test = table.selecting((0..<table.count).filter { table.items[table.itemIndices[$0]] == "1" })
        train.adoptVocabularies(of: &test)
        // The catalogue given to the initializer, as evaluate, tune and create give it.
        let prepared = try PreparedSplit(TrainTestSplit(train: train, test: test), protocol: EvaluationProtocol(mode: .coldItems),
                                         catalog: try ItemCatalogImporter().importFile(movies))
        #expect(prepared.train.catalog?["1"]?.document == "One (1995). Drama")
        #expect(prepared.train.catalog?["2"]?.document == "Two (1996). Comedy. public")
    }
}

@Suite struct PairedComparisonTests {
    /// Worked by hand: the nonzero differences ranked by |d| are −0.05 (1), −0.2 (2), 0.25 (3),
    /// 0.3 and 0.3 (4.5 each), −0.4 (6), 0.5 (7), 0.7 (8), 1.1 (9): W+ = 36, W− = 9, n = 9.
    /// Mean 22.5, variance 9·10·19/24 − (2³ − 2)/48 = 71.125, z = 13.5/√71.125 = 1.60075,
    /// p = erfc(z/√2) = 0.10943. t = mean/(sd/√10) = 1.78269 with 9 df, p = 0.10832 (t tables;
    /// SciPy's wilcoxon(method="approx") and ttest_1samp agree).
    @Test func wilcoxonAndTTestKnownAnswers() throws {
        let d = [0.5, -0.2, 0.3, 0.3, 0.0, 1.1, -0.4, 0.25, 0.7, -0.05]
        let comparison = try PairedComparison(a: d, b: [Double](repeating: 0, count: d.count))
        #expect(comparison.wilcoxon.statistic == 36)
        #expect(abs(comparison.wilcoxon.auxiliary - 1.600750) < 1e-5)
        #expect(abs(comparison.wilcoxon.p - 0.109433) < 1e-5)
        #expect(abs(comparison.tTest.statistic - 1.782685) < 1e-5)
        #expect(abs(comparison.tTest.p - 0.108316) < 1e-5)
        #expect(abs(comparison.meanDifference - 0.25) < 1e-12)
    }

    @Test func incompleteBetaKnownValues() {
        // I_x(1, 1) = x; I_x(a, 1) = x^a; I_0.5(a, a) = 0.5.
        #expect(abs(PairedComparison.regularizedIncompleteBeta(0.3, 1, 1) - 0.3) < 1e-12)
        #expect(abs(PairedComparison.regularizedIncompleteBeta(0.6, 3, 1) - 0.216) < 1e-12)
        #expect(abs(PairedComparison.regularizedIncompleteBeta(0.5, 4.5, 4.5) - 0.5) < 1e-12)
    }

    @Test func bootstrapIntervalCoversTheMeanAndExcludesZeroForAClearDifference() throws {
        var rng = SeededGenerator(seed: 3)
        let b = (0..<400).map { _ in rng.nextUnit() }
        let a = b.map { $0 + 0.05 + 0.1 * (rng.nextUnit() - 0.5) }
        let c = try PairedComparison(a: a, b: b, resamples: 2000, seed: 1)
        #expect(c.lower > 0 && c.lower < c.meanDifference && c.meanDifference < c.upper)
        #expect(c.upper - c.lower < 0.01)
        #expect(try PairedComparison(a: a, b: b, resamples: 2000, seed: 1) == c, "seeded")
        let same = try PairedComparison(a: b, b: b)
        #expect(same.lower == 0 && same.upper == 0 && same.wilcoxon.p == 1)
    }

    @Test func badInputIsAnError() {
        #expect(throws: DataError.self) { try PairedComparison(a: [1], b: [1]) }
        #expect(throws: DataError.self) { try PairedComparison(a: [1, 2], b: [1]) }
        #expect(throws: DataError.self) { try PairedComparison(a: [1, .nan], b: [1, 2]) }
    }
}
