public import BraidCore
public import BraidModels

/// From data to one fitted model within a time budget, as `braid create` runs it (after Turi
/// Create's `recommender.create`, but tuned and fused): the data decides the protocol (ratings
/// become positives at 80% of the top of the scale; with timestamps each user's latest 20% is
/// the validation set, otherwise a seeded random 20%; at most `validationUsers` users are
/// scored), each family gets random configurations in
/// turn (its defaults first, the cheapest family first, and none whose trial is estimated or
/// measured to overrun) until 60% of the budget is spent, the fusion over the three best
/// is tried when its plan fits in what is left (with fewer random inner folds, down to
/// `FusionCost.fewestFolds`, when the default's would not; when it does not fit, tuning goes on
/// in the time kept for it, each trial keeping time for the fit on all the data after it) and
/// kept only if it wins on validation, and the best whose fit on all the data ends within the
/// budget is fitted on it.
///
///     let result = try ModelCreator(budget: 60).create(table, catalog: catalog)
///     try ModelRegistry.save(result.model, to: "model.braid")
public struct ModelCreator: Sendable {
    /// A model family and the space its configurations are drawn from (`ParameterSpace`).
    public struct Family: Sendable, Equatable {
        public var name: String
        public var space: [String]
        /// Whether it needs item metadata (text, attributes or vectors) to be tried.
        public var needsMetadata: Bool

        public init(_ name: String, space: [String] = [], needsMetadata: Bool = false) {
            self.name = name
            self.space = space
            self.needsMetadata = needsMetadata
        }
    }

    /// The families tried, in the order each round tries them.
    public static let families: [Family] = [
        Family("pop"),
        Family("itemknn", space: ["neighbors=20:500:int:log"]),
        Family("userknn", space: ["neighbors=20:300:int:log"]),
        Family("ease", space: ["lambda=5:3000:log"]),
        Family("rp3beta", space: ["alpha=0.3:1.5", "beta=0:1", "neighbors=50:500:int:log"]),
        Family("gfcf", space: ["factors=8:256:int:log", "alpha=0.03:3:log"]),
        Family("adjacency", space: ["window=1:20:int:log", "alpha=0.2:1", "half-life=0:30"]),
        Family("als", space: ["factors=16:128:int:log", "regularization=0.001:1:log", "alpha=0.3:30:log"]),
        Family("bpr", space: ["factors=16:128:int:log", "learning-rate=0.003:0.05:log", "regularization=0.0005:0.05:log"]),
        Family("content-bm25", needsMetadata: true),
        Family("hybrid", space: ["regularization=0.5:50:log"], needsMetadata: true),
    ]

    /// Seconds for tuning and the final fit (at least 1).
    public var budget: Double
    /// The metric chosen by (`Tuner`'s names: ndcg@K, recall@K, precision@K, map@K, mrr@K, hit@K, auc).
    public var metric: String
    /// The seed of the split, the search and the models.
    public var seed: UInt64
    /// Whether the caller will refit the leaders on the validation split afterwards (a report's
    /// curves, `reportedLeaders` of them): the tuning after the fusion's time, the fusion's plan
    /// and the choice of the model fitted on all the data keep time for that, each leader's as
    /// long as its family's slowest trial.
    public var reservesReportTime = false
    /// At most this many validation users are scored (a seeded sample of them; nil scores all):
    /// on a large user base the evaluation of each trial, not the fit, would take most of the
    /// budget. A mean NDCG@10 over 20,000 users has a standard error near 0.0014
    /// (`PreparedSplit.sampleUsers(_:seed:)`).
    public var validationUsers: Int? = 20_000
    /// How the table's values were read (event weights, repeated pairs), recorded in the
    /// winner's data so that its model file keeps it (`InteractionMatrix.preparation`).
    public var preparation: DataPreparation?

    public init(budget: Double = 120, metric: String = "ndcg@10", seed: UInt64 = 42) {
        self.budget = budget
        self.metric = metric
        self.seed = seed
    }

    /// A family's best trial on the validation split.
    public struct Entry: Sendable {
        /// The family's model name ("fusion" for the fusion over the leaders).
        public var family: String
        public var trial: TuningTrial
    }

    /// What `create` chose and measured.
    public struct Result: Sendable {
        /// The winner, fitted on all the data.
        public var model: any RecommendationModel
        /// Each family's best trial, best first (the fusion's among them when it was tried).
        public var leaderboard: [Entry]
        /// Each family's metric at its default parameters.
        public var defaults: [String: Double]
        public var valueKind: ValueKind
        /// The value at and above which an interaction is a positive (ratings), else nil.
        public var threshold: Float?
        /// Whether the validation set was each user's latest interactions.
        public var temporalValidation: Bool
        /// The validation split the leaderboard was measured on.
        public var validation: PreparedSplit
        /// The matrix the winner was fitted on (positives under `threshold`, the catalogue attached).
        public var data: InteractionMatrix
        /// The other families at their default parameters (all of them when the fusion won), and
        /// how many of those the winner beats on validation.
        public var defaultsCompared: Int
        public var defaultsBeaten: Int
        /// The model fitted: the leaderboard's first, unless its fit on all the data would have
        /// overrun the budget (then the best whose fit would not).
        public var winner: Entry
        /// The families never started, each with the seconds its trial was estimated to take
        /// (past the time for tuning).
        public var notStarted: [String: Double]
    }

    /// Tunes, fuses and fits on `table` (and `catalog`'s item text, attributes or vectors, when
    /// given), reporting each step to `progress`.
    public func create(_ table: InteractionTable, catalog: ItemCatalog? = nil, progress: (String) -> Void = { _ in }) throws -> Result {
        let started = System.monotonicSeconds()
        let elapsed = { System.monotonicSeconds() - started }
        guard budget >= 1 else { throw ModelError(.invalidParameter, "the budget must be at least 1 second, not \(budget)") }
        let kind = ValueKind.detect(table.values)
        let threshold: Float? = kind == .ratings ? ((table.values.max() ?? 5) * 0.8).rounded() : nil
        let temporal = table.hasTimestamps
        progress("data: \(table.count) interactions, values are \(kind.rawValue)"
                 + (threshold.map { ", positives are ≥ \(System.fixed(Double($0)))" } ?? "")
                 + (temporal ? ", validation = each user's latest 20%" : ", validation = a random 20% per user"))
        let split = try Splitter(temporal ? .userTimeRatio(ratio: 0.8) : .userRatio(ratio: 0.8), seed: seed, unit: .rows).split(table)[0]
        let evaluation = EvaluationProtocol(cutoff: 10, threshold: threshold, seed: seed)
        var prepared = try PreparedSplit(split, protocol: evaluation, catalog: catalog)
        if let validationUsers {
            prepared.sampleUsers(validationUsers, seed: seed)
            if let sample = prepared.sampleDescription { progress("validation scores \(sample)") }
        }
        let tuner = Tuner(evaluator: Evaluator(protocol: evaluation), metric: metric)
        let families = Self.families.filter { !$0.needsMetadata || catalog != nil }
        var samples = try families.map { family -> [[String: String]] in
            family.space.isEmpty ? [[:]] : try ParameterSpace(arguments: family.space).sample(64, seed: seed)
        }
        // Every family's defaults first, then random configurations in turn.
        for k in samples.indices where !families[k].space.isEmpty { samples[k].insert([:], at: 0) }
        var best: [Entry?] = Array(repeating: nil, count: families.count)
        var next = Array(repeating: 0, count: families.count)
        var slowest = Array(repeating: 0.0, count: families.count)
        var defaults: [String: Double] = [:]
        // Before a family's first trial its cost is estimated from the data's size; after it,
        // measured. Each round takes the cheapest first, and a trial that would run past
        // `limit` is not started (the defaults of a slow family on large data would take the
        // budget alone).
        let shape = DataShape(prepared)
        let estimates = families.map { Self.estimatedTrialSeconds($0.name, shape: shape, threads: Parallelism.threadCount) }
        let estimated = estimates.map { $0.fit + $0.evaluation }
        var slowestFit = Array(repeating: 0.0, count: families.count)
        // `reserve(fit)`: the time to keep after a trial whose fit takes that long.
        func tune(until limit: Double, reserve: (Double) -> Double = { _ in 0 }) {
            var reported = Set<Int>()
            while true {
                var tried = false
                let order = families.indices.sorted { a, b in
                    (next[a] == 0 ? estimated[a] : slowest[a], a) < (next[b] == 0 ? estimated[b] : slowest[b], b)
                }
                for k in order where next[k] < samples[k].count {
                    if next[k] == 0 && elapsed() + estimated[k] + reserve(estimates[k].fit) > limit {
                        if reported.insert(k).inserted {
                            let after = reserve(estimates[k].fit)
                            progress("  \(families[k].name): not started, a trial would take about \(System.fixed(estimated[k], digits: 1)) s"
                                     + (after > 0 ? " and \(System.fixed(after, digits: 1)) s more after it" : "")
                                     + ", past \(System.fixed(limit, digits: 1)) s")
                        }
                        continue
                    }
                    if elapsed() + 2 * slowest[k] + reserve(2 * slowestFit[k]) > limit { continue }
                    let candidate = samples[k][next[k]]
                    next[k] += 1
                    let t0 = System.monotonicSeconds()
                    let trial: TuningTrial
                    do { trial = try tuner.run(model: families[k].name, base: [:], candidates: [candidate], split: prepared)[0] } catch {
                        progress("  \(families[k].name) \(Self.describe(candidate)): \(error)")
                        continue
                    }
                    slowest[k] = max(slowest[k], System.monotonicSeconds() - t0)
                    slowestFit[k] = max(slowestFit[k], trial.fitSeconds)
                    if candidate.isEmpty { defaults[families[k].name] = trial.value }
                    tried = true
                    if best[k].map({ tuner.better(trial.value, than: $0.trial.value) }) ?? trial.value.isFinite { best[k] = Entry(family: families[k].name, trial: trial) }
                    progress("  \(families[k].name) \(candidate.isEmpty ? "defaults" : Self.describe(candidate)): \(metric) \(System.fixed(trial.value))")
                }
                if !tried { break }
            }
        }
        // Each family's best trial, best first.
        func ranked() -> [Entry] { best.compactMap { $0 }.sorted { tuner.better($0.trial.value, than: $1.trial.value) } }
        // With a report: the time its refits of the six leaders on the validation split take
        // (each family's slowest trial; the fusion's refit is in its own plan).
        func reportSeconds(_ board: [Entry]) -> Double {
            guard reservesReportTime else { return 0 }
            return board.prefix(Self.reportedLeaders).reduce(0) { total, entry in
                total + (families.firstIndex { $0.name == entry.family }.map { slowest[$0] } ?? 0)
            }
        }
        tune(until: budget * 0.6)
        var board = ranked()
        guard !board.isEmpty else {
            if prepared.relevant.isEmpty {
                throw ModelError(ModelError.Code("noValidationData"), "the validation split holds no relevant interactions"
                                 + (threshold.map { " (values ≥ \(System.fixed(Double($0))))" } ?? "") + ", so no model can be compared; more data is needed")
            }
            throw ModelError(ModelError.Code("budget"), "no model could be fitted and measured within the budget", hint: "raise the budget")
        }
        var full = threshold.map { InteractionMatrix(positivesOf: table, threshold: $0) } ?? InteractionMatrix(table)
        full.catalog = catalog
        full.preparation = preparation
        let scale = Double(full.interactionCount) / Double(max(1, prepared.train.interactionCount))
        let fusion = board.count >= 2 ? try fusionEntry(over: board, temporal: temporal, prepared: prepared, full: full, tuner: tuner,
                                                        keeping: reportSeconds(board), elapsed: elapsed, progress: progress) : (entry: nil, tried: false)
        if let entry = fusion.entry {
            board.append(entry)
            board.sort { tuner.better($0.trial.value, than: $1.trial.value) }
        } else if !fusion.tried {
            // No fusion to fit: the time kept for it goes to more tuning, up to 95% of the
            // budget, each trial keeping time for the fit on all the data of whichever model
            // leads after it (the leader's, or the trial's own, taken as long as the trial).
            let limit = budget * 0.95
            let leaderRefit = { (ranked().first?.trial.fitSeconds ?? 0) * scale }
            if limit > elapsed() + leaderRefit() {
                progress("tuning on in the time kept for the fusion, until \(System.fixed(limit, digits: 1)) s")
                tune(until: limit) { fit in max(fit * scale, leaderRefit()) + reportSeconds(ranked()) }
                board = ranked()
            }
        }
        // The winner is the best whose fit on all the data (its trial's fit, scaled to the
        // whole data's size) still ends within the budget, with the report's refits after it;
        // the fusion's was checked above.
        let report = reportSeconds(board)
        let chosen = board.indices.first { i in
            let refit = board[i].family == "fusion" ? 0 : board[i].trial.fitSeconds * scale
            if elapsed() + refit + report <= budget || i == board.count - 1 { return true }
            progress("  \(board[i].family): left out, its fit on all the data (about \(System.fixed(refit, digits: 0)) s)"
                     + (report > 0 ? " and the report's refits (about \(System.fixed(report, digits: 0)) s)" : "") + " would overrun the budget")
            return false
        }
        let winner = board[chosen ?? 0]
        progress("fitting \(([winner.family] + [Self.describe(winner.trial.parameters)].filter { !$0.isEmpty }).joined(separator: " ")) on all \(table.count) interactions…")
        let model = try ModelRegistry.fit(winner.family, parameters: ModelParameters(winner.trial.parameters), data: full)
        let others = defaults.filter { $0.key != winner.family }
        return Result(model: model, leaderboard: board, defaults: defaults, valueKind: kind, threshold: threshold,
                      temporalValidation: temporal, validation: prepared, data: full,
                      defaultsCompared: others.count, defaultsBeaten: others.values.filter { tuner.better(winner.trial.value, than: $0) }.count,
                      winner: winner,
                      notStarted: Dictionary(uniqueKeysWithValues: families.indices.filter { next[$0] == 0 }.map { (families[$0].name, estimated[$0]) }))
    }

    /// The sizes a trial's cost is estimated from.
    struct DataShape {
        var users: Int, items: Int, interactions: Int
        /// Σ over users of their interaction count squared (item co-occurrences), and over items.
        var userPairs: Double, itemPairs: Double
        /// Users scored × items ranked by one evaluation.
        var scored: Double
        /// Epochs × interactions of BPR's default fit.
        var bprSteps: Double
    }

    /// Seconds one trial of `family` at its defaults is estimated to take, its fit and its
    /// evaluation apart: rates measured on the 2-core development machine with 2 threads, on ml-100k,
    /// ml-latest-small and 1.6 million synthetic interactions (50,000 users × 20,000 items;
    /// within 25% of each family's trial there, from 1.2 s for popularity to 39 s for EASE and
    /// BPR; the hybrid's evaluation, not measured there, at ALS's rate before blocked scoring), scaled
    /// to `threads`. On MovieLens, where most trials take a tenth of a second, they are rough
    /// but in the right order: BPR's 4–5 s is estimated at 6. Zero for a family it does not
    /// know (tried first).
    static func estimatedTrialSeconds(_ family: String, shape: DataShape, threads: Int) -> (fit: Double, evaluation: Double) {
        let n = Double(shape.interactions), items = Double(shape.items), users = Double(shape.users)
        let fit: Double, perScore: Double
        switch family {
        case "pop": (fit, perScore) = (0, 1.2e-9)
        case "itemknn": (fit, perScore) = (5e-9 * shape.userPairs + 2e-9 * items * items, 4.2e-9)
        case "userknn": (fit, perScore) = (1e-8 * shape.itemPairs + 1e-9 * users * users, 3.2e-9)
        case "ease": (fit, perScore) = (4e-12 * items * items * items + 1e-9 * shape.userPairs, 7e-9)
        case "rp3beta": (fit, perScore) = (5.8e-9 * shape.userPairs + 2e-9 * items * items, 1.5e-9)
        case "gfcf": (fit, perScore) = (3.4e-6 * n + 3e-5 * items, 9.5e-9)
        case "adjacency", "content-bm25": (fit, perScore) = (3.5e-7 * n, 3e-9)
        case "als": (fit, perScore) = (2e-6 * n + 3.5e-5 * (users + items), 3.5e-9)
        case "hybrid": (fit, perScore) = (3e-6 * n + 5e-5 * (users + items), 7.5e-9)
        case "bpr": (fit, perScore) = (2.2e-7 * shape.bprSteps, 3.5e-9)
        default: (fit, perScore) = (0, 0)
        }
        let scale = threadScale(threads)
        return (fit * scale, perScore * shape.scored * scale)
    }

    /// How much dearer a member the fusion's final fit adds is than its family's trial: fitted
    /// on every rated item (`MemberSpec.belowThreshold`), it models the items rated only below
    /// the threshold too, and EASE's fit grows with the cube of the items it models (its Gram
    /// matrix's inverse), another family's with their number. On ml-latest-small without
    /// timestamps at ≥ 4★, EASE's fit on the positives took 0.7–0.9 s and on every rated item
    /// 2.1 s in each inner fold: before this scale `create` took 134 s of a 120 s budget.
    static func addedMemberScale(_ member: MemberSpec, trial: InteractionMatrix, final: InteractionMatrix) -> Double {
        guard member.belowThreshold else { return 1 }
        let modelled = Double(trial.itemHasInteractions.filter { $0 }.count)
        let ratio = Double(final.itemWasRated.filter { $0 }.count) / max(1, modelled)
        return member.model == EASE.name ? ratio * ratio * ratio : ratio
    }

    /// The rates were measured with 2 threads: seconds with `threads` are these × 2 / `threads`.
    static func threadScale(_ threads: Int) -> Double { 2 / Double(max(1, threads)) }

    /// Seconds the fusion spends per query on its members' candidates, their features and its
    /// ranker's training, and per validation user on its evaluation: both grow with the members
    /// and the items each user's scores span. Measured on the 2-core development machine with 2
    /// threads on 50,000 synthetic users × 20,000 items, three members (RP3beta, adjacency,
    /// ALS): 40,000 queries' candidates in 16.9 s and the ranker's training on them in 33 s
    /// (1.25 ms a query), and the evaluation of 50,000 users in 35 s (0.70 ms); on
    /// ml-latest-small (six members, 9,700 items) they put 1,213 queries at 1.5 s, as measured
    /// there (0.4 s of candidates, 1.1 s of ranker). Scaled to `threads`.
    static func fusionWorkSeconds(members: Int, items: Int, threads: Int) -> (query: Double, user: Double) {
        let span = Double(members) * Double(items) * threadScale(threads)
        return (2.1e-8 * span, 1.17e-8 * span)
    }

    /// The fusion over the three best families, measured, when its plan fits in the budget and
    /// what is left of its fitting after the trial still does; else no entry, and `tried` says
    /// whether its trial ran (when it did not, its time is free for tuning). The members its final
    /// fit adds beyond the trial's (as the fusion resolves them on each matrix: EASE on every
    /// rated item under a threshold and a random inner split) cost their family's fit seconds,
    /// scaled to the items they model there (`addedMemberScale`). `reserved` seconds are kept
    /// for what follows it (a report's refits of the other leaders).
    func fusionEntry(over board: [Entry], temporal: Bool, prepared: PreparedSplit, full: InteractionMatrix, tuner: Tuner,
                     keeping reserved: Double = 0, elapsed: () -> Double, progress: (String) -> Void) throws -> (entry: Entry?, tried: Bool) {
        var planned = Fusion.Configuration()
        planned.members = board.prefix(3).map { MemberSpec(model: $0.family, parameters: $0.trial.parameters) }
        planned.validation = temporal ? .temporal : .random
        let trialMembers = planned.resolved(for: prepared.train).members
        let addedSeconds = planned.resolved(for: full).members.filter { !trialMembers.contains($0) }.reduce(0) { total, member in
            total + (board.first { $0.family == member.model }?.trial.fitSeconds ?? 0)
                * Self.addedMemberScale(member, trial: prepared.train, final: full)
        }
        let membersFitSeconds = board.prefix(3).reduce(0) { $0 + $1.trial.fitSeconds }
        let defaultFolds = planned.innerFolds(temporal: temporal)
        let work = Self.fusionWorkSeconds(members: trialMembers.count, items: prepared.train.itemCount, threads: Parallelism.threadCount)
        let cost = FusionCost(membersFitSeconds: membersFitSeconds, addedSeconds: addedSeconds, report: reservesReportTime,
                              querySeconds: work.query, users: prepared.train.userCount, queryCap: planned.rankerQueries,
                              evaluationSeconds: work.user * Double(prepared.relevant.count))
        guard let folds = cost.folds(within: budget * 0.9 - elapsed() - reserved, default: defaultFolds, adjustable: !temporal) else {
            let least = cost.total(folds: temporal ? defaultFolds : min(FusionCost.fewestFolds, defaultFolds))
            progress("  no fusion: its fitting (about \(System.fixed(least, digits: 0)) s) would overrun the budget")
            return (nil, false)
        }
        let members = planned.members.map(\.description).joined(separator: "+")
        var parameters = ["members": members, "validation": temporal ? "temporal" : "random"]
        if folds != defaultFolds { parameters["folds"] = String(folds) }
        progress("  fusion of \(members): \(folds) inner fold\(folds == 1 ? "" : "s"), its fitting estimated at "
                 + "\(System.fixed(cost.total(folds: folds), digits: 0)) s in all (\(System.fixed(budget * 0.9 - elapsed() - reserved, digits: 0)) s left for it)")
        guard let trial = try? tuner.run(model: "fusion", base: [:], candidates: [parameters], split: prepared)[0] else { return (nil, true) }
        let rest = cost.afterTrial(trial.fitSeconds, folds: folds)
        guard elapsed() + rest + reserved <= budget else {
            progress("  fusion of \(members): \(metric) \(System.fixed(trial.value)), left out: what is left of its fitting (about "
                     + "\(System.fixed(rest, digits: 0)) s) would overrun the budget")
            return (nil, true)
        }
        progress("  fusion of \(members)\(parameters["folds"].map { " (\($0) folds)" } ?? ""): \(metric) \(System.fixed(trial.value))")
        return (Entry(family: "fusion", trial: trial), true)
    }

    /// How many leaders a report refits on the validation split for its curves.
    public static let reportedLeaders = 6

    /// Parameters as `key=value` pairs by key, space-separated.
    public static func describe(_ parameters: [String: String]) -> String {
        parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}

extension ModelCreator.DataShape {
    init(_ split: PreparedSplit) {
        let train = split.train
        self.init(users: train.userCount, items: train.itemCount, interactions: train.interactionCount,
                  userPairs: train.byUser.rowCounts.reduce(0) { $0 + Double($1) * Double($1) },
                  itemPairs: train.byItem.rowCounts.reduce(0) { $0 + Double($1) * Double($1) },
                  scored: Double(split.relevant.count) * Double(train.itemCount),
                  bprSteps: Double(BayesianPersonalizedRanking.epochs(for: train)) * Double(train.interactionCount))
    }
}
