import BraidCore
import BraidData
@testable import BraidEvaluation
import BraidModels
import BraidTestSupport
import Testing

@Suite struct TunerTests {
    @Test func spaceParsesListsAndRanges() throws {
        let space = try ParameterSpace(arguments: ["factors=8,16", "regularization=0.001:0.1:log", "iterations=5:20:int"])
        #expect(space.dimensions.count == 3)
        #expect(space.dimensions[1].domain == .range(low: 0.001, high: 0.1, logarithmic: true, integer: false))
        #expect(throws: ModelError.self) { try space.grid() }
        let samples = space.sample(50, seed: 3)
        #expect(samples == space.sample(50, seed: 3))
        for sample in samples {
            #expect(["8", "16"].contains(sample["factors"]!))
            let r = Double(sample["regularization"]!)!
            #expect(r >= 0.001 && r <= 0.1)
            let i = Int(sample["iterations"]!)!
            #expect(i >= 5 && i <= 20)
        }
        #expect(throws: ModelError.self) { try ParameterSpace(arguments: ["x=0:1:log"]) }
        #expect(throws: ModelError.self) { try ParameterSpace(arguments: ["nonsense"]) }
    }

    @Test func gridIsTheCartesianProduct() throws {
        let grid = try ParameterSpace(arguments: ["a=1,2,3", "b=x,y"]).grid()
        #expect(grid.count == 6)
        #expect(Set(grid.map { $0["a"]! + $0["b"]! }) == ["1x", "1y", "2x", "2y", "3x", "3y"])
    }

    func split() throws -> PreparedSplit {
        let data = Fixtures.randomRatings(users: 60, items: 30, perUser: 10)
        var table = InteractionTable(users: data.users, items: data.items)
        for u in 0..<data.userCount { for k in data.byUser.entries(ofRow: u) { table.append(user: Int32(u), item: data.byUser.columns[k], value: data.byUser.values[k]) } }
        return try PreparedSplit(try Splitter(.userRatio(ratio: 0.8), seed: 4).split(table)[0], protocol: EvaluationProtocol())
    }

    @Test func picksTheBestByTheMetricsDirection() throws {
        let split = try split()
        let tuner = Tuner(evaluator: Evaluator(), metric: "rmse")
        #expect(tuner.lowerIsBetter)
        let trials = try tuner.run(model: "itemknn", base: [:], candidates: [["neighbors": "1"], ["neighbors": "20"]], split: split)
        #expect(trials.count == 2)
        let best = try #require(tuner.best(trials))
        #expect(best.value == trials.map(\.value).min())
        #expect(!Tuner(evaluator: Evaluator(), metric: "ndcg@10").lowerIsBetter)
    }

    /// A list metric is measured at the cutoff it names, and a name the evaluation does not
    /// report is refused before any trial, with the nearest name when it is a slip.
    @Test func metricsAreCheckedAndNameTheirCutoff() throws {
        #expect(Tuner.cutoff(of: "recall@20") == 20 && Tuner.cutoff(of: "auc") == nil && Tuner.cutoff(of: "ndcg@0") == nil && Tuner.cutoff(of: "ndcg@x") == nil)
        let tuner = Tuner(evaluator: Evaluator(), metric: "recall@3")
        #expect(tuner.evaluator.evaluation.cutoff == 3)
        let trials = try tuner.run(model: "itemknn", base: [:], candidates: [["neighbors": "5"]], split: try split())
        #expect(trials.count == 1 && trials[0].value.isFinite)
        for metric in ["ndcg@10", "cold-recall@5", "auc", "rmse", "gini@50"] { #expect(throws: Never.self) { try Tuner.checkMetric(metric) } }
        func refusal(_ metric: String, ranking: Bool = false) -> String {
            do { try Tuner.checkMetric(metric, ranking: ranking); return "accepted" } catch { return error.description }
        }
        #expect(refusal("ndgc@10").hasPrefix("there is no metric \"ndgc@10\" (did you mean \"ndcg@10\"?). metrics: ndcg@K, precision@K"))
        #expect(refusal("ndcg@0").hasPrefix("there is no metric \"ndcg@0\"") && refusal("NDCG").hasPrefix("there is no metric \"NDCG\""))
        #expect(refusal("rmse", ranking: true).hasPrefix("rmse measures rating predictions, not ranked lists") && !refusal("mae", ranking: true).contains("rmse,"))
        #expect(throws: ModelError.self) { try Tuner(evaluator: Evaluator(), metric: "precison@10").check() }
    }

    @Test func earlyStoppingRecordsTheBestIteration() throws {
        let split = try split()
        let tuner = Tuner(evaluator: Evaluator(), metric: "rmse", patience: 2)
        let trial = try #require(try tuner.run(model: "svd", base: ["factors": "4", "iterations": "300", "learning-rate": "0.05"],
                                               candidates: [[:]], split: split).first)
        let best = try #require(trial.bestIteration)
        #expect(best >= 1 && best < 300, "stopped early")
        #expect(trial.parameters["iterations"] == String(best))
        // Refitting with the chosen iteration count reproduces the value.
        let refit = try ModelRegistry.fit("svd", parameters: ModelParameters(trial.parameters), data: split.train)
        #expect(abs(Evaluator().evaluate(refit, on: split).metrics["rmse"]! - trial.value) < 1e-6)
    }
}

/// `braid create`'s estimate of the fusion's cost, worked by hand for members that fit in
/// 1.83 s on the validation split, an added EASE of 1.13 s, 500 users, queries at 1 ms each
/// capped at 2,000 and an evaluation of 0.5 s. With 4 folds each fold takes all 500 users
/// (2,000 / 4), so the fit is 5 × 1.83 + 2,000 × 0.001 = 11.15 s, the trial 11.65 s, the final
/// fit 1.25 × 5 × (1.83 + 1.13) + 2 = 20.5 s and all of it 32.15 s; with 5 folds each fold
/// takes 400: 6 × 1.83 + 2 = 12.98, 13.48 and 1.25 × 6 × 2.96 + 2 = 24.2, 37.68 s in all;
/// with 3, 500 each (1,500 queries): 8.82, 9.32 and 16.3, 25.62 s.
@Suite struct FusionCostTests {
    @Test func theFoldsThatFitTheBudget() {
        let cost = FusionCost(membersFitSeconds: 1.83, addedSeconds: 1.13, report: false, querySeconds: 0.001, users: 500,
                              queryCap: 2000, evaluationSeconds: 0.5)
        #expect(cost.queries(folds: 4) == 2000 && cost.queries(folds: 5) == 2000 && cost.queries(folds: 3) == 1500)
        #expect(abs(cost.fit(folds: 4) - 11.15) < 1e-9 && abs(cost.trial(folds: 4) - 11.65) < 1e-9)
        #expect(abs(cost.final(folds: 4) - 20.5) < 1e-9 && abs(cost.total(folds: 4) - 32.15) < 1e-9)
        #expect(abs(cost.total(folds: 5) - 37.68) < 1e-9 && abs(cost.total(folds: 3) - 25.62) < 1e-9)
        // A trial's fit measured at twice its estimate doubles what follows it.
        #expect(abs(cost.afterTrial(22.3, folds: 4) - 41) < 1e-9)
        #expect(cost.folds(within: 36, default: 10, adjustable: true) == 4)
        #expect(cost.folds(within: 40, default: 10, adjustable: true) == 5)
        #expect(cost.folds(within: 25, default: 10, adjustable: true) == nil)
        // A temporal inner split keeps its folds: 1,000 queries, 3 × 1.83 + 1 = 6.49 s of fit,
        // 6.99 s of trial and 1.25 × 3 × 2.96 + 1 = 12.1 s of final fit, 19.09 s in all.
        #expect(cost.folds(within: 19.1, default: 2, adjustable: false) == 2)
        #expect(cost.folds(within: 19, default: 2, adjustable: false) == nil)
        // The report refits the fusion once more on the validation split.
        var reported = cost
        reported.report = true
        #expect(abs(reported.total(folds: 4) - 43.3) < 1e-9)
        // Without a cap every user is a query in every fold.
        var uncapped = cost
        uncapped.queryCap = nil
        #expect(uncapped.queries(folds: 10) == 5000)
        // Nothing added and no queries: the final fit is the trial's fit on a quarter more data.
        let plain = FusionCost(membersFitSeconds: 2, addedSeconds: 0, report: false)
        #expect(abs(plain.final(folds: 4) / plain.fit(folds: 4) - 1.25) < 1e-12)
    }
}

@Suite struct ModelCreatorTests {
    /// Items a, b and c have a 4★ or 5★ rating and d only a 2★: EASE on the positives models 3
    /// items and on every rated one 4, so the added member's fit is (4/3)³ = 64/27 of EASE's
    /// trial; another family's 4/3; a member on the positives alone costs its trial.
    @Test func addedMembersCostTheItemsTheyModel() {
        var table = InteractionTable()
        for (user, item, value) in [("u", "a", 5), ("u", "d", 2), ("v", "b", 4), ("v", "c", 5), ("w", "d", 2), ("w", "a", 4)] {
            table.append(Interaction(user: user, item: item, value: Float(value)))
        }
        let positives = InteractionMatrix(positivesOf: table, threshold: 4)
        var trial = positives
        trial.belowThreshold = nil
        #expect(abs(ModelCreator.addedMemberScale(MemberSpec(model: "ease", belowThreshold: true), trial: trial, final: positives) - 64.0 / 27) < 1e-12)
        #expect(abs(ModelCreator.addedMemberScale(MemberSpec(model: "itemknn", belowThreshold: true), trial: trial, final: positives) - 4.0 / 3) < 1e-12)
        #expect(ModelCreator.addedMemberScale(MemberSpec(model: "ease"), trial: trial, final: positives) == 1)
    }

    /// Tuning runs to 60% of the budget and the fusion's plan may end at 90%. With a 700 s
    /// budget the 210 s between hold a 150 s fusion, so nothing is kept; a 371 s one at 160 s
    /// ends at 531 ≤ 630 s if tuning stops now, so each trial keeps 371 − 210 = 161 s and the
    /// tuning's trials end by 420 − 161 = 259 s; with a 30 s report after it, 191 s. At 300 s
    /// the 371 s plan would end at 671 > 630 s: the fusion will not be tried, and nothing is kept.
    /// A trial whose family would make the plan 397 s by joining the leaders (as user kNN's
    /// did on 50,000 synthetic users, the leaders' plan then at 283 s) keeps 397 − 210 = 187 s:
    /// at 250 s no trial of it fits before 420 − 187 = 233 s, so it is not started; a family
    /// that would make it cheaper keeps what the leaders' plan needs, 283 − 210 = 73 s.
    @Test func tuningKeepsTimeForTheFusion() {
        #expect(ModelCreator.fusionReserve(now: 150, joined: 150, elapsed: 160, budget: 700) == 0)
        #expect(abs(ModelCreator.fusionReserve(now: 371, joined: 371, elapsed: 160, budget: 700) - 161) < 1e-9)
        #expect(abs(ModelCreator.fusionReserve(now: 401, joined: 401, elapsed: 160, budget: 700) - 191) < 1e-9)
        #expect(ModelCreator.fusionReserve(now: 371, joined: 371, elapsed: 300, budget: 700) == 0)
        // Just in time: 259 s + 371 s = 630 s.
        #expect(abs(ModelCreator.fusionReserve(now: 371, joined: 371, elapsed: 259, budget: 700) - 161) < 1e-9)
        #expect(abs(ModelCreator.fusionReserve(now: 283, joined: 397, elapsed: 250, budget: 700) - 187) < 1e-9)
        #expect(abs(ModelCreator.fusionReserve(now: 283, joined: 200, elapsed: 250, budget: 700) - 73) < 1e-9)
        // Out of reach already: no fusion to keep time for, whatever a family would make it.
        #expect(ModelCreator.fusionReserve(now: 400, joined: 200, elapsed: 250, budget: 700) == 0)
    }

    /// The model fitted on all the data: the best whose refit ends within the budget. Over
    /// budget already, the best whose refit takes at most a tenth of it (before, the last on
    /// the board: popularity, after a 9.3 s run of a 3 s budget), else the quickest.
    @Test func theWinnerIsTheBestThatFits() {
        // 60 s of 100 spent: the leader's 50 s refit would end at 110, the second's 30 s at 90.
        #expect(ModelCreator.winnerIndex(refits: [50, 30, 0], report: 0, elapsed: 60, budget: 100) == 1)
        // With a 15 s report the second ends at 105: the third (popularity, 0 s) is the best that fits.
        #expect(ModelCreator.winnerIndex(refits: [50, 30, 0], report: 15, elapsed: 60, budget: 100) == 2)
        // 9.3 s of 3 spent: nothing ends in time; the leader's 0.1 s is within a tenth (0.3 s).
        #expect(ModelCreator.winnerIndex(refits: [0.1, 0.2, 0], report: 0, elapsed: 9.3, budget: 3) == 0)
        // Every refit dearer than a tenth: the quickest.
        #expect(ModelCreator.winnerIndex(refits: [5, 2, 3], report: 0, elapsed: 9.3, budget: 3) == 1)
    }

    /// `create` from the library: two taste groups each rating 7 of their 10 items 4 or 5, and
    /// one 1★ each on the other group's side; the latest rows are liked items, so the temporal
    /// validation has something to find. It chooses the protocol from the data, keeps its
    /// budget, ranks its leaderboard best first, and fits the winner on the positives of all
    /// the data.
    @Test func createsAFittedModelFromATable() throws {
        var table = InteractionTable()
        for u in 0..<40 {
            for i in 0..<20 where i % 2 == u % 2 && (i / 2 + u) % 10 < 7 {
                table.append(Interaction(user: "u\(u)", item: "m\(i)", value: Float(4 + (u * i) % 2), timestamp: Int64(1000 + u * 50 + (i * 7 + u) % 20)))
            }
            table.append(Interaction(user: "u\(u)", item: "m\((u + 1) % 20)", value: 1, timestamp: Int64(900 + u)))
        }
        var progress: [String] = []
        let started = System.monotonicSeconds()
        let result = try ModelCreator(budget: 4, seed: 3).create(table) { progress.append($0) }
        #expect(System.monotonicSeconds() - started < 4 * 1.1 + 1)
        #expect(result.valueKind == .ratings && result.threshold == 4 && result.temporalValidation)
        #expect(result.data.interactionCount == 40 * 7, "the 1★ rows are not positives")
        let values = result.leaderboard.map(\.trial.value)
        #expect(values.count >= 3 && values == values.sorted(by: >))
        #expect(result.defaults.values.allSatisfy { $0 <= result.winner.trial.value })
        let others = result.defaults.filter { $0.key != result.winner.family }
        #expect(result.defaultsCompared == others.count && result.defaultsBeaten == others.values.filter { $0 < result.winner.trial.value }.count)
        #expect(type(of: result.model).name == result.winner.family)
        #expect(progress.first?.hasPrefix("data: 320 interactions, values are ratings, positives are ≥ 4") == true, "\(progress.first ?? "")")
        // A user's list: their group's items they have not rated.
        let user = try #require(result.data.users.index(of: "u0"))
        let listed = result.model.recommend(userIndex: Int(user), count: 3).map { result.data.items[$0.index] }
        #expect(!listed.isEmpty && listed.allSatisfy { Int($0.dropFirst())! % 2 == 0 }, "\(listed)")
        #expect(throws: ModelError.self) { try ModelCreator(budget: 0.5).create(table) }
    }

    /// A family whose first three configurations score exactly alike is not sampled further.
    /// With item titles the hybrid is tried, and here every item has training interactions, so
    /// its one tuned parameter (the ridge of its map from content to factors, which scores only
    /// items without any) cannot move the ranking: it scored its ALS's value at each of 20
    /// samples on ml-latest-small's temporal split (0.66 s a trial, 13 of the 72 s of tuning).
    @Test func familiesWhoseParametersDoNotMoveTheMetricStopEarly() throws {
        var table = InteractionTable()
        for u in 0..<40 {
            for i in 0..<20 where i % 2 == u % 2 && (i / 2 + u) % 10 < 7 {
                table.append(Interaction(user: "u\(u)", item: "m\(i)", value: 5, timestamp: Int64(1000 + u * 50 + (i * 7 + u) % 20)))
            }
        }
        let catalog = ItemCatalog((0..<20).map { ItemRecord(id: "m\($0)", title: "film \($0 % 2 == 0 ? "even" : "odd") \($0)") })
        var progress: [String] = []
        _ = try ModelCreator(budget: 6, seed: 3).create(table, catalog: catalog) { progress.append($0) }
        let hybrid = progress.filter { $0.hasPrefix("  hybrid ") }
        #expect(hybrid.count == ModelCreator.flatTrials, "\(hybrid)")
        #expect(progress.contains { $0.hasPrefix("  hybrid: its first 3 configurations all score") }, "\(progress)")
        // Families whose parameters do move it go on past three.
        #expect(progress.filter { $0.hasPrefix("  ease ") }.count > ModelCreator.flatTrials, "\(progress)")
        #expect(ModelCreator.isFlat([0.5, 0.5, 0.5]) && !ModelCreator.isFlat([0.5, 0.5]) && !ModelCreator.isFlat([0.5, 0.5, 0.5000001]))
        #expect(!ModelCreator.isFlat([.nan, .nan, .nan]))
    }

    /// Data whose validation rows are all below the threshold (each user's latest 20%, two of
    /// ten rows, are 1★) is refused before any trial: before, every family was tried, to no
    /// end, and the error came when the budget was spent.
    @Test func aValidationSplitWithoutPositivesStopsBeforeTheTrials() throws {
        var table = InteractionTable()
        for u in 0..<30 {
            for i in 0..<10 {
                table.append(Interaction(user: "u\(u)", item: "m\((u + i) % 12)", value: i < 8 ? 5 : 1, timestamp: Int64(1000 + i)))
            }
        }
        var progress: [String] = []
        var created = false
        let error = try #require(throws: ModelError.self) {
            _ = try ModelCreator(budget: 30, seed: 1).create(table) { progress.append($0) }
            created = true
        }
        #expect(!created)
        #expect(error.code == ModelError.Code("noValidationData") && error.description.contains("values ≥ 4"), "\(error)")
        #expect(!progress.contains { $0.contains("defaults:") }, "\(progress)")
    }

    /// A family whose first trial would overrun the tuning budget is not started. On 150,000
    /// interactions BPR's default fit (30 million SGD steps) is estimated at about 6 s on two
    /// threads, past the 1.8 s for tuning of a 3 s budget; before the estimate, create started
    /// it anyway and ended past its budget.
    @Test func slowFamiliesAreNotStartedPastTheBudget() throws {
        let table = SyntheticInteractions(users: 3000, items: 2000, interactions: 150_000, seed: 2).generate()
        var progress: [String] = []
        let started = System.monotonicSeconds()
        let result = try Parallelism.withThreadCount(2) { try ModelCreator(budget: 3, seed: 1).create(table) { progress.append($0) } }
        #expect(System.monotonicSeconds() - started < 3 * 1.1 + 1)
        #expect(progress.contains { $0.hasPrefix("  bpr: not started, a trial would take about") }, "\(progress)")
        #expect(!result.leaderboard.contains { $0.family == "bpr" } && (result.notStarted["bpr"] ?? 0) > 3)
        #expect(result.leaderboard.count >= 3)
    }

    /// The estimates against one trial at the defaults (fit and evaluation) measured on the
    /// development machine with 2 threads, on 1,582,882 synthetic interactions (`synth:users=
    /// 50000,items=20000,interactions=2000000`, each user's latest 20% held out): each within
    /// a factor of 1.25 there (the mean of two runs where the second differed by more than 10%:
    /// item kNN and ALS; GF-CF's evaluation after its ideal filter became one pass, with the
    /// mean of its three fits).
    @Test func trialCostsAreEstimatedFromTheDataSize() {
        let shape = ModelCreator.DataShape(users: 50_000, items: 20_000, interactions: 1_582_882, userPairs: 1.83e9, itemPairs: 1.1e9,
                                           scored: 50_000 * 20_000, bprSteps: 100 * 1_582_882)
        let measured = ["pop": 1.16, "adjacency": 3.71, "als": 8.59, "rp3beta": 13.82, "itemknn": 14.56, "gfcf": 16.29,
                        "userknn": 19.84, "ease": 38.92, "bpr": 39.31]
        for (family, seconds) in measured {
            let estimate = ModelCreator.estimatedTrialSeconds(family, shape: shape, threads: 2)
            let total = estimate.fit + estimate.evaluation
            #expect(total > seconds / 1.25 && total < seconds * 1.25, "\(family): \(total) s against \(seconds) s")
            // Twice the threads, half the time; an unknown family costs nothing (tried first).
            let doubled = ModelCreator.estimatedTrialSeconds(family, shape: shape, threads: 4)
            #expect(abs(doubled.fit - estimate.fit / 2) < 1e-9 && abs(doubled.evaluation - estimate.evaluation / 2) < 1e-9)
        }
        // The fits alone, measured apart: RP3beta 11.34 s, BPR 37.75 s, popularity none (in the
        // runs above, RP3beta's 12.28 s and BPR's 35.97 s and 41.67 s).
        #expect(abs(ModelCreator.estimatedTrialSeconds("rp3beta", shape: shape, threads: 2).fit - 11.34) < 11.34 / 4)
        #expect(abs(ModelCreator.estimatedTrialSeconds("bpr", shape: shape, threads: 2).fit - 37.75) < 37.75 / 4)
        #expect(ModelCreator.estimatedTrialSeconds("pop", shape: shape, threads: 2).fit == 0)
        #expect(ModelCreator.estimatedTrialSeconds("sasrec", shape: shape, threads: 2) == (0, 0))
    }

    /// The fusion's work per query and per validation user, against what was measured with 2
    /// threads. Three members of 50 candidates give 0.6 × 150 = 90 rows a query: on 20,000
    /// items 6.1e-9 × 60,000 + 1.1e-5 × 90 = 1.356 ms a query (1.25 ms measured) and
    /// 1.05e-8 × 60,000 + 1e-6 × 90 = 0.72 ms a user (0.70); on 2,000 items 1.0266 ms (1.08)
    /// and 0.153 ms (0.17). On 100 items the rows are at most 60; 4 threads halve it all.
    @Test func fusionWorkIsEstimatedFromMembersItemsAndRows() {
        let large = ModelCreator.fusionWorkSeconds(members: 3, proposals: 150, items: 20_000, threads: 2)
        #expect(abs(large.query - 1.356e-3) < 1e-9 && abs(large.user - 7.2e-4) < 1e-9)
        let small = ModelCreator.fusionWorkSeconds(members: 3, proposals: 150, items: 2_000, threads: 2)
        #expect(abs(small.query - 1.0266e-3) < 1e-9 && abs(small.user - 1.53e-4) < 1e-9)
        for (estimate, measured) in [(large.query, 1.25e-3), (large.user, 0.70e-3), (small.query, 1.08e-3), (small.user, 0.17e-3)] {
            #expect(estimate > measured / 1.25 && estimate < measured * 1.25, "\(estimate) against \(measured)")
        }
        let tiny = ModelCreator.fusionWorkSeconds(members: 3, proposals: 150, items: 100, threads: 2)
        #expect(abs(tiny.query - (6.1e-9 * 300 + 1.1e-5 * 60)) < 1e-12)
        let doubled = ModelCreator.fusionWorkSeconds(members: 3, proposals: 150, items: 20_000, threads: 4)
        #expect(abs(doubled.query - large.query / 2) < 1e-12 && abs(doubled.user - large.user / 2) < 1e-12)
    }
}
