public import BraidCore
public import BraidModels

/// From data to one fitted model within a time budget, as `braid create` runs it (after Turi
/// Create's `recommender.create`, but tuned and fused): the data decides the protocol (ratings
/// become positives at 80% of the top of the scale; with timestamps each user's latest 20% is
/// the validation set, otherwise a seeded random 20%; at most `validationUsers` users are
/// scored), each family gets random configurations in
/// turn (its defaults first, the cheapest family first, and none whose trial is estimated or
/// measured to overrun) until 60% of the budget is spent (earlier when the fusion over the
/// leaders so far would otherwise no longer fit in the time after), the fusion over the three best
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
        try Tuner.checkMetric(metric, ranking: true)
        let kind = ValueKind.detect(table.values)
        let threshold: Float? = kind == .ratings ? ((table.values.max() ?? 5) * 0.8).rounded() : nil
        let temporal = table.hasTimestamps
        progress("data: \(table.count) interactions, values are \(kind.rawValue)"
                 + (threshold.map { ", positives are ≥ \(System.fixed(Double($0)))" } ?? "")
                 + (temporal ? ", validation = each user's latest 20%" : ", validation = a random 20% per user"))
        let split = try Splitter(temporal ? .userTimeRatio(ratio: 0.8) : .userRatio(ratio: 0.8), seed: seed, unit: .rows).split(table)[0]
        // The tuner measures at the cutoff the metric names (`Tuner.init`).
        let evaluation = EvaluationProtocol(cutoff: 10, threshold: threshold, seed: seed)
        let prepared = try PreparedSplit(split, protocol: evaluation, catalog: catalog, users: validationUsers)
        // Checked before any trial, so that such data does not spend the budget first.
        guard !prepared.relevant.isEmpty else {
            throw ModelError(ModelError.Code("noValidationData"), "the validation split holds no relevant interactions"
                             + (threshold.map { " (values ≥ \(System.fixed(Double($0))))" } ?? "") + ", so no model can be compared; more data is needed")
        }
        if let sample = prepared.sampleDescription { progress("validation scores \(sample)") }
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
        // Each family's trials' values, in the order tried (`isFlat`).
        var values = Array(repeating: [Double](), count: families.count)
        // `reserve(k, fit)`: the time to keep after a trial of family k whose fit takes that long.
        func tune(until limit: Double, reserve: (Int, Double) -> Double = { _, _ in 0 }) {
            var reported = Set<Int>()
            while true {
                var tried = false
                let order = families.indices.sorted { a, b in
                    (next[a] == 0 ? estimated[a] : slowest[a], a) < (next[b] == 0 ? estimated[b] : slowest[b], b)
                }
                for k in order where next[k] < samples[k].count {
                    if next[k] == 0, case let after = reserve(k, estimates[k].fit), elapsed() + estimated[k] + after > limit {
                        if reported.insert(k).inserted {
                            progress("  \(families[k].name): not started, a trial would take about \(System.fixed(estimated[k], digits: 1)) s"
                                     + (after > 0 ? ", keeping \(System.fixed(after, digits: 1)) s after it" : "")
                                     + ", past \(System.fixed(limit, digits: 1)) s")
                        }
                        continue
                    }
                    if elapsed() + 2 * slowest[k] + reserve(k, 2 * slowestFit[k]) > limit { continue }
                    let candidate = samples[k][next[k]]
                    next[k] += 1
                    let t0 = System.monotonicSeconds()
                    let trial: TuningTrial
                    do { trial = try tuner.run(model: families[k].name, base: [:], candidates: [candidate], split: prepared)[0] } catch {
                        // Too large for this data at its defaults: the family's other samples
                        // keep the defaults' size, so none of them is tried.
                        let dropped = candidate.isEmpty && error.code == .tooLarge
                        if dropped { next[k] = samples[k].count }
                        progress("  \(families[k].name) \(candidate.isEmpty ? "defaults" : Self.describe(candidate)): \(error)" + (dropped ? " (left out)" : ""))
                        continue
                    }
                    slowest[k] = max(slowest[k], System.monotonicSeconds() - t0)
                    slowestFit[k] = max(slowestFit[k], trial.fitSeconds)
                    if candidate.isEmpty { defaults[families[k].name] = trial.value }
                    tried = true
                    if best[k].map({ tuner.better(trial.value, than: $0.trial.value) }) ?? trial.value.isFinite { best[k] = Entry(family: families[k].name, trial: trial) }
                    progress("  \(families[k].name) \(candidate.isEmpty ? "defaults" : Self.describe(candidate)): \(metric) \(System.fixed(trial.value))")
                    values[k].append(trial.value)
                    if Self.isFlat(values[k]), next[k] < samples[k].count {
                        next[k] = samples[k].count
                        progress("  \(families[k].name): its first \(values[k].count) configurations all score \(System.fixed(trial.value)); "
                                 + "its parameters do not move this validation's \(metric), so no more are tried")
                    }
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
        // The matrix the winner is fitted on; the fusion's plan reads which members its final
        // fit adds.
        var full = threshold.map { InteractionMatrix(positivesOf: table, threshold: $0) } ?? InteractionMatrix(table)
        full.catalog = catalog
        full.preparation = preparation
        // While tuning, each trial after the defaults keeps time for the fusion: for its plan
        // over the leaders so far, and over the leaders the trial's family would make were it
        // to join them (a dearer member can put the fusion out of reach), as long as the first
        // still fits.
        var plans: [String: Double] = [:]
        func needed(_ board: [Entry]) -> Double {
            let key = board.prefix(3).map { "\(MemberSpec(model: $0.family, parameters: $0.trial.parameters)) \($0.trial.fitSeconds)" }.joined(separator: "+")
            let least = plans[key] ?? fusionPlan(over: board, temporal: temporal, prepared: prepared, full: full).leastSeconds
            plans[key] = least
            return least + reportSeconds(board)
        }
        func keptForFusion(trying k: Int?, fit: Double) -> Double {
            let board = ranked()
            guard board.count >= 2 else { return 0 }
            var joined = board
            if let k {
                let trial = TuningTrial(parameters: best[k]?.trial.parameters ?? [:], value: .nan, fitSeconds: fit)
                joined = [Entry(family: families[k].name, trial: trial)] + board.filter { $0.family != families[k].name }
            }
            return Self.fusionReserve(now: needed(board), joined: needed(joined), elapsed: elapsed(), budget: budget)
        }
        // Every family's defaults are tried first, without keeping time for a fusion of the
        // leaders before them (popularity and the cheapest families would hold back the rest).
        tune(until: budget * Self.tuningShare) { k, _ in next[k] == 0 ? 0 : keptForFusion(trying: k, fit: slowestFit[k]) }
        let kept = keptForFusion(trying: nil, fit: 0)
        if kept > 0 {
            progress("tuning kept \(System.fixed(kept, digits: 1)) s of its time for the fusion (its trials end by \(System.fixed(budget * Self.tuningShare - kept, digits: 1)) s)")
        }
        var board = ranked()
        guard !board.isEmpty else {
            throw ModelError(ModelError.Code("budget"), "no model could be fitted and measured within the budget", hint: "raise the budget")
        }
        let scale = Double(full.interactionCount) / Double(max(1, prepared.train.interactionCount))
        let fusion = board.count >= 2
            ? fusionEntry(fusionPlan(over: board, temporal: temporal, prepared: prepared, full: full), prepared: prepared, tuner: tuner,
                          keeping: reportSeconds(board), elapsed: elapsed, progress: progress)
            : (entry: nil, tried: false)
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
                tune(until: limit) { _, fit in max(fit * scale, leaderRefit()) + reportSeconds(ranked()) }
                board = ranked()
            }
        }
        // The winner is the best whose fit on all the data (its trial's fit, scaled to the
        // whole data's size) still ends within the budget, with the report's refits after it;
        // the fusion's was checked above.
        let report = reportSeconds(board)
        let refits = board.map { $0.family == "fusion" ? 0 : $0.trial.fitSeconds * scale }
        let chosen = Self.winnerIndex(refits: refits, report: report, elapsed: elapsed(), budget: budget)
        for i in 0..<chosen {
            progress("  \(board[i].family): left out, its fit on all the data (about \(System.fixed(refits[i], digits: 0)) s)"
                     + (report > 0 ? " and the report's refits (about \(System.fixed(report, digits: 0)) s)" : "") + " would overrun the budget")
        }
        let winner = board[chosen]
        progress("fitting \(([winner.family] + [Self.describe(winner.trial.parameters)].filter { !$0.isEmpty }).joined(separator: " ")) on all \(table.count) interactions…")
        let model = try ModelRegistry.fit(winner.family, parameters: ModelParameters(winner.trial.parameters), data: full)
        let others = defaults.filter { $0.key != winner.family }
        return Result(model: model, leaderboard: board, defaults: defaults, valueKind: kind, threshold: threshold,
                      temporalValidation: temporal, validation: prepared, data: full,
                      defaultsCompared: others.count, defaultsBeaten: others.values.filter { tuner.better(winner.trial.value, than: $0) }.count,
                      winner: winner,
                      notStarted: Dictionary(uniqueKeysWithValues: families.indices.filter { next[$0] == 0 }.map { (families[$0].name, estimated[$0]) }))
    }

    /// How many configurations of a family must score exactly alike before `isFlat` holds.
    static let flatTrials = 3

    /// Whether a family's trials so far (`flatTrials` or more, its defaults first) all scored
    /// exactly alike: its parameters do not reach what the validation measures (the hybrid's
    /// map from content to factors scores only items without interactions, and a validation
    /// whose relevant items all have some is ranked by its ALS alone), so its other samples
    /// would spend the budget for nothing. Distinct configurations that touch the ranking do
    /// not tie to the last bit of a mean over the validation users.
    static func isFlat(_ values: [Double]) -> Bool {
        values.count >= flatTrials && values.allSatisfy { $0 == values[0] }
    }

    /// Which of the leaderboard's entries, best first, is fitted on all the data, each taking
    /// `refits[i]` seconds, with `report` seconds after it: the best that ends within the
    /// budget. When none does (the budget is already spent), the best whose fit and report take
    /// at most a tenth of the budget, as they add little to the overrun; else the quickest to fit.
    static func winnerIndex(refits: [Double], report: Double, elapsed: Double, budget: Double) -> Int {
        refits.indices.first { elapsed + refits[$0] + report <= budget }
            ?? refits.indices.first { refits[$0] + report <= budget * 0.1 }
            ?? refits.indices.min { refits[$0] < refits[$1] } ?? 0
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
    /// ranker's training, and per validation user on its evaluation. Each member scores every
    /// item for the user, and each candidate is a row of features that the ranker learns from
    /// (or scores); the candidates are the union of the members' proposals, about 0.6 of their
    /// sum (`proposals`, at most the items): 77 rows a query on 50,000 synthetic users × 20,000
    /// items with three members of 50 each, 102 on 3,000 × 2,000. Measured on the 2-core
    /// development machine with 2 threads:
    /// - 50,000 × 20,000, RP3beta, adjacency and ALS: 40,000 queries' candidates in 16.9 s and
    ///   the ranker on them in 33 s (1.25 ms a query; here 1.36), and the evaluation of 50,000
    ///   users in 35 s (0.70 ms; here 0.72);
    /// - 3,000 × 2,000, EASE, adjacency and popularity: 6,000 queries' candidates in 0.6 s and
    ///   the ranker in 5.9 s (1.08 ms a query; here 1.03), the evaluation of 3,000 users in
    ///   0.51 s (0.17 ms; here 0.15). The rate per member and item alone, as before, put that
    ///   at 0.13 ms a query: `create` tried a fusion estimated at 2 s that took 9.
    /// On ml-latest-small (six members, 9,700 items) they put 1,213 queries at 2.8 s, where
    /// 1.5 s was measured. Scaled to `threads`.
    static func fusionWorkSeconds(members: Int, proposals: Int, items: Int, threads: Int) -> (query: Double, user: Double) {
        let span = Double(members) * Double(items), rows = 0.6 * Double(min(proposals, items))
        return ((6.1e-9 * span + 1.1e-5 * rows) * threadScale(threads), (1.05e-8 * span + 1e-6 * rows) * threadScale(threads))
    }

    /// The share of the budget tuning runs to before the fusion is planned.
    static let tuningShare = 0.6
    /// The share of the budget by which the fusion's plan (its trial, its final fit and the
    /// report's refit) must end.
    static let fusionShare = 0.9

    /// The fusion over the three best families as `create` would fit it: its configuration
    /// (the members, the inner split), what it costs, and its inner folds: the default, or when
    /// `adjustable` (a random inner split) as few as `FusionCost.fewestFolds`. The members its
    /// final fit adds beyond the trial's (as the fusion resolves them on each matrix: EASE on
    /// every rated item under a threshold and a random inner split) cost their family's fit
    /// seconds, scaled to the items they model there (`addedMemberScale`).
    struct FusionPlan {
        /// With its members and its inner split (temporal or random) set.
        var configuration: Fusion.Configuration
        var cost: FusionCost
        var temporal: Bool { configuration.validation == .temporal }
        var adjustable: Bool { !temporal }
        var defaultFolds: Int { configuration.innerFolds(temporal: temporal) }

        /// Seconds its cheapest plan takes in all.
        var leastSeconds: Double { cost.total(folds: adjustable ? min(FusionCost.fewestFolds, defaultFolds) : defaultFolds) }
    }

    func fusionPlan(over board: [Entry], temporal: Bool, prepared: PreparedSplit, full: InteractionMatrix) -> FusionPlan {
        var planned = Fusion.Configuration()
        planned.members = board.prefix(3).map { MemberSpec(model: $0.family, parameters: $0.trial.parameters) }
        planned.validation = temporal ? .temporal : .random
        let trialMembers = planned.resolved(for: prepared.train).members
        let addedSeconds = planned.resolved(for: full).members.filter { !trialMembers.contains($0) }.reduce(0) { total, member in
            total + (board.first { $0.family == member.model }?.trial.fitSeconds ?? 0)
                * Self.addedMemberScale(member, trial: prepared.train, final: full)
        }
        let proposals = trialMembers.reduce(0) { $0 + ($1.candidates ?? planned.candidates) }
        let work = Self.fusionWorkSeconds(members: trialMembers.count, proposals: proposals, items: prepared.train.itemCount,
                                          threads: Parallelism.threadCount)
        let cost = FusionCost(membersFitSeconds: board.prefix(3).reduce(0) { $0 + $1.trial.fitSeconds }, addedSeconds: addedSeconds,
                              report: reservesReportTime, querySeconds: work.query, users: prepared.train.userCount,
                              queryCap: planned.rankerQueries, evaluationSeconds: work.user * Double(prepared.relevant.count))
        return FusionPlan(configuration: planned, cost: cost)
    }

    /// Seconds a tuning trial keeps after it for the fusion. Tuning runs to `tuningShare` of the
    /// budget and the fusion's plan may end at `fusionShare`; `now` is what the cheapest plan
    /// over the leaders so far needs (with what follows it), `joined` what it needs over the
    /// leaders the trial's family would make by joining them. While the first still fits, the
    /// trial keeps the longer of the two, less the time between the shares: a trial that would
    /// put either out of reach is not started. When the first no longer fits there is no fusion
    /// to keep time for, and tuning goes on as it would without one.
    static func fusionReserve(now: Double, joined: Double, elapsed: Double, budget: Double) -> Double {
        guard elapsed + now <= budget * fusionShare else { return 0 }
        return max(0, max(now, joined) - budget * (fusionShare - tuningShare))
    }

    /// The fusion `plan`, measured, when it fits in the budget and what is left of its fitting
    /// after the trial still does; else no entry, and `tried` says whether its trial ran (when
    /// it did not, its time is free for tuning). `reserved` seconds are kept for what follows
    /// it (a report's refits of the other leaders).
    func fusionEntry(_ plan: FusionPlan, prepared: PreparedSplit, tuner: Tuner, keeping reserved: Double = 0,
                     elapsed: () -> Double, progress: (String) -> Void) -> (entry: Entry?, tried: Bool) {
        let cost = plan.cost, defaultFolds = plan.defaultFolds
        guard let folds = cost.folds(within: budget * Self.fusionShare - elapsed() - reserved, default: defaultFolds, adjustable: plan.adjustable) else {
            progress("  no fusion: its fitting (about \(System.fixed(plan.leastSeconds, digits: 0)) s) would overrun the budget")
            return (nil, false)
        }
        let members = plan.configuration.members.map(\.description).joined(separator: "+")
        var parameters = ["members": members, "validation": plan.configuration.validation.rawValue]
        if folds != defaultFolds { parameters["folds"] = String(folds) }
        progress("  fusion of \(members): \(folds) inner fold\(folds == 1 ? "" : "s"), its fitting estimated at "
                 + "\(System.fixed(cost.total(folds: folds), digits: 0)) s in all (\(System.fixed(budget * Self.fusionShare - elapsed() - reserved, digits: 0)) s left for it)")
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
